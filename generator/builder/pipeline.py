"""The pipeline, as a list (the steps of _build; how it goes is a BuildOptions).

config     site.toml → SiteConfig
scan       the department folders → a signature of each department-year's files (stat only; scan.py, _look);
           when everything is as the last build left it, the build ends here with the last build's report
shared     formats, glossary, content pages: what every department-year needs (_shared)
discover   the department-years (a department whose folder has not changed is taken from the build cache)
units      each department-year that changed, in parallel: load → check → model → render into a staging folder
           (the others: their Summary from the build cache; _units)
site       the checks across department-years (_site_checks), then the site-level files that summarise them
           (sitefiles.py, _site_level), each made again only where what it shows may have changed
apply      staged files into public/: the only step that touches it, after everything has succeeded (_apply)
cache      what this build read and wrote, for the next one (cache.py, _quick)

Only what a build with nothing changed needs is imported before the scan: a province's "nothing changed" costs
its scan, not the start-up of the whole generator.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from generator.builder.lock import output_lock
from generator.builder.scan import Scanned, scan, scan_again, source_signatures
from generator.builder.stage import Stage, check_output_dir, department_files, remove_leftovers
from generator.core.config import load_config
from generator.core.diagnostics import CheckFailed, Diagnostics, UserError
from generator.sources.folders import department_entries, department_folders

if TYPE_CHECKING:
    from generator.builder.cache import BuildCache, Index, Quick
    from generator.builder.records import Summary
    from generator.builder.units import Discovered, Machinery, Shared, Task, Unit
    from generator.checks.tables import CheckResult
    from generator.core.config import SiteConfig
    from generator.core.diagnostics import Diagnostic
    from generator.output.charts import ChartShapes
    from generator.output.search import TokenMatrix
    from generator.sources.records import SiteSource


@dataclass
class BuildReport:
    diagnostics: Diagnostics
    checks: list[CheckResult] = field(default_factory=list)  # every result (validate); the build counts them
    check_count: int = 0
    pages: int = 0
    files: int = 0
    written: int = 0  # files this build wrote or removed in public/
    units: int = 0
    rebuilt: int = 0  # department-years rendered (validate: checked) this time; the rest came from the cache
    published_with_errors: bool = False
    search_docs: int = 0
    search_bytes: int = 0
    seconds: float = 0.0
    only: list[str] | None = None  # with BuildOptions.only: the departments it looked at; None when it looked at all
    elsewhere: Diagnostics | None = None  # check_site(only=…): the other departments' problems, not listed


class Warm:
    """What serve keeps in its process from one build to the next instead of reading it again: the build cache's
    index as the last build committed it, and what every unit shares. A build takes each out as it comes to use
    it and puts both back only when it has succeeded: one that fails leaves nothing. (Not a dataclass, nor are
    _Build and the others below: every build imports this module, one with nothing changed too, and a dataclass
    takes far longer to define.)"""

    def __init__(self) -> None:
        self.index: Index | None = None  # the index the last build committed
        self.stamp: tuple[int, int, int] | None = None  # BuildCache.stamp() of index.pickle then
        self.fingerprint: str | None = None  # the global fingerprint `shared` was loaded under
        self.shared: Shared | None = None
        self.loaded: list[Diagnostic] = []  # what loading `shared` reported
        self.shapes: ChartShapes | None = None  # chart shapes depend only on the code, which a process keeps

    def take_index(self) -> tuple[Index, tuple[int, int, int] | None] | None:
        """(the kept index, its stamp), as BuildCache.load takes them, or None; no longer kept."""
        kept = None if self.index is None else (self.index, self.stamp)
        self.index = self.stamp = None
        return kept

    def take_shared(self, fingerprint: str) -> tuple[Shared, list[Diagnostic]] | None:
        """(the kept Shared, what loading it reported) where it was loaded under `fingerprint`, or None; no
        longer kept."""
        kept = (self.shared, self.loaded) if self.shared is not None and self.fingerprint == fingerprint else None
        self.fingerprint, self.shared, self.loaded = None, None, []
        return kept


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    """How `build` goes: what the command line's options say, and what serve hands from one rebuild to the next.
    BuildOptions() is a plain `python -m generator build`.

    `only` (department folder names, `build --only`): only these departments' files are looked at, and any
    department that came or went; the others are taken to be as the last build found them, so that after one
    department's edit a province's build does not stat 300,000 files. Their changes are left to the next build
    without `only`, which compares them with what this one recorded (the last build's record of them, kept).
    Where there is no last build to start from (none, `clean`, a template changed), every department is looked
    at, and the report's `only` is None.

    `within` (department folder names, `build --changed-from`): the site is made of these departments alone, as
    if the others were not there: a pull request's preview of what it changes.

    `scanned` and `warm` are serve's, which builds again and again in one process: `scanned` is scan.scan of the
    department folders made just before, with `outputs` as page_outputs(out, config) says, so that the build does
    not scan them again; `warm` is what one build leaves the next to start from (Warm)."""

    allow_errors: bool = False  # --allow-errors: publish despite errors, marking the checks that failed
    strict: bool = False  # --strict: a warning fails the build too
    jobs: int | None = None  # --jobs: worker processes; None for every core (default_jobs)
    clean: bool = False  # --clean: the build cache is not used; everything is made again
    only: list[str] | None = None  # --only (see above)
    within: set[str] | None = None  # --changed-from (see above)
    progress: Callable[[int, int], None] | None = None  # called with (done, of) as department-years finish
    waiting: Callable[[int | None], None] | None = None  # called once if another build holds the output folder
    scanned: dict[str, Scanned] | None = None  # serve's scan (see above)
    warm: Warm | None = None  # serve's (see above)


def run_checks(source: SiteSource, config: SiteConfig, diags: Diagnostics) -> tuple[list[CheckResult], dict]:
    """Every check of a site read whole (validate, diff); the build's workers run the same check_loaded."""
    from generator.builder.units import narrative_links
    from generator.checks.tables import consistent_names
    from generator.checks.year import check_loaded

    results: list[CheckResult] = []
    narrative: dict = {}
    named = []
    for dept in source.departments.values():
        for ys in dept.years.values():
            mine, resolved, names = check_loaded(config, source, dept, ys, diags)
            results += mine
            narrative[(dept.slug, ys.year)] = narrative_links(dept, ys, resolved)
            named += names
    consistent_names(named, diags)
    return results, narrative


def validate(root: Path) -> BuildReport:
    """Read and check the whole site in this process, keeping every check result (for tests and diff)."""
    from generator.sources.load import load_site

    config = load_config(root)
    diags = Diagnostics()
    source = load_site(config, diags)
    checks, _ = run_checks(source, config, diags)
    return BuildReport(diags, checks, len(checks))


def default_jobs() -> int:
    """How many worker processes a build starts unless told: one for each core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def check_site(
    root: Path,
    jobs: int | None = None,
    progress=None,
    notes: bool = True,
    only: list[str] | None = None,
    out: Path | None = None,
) -> BuildReport:
    """validate on the command line: every department-year checked in parallel, nothing rendered, nothing
    written. Without `notes` (the rounding notes themselves, not only their number), the build cache of `out`
    (the folder a build wrote, public/ by default) is read: a department-year whose files are as the last build
    found them is reported as that build checked it (the same check_unit, the same code and formats), so that
    after one edit a province's validate checks one department-year, not 10,000. `only` as BuildOptions.only
    says: only these departments' files are looked at, the others taken as the last build checked them (where
    there is one to go by); the report is of the named departments (and of files no department owns), the
    others' problems only counted (`elsewhere`). A file of that cache which its index counts on and which cannot
    be read (CacheDamaged): everything checked again."""
    from generator.builder.cache import CacheDamaged

    try:
        return _check_site(root, jobs, progress, notes, only, out, use_cache=not notes)
    except CacheDamaged:
        return _check_site(root, jobs, progress, notes, only, out, use_cache=False)


def _check_site(root, jobs, progress, notes, only, out, use_cache: bool) -> BuildReport:
    from generator.builder.cache import BuildCache, global_fingerprint
    from generator.builder.sitefiles import site_names
    from generator.builder.units import Task, discover, load_shared, run_units

    config = load_config(root)
    jobs = jobs or default_jobs()
    diags = Diagnostics()
    shared = load_shared(config, diags)
    entries = department_entries(config)
    if only is not None:
        _known(only, department_folders(entries), "未核对")
    cache = BuildCache(root, out or root / "public")
    fingerprint = global_fingerprint(root, config.templates_dir)
    old = cache.load(fingerprint) if use_cache else None
    signatures = limited = None
    if old is not None:
        quick = cache.load_quick(fingerprint) if only is not None else None
        scanned, limited = _scan(root, entries, jobs, quick, only)
        signatures = source_signatures(scanned)
    found = discover(config, shared, diags, known=old.departments if old else None, signatures=signatures)
    units = found.units
    report = BuildReport(diags, units=len(units), only=limited)
    summaries, records = {}, {}
    tasks = []
    for u in units:
        s = old.summaries.get(u.key) if old else None
        if s is not None and s.signature == found.signatures[u.key]:
            summaries[u.key] = s
        else:
            tasks.append(Task(u, render=False, keep_notes=notes))
    for done, result in enumerate(run_units(shared, tasks, jobs), start=1):
        summaries[result.key], records[result.key] = result.summary, result.record
        if progress:
            progress(done, len(tasks))
    ordered = [summaries[u.key] for u in units]
    site_names(units, ordered, lambda key: records[key] if key in records else cache.record(key), diags)
    report.check_count = _reported(ordered, diags)
    report.rebuilt = len(tasks)
    if only is not None:
        named = set(only)
        report.diagnostics, report.elsewhere = _named_apart(diags, ordered, named)
        report.units = sum(1 for s in ordered if s.slug in named)
        report.check_count = sum(s.checks for s in ordered if s.slug in named)
    return report


def _named_apart(diags: Diagnostics, ordered: list[Summary], named: set[str]) -> tuple[Diagnostics, Diagnostics]:
    """The problems of the named departments and of files that are no department's (site.toml, the glossary,
    the formats), apart from those of the other departments; each side with its departments' rounding notes."""
    mine, others = Diagnostics(), Diagnostics()
    for d in diags.items:
        parts = d.loc.path.split("/", 3)
        theirs = len(parts) > 2 and parts[:2] == ["data", "departments"] and parts[2] not in named
        (others if theirs else mine).extend([d])
    for s in ordered:
        side = mine if s.slug in named else others
        side.uncounted["note"] = side.uncounted.get("note", 0) + s.notes
    return mine, others


