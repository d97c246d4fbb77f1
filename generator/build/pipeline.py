"""The pipeline, as a list.

config     site.toml → SiteConfig
scan       the department folders → a signature of each department-year's files (stat only; scan.py);
           when everything is as the last build left it, the build ends here with the last build's report
shared     formats, glossary, content pages: what every department-year needs
discover   the department-years (a department whose folder has not changed is taken from the build cache)
units      each department-year that changed, in parallel: load → check → model → render into a staging folder
           (the others: their Summary from the build cache)
site       the checks across department-years, then the site-level files that summarise them (site.py), each
           made again only where what it shows may have changed
apply      staged files into public/: the only step that touches it, after everything has succeeded
cache      what this build read and wrote, for the next one (cache.py)

Only what a build with nothing changed needs is imported before the scan: a province's "nothing changed" costs
its scan, not the start-up of the whole generator.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.build.lock import output_lock
from generator.build.scan import Scanned, scan, scan_again, source_signatures
from generator.build.stage import Stage, check_output_dir, department_files, remove_leftovers
from generator.core.config import load_config
from generator.core.diagnostics import CheckFailed, Diagnostics, UserError
from generator.sources.folders import department_entries, department_folders

if TYPE_CHECKING:
    from generator.build.records import Summary
    from generator.build.units import Unit
    from generator.checks.tables import CheckResult
    from generator.core.config import SiteConfig
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
    only: list[str] | None = None  # with build(only=…): the departments it looked at; None when it looked at all
    elsewhere: Diagnostics | None = None  # check_site(only=…): the other departments' problems, not listed


def run_checks(source: SiteSource, config: SiteConfig, diags: Diagnostics) -> tuple[list[CheckResult], dict]:
    """Every check of a site read whole (validate, diff); the build's workers run the same check_loaded."""
    from generator.build.units import narrative_links
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
    after one edit a province's validate checks one department-year, not 10,000 (208 s here). `only` as for build: only these departments' files are
    looked at, the others taken as the last build checked them (where there is one to go by); the report is of
    the named departments (and of files no department owns), the others' problems only counted (`elsewhere`)."""
    from generator.build.cache import BuildCache, global_fingerprint
    from generator.build.sitefiles import site_names
    from generator.build.units import Task, discover, load_shared, run_units

    config = load_config(root)
    jobs = jobs or default_jobs()
    diags = Diagnostics()
    shared = load_shared(config, diags)
    entries = department_entries(config)
    if only is not None:
        _known(only, department_folders(entries), "未核对")
    cache = BuildCache(root, out or root / "public")
    fingerprint = global_fingerprint(root, config.templates_dir)
    old = None if notes else cache.load(fingerprint)
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


def build(
    root: Path,
    out: Path | None = None,
    *,
    allow_errors: bool = False,
    strict: bool = False,
    jobs: int | None = None,
    clean: bool = False,
    progress=None,
    scanned: dict | None = None,
    warm: dict | None = None,
    waiting=None,
    only: list[str] | None = None,
    within: set[str] | None = None,
) -> BuildReport:
    """For serve, which builds again and again in one process: `scanned` is scan.scan of the department folders
    made just before, with `outputs` as page_outputs(out, config) says, so the build does not scan them again;
    `warm` is where a build leaves the cache's index it committed and what every unit shares, for the next to
    start from instead of reading them again (taken out at the start: a build that fails leaves nothing).

    One build at a time writes an output folder and its cache (lock.py): another one waits for it to finish,
    after calling `waiting` with its process id (or None).

    `only` (department folder names, `build --only`): only these departments' files are looked at, and any
    department that came or went; the others are taken to be as the last build found them, so a province's
    build after one department's edit does not stat 300,000 files. Their changes are left to the next build
    without `only`, which compares them with what this one recorded: the last build's record of them, kept.
    Where there is no last build to start from (none, `clean`, a template changed), every department is looked
    at, and the report's `only` is None.

    `within` (department folder names, `build --changed-from`): the site is made of these departments alone, as
    if the others were not there: a pull request's preview of what it changes, not a province's 10 GB."""
    from generator.build.cache import BuildCache

    config = load_config(root)
    out = out or root / "public"
    check_output_dir(out, root)
    cache = BuildCache(root, out)
    with output_lock(out, waiting) as waited:
        remove_leftovers(out)
        remove_leftovers(cache.folder)
        # Where another build ran meanwhile, what serve saw before it (the pages in public/) may be out of date.
        scanned = None if waited else scanned
        return _build(
            root, out, config, cache, allow_errors, strict, jobs, clean, progress, scanned, warm, only, within
        )


