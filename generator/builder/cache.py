"""The build cache: what the last build of this output folder read and wrote, so the next one redoes only what
changed. Kept in <site>/.build-cache/<output key>/ (never in public/, which is published):

    index.pickle      what every build reads: the global fingerprint, each department as read from its folder,
                      the department-years in the site's order, the site-level files and their digests, the
                      search index's size
    summaries/<nn>.pickle  each department-year's Summary (with the signature of its files), in parts by
                      department, so that a build that changed one department writes one part, not all of them
    units/<key>.pickle  one department-year's Record: its files' digests, pages, search tokens; read only when
                      it changed, or when a site-level file that lists its pages is made again
    search/<nn>.pickle  the search index's token bitmaps, in parts by token hash (search.TokenMatrix)

A department-year is unchanged when the paths, sizes and modification times of every file it is made of (its
year folder and its department's 部门.yaml) are as they were (scan.py), or, where they differ, the bytes are
the same (a `touch` or a git checkout of identical content does not force a rebuild). Everything else that
shapes every page (the generator's code, the templates, the formats, the glossary, the content pages,
site.toml, the pinned library versions) is one global fingerprint: when it changes, everything is rebuilt.

Correctness comes first: an incremental build must write exactly the bytes a clean build would
(tests/test_incremental.py); `build --clean` ignores the cache. Everything a build writes here goes first to
a staging folder and replaces the old cache only after public/ has been brought up to date.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import shutil
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from generator import HOME
from generator.core.files import dump_pickle, load_pickle

if TYPE_CHECKING:  # imported where a record is read: a build with nothing changed reads none
    from generator.builder.records import Record, Summary
    from generator.builder.scan import KnownDepartment

CACHE_DIR = ".build-cache"
FORMAT = 4  # bump when the cache's own layout changes
SUMMARY_PARTS = 64  # summaries/<nn>.pickle: a province's 10,000 department-years are some 200 KB a part


def summary_part(slug: str) -> int:
    """The part of summaries/ a department's Summaries are kept in."""
    return zlib.crc32(slug.encode("utf-8")) % SUMMARY_PARTS


def _summary_parts(summaries: dict[str, Summary]) -> list[dict[str, Summary]]:
    parts: list[dict[str, Summary]] = [{} for _ in range(SUMMARY_PARTS)]
    for key, s in summaries.items():
        parts[summary_part(s.slug)][key] = s
    return parts