def _reported(ordered: list[Summary], diags: Diagnostics) -> int:
    """Each department-year's problems into `diags` (its rounding notes counted, where it did not keep them);
    returns how many checks they ran."""
    for s in ordered:
        diags.extend(s.diagnostics)
        diags.uncounted["note"] = diags.uncounted.get("note", 0) + s.notes
    return sum(s.checks for s in ordered)


def build(root: Path, out: Path | None = None, options: BuildOptions = BuildOptions()) -> BuildReport:
    """Check the site in `root` and bring `out` (public/ by default) up to date with it, making again only what
    changed since the last build (cache.py). Where the checks fail, nothing is written unless
    options.allow_errors. One build at a time writes an output folder and its cache (lock.py): another one waits
    for it to finish, after calling options.waiting with its process id (or None)."""
    from generator.builder.cache import BuildCache, CacheDamaged

    config = load_config(root)
    out = out or root / "public"
    check_output_dir(out, root)
    cache = BuildCache(root, out)
    with output_lock(out, options.waiting) as waited:
        remove_leftovers(out)
        remove_leftovers(cache.folder)
        # Where another build ran meanwhile, what serve saw before it (the pages in public/) may be out of date.
        scanned = None if waited else options.scanned
        try:
            return _build(root, out, config, cache, options, scanned)
        except CacheDamaged:  # public/ is as it was (stage.py): made again from the sources alone
            return _build(root, out, config, cache, dataclasses.replace(options, clean=True, scanned=None), None)


