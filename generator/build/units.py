"""One department-year, from its files to its pages: the unit the build runs in parallel and caches.

A unit is read, checked, modelled and rendered on its own, in a worker process; its pages, data files and
search documents go straight to the staging folder, so memory does not grow with the number of departments.
What the site-level pages need from it (home, department pages, glossary, search index, datasets, sitemap)
comes back as a small Summary, which the build cache keeps so an unchanged unit is never rendered again.
"""

from __future__ import annotations

import gc
import hashlib
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from generator.build.pool import pool_context
from generator.build.records import ProjectPoint, Projects, Record, Summary, load_record, save_record
from generator.build.scan import KnownDepartment, unit_stats
from generator.checks.year import check_loaded
from generator.core.config import SiteConfig
from generator.core.diagnostics import Diagnostics
from generator.core.files import write_file
from generator.model.site import Site, build_year, department, figure_links, glossary_terms
from generator.sources import yamlsrc
from generator.sources.formats import Format, norm
from generator.sources.load import department_names, load_formats, read_department, read_glossary, read_pages, read_year
from generator.sources.records import ContentPage, DepartmentSource, GlossaryEntry, SiteSource, YearSource

ZERO = Decimal(0)


@dataclass(frozen=True)
class Shared:
    """What every unit needs and nothing changes during a build: settings, formats, glossary, content pages."""

    config: SiteConfig
    formats: dict[str, Format]
    glossary: dict[str, GlossaryEntry]
    pages: dict[str, ContentPage]


def load_shared(config: SiteConfig, diags: Diagnostics) -> Shared:
    formats = load_formats(config, diags)
    glossary = read_glossary(config.content_dir / "glossary", config.root, diags)
    pages = read_pages(config.content_dir, config.root, diags)
    return Shared(config, formats, glossary, pages)


@dataclass(frozen=True)
class Unit:
    """A department-year to build: where its files are, and the department it belongs to."""

    dept: DepartmentSource
    year: int
    folder: str  # relative to the site folder
    key: str = field(init=False, compare=False)  # "<department>-<year>": set once (a province has 10,000)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.dept.slug}-{self.year}")


@dataclass
class Discovered:
    """The department-years, and each department as read from its folder (kept by the build cache, so a
    department whose 部门.yaml and folder listing are as they were is not read again)."""

    units: list[Unit]
    departments: dict[str, KnownDepartment]  # department folder → as read from it
    signatures: dict[str, str]  # unit key → scan.unit_signature of its files ("" when not scanned)


def discover(config: SiteConfig, shared: Shared, diags: Diagnostics, known: dict | None = None,
             signatures: dict | None = None, within: set[str] | None = None) -> Discovered:  # fmt: skip
    """Every department-year, sorted; problems with folders and department files are reported here.

    With `signatures` (scan.scan of the department folders), a department whose signature is the one in
    `known` (the last build's Discovered.departments) is taken from there instead of read again. With `within`,
    only these department folders (a pull request's preview)."""
    root = config.root
    found = Discovered([], {}, {})
    known, signatures = known or {}, signatures or {}
    for name in department_names(config, diags):
        if within is not None and name not in within:
            continue
        rel = f"data/departments/{name}"
        sig, years = signatures.get(rel, ("", {}))[:2]
        entry = known.get(rel)
        if not sig or entry is None or entry.signature != sig:
            mine = Diagnostics()
            dept = read_department(root / rel, root, config, shared.formats, mine, read_years=False)
            entry = KnownDepartment(sig, dept, mine.items)
        found.departments[rel] = entry
        diags.extend(entry.diagnostics)
        dept = entry.source
        if dept is None:
            continue
        for year, folder in sorted(dept.year_folders.items()):
            unit = Unit(dept, year, folder)
            found.units.append(unit)
            found.signatures[unit.key] = years.get(folder.rsplit("/", 1)[1], "")
    return found


def check_unit(shared: Shared, unit: Unit, diags: Diagnostics):
    """Read and check one department-year: (year source, check results, narrative links, code names)."""
    config = shared.config
    fmt = shared.formats.get(config.formats[unit.year])
    ys = read_year(config.root / unit.folder, config.root, unit.dept.slug, unit.year, fmt, diags)
    glossary = SiteSource(shared.formats, {}, shared.glossary, shared.pages)
    results, resolved, named = check_loaded(config, glossary, unit.dept, ys, diags)
    return ys, results, narrative_links(unit.dept, ys, resolved), named


