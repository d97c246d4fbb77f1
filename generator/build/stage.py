"""write: pages → public/. The only stage that writes.

The new site is written beside the old one and swapped in at the end, so a failed build leaves the previous
public/ untouched. Files are written in sorted order with no timestamps of our own: the same input gives the
same bytes.
"""

from __future__ import annotations

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
    """What builds of `target` that were killed left beside it: their staging folders and the old copies they
    were deleting (`.public.stage-<pid>`, `.public.old-<pid>`; on a province, gigabytes each). Called with the
    output folder's lock held (lock.py), when no other build can be using them."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(stage|old)-\d+")
    try:
        with os.scandir(target.parent) as entries:
            found = [e.path for e in entries if pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for path in found:
        shutil.rmtree(path, ignore_errors=True)


def swap_in(staged: Path, target: Path) -> None:
    """`staged` (a complete folder) becomes `target` in one rename; the old `target`, if any, goes after."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    staged.rename(target)
    if old.exists():
        shutil.rmtree(old)


class Stage:
    """Where a build writes, before anything in public/ changes.

    A full build (no usable cache) writes the whole site here and swaps it in for public/ at the end, as one
    rename. An incremental build writes here only the files whose bytes changed, then moves them into
    public/ and removes the files no longer produced. Either way public/ is touched only after every
    department-year and every site page has been produced: a failed build leaves it as it was.
    """

    def __init__(self, out: Path, full: bool) -> None:
        self.out = out
        self.full = full
        self.folder = out.parent / f".{out.name}.stage-{os.getpid()}"
        if self.folder.exists():
            shutil.rmtree(self.folder)
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

    def apply(self, removals: set[str], staged: int) -> int:
        """Bring public/ up to date: the staged files in, `removals` (files no longer made) out. Returns how
        many files were written or removed; `staged` says how many a full build staged (counting them again
        would walk a province's whole tree)."""
        for path in removals:
            safe_path(path)
        if self.full or not self.out.is_dir():
            swap_in(self.folder, self.out)
            return staged
        count = 0
        for source in self.staged():
            rel = source.relative_to(self.folder)
            target = self.out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            count += 1
        for path in sorted(removals):
            target = self.out.joinpath(*PurePosixPath(path).parts)
            if target.is_file():
                target.unlink()
                count += 1
                _prune(target.parent, self.out)
        return count

    def discard(self) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder)


def _prune(folder: Path, top: Path) -> None:
    """Remove folders left empty by removed files, up to (not including) public/ itself."""
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