class _Build(NamedTuple):
    """What every step of one build goes by: where it builds, how, and under which global fingerprint."""

    root: Path
    out: Path
    config: SiteConfig
    cache: BuildCache
    options: BuildOptions
    jobs: int
    fingerprint: str  # cache.global_fingerprint: everything that shapes every page
    started: float  # time.monotonic() at its start, for the report


class _Looked(NamedTuple):
    """What the scan found (_look)."""

    entries: list[tuple[str, bool]] | None  # data/departments/ as department_entries lists it
    signatures: dict  # source_signatures of the department folders
    quick: Quick | None  # the last build's report, where it may still be true
    limited: list[str] | None  # the departments looked at, or None where all were (BuildReport.only)
    found_pages: set[str]  # department folders whose pages the scan saw in the output folder
    unchanged: bool  # everything is as the last build left it: its report is this build's


class _Work(NamedTuple):
    """What the steps after the scan make this build from."""

    build: _Build
    shared: Shared
    found: Discovered
    old: Index | None  # the last build's index, where it is of this fingerprint: what did not change is kept
    previous: Index | None  # without `old`: the last build's index of another fingerprint, for what public/ holds
    stage: Stage
    records: Path  # where this build's records go (BuildCache.open_stage)
    found_pages: set[str]  # as _Looked has it
    machinery: Machinery  # what making pages keeps from one department-year to the next in this process


