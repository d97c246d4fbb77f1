"""One department-year, from its files to its pages: the unit the build runs in parallel and caches.

A unit is read, checked, modelled and rendered on its own, in a worker process; its pages, data files and
search documents go straight to the staging folder, so memory does not grow with the number of departments.
What the site-level pages need from it (home, department pages, glossary, search index, datasets, sitemap)
comes back as a small Summary, which the build cache keeps so an unchanged unit is never rendered again.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from generator.builder.cache import GcFreeze
from generator.builder.pool import in_workers
from generator.builder.records import ProjectPoint, Projects, Record, Summary, load_record, save_record
from generator.builder.scan import KnownDepartment, unit_stats
from generator.checks.year import check_loaded
from generator.core.config import SiteConfig
from generator.core.diagnostics import Diagnostics
from generator.core.files import Writer, read_plain
from generator.model.site import Site, build_year, department, figure_links, glossary_terms
from generator.sources.formats import Format, norm
from generator.sources.load import department_names, load_formats, read_department, read_glossary, read_pages, read_year
from generator.sources.records import ContentPage, DepartmentSource, GlossaryEntry, SiteSource, YearSource

if TYPE_CHECKING:  # imported where pages are made: validate makes none
    from generator.output.charts import ChartShapes
    from generator.output.render import Templates

ZERO = Decimal(0)


@dataclass(frozen=True)
class Shared:
    """What every unit needs and nothing changes during a build: settings, formats, glossary, content pages."""

    config: SiteConfig
    formats: dict[str, Format]
    glossary: dict[str, GlossaryEntry]
    pages: dict[str, ContentPage]

    @functools.cached_property
    def terms(self) -> list:
        """The glossary as pages list it, made once for all the units that share this (they only read it)."""
        return glossary_terms(self.glossary)


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


def check_unit(shared: Shared, unit: Unit, diags: Diagnostics, prefetched: dict[str, bytes] | None = None):
    """Read and check one department-year: (year source, check results, narrative links, code names).
    `prefetched`: its files' bytes where already read (read_year takes them from there)."""
    config = shared.config
    fmt = shared.formats.get(config.formats[unit.year])
    ys = read_year(config.root / unit.folder, config.root, unit.dept.slug, unit.year, fmt, diags, prefetched)
    glossary = SiteSource(shared.formats, {}, shared.glossary, shared.pages)
    results, resolved, named = check_loaded(config, glossary, unit.dept, ys, diags)
    return ys, results, narrative_links(unit.dept, ys, resolved), named


def narrative_links(dept: DepartmentSource, ys: YearSource, resolved: list[tuple]) -> dict:
    """The narrative's checked figures as links to the cells they quote (the narrative page's marks)."""
    return figure_links(f"{dept.slug}/{ys.year}/", ys.fmt, resolved) if ys.fmt is not None else {}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def process(
    shared: Shared, unit: Unit, task: Task, previous: dict[str, str], machinery: Machinery
) -> tuple[Summary, Record]:
    """Check a unit and, when it is to be published, render it into the task's stage folder.

    Only files whose bytes differ from `previous` (what the last build wrote) are staged. `machinery`: what the
    process keeps from one unit to the next (its templates, chart shapes, writers). Returns the unit's Summary
    and its Record.
    """
    from generator.output import charts, opendata, search
    from generator.output.render import Renderer

    diags = Diagnostics()
    record = Record()
    prefetched: dict[str, bytes] = {}
    if task.render:
        stats = unit_stats(shared.config.root, unit.folder)
        record.stats = {rel: (size, mtime) for rel, size, mtime in stats}
        # Each file read once: the bytes digested are the bytes parsed, even if the file changes meanwhile. The
        # scan does not go into a folder that a symbolic link takes out of the site (scan.OUTSIDE).
        base = str(shared.config.root)
        for rel in record.stats:
            data = read_plain(os.path.join(base, rel))
            if data is None:  # a symbolic link: read_text reads it only if it stays inside the site
                record.digests[rel] = ""
                continue
            prefetched[rel] = data
            record.digests[rel] = _sha(data)
    ys, results, links, named = check_unit(shared, unit, diags, prefetched)
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
    site = Site(shared.config, [dept], shared.terms, [p for _, p in sorted(shared.pages.items())], summary.errors)
    renderer = Renderer(site, machinery.templates, machinery.shapes)
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
    writer = machinery.writer(task.stage) if task.stage is not None else None
    for path, data in files.items():
        digest = _sha(data)
        record.files[path] = digest
        if writer is not None and previous.get(path) != digest:
            writer.write(path, data)
    summary.page_count = len(record.pages)
    summary.file_count = len(record.files)
    summary.dataset_count = len(record.datasets)
    # The model is a cycle (a year knows its department, the department its years): broken here, it is freed
    # at once by reference counting, instead of piling up for the collector to go through every few units.
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


