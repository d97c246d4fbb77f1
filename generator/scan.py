"""What the department folders hold now, as signatures the build cache compares with the last build's.

A department-year is made of every file under its year folder and its department's 部门.yaml; its signature is
a digest of their paths, sizes and modification times. A department's signature covers its 部门.yaml and the
names in its folder (a year added or removed). Only stat calls, no reading: on a province's 10,000
department-years (some 270,000 files) this is the whole cost of a build with nothing changed, so a large site is
scanned on every core (tools in C, such as git, do the same).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DEPARTMENT_FILE = "部门.yaml"
PARALLEL_FROM = 400  # departments; below this a second process costs more than it saves


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _walk(folder: str, prefix: str, out: list) -> None:
    """Every file under `folder` as (path relative to it, size, mtime), in a stable order."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        if e.is_dir(follow_symlinks=True):
            _walk(e.path, f"{prefix}{e.name}/", out)
        else:
            try:
                st = e.stat()
            except OSError:
                continue
            out.append((prefix + e.name, st.st_size, st.st_mtime_ns))


def _digest(value) -> str:
    return hashlib.blake2b(repr(value).encode("utf-8"), digest_size=16).hexdigest()


def unit_stats(root: Path, folder: str) -> list[tuple[str, int, int]]:
    """A year folder's files (paths from the site folder), then its department's 部门.yaml."""
    files: list = []
    _walk(str(root / folder), f"{folder}/", files)
    info = f"{folder.rsplit('/', 1)[0]}/{DEPARTMENT_FILE}"
    stat = _stat(str(root / info))
    if stat is not None:
        files.append((info, *stat))
    return files


def unit_signature(stats: list[tuple[str, int, int]]) -> str:
    return _digest(stats)


def scan_department(root: str, rel: str) -> tuple[str, dict[str, str]]:
    """(the department's signature, {year folder name: that department-year's signature})."""
    folder = os.path.join(root, rel)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return _digest(None), {}
    names = [(e.name, e.is_dir()) for e in entries]
    info = _stat(os.path.join(folder, DEPARTMENT_FILE))
    years = {}
    for name, is_dir in names:
        if is_dir and len(name) == 4 and name.isdigit():
            files: list = []
            _walk(os.path.join(folder, name), f"{rel}/{name}/", files)
            if info is not None:
                files.append((f"{rel}/{DEPARTMENT_FILE}", *info))
            years[name] = unit_signature(files)
    return _digest((info, names)), years


def _scan_chunk(args: tuple[str, list[str]]) -> list[tuple[str, tuple[str, dict[str, str]]]]:
    root, rels = args
    return [(rel, scan_department(root, rel)) for rel in rels]


def scan(root: Path, rels: list[str], jobs: int) -> dict[str, tuple[str, dict[str, str]]]:
    """scan_department for every department folder (paths from the site folder), on `jobs` processes."""
    if jobs <= 1 or len(rels) < PARALLEL_FROM:
        return dict(_scan_chunk((str(root), rels)))
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    step = -(-len(rels) // (jobs * 4))
    chunks = [(str(root), rels[i : i + step]) for i in range(0, len(rels), step)]
    with context.Pool(jobs) as pool:
        return {rel: found for part in pool.map(_scan_chunk, chunks) for rel, found in part}