class _Processed(NamedTuple):
    """What _units did: each department-year's Summary, and of those it processed, what they make."""

    summaries: dict[str, Summary]  # unit key → Summary, in the site's order
    fresh: set[str]  # the keys of the department-years processed
    gone: set[str]  # files they made in the last build and no longer make
    made: set[str]  # with _Work.previous: every file they make


def _build(
    root: Path, out: Path, config: SiteConfig, cache: BuildCache, options: BuildOptions, scanned: dict | None
) -> BuildReport:
    """The build's steps (see the module's docstring), with the output folder locked."""
    warm = options.warm
    kept = warm.take_index() if warm is not None else None
    from generator.builder.cache import global_fingerprint

    started = time.monotonic()
    jobs = options.jobs or default_jobs()
    b = _Build(root, out, config, cache, options, jobs, global_fingerprint(root, config.templates_dir), started)
    looked = _look(b, scanned)
    if looked.unchanged:
        return _unchanged(looked.quick, options, started, looked.limited)

    from generator.builder.sitefiles import search_matrix
    from generator.builder.units import Machinery, discover
    from generator.core.files import refuse_links_out

    refuse_links_out(config.templates_dir, root)  # Jinja and the assets read them: nothing from elsewhere
    machinery = Machinery.make(config.templates_dir, cache.folder.parent / "templates", warm and warm.shapes)
    diags = Diagnostics()
    shared, loaded = _shared(b, diags)
    old, previous = _last_build(b, kept)
    if old is not None:
        machinery.shapes.remember(old.shapes)
    found = discover(config, shared, diags, old.departments if old else None, looked.signatures, options.within)
    report = BuildReport(diags, units=len(found.units), only=looked.limited)
    # public/ replaced whole only where what it holds is not known; the cache deleted if a kill undoes the change
    stage = Stage(out, (old or previous) is None, cache.folder)
    work = _Work(b, shared, found, old, previous, stage, cache.open_stage(), looked.found_pages, machinery)
    machinery.gc.freeze()  # the modules and the last build's index are not garbage: the collector need not go through them
    try:
        matrix, moved = search_matrix([u.key for u in found.units], old, cache)
        done = _units(work, matrix, report)
        ordered = [done.summaries[u.key] for u in found.units]
        failed = _site_checks(work, ordered, done.fresh, report)
        index = _site_level(work, done, ordered, matrix, moved)
        removed = set(old.summaries) - set(done.summaries) if old else set()
        report.written = _apply(work, index, done, removed)
        _counted(report, ordered, index, failed)
        cache.commit(index, _quick(b, looked, index, report), old is None, removed, old)
        stage.finish()  # the cache describes the new public/: the change is final
        if warm is not None:
            warm.index, warm.stamp = index, cache.stamp()
            warm.fingerprint, warm.shared, warm.loaded = b.fingerprint, shared, loaded
            warm.shapes = machinery.shapes
    finally:
        machinery.gc.thaw()
        stage.discard()
        cache.discard()
    report.seconds = time.monotonic() - started
    return report