class Machinery:
    """What making department-years' pages keeps from one to the next, in one process: the templates compiled
    once, the chart shapes Altair has built, a writer for each staging folder, and the collector's freezing. A
    build makes one for its own process (its units when run here, and its site-level pages), each worker its own
    when it starts; one per build, as the writers' folders are that build's."""

    def __init__(self, templates: Templates, shapes: ChartShapes) -> None:
        self.templates = templates
        self.shapes = shapes
        self.gc = GcFreeze()
        self._writers: dict[Path, Writer] = {}

    @classmethod
    def make(cls, templates: Path, compiled: Path | None = None, shapes: ChartShapes | None = None) -> Machinery:
        """For the templates in folder `templates`, compiled into `compiled` (render.Templates); `shapes`: chart
        shapes to start from (a new, empty ChartShapes by default)."""
        from generator.output.charts import ChartShapes
        from generator.output.render import Templates

        return cls(Templates(templates, compiled), shapes if shapes is not None else ChartShapes())

    def writer(self, folder: Path) -> Writer:
        found = self._writers.get(folder)
        if found is None:
            found = self._writers[folder] = Writer(folder)
        return found


WORKER_GC = (50_000, 20, 100)  # the collector's thresholds in a worker (see _start_worker)


def _start_worker(root: str, shapes: dict, compiled: Path | None) -> tuple[Shared, Machinery]:
    """A worker's set-up (pool.in_workers): what every unit it runs shares, and its own Machinery."""
    from generator.core.config import load_config
    from generator.output.charts import ChartShapes

    config = load_config(Path(root))
    shared = load_shared(config, Diagnostics())
    machinery = Machinery.make(config.templates_dir, compiled, ChartShapes(shapes))
    # What every unit shares (modules, templates, formats) is never garbage: keep the collector from going
    # through it again after every few units (Python's gc.freeze, meant for forked workers). Never thawed: the
    # worker ends with the build.
    gc.freeze()
    # A unit makes and drops a great many small objects; collecting every 700 of them goes through each page's
    # live objects again and again. Collecting less often costs a worker a little memory.
    gc.set_threshold(*WORKER_GC)
    return shared, machinery


def _run_in_worker(state: tuple[Shared, Machinery], task: Task) -> Result:
    return _run(task, *state)


def _run(task: Task, shared: Shared, machinery: Machinery) -> Result:
    """One task, in a worker or in this process."""
    from generator.output.search import parts_of

    key = task.unit.key
    before = load_record(task.old, key) if task.old is not None else None
    if task.outputs_only and not isinstance(getattr(before, "files", None), dict):
        before = None  # a record of a version that kept no digests of the files
    previous = {}
    if before is not None and task.out is not None:
        previous = {p: h for p, h in before.files.items() if os.path.isfile(os.path.join(task.out, p))}
    summary, record = process(shared, task.unit, task, previous, machinery)
    was = before.tokens if before is not None and not task.outputs_only else frozenset()
    gone = tuple(sorted(set(before.files) - set(record.files))) if before is not None else ()
    kept = task.records is not None
    if kept:
        save_record(task.records, key, record)
    added, removed = parts_of(record.tokens - was), parts_of(was - record.tokens)
    made = tuple(record.files) if task.outputs_only else ()
    shapes = machinery.shapes.new()
    return Result(key, summary, added, removed, gone, None if kept else record, shapes, made)


def run_units(shared: Shared, tasks: list[Task], jobs: int, machinery: Machinery | None = None):
    """Run tasks on `jobs` processes, yielding each Result as it finishes (in any order), so the caller can
    report progress and memory stays flat however many units there are. `machinery`: the build's (a new one
    where none is given: a validate renders nothing); chart shapes the workers build are added to its shapes
    (for the site's charts and the build cache)."""
    if not tasks:
        return
    if machinery is None:
        machinery = Machinery.make(shared.config.templates_dir)
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield _run(task, shared, machinery)
        return
    setup = (str(shared.config.root), machinery.shapes.known(), machinery.templates.compiled)
    # Frozen, forked workers share this process's objects instead of copying the pages the collector touches.
    with (
        machinery.gc.frozen(),
        contextlib.closing(in_workers(_run_in_worker, tasks, jobs, _start_worker, setup)) as results,
    ):
        for result in results:
            machinery.shapes.remember(result.shapes)
            yield result


__all__ = [
    "Discovered",
    "Machinery",
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
