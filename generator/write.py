"""write: pages → public/. The only stage that writes.

The new site is written beside the old one and swapped in at the end, so a failed build leaves the previous
public/ untouched. Files are written in sorted order with no timestamps of our own: the same input gives the
same bytes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from .diagnostics import Diagnostic, Loc, UserError


def _refuse(message: str) -> UserError:
    return UserError(message, [Diagnostic("error", Loc("public"), message, "output")])


def check_output_dir(out: Path, root: Path) -> None:
    """Refuse to replace a folder that holds sources: the site folder itself, or one inside its sources."""
    out, root = out.resolve(), root.resolve()
    if out == root or out in root.parents:
        raise _refuse(f"输出文件夹 {out} 是站点文件夹或它的上级，写入会覆盖源文件。请换一个输出文件夹。")
    for protected in ("data", "content", "templates", "generator", "tests"):
        folder = root / protected
        if out == folder or folder in out.parents:
            raise _refuse(f"输出文件夹 {out} 在 {protected}/ 里，写入会覆盖源文件。请换一个输出文件夹。")


def safe_path(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or "\\" in path or not p.parts or path.endswith("/"):
        raise _refuse(f"拒绝写入不安全的路径：{path}")
    return p


def write_site(out: Path, files: dict[str, bytes]) -> None:
    paths = {path: safe_path(path) for path in files}
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out.name}.new-{os.getpid()}"
    old = parent / f".{out.name}.old-{os.getpid()}"
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        for path in sorted(files):
            target = tmp.joinpath(*paths[path].parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[path])
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)