def _look(b: _Build, scanned: dict[str, Scanned] | None) -> _Looked:
    """The scan of the department folders (serve's `scanned`, where it looked just before), and whether
    everything is as the last build left it: the same folders and files, the pages still in the output folder."""
    options = b.options
    entries = department_entries(b.config)
    if options.within is not None and entries is not None:
        entries = [(name, is_dir) for name, is_dir in entries if not is_dir or name in options.within]
    quick = None
    looked = scanned is not None  # serve's scan looked for the pages
    if options.only is not None:
        _known(options.only, department_folders(entries))
    limited = None
    if scanned is None:
        quick = None if options.clean else b.cache.load_quick(b.fingerprint)
        # Where the last build's report may still be true, the scan also looks for each department's pages.
        looked = quick is not None
        outputs = page_outputs(b.out, b.config) if looked else None
        scanned, limited = _scan(b.root, entries, b.jobs, quick, options.only, outputs)
    signatures = source_signatures(scanned)
    same = quick and quick.entries == entries and quick.signatures == signatures
    unchanged = bool(same and all(found.present for found in scanned.values()) and _present(b.out, quick.outputs))
    found_pages = {rel for rel, found in scanned.items() if found.present} if looked and not unchanged else set()
    return _Looked(entries, signatures, quick, limited, found_pages, unchanged)


def _shared(b: _Build, diags: Diagnostics) -> tuple[Shared, list[Diagnostic]]:
    """What every unit shares, and what loading it reported (into `diags` too). It is made of what the global
    fingerprint covers: serve's last build's is taken while that holds."""
    from generator.builder.units import load_shared

    known = b.options.warm.take_shared(b.fingerprint) if b.options.warm is not None else None
    if known is not None:
        shared, loaded = known
    else:
        loading = Diagnostics()
        shared, loaded = load_shared(b.config, loading), loading.items
    diags.extend(loaded)
    return shared, loaded


def _last_build(b: _Build, kept: tuple | None) -> tuple[Index | None, Index | None]:
    """The last build's index: (it, None) where it is of this fingerprint, (None, it) where it is of another
    (something every page is made of changed: every department-year is made again), (None, None) where there is
    none to go by. `kept`: serve's (Warm.take_index)."""
    if b.options.clean:
        return None, None
    old = b.cache.load(b.fingerprint, kept)
    if old is not None:
        return old, None
    # With another fingerprint, public/ is still brought up to date file by file, as the last build's index and
    # records say it holds, instead of a new public/ swapped in and the old one deleted (on a province, some
    # 900,000 files): data files and pages that came out the same are neither written nor deleted.
    return None, b.cache.load_outputs()