def _build(root: Path, out: Path, config: SiteConfig, cache, allow_errors: bool, strict: bool, jobs: int | None,
           clean: bool, progress, scanned: dict | None, warm: dict | None, only: list[str] | None,
           within: set[str] | None) -> BuildReport:  # fmt: skip
    kept = warm.pop("index", None) if warm is not None else None  # (index, its file's stamp when committed)
    from generator.build.cache import Quick, global_fingerprint

    started = time.monotonic()
    jobs = jobs or default_jobs()
    fingerprint = global_fingerprint(root, config.templates_dir)
    entries = department_entries(config)
    if within is not None and entries is not None:
        entries = [(name, is_dir) for name, is_dir in entries if not is_dir or name in within]
    quick = None
    looked = scanned is not None  # serve's scan looked for the pages
    if only is not None:
        _known(only, department_folders(entries))
    limited = None
    if scanned is None:
        quick = None if clean else cache.load_quick(fingerprint)
        # Where the last build's report may still be true, the scan also looks for each department's pages.
        looked = quick is not None
        outputs = page_outputs(out, config) if looked else None
        scanned, limited = _scan(root, entries, jobs, quick, only, outputs)
    signatures = source_signatures(scanned)
    same = quick and quick.entries == entries and quick.signatures == signatures
    if same and all(found.present for found in scanned.values()) and _present(out, quick.outputs):
        return dataclasses.replace(_unchanged(quick, strict, allow_errors, started), only=limited)
    # Departments whose pages the scan found.
    found_pages = {rel for rel, found in scanned.items() if found.present} if looked else set()

    from generator.build.cache import Index, freeze, thaw
    from generator.build.sitefiles import partitioned, search_matrix, site_files, site_names
    from generator.build.units import discover, load_shared
    from generator.output.render import keep_compiled

    keep_compiled(cache.folder.parent / "templates")
    diags = Diagnostics()
    # What every unit shares is made of what the global fingerprint covers: serve keeps it while that holds.
    known = warm.pop("shared", None) if warm is not None else None
    if known is not None and known[0] == fingerprint:
        shared, loaded = known[1], known[2]
    else:
        loading = Diagnostics()
        shared, loaded = load_shared(config, loading), loading.items
    diags.extend(loaded)
    old = None if clean else cache.load(fingerprint, kept)
    # Something every page is made of changed (the generator, templates, formats, glossary...): every
    # department-year is made again, but public/ is still brought up to date file by file, as the last build's
    # index and records say it holds, instead of a new public/ swapped in and the old one deleted (on a province,
    # some 900,000 files): data files and pages that came out the same are neither written nor deleted.
    previous = cache.load_outputs() if old is None and not clean else None
    if old is not None:
        from generator.output.charts import remember_shapes

        remember_shapes(old.shapes)
    found = discover(config, shared, diags, old.departments if old else None, signatures, within)
    units = found.units
    report = BuildReport(diags, units=len(units), only=limited)
    full = old is None  # no usable cache: everything is rebuilt
    last = old or previous  # what the last build left in public/, where that is known
    stage = Stage(out, last is None)  # public/ replaced whole only where it is not
    records = cache.open_stage()
    freeze()  # the modules and the last build's index are not garbage: the collector need not go through them
    try:
        matrix, moved = search_matrix([u.key for u in units], old, cache)
        summaries, fresh, gone, made = _units(
            shared, found, old, previous, cache, stage, records, jobs, allow_errors, report, progress, matrix,
            found_pages,
        )  # fmt: skip
        ordered = [summaries[u.key] for u in units]
        site_names(units, ordered, lambda key: cache.record(key, fresh=key in fresh), diags)
        report.check_count = _reported(ordered, diags)
        failed = diags.has_errors or (strict and diags.count("warning") > 0)
        if failed and not allow_errors:
            raise CheckFailed("数据有误，未生成网站", diags.sorted())
        index = Index(fingerprint, found.departments, summaries)
        index.failed = any(s.errors for s in ordered)
        if (
            old
            and not fresh
            and old.order == index.order
            and old.failed == index.failed
            and _present(out, old.site_files)
        ):
            # Nothing any page is made of has changed: the site-level files are as the last build left them.
            index.site_files, index.site_terms, index.token_count = old.site_files, old.site_terms, old.token_count
            index.shapes, index.search_sizes, index.year_charts = old.shapes, old.search_sizes, old.year_charts
        else:
            site_files(config, shared, units, index, old, fresh, cache, stage, matrix, moved, last)
        removed = set(old.summaries) - set(summaries) if old else set()
        staged = sum(summaries[k].file_count for k in fresh) + index.site_staged
        if previous is not None:  # everything made again: what else is in public/ goes
            made.update(index.site_files)
            removals = _strays(out, made)
        else:
            removals = _removals(old, index, gone, removed, cache)
        report.written = stage.apply(removals, staged)
        report.pages = sum(s.page_count for s in ordered) + sum(1 for p in index.site_files if p.endswith(".html"))
        report.files = sum(s.file_count for s in ordered) + len(index.site_files)
        report.search_docs = len(units)
        report.search_bytes = sum(s.search_bytes for s in ordered) + sum(index.search_sizes.values())
        report.published_with_errors = failed
        outputs = [p for p in index.site_files if not partitioned(p) or p.startswith(("years/", "assets/"))]
        quick = Quick(fingerprint, entries, signatures, outputs, diags.items, diags.count("note"),
                      report.check_count, len(units), report.pages, report.files, report.search_bytes,
                      index.site_files["index.html"])  # fmt: skip
        cache.commit(index, quick, full, removed, old)
        if warm is not None:
            warm["index"], warm["shared"] = (index, cache.stamp()), (fingerprint, shared, loaded)
    finally:
        thaw()
        stage.discard()
        cache.discard()
    report.seconds = time.monotonic() - started
    return report


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