def narrative_links(dept: DepartmentSource, ys: YearSource, resolved: list[tuple]) -> dict:
    """The narrative's checked figures as links to the cells they quote (the narrative page's marks)."""
    return figure_links(f"{dept.slug}/{ys.year}/", ys.fmt, resolved) if ys.fmt is not None else {}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_TERMS: list = []  # [(the Shared, its glossary as pages list it)]


def _glossary(shared: Shared) -> list:
    """The glossary as pages list it, made once per process (units only read it). Kept with the Shared it is
    of, compared by identity: by id() alone, a Shared made where a freed one was would get the other site's
    glossary (a process that builds one site after another: the test suite, serve)."""
    if not _TERMS or _TERMS[0][0] is not shared:
        _TERMS[:] = [(shared, glossary_terms(shared.glossary))]
    return _TERMS[0][1]


def process(shared: Shared, unit: Unit, task: Task, previous: dict[str, str]) -> tuple[Summary, Record]:
    """Check a unit and, when it is to be published, render it into the task's stage folder.

    Only files whose bytes differ from `previous` (what the last build wrote) are staged. Returns the unit's
    Summary and its Record.
    """
    from generator.output import charts, opendata, search
    from generator.output.render import Renderer

    diags = Diagnostics()
    record = Record()
    try:
        if task.render:
            stats = unit_stats(shared.config.root, unit.folder)
            record.stats = {rel: (size, mtime) for rel, size, mtime in stats}
            # Each file read once: the bytes digested are the bytes parsed, even if the file changes meanwhile.
            base = str(shared.config.root)
            for rel in record.stats:
                with open(os.path.join(base, rel), "rb") as f:
                    yamlsrc.READ[rel] = data = f.read()
                record.digests[rel] = _sha(data)
        ys, results, links, named = check_unit(shared, unit, diags)
    finally:
        yamlsrc.READ.clear()  # what reading the unit did not take (its 部门.yaml), or all of it after an error
    record.named = named
    dept = department(unit.dept)
    summary = Summary(
        unit.dept.slug,
        unit.dept.name,
        unit.dept.region,
        unit.year,
        f"{unit.dept.slug}/{unit.year}/index.html",
        has_tables=bool(ys.tables),
        has_overview=ys.overview is not None,
        has_narrative=ys.narrative is not None,
        has_terms=bool(ys.terms),
    )
    mixed = set()
    for code, name, _ in named:
        first = summary.named.setdefault(code, name)
        if norm(first) != norm(name):
            mixed.add(code)
    summary.mixed = frozenset(mixed)
    for r in results:
        summary.counts[r.status] = summary.counts.get(r.status, 0) + 1
    summary.diagnostics = [d for d in diags.items if task.keep_notes or d.level != "note"]
    summary.notes = len(diags.items) - len(summary.diagnostics)
    if not task.render or (summary.errors and not task.allow_errors):
        return summary, record

    y = build_year(dept, ys, results, links)
    dept.years.append(y)
    summary.published = True
    summary.projects = Projects(ProjectPoint(p.name, p.score, p.grade) for p in y.projects)
    if ys.fmt and ys.tables:
        reader = charts.Reader(ys.fmt, ys.tables)
        summary.spending = reader.at("表1/支出/本年支出合计")
        summary.sangong = (reader.at("表9/预算数/合计"), reader.at("表9/决算数/合计"))
    site = Site(shared.config, [dept], _glossary(shared), [p for _, p in sorted(shared.pages.items())], summary.errors)
    renderer = Renderer(site, shared.config.templates_dir)
    renderer.year(y)
    files = dict(renderer.pages)
    record.pages = [(url, renderer.titles[url]) for url in renderer.pages]
    index = {url: i for i, (url, _) in enumerate(record.pages)}
    on: dict[str, list[int]] = {}
    for url, slugs in renderer.used.items():
        for slug in slugs:
            on.setdefault(slug, []).append(index[url])
    record.terms = {slug: tuple(pages) for slug, pages in sorted(on.items())}
    summary.term_counts = {slug: len(pages) for slug, pages in record.terms.items()}
    data, record.datasets = opendata.year_files(y)
    files.update(data)
    docs = search.unit_docs(y)
    path, script = search.unit_file(unit.key, docs)
    files[path] = script
    summary.search_bytes = len(script)
    record.tokens = frozenset(search.unit_tokens(docs))
    for path, data in files.items():
        digest = _sha(data)
        record.files[path] = digest
        if task.stage is not None and previous.get(path) != digest:
            write_file(task.stage, path, data)
    summary.page_count = len(record.pages)
    summary.file_count = len(record.files)
    summary.dataset_count = len(record.datasets)
    # The model is a cycle (a year knows its department, the department its years): broken here, it is freed
    # at once, instead of piling up for the collector, which then spent ~40 ms every few units going through it.
    dept.years.clear()
    return summary, record


