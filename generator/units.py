"""One department-year, from its files to its pages: the unit the build runs in parallel and caches.

A unit is read, checked, modelled and rendered on its own, in a worker process; its pages, data files and
search documents go straight to the staging folder, so memory does not grow with the number of departments.
What the site-level pages need from it (home, department pages, glossary, search index, datasets, sitemap)
comes back as a small Summary, which the build cache keeps so an unchanged unit is never rendered again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .check import STATUS_RANK, CheckResult, catalogue_names, check_narrative, check_terms, check_year
from .config import SiteConfig
from .diagnostics import Diagnostic, Diagnostics, Loc, UserError
from .formats import Format, load_format
from .load import read_department, read_glossary, read_pages, read_year
from .model import Site, build_year, department, figure_links, glossary_terms
from .sources import ContentPage, DepartmentSource, GlossaryEntry, SiteSource, YearSource
from .write import safe_path

ZERO = Decimal(0)


@dataclass(frozen=True)
class Shared:
    """What every unit needs and nothing changes during a build: settings, formats, glossary, content pages."""

    config: SiteConfig
    formats: dict[str, Format]
    glossary: dict[str, GlossaryEntry]
    pages: dict[str, ContentPage]


def load_shared(config: SiteConfig, diags: Diagnostics) -> Shared:
    formats: dict[str, Format] = {}
    for fmt_id in sorted(set(config.formats.values())):
        try:
            formats[fmt_id] = load_format(config.data_dir, config.root, fmt_id)
        except UserError as exc:
            diags.extend(exc.diagnostics)
    glossary = read_glossary(config.content_dir / "glossary", config.root, diags)
    pages = read_pages(config.content_dir, config.root, diags)
    return Shared(config, formats, glossary, pages)


@dataclass(frozen=True)
class Unit:
    """A department-year to build: where its files are, and the department it belongs to."""

    dept: DepartmentSource
    year: int
    folder: str  # relative to the site folder

    @property
    def key(self) -> str:
        return f"{self.dept.slug}-{self.year}"


@dataclass(frozen=True)
class ProjectPoint:
    name: str
    score: Decimal | None
    grade: str | None


@dataclass
class Summary:
    """What the site-level pages and checks need from a unit. Small, and kept in the build cache."""

    slug: str
    name: str
    region: str
    year: int
    url: str
    has_tables: bool = False
    has_overview: bool = False
    has_narrative: bool = False
    has_terms: bool = False
    projects: tuple[ProjectPoint, ...] = ()
    spending: Decimal | None = None  # 表1 本年支出合计, for the home page's comparison
    sangong: tuple[Decimal | None, Decimal | None] | None = None  # 表9 预算数 and 决算数 合计
    counts: dict[str, int] = field(default_factory=dict)  # check results by status
    named: list[tuple[str, str, Loc]] = field(default_factory=list)  # 科目 codes and names, for consistent_names
    pages: list[tuple[str, str]] = field(default_factory=list)  # (url, title) of every page, for the sitemap
    terms: dict[str, tuple[int, ...]] = field(default_factory=dict)  # glossary slug → indexes into pages
    datasets: list[tuple] = field(default_factory=list)  # (kind, title, page, files, extra) for datasets.json
    files: dict[str, str] = field(default_factory=dict)  # every file the unit wrote → its sha256
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> bool:
        return any(d.level == "error" for d in self.diagnostics)

    @property
    def checks(self) -> int:
        return sum(self.counts.values())

    @property
    def project_count(self) -> int:
        return len(self.projects)

    @property
    def worst(self) -> str:
        return max(self.counts, key=STATUS_RANK.__getitem__, default="ok")


def discover(config: SiteConfig, shared: Shared, diags: Diagnostics) -> list[Unit]:
    """Every department-year, sorted; problems with folders and department files are reported here."""
    root = config.root
    dept_root = config.data_dir / "departments"
    if not dept_root.is_dir():
        diags.error(Loc("data"), "缺少部门数据文件夹 data/departments/。", "missing")
        return []
    units = []
    for folder in sorted(dept_root.iterdir()):
        if folder.name.startswith("."):
            continue
        if not folder.is_dir():
            diags.error(
                Loc(folder.relative_to(root).as_posix()), "data/departments/ 里只能放部门文件夹。", "unknown-file"
            )
            continue
        dept = read_department(folder, root, config, shared.formats, diags, read_years=False)
        if dept is None:
            continue
        for year, rel in sorted(dept.year_folders.items()):
            units.append(Unit(dept, year, rel))
    return units


def check_loaded(config: SiteConfig, glossary: SiteSource, dept: DepartmentSource, ys: YearSource, diags: Diagnostics):
    """Every check of one department-year that has been read: (check results, narrative links, code names).
    The one place both the build's workers and validate() check a year, so they can never disagree."""
    from .projects import check_projects, project_lookup

    results: list[CheckResult] = check_year(ys, config.rounding, diags)
    results += check_projects(ys, dept, ys.fmt, config.rounding, diags)
    check_terms(ys, glossary, diags)
    named = catalogue_names(ys, diags)
    links: dict = {}
    if ys.fmt is not None:
        resolved = check_narrative(ys, ys.fmt, diags, lambda y, t, r: project_lookup(y, t, r, diags))
        links = figure_links(f"{dept.slug}/{ys.year}/", ys.fmt, resolved)
    return results, links, named


