"""The build cache: what the last build of this output folder read and wrote, so the next one redoes only what
changed. Kept in <site>/.build-cache/ (never in public/, which is published).

A department-year is unchanged when every file it is made of (its year folder and its department's 部门.yaml)
has the size and modification time it had, or, where those differ, the same bytes (a `touch` or a git checkout
of identical content does not force a rebuild). Everything else that shapes every page (the generator's code,
the templates, the formats, the glossary, the content pages, site.toml, the pinned library versions) is one
global fingerprint: when it changes, everything is rebuilt.

Correctness comes first: an incremental build must write exactly the bytes a clean build would
(tests/test_incremental.py); `build --clean` ignores the cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from .search import TokenMatrix
from .units import Summary, Unit

CACHE_DIR = ".build-cache"
FORMAT = 1  # bump when the cache's own layout changes


def _hash_files(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def global_fingerprint(root: Path, templates: Path) -> str:
    """Everything that shapes every page, as one digest."""
    package = Path(__file__).resolve().parent
    paths = [p for p in package.rglob("*.py")]
    roots = [templates, root / "data" / "formats", root / "content"]
    for folder in roots:
        if folder.is_dir():
            paths += [p for p in folder.rglob("*") if p.is_file()]
    h = hashlib.sha256()
    for folder in (package, *roots):
        mine = [p for p in paths if folder in p.parents]
        if mine:
            h.update(_hash_files(mine, folder).encode())
    for name in ("site.toml", "requirements.txt"):
        for place in (root, package.parent):
            if (place / name).is_file():
                h.update(name.encode() + hashlib.sha256((place / name).read_bytes()).digest())
                break
    h.update(str(FORMAT).encode())
    return h.hexdigest()


def unit_files(root: Path, unit: Unit) -> list[Path]:
    folder = root / unit.folder
    files = [p for p in folder.rglob("*") if p.is_file()]
    info = root / unit.dept.rel / "部门.yaml"
    if info.is_file():
        files.append(info)
    return sorted(files)


@dataclass
class Entry:
    """One department-year as the last build saw it."""

    stats: dict[str, tuple[int, int]]  # file → (size, mtime_ns)
    digests: dict[str, str]  # file → sha256 of its bytes
    summary: Summary
    tokens: frozenset[str]


@dataclass
class State:
    fingerprint: str = ""
    entries: dict[str, Entry] = field(default_factory=dict)  # unit key → Entry
    site_files: dict[str, str] = field(default_factory=dict)  # site-level file → sha256
    order: list[str] = field(default_factory=list)  # unit keys in the search index's bitmap order
    matrix: TokenMatrix | None = None


class BuildCache:
    def __init__(self, root: Path, out: Path) -> None:
        # Keyed by where the output is: relative to the site when inside it, so a moved or copied site folder
        # (public/ and .build-cache/ with it) keeps its cache.
        out_abs, root_abs = out.resolve(), root.resolve()
        where = out_abs.relative_to(root_abs).as_posix() if root_abs in out_abs.parents else str(out_abs)
        key = hashlib.sha256(where.encode()).hexdigest()[:16]
        self.folder = root / CACHE_DIR / key
        self.out = out

    def load(self, fingerprint: str) -> State:
        """The last build's state, or an empty one when there is none, it is stale, or its output is gone."""
        try:
            with open(self.folder / "state.pickle", "rb") as f:
                state: State = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            return State(fingerprint)
        home = self.out / "index.html"
        if state.fingerprint != fingerprint or not home.is_file():
            return State(fingerprint)
        if hashlib.sha256(home.read_bytes()).hexdigest() != state.site_files.get("index.html"):
            return State(fingerprint)  # the output was changed by hand: rebuild it whole
        return state

    def save(self, state: State) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"state.pickle.{os.getpid()}"
        with open(tmp, "wb") as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.folder / "state.pickle")


def unchanged(root: Path, unit: Unit, entry: Entry | None, out: Path) -> tuple[bool, dict, dict]:
    """(is the unit as the last build saw it, its current stats, its current digests)."""
    files = unit_files(root, unit)
    stats: dict[str, tuple[int, int]] = {}
    for p in files:
        st = p.stat()
        stats[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    if entry is None:
        return False, stats, {}
    digests = dict(entry.digests)
    if stats != entry.stats:
        if set(stats) != set(entry.stats):
            return False, stats, {}
        for rel, stat in stats.items():
            if stat != entry.stats[rel]:
                digests[rel] = hashlib.sha256((root / rel).read_bytes()).hexdigest()
        if digests != entry.digests:
            return False, stats, {}
    # What it wrote must still be there (a reader may have deleted part of public/).
    if not (out / entry.summary.url).is_file() and entry.summary.files:
        return False, stats, {}
    return True, stats, digests


def digests_of(root: Path, stats: dict) -> dict[str, str]:
    return {rel: hashlib.sha256((root / rel).read_bytes()).hexdigest() for rel in stats}
