"""write: pages → public/. The only stage that writes.

The new site is written beside the old one and swapped in at the end, so a failed build leaves the previous
public/ untouched. Files are written in sorted order with no timestamps of our own: the same input gives the
same bytes.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
from pathlib import Path, PurePosixPath

from generator.core.files import Writer, refuse, safe_path


def check_output_dir(out: Path, root: Path) -> None:
    """Refuse to replace a folder that holds sources: the site folder itself, or one inside its sources."""
    out, root = out.resolve(), root.resolve()
    if out == root or out in root.parents:
        raise refuse(f"输出文件夹 {out} 是站点文件夹或它的上级，写入会覆盖源文件。请换一个输出文件夹。")
    for protected in ("data", "content", "templates", "generator", "tests"):
        folder = root / protected
        if out == folder or folder in out.parents:
            raise refuse(f"输出文件夹 {out} 在 {protected}/ 里，写入会覆盖源文件。请换一个输出文件夹。")


def department_files(slug: str, base_url: str) -> list[str]:
    """The site-level files in a department's folder (with slug "", their names)."""
    names = ("index.html", "datasets.json", "sitemap.xml")[: 3 if base_url else 2]
    return [f"{slug}/{name}".lstrip("/") for name in names]


def remove_leftovers(target: Path) -> None:
    """Put right what builds of `target` that were killed left: first an unfinished change of `target` is
    undone (its journal, see Stage), then their staging folders and the old copies they were deleting
    (`.public.stage-<pid>`, `.public.old-<pid>`, `.public.undo-<pid>`) are removed. Called with the output
    folder's lock held (lock.py), when no other build can be using them."""
    recover(target)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(stage|old|undo)-\d+")
    journal = re.compile(rf"{re.escape(_journal(target).name)}\.tmp-\d+")  # never put in place: nothing changed
    try:
        with os.scandir(target.parent) as entries:
            found = [
                (e.path, e.is_dir(follow_symlinks=False))
                for e in entries
                if pattern.fullmatch(e.name) or journal.fullmatch(e.name)
            ]
    except OSError:
        return
    for path, is_dir in found:
        if is_dir:
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


_RENAME_EXCHANGE = 2  # renameat2(2): swap two paths in one step


