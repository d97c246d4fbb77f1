"""What the department folders hold now, as signatures the build cache compares with the last build's.

A department-year is made of every file under its year folder and its department's 部门.yaml; its signature is
a digest of their paths, sizes and modification times. A department's signature covers its 部门.yaml and the
names in its folder (a year added or removed). Only stat calls, no reading: on a province (some 300,000 files
and folders) this is nearly the whole cost of a build with nothing changed, and most of it is the kernel's, so
a large site is scanned on every core.

The same pass can say whether each department's pages are still in the output folder (`outputs`), so that a
build with nothing changed needs no second pass over public/.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from generator.builder.pool import pool_context
from generator.core.files import leaves_site
from generator.sources.folders import DEPARTMENT_FILE, department_folders

if TYPE_CHECKING:
    from generator.core.diagnostics import Diagnostic
    from generator.sources.records import DepartmentSource

PARALLEL_FROM = 400  # departments; below this a second process costs more than it saves
_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


class Scanned(NamedTuple):
    """What scan_department found in one department folder."""

    signature: str  # of its 部门.yaml and the names in its folder
    years: dict[str, str]  # year folder name → that department-year's signature (unit_signature)
    present: bool  # its pages are all in the output folder (True where the scan was not asked to look)


class KnownDepartment(NamedTuple):
    """A department as discover read it from its folder, kept by the build cache (Index.departments) and taken
    from there while its Scanned.signature is the same."""

    signature: str  # Scanned.signature when it was read ("" when not scanned)
    source: DepartmentSource | None  # None where its 部门.yaml could not be read
    diagnostics: list[Diagnostic]  # the problems reading it reported, reported again while it is kept


def source_signatures(scanned: dict[str, Scanned]) -> dict[str, tuple[str, dict[str, str]]]:
    """scan's result without whether each department's pages were found: the signatures of the sources alone,
    as (signature, years) tuples (what Quick.signatures keeps and compares)."""
    return {rel: found[:2] for rel, found in scanned.items()}


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


OUTSIDE = (-1, -1)  # the size and time of a symbolic link out of the site: not followed (the loader says where)


def _walk(fd: int, prefix: str, out: list, root: str) -> None:
    """Every file under the folder open as `fd`, as (path from the site folder `root`, size, mtime), in name
    order. Entries are stat'ed relative to their folder (scandir on a descriptor), not by their full path."""
    with os.scandir(fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        try:
            if e.is_symlink() and leaves_site(root, os.path.join(root, prefix, e.name)):
                out.append((prefix + e.name, *OUTSIDE))
            elif e.is_dir():
                sub = os.open(e.name, _DIR, dir_fd=fd)
                try:
                    _walk(sub, f"{prefix}{e.name}/", out, root)
                finally:
                    os.close(sub)
            else:
                st = e.stat()
                out.append((prefix + e.name, st.st_size, st.st_mtime_ns))
        except OSError:
            continue


def _files(folder: str, prefix: str, root: str) -> list[tuple[str, int, int]]:
    out: list = []
    if os.supports_fd and os.scandir in os.supports_fd:
        try:
            fd = os.open(folder, _DIR)
        except OSError:
            return out
        try:
            _walk(fd, prefix, out, root)
        finally:
            os.close(fd)
    else:  # pragma: no cover - platforms whose scandir takes no descriptor
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            rel = os.path.relpath(dirpath, folder).replace(os.sep, "/")
            here = prefix if rel == "." else f"{prefix}{rel}/"
            for name in sorted(filenames):
                stat = _stat(os.path.join(dirpath, name))
                if stat is not None:
                    out.append((here + name, *stat))
    return out


def _digest(value) -> str:
    return _hash(repr(value))


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def unit_stats(root: Path, folder: str) -> list[tuple[str, int, int]]:
    """A year folder's files (paths from the site folder), then its department's 部门.yaml."""
    files = _files(str(root / folder), f"{folder}/", str(root))
    info = f"{folder.rsplit('/', 1)[0]}/{DEPARTMENT_FILE}"
    stat = _stat(str(root / info))
    if stat is not None:
        files.append((info, *stat))
    return files


def unit_signature(stats: list[tuple[str, int, int]]) -> str:
    # The fields joined by NUL, which no path holds: as exact as repr(stats) and quicker to make (a province has
    # 10,000 department-years).
    return _hash("\0".join([f"{path}\0{size}\0{mtime}" for path, size, mtime in stats]))


def scan_department(root: str, rel: str, outputs: tuple | None = None) -> Scanned:
    """The department folder `rel`'s signatures, and whether its pages are in the output folder. `outputs` is
    (output folder, the department's own files, each year's)."""
    folder = os.path.join(root, rel)
    if os.path.islink(folder) and leaves_site(root, folder):
        return Scanned(_digest(("outside", rel)), {}, False)  # not looked into: the loader says where it leads
    try:
        with os.scandir(folder) as it:
            names = sorted((e.name, e.is_dir(), e.is_symlink()) for e in it)
    except OSError:
        return Scanned(_digest(None), {}, False)
    info = _stat(os.path.join(folder, DEPARTMENT_FILE))
    years = {}
    for name, is_dir, link in names:
        if not (is_dir and len(name) == 4 and name.isdigit()):
            continue
        if link and leaves_site(root, os.path.join(folder, name)):
            years[name] = _digest(("outside", name))  # not looked into
        else:
            files = _files(os.path.join(folder, name), f"{rel}/{name}/", root)
            if info is not None:
                files.append((f"{rel}/{DEPARTMENT_FILE}", *info))
            years[name] = unit_signature(files)
    present = True
    if outputs is not None:
        out, own, each_year = outputs
        slug = rel.rsplit("/", 1)[1]
        wanted = [f"{slug}/{n}" for n in own] + [f"{slug}/{y}/{n}" for y in years for n in each_year]
        present = all(os.path.isfile(os.path.join(out, p)) for p in wanted)
    return Scanned(_digest((info, names)), years, present)


def scan_again(
    root: Path, entries: list[tuple[str, bool]], before: dict[str, Scanned], again, outputs: tuple | None = None
) -> dict[str, Scanned]:
    """scan's result for the department folders among `entries` (department_entries): those named in `again`
    and any that `before` (an earlier scan's result) does not have scanned now, the others as `before` has them."""
    scanned = {}
    for rel in department_folders(entries):
        found = before.get(rel)
        scanned[rel] = (
            scan_department(str(root), rel, outputs) if found is None or rel.rsplit("/", 1)[1] in again else found
        )
    return scanned


def _scan_chunk(args: tuple) -> list[tuple[str, Scanned]]:
    root, rels, outputs = args
    return [(rel, scan_department(root, rel, outputs)) for rel in rels]


def scan(root: Path, rels: list[str], jobs: int, outputs: tuple | None = None) -> dict[str, Scanned]:
    """scan_department for every department folder (paths from the site folder), on `jobs` processes."""
    if jobs <= 1 or len(rels) < PARALLEL_FROM:
        return dict(_scan_chunk((str(root), rels, outputs)))
    context = pool_context()
    step = -(-len(rels) // (jobs * 4))
    chunks = [(str(root), rels[i : i + step], outputs) for i in range(0, len(rels), step)]
    with context.Pool(jobs) as pool:
        return {rel: found for part in pool.map(_scan_chunk, chunks) for rel, found in part}