def _site_checks(work: _Work, ordered: list[Summary], fresh: set[str], report: BuildReport) -> bool:
    """The checks across department-years, then every department-year's problems into the report. Returns
    whether the checks failed; raises CheckFailed where they did and the build does not publish despite errors."""
    from generator.builder.sitefiles import site_names

    diags, cache = report.diagnostics, work.build.cache
    site_names(work.found.units, ordered, lambda key: cache.record(key, fresh=key in fresh), diags)
    report.check_count = _reported(ordered, diags)
    return _failed(diags, work.build.options)


def _failed(diags: Diagnostics, options: BuildOptions) -> bool:
    """Did the checks fail (errors, or warnings with `strict`)? Raises CheckFailed where they did, unless the build
    publishes despite errors."""
    failed = diags.has_errors or (options.strict and diags.count("warning") > 0)
    if failed and not options.allow_errors:
        raise CheckFailed("数据有误，未生成网站", diags.sorted())
    return failed


def _site_level(work: _Work, done: _Processed, ordered: list[Summary], matrix: TokenMatrix, moved: bool) -> Index:
    """This build's index, with the site-level files: as the last build left them where nothing any of them is
    made of changed, else made again where they may have (sitefiles.site_files)."""
    from generator.builder.cache import Index
    from generator.builder.sitefiles import SiteWork, site_files

    b, old = work.build, work.old
    index = Index(b.fingerprint, work.found.departments, done.summaries)
    index.failed = any(s.errors for s in ordered)
    if (
        old
        and not done.fresh
        and old.order == index.order
        and old.failed == index.failed
        and _present(b.out, old.site_files)
    ):
        index.site_files, index.site_terms, index.token_count = old.site_files, old.site_terms, old.token_count
        index.shapes, index.search_sizes, index.year_charts = old.shapes, old.search_sizes, old.year_charts
    else:
        inputs = SiteWork(
            config=b.config,
            shared=work.shared,
            units=work.found.units,
            index=index,
            old=old,
            last=old or work.previous,
            fresh=done.fresh,
            cache=b.cache,
            stage=work.stage,
            matrix=matrix,
            moved=moved,
            machinery=work.machinery,
        )
        site_files(inputs)
    return index


def _apply(work: _Work, index: Index, done: _Processed, removed: set[str]) -> int:
    """The staged files into public/, and what it holds that this build no longer makes out of it (`removed`:
    department-years gone since the last build). Returns how many files were written or removed."""
    staged = sum(done.summaries[k].file_count for k in done.fresh) + index.site_staged
    if work.previous is not None:  # everything made again: what else is in public/ goes
        done.made.update(index.site_files)
        removals = _strays(work.build.out, done.made)
    else:
        removals = _removals(work.old, index, done.gone, removed, work.build.cache)
    return work.stage.apply(removals, staged)


def _counted(report: BuildReport, ordered: list[Summary], index: Index, failed: bool) -> None:
    """What the site holds, into the report."""
    report.pages = sum(s.page_count for s in ordered) + sum(1 for p in index.site_files if p.endswith(".html"))
    report.files = sum(s.file_count for s in ordered) + len(index.site_files)
    report.search_docs = len(ordered)
    report.search_bytes = sum(s.search_bytes for s in ordered) + sum(index.search_sizes.values())
    report.published_with_errors = failed


def _quick(b: _Build, looked: _Looked, index: Index, report: BuildReport) -> Quick:
    """What the next build needs to tell that nothing changed, and to report this build's report then."""
    from generator.builder.cache import Quick
    from generator.builder.sitefiles import partitioned

    diags = report.diagnostics
    return Quick(
        fingerprint=b.fingerprint,
        entries=looked.entries,
        signatures=looked.signatures,
        outputs=[p for p in index.site_files if not partitioned(p) or p.startswith(("years/", "assets/"))],
        diagnostics=diags.items,
        notes=diags.count("note"),
        check_count=report.check_count,
        units=report.units,
        pages=report.pages,
        files=report.files,
        search_bytes=report.search_bytes,
        home=index.site_files["index.html"],
    )