def _unchanged(quick, strict: bool, allow_errors: bool, started: float) -> BuildReport:
    """The report of a build in which nothing changed: the last build's, with nothing written."""
    diags = Diagnostics()
    diags.extend(quick.diagnostics)
    diags.uncounted["note"] = quick.notes
    failed = diags.has_errors or (strict and diags.count("warning") > 0)
    if failed and not allow_errors:
        raise CheckFailed("数据有误，未生成网站", diags.sorted())
    report = BuildReport(diags, check_count=quick.check_count, units=quick.units, search_docs=quick.units)
    report.pages, report.files, report.search_bytes = quick.pages, quick.files, quick.search_bytes
    report.published_with_errors = failed
    report.seconds = time.monotonic() - started
    return report


def page_outputs(out: Path, config) -> tuple:
    """scan.scan's `outputs`: where it looks for each department's own files and each of its years' page."""
    return str(out), department_files("", config.base_url), ("index.html",)


def _present(out: Path, paths) -> bool:
    return all(os.path.isfile(os.path.join(out, p)) for p in paths)


def _units(shared, found, old, previous, cache, stage: Stage, records: Path, jobs, allow_errors, report, progress,
           matrix, found_pages: set[str]):  # fmt: skip
    """Each department-year's Summary: from the cache where nothing it is made of changed, else processed.
    Returns the summaries, the keys of the processed ones, the files they no longer make and (with `previous`)
    every file they make; their search tokens go into `matrix` as each one finishes. `found_pages`: department
    folders whose pages the scan saw. `previous`: where there is no `old` (another fingerprint), the last
    build's index, for what is in public/."""
    from generator.build.scan import unit_signature
    from generator.build.units import Task, run_units

    root = shared.config.root
    summaries: dict[str, Summary] = {}
    tasks = []
    # The worker compares with what the last build wrote, where it is still there (a file removed by hand is
    # written again). The files it makes are sent back only where public/ is brought up to date against them
    # (`previous`): a clean build of a province would otherwise hold some 940,000 paths it never uses.
    known = cache.records if old or previous else None
    everything = previous is not None
    for unit in found.units:
        signature = found.signatures[unit.key]
        s = old.summaries.get(unit.key) if old else None
        # Reuse what was rendered; or what failed its checks, unless this build publishes despite errors.
        if s is not None and not (s.published or (s.errors and not allow_errors)):
            s = None
        if s is not None and s.published and unit.dept.rel not in found_pages and not (stage.out / s.url).is_file():
            s = None  # its output was deleted by hand
        if s is not None and s.signature != signature:  # touched, checked out again, or copied
            record = cache.record(unit.key)
            stats = _same_bytes(root, unit, record)
            if stats is None:
                s = None
            else:  # with the same bytes: remembered with their new times
                record.stats = {rel: (size, mtime) for rel, size, mtime in stats}
                cache.stage_record(unit.key, record)
                # A new Summary, not the last build's changed in place: the cache writes the parts with a new one.
                s = dataclasses.replace(s, signature=unit_signature(stats))
        if s is not None:
            summaries[unit.key] = s
            continue
        tasks.append(Task(unit, True, allow_errors, stage.folder, records, known, stage.out, outputs_only=everything))
    report.rebuilt = len(tasks)
    position = {u.key: i for i, u in enumerate(found.units)}
    fresh: set[str] = set()
    gone: set[str] = set()
    made: set[str] = set()
    for done, result in enumerate(run_units(shared, tasks, jobs), start=1):
        result.summary.signature = found.signatures[result.key]
        # One string per code and name across the site in memory, and once per part of the cache's summaries.
        result.summary.named = {sys.intern(c): sys.intern(n) for c, n in result.summary.named.items()}
        summaries[result.key] = result.summary
        fresh.add(result.key)
        matrix.remove(position[result.key], result.removed)
        matrix.add(position[result.key], result.added)
        gone.update(result.gone)
        made.update(result.made)
        if progress:
            progress(done, len(tasks))
    return {u.key: summaries[u.key] for u in found.units}, fresh, gone, made


def _same_bytes(root: Path, unit: Unit, record) -> list[tuple[str, int, int]] | None:
    """The unit's files now (scan.unit_stats), where they are the record's (no file came or went) and those whose
    sizes or times changed still have the bytes it says; else None. After a copy of the site folder, every file
    has a new time and this reads all of them (some 280,000 on a province), by path strings, not Path objects."""
    from generator.build.scan import unit_stats

    if record is None:
        return None
    stats = unit_stats(root, unit.folder)
    if len(stats) != len(record.stats) or any(rel not in record.stats for rel, _, _ in stats):
        return None
    base = str(root)
    for rel, size, mtime in stats:
        if (size, mtime) != record.stats[rel]:
            with open(os.path.join(base, rel), "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != record.digests.get(rel):
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


__all__ = ["BuildReport", "build", "check_site", "run_checks", "validate"]