# -- running units in parallel ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """What to do with one unit: check it; render it (into `stage`); keep its Record in `records` (a folder)
    instead of returning it. `old` is the folder of the last build's records: files whose bytes are as the last
    build wrote them to `out` are not staged again, and the result says what changed since. `outputs_only`:
    those records are of another fingerprint (say, other templates), good only for what is in `out`: the
    result's search tokens are all this unit's, not the difference from theirs."""

    unit: Unit
    render: bool
    allow_errors: bool = False
    stage: Path | None = None
    records: Path | None = None
    old: Path | None = None
    out: Path | None = None
    keep_notes: bool = False
    outputs_only: bool = False


@dataclass
class Result:
    """A task's outcome, small enough to send back from a worker for each of a province's units."""

    key: str
    summary: Summary
    added: dict[int, tuple[str, ...]]  # search tokens it has and had not in the last build, by part (search.parts_of)
    removed: dict[int, tuple[str, ...]]  # tokens it no longer has, by part
    gone: tuple[str, ...]  # files the last build wrote for it that it no longer makes
    record: Record | None  # when not kept in the task's folder
    shapes: dict  # chart shapes the worker had to build
    made: tuple[str, ...] = ()  # with Task.outputs_only: every file it makes (what else is in public/ goes)


_WORKER: dict = {}
WORKER_GC = (50_000, 20, 100)  # the collector's thresholds in a worker (see _start_worker)


def _start_worker(root: str, shapes: dict, compiled: Path | None) -> None:
    from generator.core.config import load_config
    from generator.output.charts import remember_shapes
    from generator.output.render import keep_compiled

    keep_compiled(compiled)

    config = load_config(Path(root))
    _WORKER["shared"] = load_shared(config, Diagnostics())
    remember_shapes(shapes)
    # What every unit shares (modules, templates, formats) is never garbage: keep the collector from going
    # through it again after every few units (Python's gc.freeze, meant for forked workers).
    gc.freeze()
    # A unit makes and drops about a million small objects; collecting every 700 of them goes through each
    # page's live objects again and again (a tenth of a worker's time). Less often costs some 15 MB a worker.
    gc.set_threshold(*WORKER_GC)


def _run(task: Task, shared: Shared | None = None) -> Result:
    """One task, in a worker or in this process."""
    from generator.output.charts import new_shapes
    from generator.output.search import parts_of

    key = task.unit.key
    before = load_record(task.old, key) if task.old is not None else None
    if task.outputs_only and not isinstance(getattr(before, "files", None), dict):
        before = None  # a record of a version that kept no digests of the files
    previous = {}
    if before is not None and task.out is not None:
        previous = {p: h for p, h in before.files.items() if os.path.isfile(os.path.join(task.out, p))}
    summary, record = process(shared or _WORKER["shared"], task.unit, task, previous)
    was = before.tokens if before is not None and not task.outputs_only else frozenset()
    gone = tuple(sorted(set(before.files) - set(record.files))) if before is not None else ()
    kept = task.records is not None
    if kept:
        save_record(task.records, key, record)
    added, removed = parts_of(record.tokens - was), parts_of(was - record.tokens)
    made = tuple(record.files) if task.outputs_only else ()
    return Result(key, summary, added, removed, gone, None if kept else record, new_shapes(), made)


def run_units(shared: Shared, tasks: list[Task], jobs: int):
    """Run tasks on `jobs` processes, yielding each Result as it finishes (in any order), so the caller can
    report progress and memory stays flat however many units there are. Chart shapes a worker builds are
    remembered here too (for the site's charts and the build cache)."""
    from generator.build.cache import frozen
    from generator.output.charts import known_shapes, remember_shapes

    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield _run(task, shared)
        return
    context = pool_context()
    from generator.output.render import COMPILED

    initargs = (str(shared.config.root), known_shapes(), COMPILED.get("folder"))
    # Frozen, forked workers share this process's objects instead of copying the pages the collector touches.
    with frozen(), context.Pool(min(jobs, len(tasks)), initializer=_start_worker, initargs=initargs) as pool:
        for result in pool.imap_unordered(_run, tasks, chunksize=1):
            remember_shapes(result.shapes)
            yield result


__all__ = [
    "Discovered",
    "Record",
    "Result",
    "Shared",
    "Summary",
    "Task",
    "Unit",
    "check_unit",
    "discover",
    "load_record",
    "load_shared",
    "process",
    "run_units",
    "save_record",
]