def _exchange(a: Path, b: Path) -> bool:
    """Swap `a` and `b` (two folders) in one step, where the system can (Linux's renameat2); False elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):  # no such C library or function (Windows, macOS)
        return False
    at_cwd = -100
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.ENOTSUP):
        return False  # a file system or kernel without it: two renames instead
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))


def swap_in(staged: Path, target: Path, keep: Path | None = None) -> None:
    """`staged` (a complete folder) becomes `target`; the old `target`, if any, goes to `keep` (when given) or is
    deleted. Where the system can, the two are exchanged in one step, so `target` is never missing."""
    old = keep or target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists() and _exchange(staged, target):
        staged.rename(old)
    else:
        if target.exists():
            target.rename(old)
        staged.rename(target)
    if keep is None and old.exists():
        shutil.rmtree(old)


# -- the journal: a change of public/ that a kill cannot leave half made -----------------------------------------


def _journal(out: Path) -> Path:
    return out.parent / f".{out.name}.journal"


def _write_journal(out: Path, entry: dict) -> None:
    """The journal, whole or not at all: written beside, flushed to disk, then renamed into place."""
    path = _journal(out)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(entry, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def recover(out: Path) -> bool:
    """Undo a change of `out` that a killed build began and did not finish (its journal is still there): `out`
    becomes the site it was before, and the build cache, which may already describe the new one, is deleted
    (the next build makes everything again). Returns whether there was anything to undo."""
    path = _journal(out)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        entry = None  # never whole (it is written beside and renamed): nothing to undo by
    if isinstance(entry, dict) and entry.get("kind") == "swap":
        _undo_swap(out, entry)
    elif isinstance(entry, dict) and entry.get("kind") == "files":
        _undo_files(out, entry)
    cache = entry.get("cache") if isinstance(entry, dict) else None
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
    path.unlink(missing_ok=True)
    return True


def _undo_swap(out: Path, entry: dict) -> None:
    """Before the swap `out` was the folder with inode `old` (or nothing); the new site had inode `new`."""
    if entry.get("old") is None or (out.exists() and _inode(out) != entry.get("new")):
        return  # there was no site before, or `out` is still the old one
    for name in (entry["undo"], entry["stage"]):
        before = out.parent / name
        if _inode(before) == entry["old"]:
            if out.exists():
                out.rename(out.parent / f".{out.name}.old-{os.getpid()}")
            before.rename(out)
            return


def _undo_files(out: Path, entry: dict) -> None:
    """Each file moved in goes back to what it was: the old bytes from the undo folder, or nothing if it is new."""
    stage, undo = out.parent / entry["stage"], out.parent / entry["undo"]
    for rel in entry["files"]:
        target, kept = out / rel, undo / rel
        if kept.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(kept, target)
        elif not (stage / rel).exists():  # moved in, with no old file before it
            target.unlink(missing_ok=True)
    for rel in entry["removals"]:
        kept = undo / rel
        if kept.is_file():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(kept, out / rel)


class Stage:
    """Where a build writes, before anything in public/ changes.

    A full build (no usable cache) writes the whole site here and swaps it in for public/ at the end. An
    incremental build writes here only the files whose bytes changed, then moves them into public/ and removes
    the files no longer produced, keeping each file it replaces or removes in an undo folder. Either way public/
    is touched only after every department-year and every site page has been produced: a failed build leaves it
    as it was. Until `finish` (called once the build cache describes the new public/), a journal beside public/
    says how to undo the change, so a build killed at any step leaves the next command (recover) the old site.
    """

    def __init__(self, out: Path, full: bool, cache: Path | None = None) -> None:
        self.out = out
        self.full = full
        self.cache = cache  # the build cache's folder: deleted if this change of public/ has to be undone
        self.folder = out.parent / f".{out.name}.stage-{os.getpid()}"
        self.undo = out.parent / f".{out.name}.undo-{os.getpid()}"
        self.changing = False  # public/ changed and the journal not yet finished
        for folder in (self.folder, self.undo):
            if folder.exists():
                shutil.rmtree(folder)
        self.folder.mkdir(parents=True)
        self._writer = Writer(self.folder)

    def write(self, path: str, data: bytes) -> None:
        self._writer.write(path, data)

    def add_site_files(self, files: dict[str, bytes], digests: dict[str, str], previous: dict[str, str]) -> int:
        """Stage the site-level files whose bytes differ from the last build's (all of them in a full build).
        `digests`: each file's sha256, as the build cache keeps it."""
        count = 0
        for path in sorted(files):
            data = files[path]
            if self.full or previous.get(path) != digests[path] or not (self.out / path).is_file():
                self.write(path, data)
                count += 1
        return count

    def staged(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file())

    def _begin(self, entry: dict) -> None:
        entry.update(stage=self.folder.name, undo=self.undo.name, cache=str(self.cache) if self.cache else None)
        _write_journal(self.out, entry)
        self.changing = True

    def apply(self, removals: set[str], staged: int) -> int:
        """Bring public/ up to date: the staged files in, `removals` (files no longer made) out. Returns how
        many files were written or removed; `staged` says how many a full build staged (counting them again
        would walk the whole tree)."""
        for path in removals:
            safe_path(path)
        if self.full or not self.out.is_dir():
            self._begin({"kind": "swap", "old": _inode(self.out), "new": _inode(self.folder)})
            swap_in(self.folder, self.out, keep=self.undo)
            return staged
        sources = self.staged()
        files = [source.relative_to(self.folder).as_posix() for source in sources]
        self._begin({"kind": "files", "files": files, "removals": sorted(removals)})
        count = 0
        for source, rel in zip(sources, files, strict=True):
            target = self.out / rel
            if target.is_file():
                _move(target, self.undo / rel)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            count += 1
        for path in sorted(removals):
            target = self.out.joinpath(*PurePosixPath(path).parts)
            if target.is_file():
                _move(target, self.undo / path)
                count += 1
                _prune(target.parent, self.out)
        return count

    def finish(self) -> None:
        """The change of public/ is final (the build cache now describes it): the journal goes, then the old files."""
        if self.changing:
            _journal(self.out).unlink(missing_ok=True)
            self.changing = False
        if self.undo.exists():
            shutil.rmtree(self.undo)

    def discard(self) -> None:
        """After a build that did not finish: public/ back as it was if it was changed, the staging folder gone."""
        if self.changing:
            recover(self.out)
            self.changing = False
        for folder in (self.folder, self.undo):
            if folder.exists():
                shutil.rmtree(folder)


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _prune(folder: Path, top: Path) -> None:
    """Remove folders left empty by removed files, up to (not including) public/ itself."""
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
