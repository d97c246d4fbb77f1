"""Files in and out: a source read only from inside the site folder, and a file written whole under its folder,
its path checked, an error naming it."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path, PurePosixPath

from generator.core.diagnostics import Diagnostic, Loc, UserError


def leaves_site(root: Path | str, path: Path | str) -> str | None:
    """Where `path` really is when a symbolic link (it, or a folder on the way) takes it out of the site folder
    `root`; None while it stays inside."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return None if real == top or real.startswith(top.rstrip(os.sep) + os.sep) else real


def outside_error(rel: str, real: str) -> UserError:
    message = (
        f"{rel} 是指向站点文件夹以外（{real}）的符号链接。生成器不读站点文件夹以外的文件："
        "请把链接换成文件或文件夹本身。"
    )
    return UserError("站点文件夹以外的文件", [Diagnostic("error", Loc(rel), message, "outside")])


def refuse_links_out(folder: Path, root: Path) -> None:
    """Every file under `folder` (the templates) stays inside it, or an error names the first that does not (the
    path from the site folder `root` where it is inside it)."""
    for path in sorted(folder.rglob("*")):
        real = leaves_site(folder, path) if path.is_symlink() else None  # rglob goes into no linked folder
        if real is not None:
            raise outside_error(path.relative_to(root).as_posix() if root in path.parents else str(path), real)


def read_source(root: Path | str, path: Path | str, rel: str) -> bytes:
    """A source file's bytes, unless a symbolic link takes it out of the site folder (an error naming it)."""
    real = leaves_site(root, path)
    if real is not None:
        raise outside_error(rel, real)
    with open(path, "rb") as f:
        return f.read()


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _no_link(path: str, flags: int) -> int:
    return os.open(path, flags | _NOFOLLOW)


def read_plain(path: str) -> bytes | None:
    """A file's bytes, or None where the file itself is a symbolic link (read_source then decides): for a build
    that reads every file the scan listed (the scan goes into no folder that a link takes out of the site)."""
    if not _NOFOLLOW and os.path.islink(path):  # a system without O_NOFOLLOW (Windows)
        return None
    try:
        with open(path, "rb", opener=_no_link) as f:
            return f.read()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise


def refuse(message: str) -> UserError:
    """A write the generator will not make, as a message about the output folder."""
    return UserError(message, [Diagnostic("error", Loc("public"), message, "output")])


def safe_path(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or "\\" in path or not p.parts or path.endswith("/"):
        raise refuse(f"拒绝写入不安全的路径：{path}")
    return p


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


class Writer:
    """Writes files under one folder (a staging folder): each path checked, its folders made as needed.

    A build writes about a hundred files per department-year, so this is lean: a plain path is checked as a
    string (safe_path only for one that looks unusual), each file is written by os.write (no file object), and
    the folders made are remembered, so many files into one folder cost one mkdir. Make one for each folder
    made afresh: a folder removed and made again under the same name has none of its subfolders."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: set[str] = set()

    def write(self, path: str, data: bytes) -> None:
        """`data` as `path` under the folder."""
        if not path or "\\" in path or path[0] == "/" or path[-1] == "/" or "/." in f"/{path}" or "//" in path:
            path = str(safe_path(path))  # refuses, saying which path; else the path with its "." and "//" gone
        target = os.path.join(self.folder, path)
        parent = os.path.dirname(target)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        fd = os.open(target, _CREATE, 0o666)
        try:
            _write_all(fd, data)
        except OSError as exc:  # os.write names no file: a full disk is reported with the one being written
            raise naming(exc, target) from None
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def naming(exc: OSError, path) -> OSError:
    """`exc`, or where it names no file (os.write's, a buffered file's write or close) the same error naming
    `path`, the file being written: a full disk is reported with it."""
    return exc if exc.filename is not None else OSError(exc.errno, exc.strerror, str(path))


# What unpickling a file can raise when it is cut short or garbled (a length or a protocol out of range, bytes
# that are not text, a value given to the wrong constructor) or was written by another version of the code (a
# class moved or renamed). Caught around pickle.load alone: a bug in the code that uses what was read is raised.
UNREADABLE = (OSError, EOFError, pickle.UnpicklingError, ImportError, AttributeError, TypeError, ValueError,
              OverflowError, MemoryError)  # fmt: skip


def load_pickle(path: Path):
    """What `path` holds (the build cache's files), or None where it is missing or cannot be unpickled."""
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except UNREADABLE:
        return None


def dump_pickle(path: Path, obj) -> None:
    """`obj` pickled into `path` (the build cache's files)."""
    try:
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        raise naming(exc, path) from None
