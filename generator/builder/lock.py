"""One build at a time into an output folder.

Two builds writing one public/ at once (serve rebuilding while `build` runs in a second terminal, two CI steps)
would each take the other's files for their own, and the build cache, which says what public/ holds, would
describe neither. So a build holds a lock on the output folder from its first look at the sources until public/
and the cache are written; a second one waits for it, then looks again. The lock is a file beside the output
folder (`.public.lock`), locked with flock (msvcrt.locking on Windows): the system lets it go when the process
ends, however it ends, and the file is removed when the build lets go of it.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt
else:
    import fcntl


def output_lock(out: Path, waiting=None):
    """A context in which this process alone builds into `out` (and writes its build cache). Yields whether it
    had to wait; `waiting(the other process's id, or None)` is called before it does."""
    out = out.resolve()
    return _exclusive(out.parent / f".{out.name}.lock", waiting)


_HELD: set[str] = set()  # the lock files this process holds


@contextlib.contextmanager
def _exclusive(path: Path, waiting=None):
    """`path` locked for this process (flock; on Windows, msvcrt.locking), waiting while another holds it and
    first calling `waiting(that process's id, or None)`. Yields whether it waited. A process that holds the lock
    may take it again (archive holds it across its build): only the outermost release lets it go. The file is
    removed when it is let go (a failed build leaves no file behind), so one that has been locked is checked to
    be still the one at `path`: else its holder removed it meanwhile, and the one there now is locked instead."""
    if str(path) in _HELD:
        yield False
        return
    waited = False
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if not _try_lock(fd):
                if not waited and waiting is not None:
                    waiting(_holder(fd))
                waited = True
                _lock(fd)
            if _is_at(fd, path):
                break
        except BaseException:  # Ctrl+C while waiting
            os.close(fd)
            raise
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode())  # for the message of a build that waits
        _HELD.add(str(path))
        try:
            yield waited
        finally:
            _HELD.discard(str(path))
            with contextlib.suppress(OSError):  # Windows cannot remove an open file: it stays, unlocked
                os.unlink(path)
            _unlock(fd)
    finally:
        os.close(fd)


def _is_at(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


if os.name == "nt":  # pragma: no cover - Windows
    _LOCKED_BYTE = 1 << 20  # the lock is on a byte past the process id written at the start, so it can be read

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _lock(fd: int) -> None:
        while not _try_lock(fd):
            time.sleep(0.2)

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _holder(fd: int) -> int | None:
    """The id of the process that holds the lock, as it wrote it (None if it has not yet)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32)
    except OSError:
        return None
    return int(text) if text.strip().isdigit() else None