def _scan(root: Path, entries: list, jobs: int, quick, only: list[str] | None, outputs=None):
    """(scan's result for the department folders, the departments looked at or None where all were). With
    `only` and `quick` (the last build's report), only those departments are looked at: the others are as that
    build found them, their pages there as it left them."""
    if only is None or quick is None:
        return scan(root, department_folders(entries), jobs, outputs), None
    before = {rel: Scanned(*found, True) for rel, found in quick.signatures.items()}
    return scan_again(root, entries, before, set(only), outputs), sorted(set(only))


def _known(only: list[str], folders: list[str], refused: str = "未生成网站") -> None:
    """`--only`'s departments, each a folder in data/departments/."""
    from generator.core.diagnostics import Diagnostic, Loc

    names = {rel.rsplit("/", 1)[1] for rel in folders}
    unknown = [name for name in only if name not in names]
    if unknown:
        example = f"，如 {min(names)}" if names else ""
        message = (
            f"--only 写的 {'、'.join(unknown)} 不是这里的部门文件夹。请写 data/departments/ 下的文件夹名{example}。"
        )
        raise UserError(refused, [Diagnostic("error", Loc("data/departments"), message, "only")])


def _unchanged(quick: Quick, options: BuildOptions, started: float, limited: list[str] | None) -> BuildReport:
    """The report of a build in which nothing changed: the last build's, with nothing written."""
    diags = Diagnostics()
    diags.extend(quick.diagnostics)
    diags.uncounted["note"] = quick.notes
    failed = _failed(diags, options)
    report = BuildReport(diags, check_count=quick.check_count, units=quick.units, search_docs=quick.units)
    report.pages, report.files, report.search_bytes = quick.pages, quick.files, quick.search_bytes
    report.published_with_errors = failed
    report.only = limited
    report.seconds = time.monotonic() - started
    return report


def page_outputs(out: Path, config) -> tuple:
    """scan.scan's `outputs`: where it looks for each department's own files and each of its years' page."""
    return str(out), department_files("", config.base_url), ("index.html",)


def _present(out: Path, paths) -> bool:
    return all(os.path.isfile(os.path.join(out, p)) for p in paths)


def _units(work: _Work, matrix: TokenMatrix, report: BuildReport) -> _Processed:
    """Each department-year's Summary: the last build's where nothing it is made of changed, else processed (in
    parallel), their search tokens into `matrix` as each one finishes."""
    summaries, tasks = _to_process(work)
    report.rebuilt = len(tasks)
    return _process(work, tasks, summaries, matrix)


def _to_process(work: _Work) -> tuple[dict[str, Summary], list[Task]]:
    """The Summaries that can be taken from the last build (_reused), and a Task for each other department-year."""
    from generator.builder.units import Task

    b, stage = work.build, work.stage
    summaries: dict[str, Summary] = {}
    tasks = []
    # The worker compares with what the last build wrote, where it is still there (a file removed by hand is
    # written again). The files it makes are sent back only where public/ is brought up to date against them
    # (`previous`): a province's clean build would otherwise hold close to a million paths it never uses.
    task = functools.partial(
        Task,
        render=True,
        allow_errors=b.options.allow_errors,
        stage=stage.folder,
        records=work.records,
        old=b.cache.records if work.old or work.previous else None,
        out=stage.out,
        outputs_only=work.previous is not None,
    )
    for unit in work.found.units:
        s = _reused(work, unit)
        if s is not None:
            summaries[unit.key] = s
        else:
            tasks.append(task(unit))
    return summaries, tasks