@contextlib.contextmanager
def _no_gc():
    """The collector paused while a province's index (tens of thousands of objects, none garbage) is read or
    written: left on, it goes through all of them again and again as they are made."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class GcFreeze:
    """gc.freeze for as long as the outermost of nested freeze()/thaw() pairs lasts. What exists when it is frozen
    (a province's index: millions of objects, none of them garbage) is kept out of the collector's way, which
    would otherwise go through all of it again on every full collection while the build allocates. gc.freeze is
    one switch for the whole process, so what nests (a build, the pool of workers it starts) shares one of these,
    made by the build."""

    def __init__(self) -> None:
        self.depth = 0  # freeze() calls not yet thawed

    def freeze(self) -> None:
        gc.freeze()
        self.depth += 1

    def thaw(self) -> None:
        self.depth -= 1
        if not self.depth:
            gc.unfreeze()  # collectable again: serve's next build must be able to free this one's index

    @contextlib.contextmanager
    def frozen(self):
        self.freeze()
        try:
            yield
        finally:
            self.thaw()


def _hash_files(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def global_fingerprint(root: Path, templates: Path, package: Path = HOME) -> str:
    """Everything that shapes every page, as one digest: the generator's code (every stage of `package`), the
    templates, the formats, content/, site.toml and the pinned versions."""
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


@dataclass
class Index:
    """What every build reads from the cache (see the module's docstring)."""

    fingerprint: str
    departments: dict[str, KnownDepartment] = field(default_factory=dict)  # department folder → as read from it
    summaries: dict[str, Summary] = field(default_factory=dict)  # unit key → Summary, in the site's order
    site_files: dict[str, str] = field(default_factory=dict)  # site-level file → sha256
    site_terms: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # site page → (title, terms)
    token_count: int = 0  # tokens in the search index
    term_totals: dict[str, int] = field(default_factory=dict)  # glossary slug → department-years' pages it is on
    appears: dict = field(default_factory=dict)  # glossary slug → (its first pages, where the list filled)
    search_sizes: dict[str, int] = field(default_factory=dict)  # site-level search file (site.js, shards) → bytes
    failed: bool = False  # published with errors
    shapes: dict = field(default_factory=dict)  # chart structures Altair built (charts.ChartShapes.known())
    year_charts: dict = field(default_factory=dict)  # year → the home page's comparison charts of that year
    site_staged: int = 0  # site-level files this build staged (not kept: only for its report)
    parts: list[str] = field(default_factory=list)  # the token of each summaries/<nn>.pickle this index goes with

    @property
    def order(self) -> list[str]:
        return list(self.summaries)

    def __getstate__(self) -> dict:
        """index.pickle keeps the department-years' order; their Summaries are in summaries/ (BuildCache.commit)."""
        state = dict(self.__dict__)
        state["summaries"] = list(self.summaries)
        return state


@dataclass(kw_only=True)
class Quick:
    """All a build with nothing changed needs (quick.pickle, beside the index): what the department folders
    held (scan.scan's signatures), what must still be in public/, and the last build's report, so that on a
    province the check that nothing changed costs the scan and this small file, not the index."""

    fingerprint: str
    entries: list[tuple[str, bool]] | None  # data/departments/ as sources.folders.department_entries lists it
    signatures: dict[str, tuple[str, dict[str, str]]]  # scan.source_signatures of the department folders
    outputs: list[str]  # the site-level files not in a department's folder (scan.py looks for those)
    diagnostics: list  # errors and warnings, as the last build reported them
    notes: int  # rounding notes (only counted)
    check_count: int
    units: int
    pages: int
    files: int
    search_bytes: int
    home: str  # sha256 of index.html: a public/ changed by hand is rebuilt


class CacheDamaged(Exception):
    """A file of the build cache that the last build's index counts on (a department-year's record, a part of
    the search index) cannot be read: the build starts again without the cache (pipeline.build)."""


class BuildCache:
    def __init__(self, root: Path, out: Path) -> None:
        # Keyed by where the output is: relative to the site when inside it, so a moved or copied site folder
        # (public/ and .build-cache/ with it) keeps its cache.
        out_abs, root_abs = out.resolve(), root.resolve()
        where = out_abs.relative_to(root_abs).as_posix() if root_abs in out_abs.parents else str(out_abs)
        key = hashlib.sha256(where.encode()).hexdigest()[:16]
        self.folder = root / CACHE_DIR / key
        self.out = out
        self.stage = self.folder.parent / f".{key}.stage-{os.getpid()}"

    def stamp(self) -> tuple[int, int, int] | None:
        """index.pickle's inode, size and modification time: another build (another process) changes them."""
        try:
            st = os.stat(self.folder / "index.pickle")
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def load(self, fingerprint: str, kept: tuple | None = None) -> Index | None:
        """The last build's index, or None when there is none, it is stale, or its output is gone or changed.
        `kept`: (the index the last build in this process committed, cache.stamp() then), used instead of reading
        index.pickle again while that file is still the one it wrote."""
        if kept is not None and kept[1] is not None and kept[1] == self.stamp():
            index = kept[0] if kept[0].fingerprint == fingerprint else None
        else:
            index = self._with_summaries(self._read("index.pickle", Index, fingerprint))
        return index if index is not None and self._describes_output(index) else None

    def _with_summaries(self, index: Index | None) -> Index | None:
        """An index as read from index.pickle, with its Summaries read from summaries/ in the site's order; None
        when a part is missing or is not the one the index was written with (a build interrupted between them)."""
        if index is None or len(index.parts) != SUMMARY_PARTS:
            return None
        parts = {}
        for i, token in enumerate(index.parts):
            with _no_gc():
                found = load_pickle(self.folder / "summaries" / f"{i:02x}.pickle")
            if not (isinstance(found, tuple) and len(found) == 2 and found[0] == token and isinstance(found[1], dict)):
                return None
            parts.update(found[1])
        if len(parts) != len(index.summaries) or any(key not in parts for key in index.summaries):
            return None
        index.summaries = {key: parts[key] for key in index.summaries}
        return index

    def load_outputs(self) -> Index | None:
        """The last build's index whatever its fingerprint (another version of the generator, other templates
        or glossary), only for what it says public/ holds: each file's digest, in the index and its records.
        None where it cannot say (no index, one this code cannot read, a record lost, public/ changed by hand)."""
        index = self._with_summaries(self._read("index.pickle", Index, None))
        return index if index is not None and self._describes_output(index) else None

    def _describes_output(self, index: Index) -> bool:
        """Does `index`, with its records, still describe public/? Not when a record was lost (start again
        rather than trust the rest) or public/ was changed by hand, or is gone (rebuild it whole)."""
        try:
            if len(os.listdir(self.folder / "units")) != len(index.summaries):
                return False
        except OSError:
            return False
        return self._home_is(index.site_files.get("index.html"))

    def load_quick(self, fingerprint: str) -> Quick | None:
        quick = self._read("quick.pickle", Quick, fingerprint)
        return quick if quick is not None and self._home_is(quick.home) else None

    def _read(self, name: str, kind: type, fingerprint: str | None):
        """A pickled Index or Quick of this cache, or None when it is missing, unreadable, of a version of the code
        with other fields, or of other inputs (of any inputs where `fingerprint` is None)."""
        with _no_gc():
            found = load_pickle(self.folder / name)
        if not isinstance(found, kind) or any(f.name not in vars(found) for f in fields(kind)):
            return None
        if fingerprint is not None and getattr(found, "fingerprint", None) != fingerprint:
            return None
        return found

    def _home_is(self, digest: str | None) -> bool:
        """Is public/index.html the one whose sha256 is `digest`?"""
        return self._home is not None and self._home == digest

    @functools.cached_property
    def _home(self) -> str | None:
        """public/index.html's sha256, read once per build (the quick report and the index both ask)."""
        try:
            return hashlib.sha256((self.out / "index.html").read_bytes()).hexdigest()
        except OSError:
            return None

    # -- while building: new records and search parts go to the staging folder ------------------------------

    def open_stage(self) -> Path:
        if self.stage.exists():
            shutil.rmtree(self.stage)
        (self.stage / "units").mkdir(parents=True)
        (self.stage / "search").mkdir()
        (self.stage / "summaries").mkdir()
        return self.stage / "units"

    @property
    def records(self) -> Path:
        """The folder of the last build's records."""
        return self.folder / "units"

    def record(self, key: str, fresh: bool = False) -> Record | None:
        """A unit's record: the one this build made (`fresh`), or the last build's. Read from disk each time:
        a rebuild of every unit (a template changed) must not hold a province's records at once."""
        from generator.builder.records import load_record

        found = load_record(self.stage / "units" if fresh else self.records, key)
        if found is None and not fresh:
            raise CacheDamaged(key)
        return found

    def staged(self) -> bool:
        """Has this build staged anything for the cache (records of department-years, search parts)?"""
        for kind in ("units", "search"):
            with os.scandir(self.stage / kind) as entries:
                if any(entries):
                    return True
        return False

    def stage_record(self, key: str, record: Record) -> None:
        from generator.builder.records import save_record

        save_record(self.stage / "units", key, record)

    def search_part(self, i: int) -> dict:
        path = self.folder / "search" / f"{i:02x}.pickle"
        found = load_pickle(path)
        if isinstance(found, dict):
            return found
        if path.exists():  # there, but not what this build wrote: its tokens would be missing from the search
            raise CacheDamaged(path.name)
        return {}  # a part no department-year had a token in

    def stage_search_part(self, i: int, rows: dict) -> None:
        dump_pickle(self.stage / "search" / f"{i:02x}.pickle", rows)

    def commit(self, index: Index, quick: Quick, full: bool, removed: set[str], old: Index | None = None) -> None:
        """The staged records and search parts replace the old ones, then the index is written: the last step,
        so a build interrupted before it leaves an index that still describes what is in public/. Of the
        summaries, only the parts in which one is not the object `old` (the last build's index) held are written."""
        (self.folder / "quick.pickle").unlink(missing_ok=True)  # stale from here until the index is in place
        parts = _summary_parts(index.summaries)
        before = _summary_parts(old.summaries) if old is not None and not full else None
        index.parts = list(old.parts) if before is not None else [""] * SUMMARY_PARTS
        for i, part in enumerate(parts):
            if before is None or part.keys() != before[i].keys() or any(s is not before[i][k] for k, s in part.items()):
                index.parts[i] = os.urandom(8).hex()
                with _no_gc():
                    dump_pickle(self.stage / "summaries" / f"{i:02x}.pickle", (index.parts[i], part))
        for name, data in (("index.pickle", index), ("quick.pickle", quick)):
            with _no_gc():
                dump_pickle(self.stage / name, data)
        if full or not self.folder.is_dir():
            from generator.builder.stage import swap_in

            swap_in(self.stage, self.folder)
            return
        for kind in ("units", "search", "summaries"):
            (self.folder / kind).mkdir(exist_ok=True)
            for p in (self.stage / kind).iterdir():
                os.replace(p, self.folder / kind / p.name)
        for key in removed:
            (self.folder / "units" / f"{key}.pickle").unlink(missing_ok=True)
        os.replace(self.stage / "index.pickle", self.folder / "index.pickle")
        os.replace(self.stage / "quick.pickle", self.folder / "quick.pickle")
        shutil.rmtree(self.stage)

    def discard(self) -> None:
        if self.stage.exists():
            shutil.rmtree(self.stage)