def check_unit(shared: Shared, unit: Unit, diags: Diagnostics):
    """Read and check one department-year: (year source, check results, narrative links, code names)."""
    config = shared.config
    fmt = shared.formats.get(config.formats[unit.year])
    ys = read_year(config.root / unit.folder, config.root, unit.dept.slug, unit.year, fmt, diags)
    glossary = SiteSource(shared.formats, {}, shared.glossary, shared.pages)
    return (ys, *check_loaded(config, glossary, unit.dept, ys, diags))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_TERMS: dict[int, list] = {}


def _glossary(shared: Shared) -> list:
    """The glossary as pages list it, made once per process (units only read it)."""
    if id(shared) not in _TERMS:
        _TERMS.clear()
        _TERMS[id(shared)] = glossary_terms(shared.glossary)
    for term in _TERMS[id(shared)]:
        term.appears_on.clear()
    return _TERMS[id(shared)]


def process(shared: Shared, unit: Unit, render: bool, allow_errors: bool, stage: Path | None, previous: dict[str, str]):
    """Check a unit and, when it is to be published, render it into `stage`.

    Only files whose bytes differ from `previous` (what the last build wrote) are staged. Returns the unit's
    Summary and its search tokens.
    """
    from . import charts, opendata, search
    from .render import Renderer

    diags = Diagnostics()
    ys, results, links, named = check_unit(shared, unit, diags)
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
        named=named,
    )
    for r in results:
        summary.counts[r.status] = summary.counts.get(r.status, 0) + 1
    summary.diagnostics = diags.items
    if not render or (summary.errors and not allow_errors):
        return summary, set()

    y = build_year(dept, ys, results, links)
    dept.years.append(y)
    summary.projects = tuple(ProjectPoint(p.name, p.score, p.grade) for p in y.projects)
    if ys.fmt and ys.tables:
        reader = charts.Reader(ys.fmt, ys.tables)
        summary.spending = reader.at("表1/支出/本年支出合计")
        summary.sangong = (reader.at("表9/预算数/合计"), reader.at("表9/决算数/合计"))
    site = Site(shared.config, [dept], _glossary(shared), [p for _, p in sorted(shared.pages.items())], summary.errors)
    renderer = Renderer(site, shared.config.templates_dir)
    renderer.year(y)
    files = dict(renderer.pages)
    summary.pages = [(url, renderer.titles[url]) for url in renderer.pages]
    index = {url: i for i, (url, _) in enumerate(summary.pages)}
    summary.terms = {
        slug: tuple(index[url] for _, url in term.appears_on)
        for slug, term in renderer.glossary.items()
        if term.appears_on
    }
    data, summary.datasets = opendata.year_files(y)
    files.update(data)
    docs = search.unit_docs(y)
    path, script = search.unit_file(unit.key, docs)
    files[path] = script
    tokens: set[str] = set()
    for d in docs:
        tokens |= d.tokens()
    for path, data in files.items():
        digest = _sha(data)
        summary.files[path] = digest
        if stage is not None and previous.get(path) != digest:
            target = stage.joinpath(*safe_path(path).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return summary, tokens


# -- running units in parallel ----------------------------------------------------------------------------------

_WORKER: dict = {}


def _start_worker(root: str) -> None:
    from .config import load_config

    config = load_config(Path(root))
    _WORKER["shared"] = load_shared(config, Diagnostics())


def _run(task):
    unit, render, allow_errors, stage, previous = task
    return unit.key, process(_WORKER["shared"], unit, render, allow_errors, stage, previous)


def run_units(shared: Shared, tasks: list[tuple], jobs: int, progress=None):
    """Process (unit, render, allow_errors, stage, previous) tasks on `jobs` processes, in order, yielding
    (key, (summary, tokens)) as each finishes so the caller can report progress."""
    if jobs <= 1 or len(tasks) <= 1:
        for unit, render, allow_errors, stage, previous in tasks:
            yield unit.key, process(shared, unit, render, allow_errors, stage, previous)
        return
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(jobs, initializer=_start_worker, initargs=(str(shared.config.root),)) as pool:
        yield from pool.imap_unordered(_run, tasks, chunksize=1)


__all__ = ["Shared", "Summary", "Unit", "check_unit", "discover", "load_shared", "process", "run_units"]