def _reused(work: _Work, unit: Unit) -> Summary | None:
    """The last build's Summary of `unit`, where it stands for this build's: it was published, or it failed its
    checks and this build does not publish despite errors; its page is still in public/; and its files are as
    they were, or have the same bytes with other times (then remembered with the new times)."""
    from generator.builder.scan import unit_signature

    b = work.build
    s = work.old.summaries.get(unit.key) if work.old else None
    if s is None or not (s.published or (s.errors and not b.options.allow_errors)):
        return None
    if s.published and unit.dept.rel not in work.found_pages and not (work.stage.out / s.url).is_file():
        return None  # its output was deleted by hand
    if s.signature == work.found.signatures[unit.key]:
        return s
    # Touched, checked out again, or copied: the same bytes?
    record = b.cache.record(unit.key)
    stats = _same_bytes(b.root, unit, record)
    if stats is None:
        return None
    record.stats = {rel: (size, mtime) for rel, size, mtime in stats}
    b.cache.stage_record(unit.key, record)
    # A new Summary, not the last build's changed in place: the cache writes the parts with a new one.
    return dataclasses.replace(s, signature=unit_signature(stats))


def _process(work: _Work, tasks: list[Task], summaries: dict[str, Summary], matrix: TokenMatrix) -> _Processed:
    """Run the tasks on the build's workers, each result's Summary into `summaries` as it finishes."""
    from generator.builder.units import run_units

    b, units = work.build, work.found.units
    position = {u.key: i for i, u in enumerate(units)}
    fresh: set[str] = set()
    gone: set[str] = set()
    made: set[str] = set()
    for count, result in enumerate(run_units(work.shared, tasks, b.jobs, work.machinery), start=1):
        result.summary.signature = work.found.signatures[result.key]
        # One string per code and name across the site in memory, and once per part of the cache's summaries.
        result.summary.named = {sys.intern(c): sys.intern(n) for c, n in result.summary.named.items()}
        summaries[result.key] = result.summary
        fresh.add(result.key)
        matrix.remove(position[result.key], result.removed)
        matrix.add(position[result.key], result.added)
        gone.update(result.gone)
        made.update(result.made)
        if b.options.progress:
            b.options.progress(count, len(tasks))
    return _Processed({u.key: summaries[u.key] for u in units}, fresh, gone, made)


def _same_bytes(root: Path, unit: Unit, record) -> list[tuple[str, int, int]] | None:
    """The unit's files now (scan.unit_stats), where they are the record's (no file came or went) and those whose
    sizes or times changed still have the bytes it says; else None. After a copy of the site folder, every file
    has a new time and this reads all of them (some 280,000 on a province), by path strings, not Path objects."""
    from generator.builder.scan import unit_stats
    from generator.core.files import read_plain

    if record is None:
        return None
    stats = unit_stats(root, unit.folder)
    if len(stats) != len(record.stats) or any(rel not in record.stats for rel, _, _ in stats):
        return None
    base = str(root)
    for rel, size, mtime in stats:
        if (size, mtime) != record.stats[rel]:
            data = read_plain(os.path.join(base, rel))  # None for a symbolic link: the unit is read again
            if data is None or hashlib.sha256(data).hexdigest() != record.digests.get(rel):
                return None
    return stats


def _strays(out: Path, made: set[str]) -> set[str]:
    """The files in public/ that this build does not make: after it, public/ holds what a clean build's would."""
    strays = set()
    for folder, _, names in os.walk(out):
        rel = os.path.relpath(folder, out).replace(os.sep, "/")
        prefix = "" if rel == "." else f"{rel}/"
        strays.update(p for name in names if (p := prefix + name) not in made)
    return strays


def _removals(old, index, gone: set[str], removed: set[str], cache) -> set[str]:
    """Files of the last build that this one no longer makes: what re-rendered department-years no longer
    produce, everything of removed ones, and site-level files."""
    if old is None:
        return set()
    for key in removed:
        before = cache.record(key)
        if before is not None:
            gone = gone | set(before.files)
    return gone | (set(old.site_files) - set(index.site_files))


__all__ = ["BuildOptions", "BuildReport", "Warm", "build", "check_site", "run_checks", "validate"]
