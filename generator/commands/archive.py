"""The offline archive: the built site in a zip that opens anywhere, with a SHA-256 manifest of every file.

The manifest is in the format of coreutils' `sha256sum` (`<hash>  <path>`), so an archivist can check an
unzipped copy with `sha256sum -c MANIFEST.sha256` years from now without this program, or with
`python -m generator verify`. The manifest's own digest is printed when the archive is made: published
somewhere else (a catalogue, a letter), it proves the manifest itself was not altered.

The zip is deterministic: entries sorted, one fixed timestamp (SOURCE_DATE_EPOCH when set), fixed permissions.
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator.core.diagnostics import Diagnostic, Loc, UserError

MANIFEST = "MANIFEST.sha256"
README = "README.txt"
SITE_DIR = "site"
README_TEXT = """部门决算公开网站 · 离线存档

打开：解压后双击 site/index.html，用任何浏览器离线浏览；不需要网络，也不需要安装任何程序。

核对：MANIFEST.sha256 列出了存档中每个文件的 SHA-256 摘要。
  - 在 Linux 或 macOS 上，进入解压后的文件夹运行：sha256sum -c MANIFEST.sha256
  - 或用本网站的生成器运行：python -m generator verify <本存档的 zip 文件或解压后的文件夹>
任何文件被增加、删除或改动了哪怕一个字节，都会被指出。
MANIFEST.sha256 自身的摘要在生成存档时已另行公布；与之比对，可以确认清单本身也未被改动。
"""


def _fail(message: str) -> UserError:
    return UserError(message, [Diagnostic("error", Loc(""), message, "archive")])


def _timestamp() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        t = time.gmtime(max(int(epoch), 315532800))  # a zip cannot record dates before 1980
        return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    return (1980, 1, 1, 0, 0, 0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: dict[str, bytes]) -> bytes:
    return "".join(f"{sha256(files[name])}  {name}\n" for name in sorted(files)).encode("utf-8")


def make_archive(public: Path, target: Path) -> str:
    """Zip the built site at `public` into `target`. Returns the manifest's SHA-256."""
    if not (public / "index.html").is_file():
        raise _fail(f"{public} 里没有生成好的网站（缺少 index.html）。请先运行 python -m generator build。")
    files = {
        f"{SITE_DIR}/{p.relative_to(public).as_posix()}": p.read_bytes()
        for p in sorted(public.rglob("*"))
        if p.is_file()
    }
    files[README] = README_TEXT.encode("utf-8")
    manifest = manifest_text(files)
    entries = {**files, MANIFEST: manifest}
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    stamp = _timestamp()
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix: the permissions above mean what they say
            z.writestr(info, entries[name])
    tmp.replace(target)
    return sha256(manifest)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but belongs to someone else
        return True
    return True


def remove_leftovers(target: Path) -> None:
    """The half-written zips that archives of `target` killed before they finished left beside it."""
    for tmp in target.parent.glob(f".{target.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


@dataclass
class Verification:
    manifest_digest: str
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)  # members of the zip that cannot be read back (also in changed)

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.added)


def _read(location: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every file of the archive, and the names of the zip's members that could not be read back."""
    if location.is_dir():
        files = {p.relative_to(location).as_posix(): p.read_bytes() for p in sorted(location.rglob("*")) if p.is_file()}
        return files, []
    if not location.is_file():
        raise _fail(f"找不到存档 {location}。请给出存档的 zip 文件，或解压后的文件夹。")
    files, corrupt = {}, []
    try:
        with zipfile.ZipFile(location) as z:
            for info in z.infolist():
                if info.is_dir():
                    continue
                try:
                    files[info.filename] = z.read(info)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):  # a bad CRC or deflate stream
                    corrupt.append(info.filename)
    except zipfile.BadZipFile:
        raise _fail(f"{location} 不是有效的 zip 文件（可能已损坏或不完整）。") from None
    if MANIFEST in corrupt:
        raise _fail(f"{location} 中的 {MANIFEST} 已损坏，无法读出，也就无法核对其余文件。")
    return files, corrupt


def verify(location: Path) -> Verification:
    """Compare every file of an archive (zip or unzipped folder) with its manifest."""
    files, corrupt = _read(location)
    if MANIFEST not in files:
        raise _fail(f"{location} 中没有 {MANIFEST}，无法核对。它不是本程序生成的存档，或清单已被删除。")
    manifest = files.pop(MANIFEST)
    result = Verification(sha256(manifest), corrupt=sorted(corrupt))
    listed: dict[str, str] = {}
    for line in manifest.decode("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
            raise _fail(f"{MANIFEST} 中有一行格式不对：{line!r}。清单可能已被改动。")
        listed[name] = digest
    for name, digest in sorted(listed.items()):
        if name in result.corrupt:
            result.changed.append(name)
        elif name not in files:
            result.missing.append(name)
        elif sha256(files[name]) != digest:
            result.changed.append(name)
        else:
            result.checked += 1
    result.added = sorted((set(files) | set(corrupt)) - set(listed))
    return result
