"""The pipeline, as a list.

config     site.toml → SiteConfig
shared     formats, glossary, content pages: what every department-year needs
discover   the department-years; each department folder scanned for what changed since the last build (scan.py)
units      each department-year that changed, in parallel: load → check → model → render into a staging folder
           (the others: their Summary from the build cache)
site       the checks across department-years, then the site-level files that summarise them, each made again
           only where what it shows may have changed
apply      staged files into public/: the only step that touches it, after everything has succeeded
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .check import CheckResult, consistent_names
from .config import SiteConfig, load_config
from .diagnostics import CheckFailed, Diagnostics
from .formats import norm
from .load import RESERVED_SLUGS, load_site
from .sources import SiteSource
from .units import Summary, Task, Unit, check_loaded, department_entries, discover, load_shared, run_units
from .write import Stage, check_output_dir

APPEARS_LIMIT = 200  # pages a glossary term's page lists; beyond that it says how many and points to search
INLINE_LIMIT = 60  # department-years the home page and datasets page list in full; past it they link to lists


@dataclass
class BuildReport:
    diagnostics: Diagnostics
    checks: list[CheckResult] = field(default_factory=list)  # every result (validate); the build counts them
    check_count: int = 0
    pages: int = 0
    files: int = 0
    written: int = 0  # files this build wrote or removed in public/
    units: int = 0
    rebuilt: int = 0  # department-years rendered this time (the rest came from the cache)
    published_with_errors: bool = False
    search_docs: int = 0
    search_bytes: int = 0
    seconds: float = 0.0


def run_checks(source: SiteSource, config: SiteConfig, diags: Diagnostics) -> tuple[list[CheckResult], dict]:
    """Every check of a site read whole (validate, diff); the build's workers run the same check_loaded."""
    results: list[CheckResult] = []
    narrative: dict = {}
    named = []
    for dept in source.departments.values():
        for ys in dept.years.values():
            mine, links, names = check_loaded(config, source, dept, ys, diags)
            results += mine
            narrative[(dept.slug, ys.year)] = links
            named += names
    consistent_names(named, diags)
    return results, narrative


def validate(root: Path) -> BuildReport:
    """Read and check the whole site in this process, keeping every check result (for tests and diff)."""
    config = load_config(root)
    diags = Diagnostics()
    source = load_site(config, diags)
    checks, _ = run_checks(source, config, diags)
    return BuildReport(diags, checks, len(checks))


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def read_assets(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        f"assets/{p.relative_to(folder).as_posix()}": p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def check_site(root: Path, jobs: int | None = None, progress=None) -> BuildReport:
    """validate on the command line: every department-year checked in parallel, nothing rendered."""
    config = load_config(root)
    diags = Diagnostics()
    shared = load_shared(config, diags)
    units = discover(config, shared, diags).units
    report = BuildReport(diags, units=len(units))
    summaries, records = {}, {}
    tasks = [Task(u, render=False, keep_notes=True) for u in units]
    for done, result in enumerate(run_units(shared, tasks, jobs or default_jobs()), start=1):
        summaries[result.key], records[result.key] = result.summary, result.record
        if progress:
            progress(done, len(tasks))
    ordered = [summaries[u.key] for u in units]
    site_names(units, ordered, records.get, diags)
    for s in ordered:
        diags.extend(s.diagnostics)
    report.check_count = sum(s.checks for s in ordered)
    return report


def site_names(units: list[Unit], ordered: list[Summary], record_of, diags: Diagnostics) -> None:
    """consistent_names over the whole site, as if every unit's codes were listed in order, from each unit's
    first name per code (Summary.named); a unit's record, with every place, is read only where it clashes."""
    first: dict[str, tuple[str, str]] = {}  # code → (its first name on the site, the unit it is in)
    clashing: list[tuple[str, str]] = []
    for unit, s in zip(units, ordered, strict=True):
        for code, name in s.named.items():
            seen = first.setdefault(code, (name, unit.key))
            if code in s.mixed or norm(seen[0]) != norm(name):
                clashing.append((unit.key, code))
    for key, code in clashing:
        origin = first[code][1]
        named = [n for n in record_of(origin).named if n[0] == code][:1]
        if key != origin:
            named += [n for n in record_of(key).named if n[0] == code]
        else:
            named = [n for n in record_of(key).named if n[0] == code]
        consistent_names(named, diags)


def build(
    root: Path,
    out: Path | None = None,
    *,
    allow_errors: bool = False,
    strict: bool = False,
    jobs: int | None = None,
    clean: bool = False,
    progress=None,
) -> BuildReport:
    from .cache import BuildCache, Index, Quick, global_fingerprint
    from .scan import scan

    started = time.monotonic()
    config = load_config(root)
    out = out or root / "public"
    check_output_dir(out, root)
    jobs = jobs or default_jobs()
    cache = BuildCache(root, out)
    fingerprint = global_fingerprint(root, config.templates_dir)
    entries = department_entries(config)
    folders = [f"data/departments/{name}" for name, is_dir in entries or () if is_dir]
    quick = None if clean else cache.load_quick(fingerprint)
    # Where the last build's report may still be true, the scan also looks for each department's pages.
    outputs = (str(out), _department_files("", config.base_url), ("index.html",)) if quick else None
    scanned = scan(root, folders, jobs, outputs)
    signatures = {rel: (sig, years) for rel, (sig, years, _) in scanned.items()}
    same = quick and quick.entries == entries and quick.signatures == signatures
    if same and all(present for _, _, present in scanned.values()) and _present(out, quick.outputs):
        return _unchanged(quick, strict, allow_errors, started)

    from .render import keep_compiled

    keep_compiled(cache.folder.parent / "templates")
    diags = Diagnostics()
    shared = load_shared(config, diags)
    old = None if clean else cache.load(fingerprint)
    if old is not None:
        from .charts import remember_shapes

        remember_shapes(old.shapes)
    found = discover(config, shared, diags, known=old.departments if old else None, signatures=signatures)
    units = found.units
    report = BuildReport(diags, units=len(units))
    full = old is None  # no usable cache: everything is rebuilt and public/ replaced whole
    stage = Stage(out, full)
    records = cache.open_stage()
    try:
        matrix, moved = _matrix([u.key for u in units], old, cache)
        summaries, fresh, gone = _units(
            shared, found, old, cache, stage, records, jobs, allow_errors, report, progress, matrix
        )
        ordered = [summaries[u.key] for u in units]
        site_names(units, ordered, lambda key: cache.record(key, fresh=key in fresh), diags)
        for s in ordered:
            diags.extend(s.diagnostics)
            diags.uncounted["note"] = diags.uncounted.get("note", 0) + s.notes
        report.check_count = sum(s.checks for s in ordered)
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
            index.shapes, index.search_sizes = old.shapes, old.search_sizes
        else:
            _site(config, shared, units, index, old, fresh, cache, stage, matrix, moved)
        removed = set(old.summaries) - set(summaries) if old else set()
        staged = sum(summaries[k].file_count for k in fresh) + index.site_staged
        report.written = stage.apply(_removals(old, index, gone, removed, cache), staged)
        report.pages = sum(s.page_count for s in ordered) + sum(1 for p in index.site_files if p.endswith(".html"))
        report.files = sum(s.file_count for s in ordered) + len(index.site_files)
        report.search_docs = len(units)
        report.search_bytes = sum(s.search_bytes for s in ordered) + sum(index.search_sizes.values())
        report.published_with_errors = failed
        outputs = [p for p in index.site_files if not _partitioned(p) or p.startswith(("years/", "assets/"))]
        quick = Quick(fingerprint, entries, signatures, outputs, diags.items, diags.count("note"),
                      report.check_count, len(units), report.pages, report.files, report.search_bytes,
                      index.site_files["index.html"])  # fmt: skip
        cache.commit(index, quick, full, removed)
    finally:
        stage.discard()
        cache.discard()
    report.seconds = time.monotonic() - started
    return report


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


def _departments_changed(old, index) -> bool:
    return {k: v[0] for k, v in old.departments.items()} != {k: v[0] for k, v in index.departments.items()}


def _present(out: Path, paths) -> bool:
    return all(os.path.isfile(os.path.join(out, p)) for p in paths)


def _units(shared, found, old, cache, stage: Stage, records: Path, jobs, allow_errors, report, progress, matrix):
    """Each department-year's Summary: from the cache where nothing it is made of changed, else processed.
    Returns the summaries, the keys of the processed ones and the files they no longer make; their search
    tokens go into `matrix` as each one finishes."""
    from .scan import unit_signature, unit_stats

    root = shared.config.root
    summaries: dict[str, Summary] = {}
    tasks = []
    for unit in found.units:
        signature = found.signatures[unit.key]
        s = old.summaries.get(unit.key) if old else None
        # Reuse what was rendered; or what failed its checks, unless this build publishes despite errors.
        if s is not None and (s.published or (s.errors and not allow_errors)):
            if s.published and not (stage.out / s.url).is_file():
                s = None  # its output was deleted by hand
            elif s.signature != signature and not _same_bytes(root, unit, cache.record(unit.key)):
                s = None
        if s is not None:
            if s.signature != signature:  # touched, or checked out again, with the same bytes
                record = cache.record(unit.key)
                stats = unit_stats(root, unit.folder)
                record.stats = {rel: (size, mtime) for rel, size, mtime in stats}
                cache.stage_record(unit.key, record)
                s.signature = unit_signature(stats)
            summaries[unit.key] = s
            continue
        # The worker compares with what the last build wrote, where it is still there (a file removed by hand
        # is written again).
        tasks.append(Task(unit, True, allow_errors, stage.folder, records, cache.records if old else None, stage.out))
    report.rebuilt = len(tasks)
    position = {u.key: i for i, u in enumerate(found.units)}
    fresh: set[str] = set()
    gone: set[str] = set()
    for done, result in enumerate(run_units(shared, tasks, jobs), start=1):
        result.summary.signature = found.signatures[result.key]
        summaries[result.key] = result.summary
        fresh.add(result.key)
        matrix.remove(position[result.key], result.removed)
        matrix.add(position[result.key], result.added)
        gone.update(result.gone)
        if progress:
            progress(done, len(tasks))
    return {u.key: summaries[u.key] for u in found.units}, fresh, gone


def _same_bytes(root: Path, unit: Unit, record) -> bool:
    """Are the unit's files, whose sizes or times changed, still what the record says (same paths, same bytes)?"""
    from .scan import unit_stats

    if record is None:
        return False
    stats = {rel: (size, mtime) for rel, size, mtime in unit_stats(root, unit.folder)}
    if set(stats) != set(record.stats):
        return False
    for rel, stat in stats.items():
        if stat != record.stats[rel] and hashlib.sha256((root / rel).read_bytes()).hexdigest() != record.digests.get(
            rel
        ):
            return False
    return True


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


# -- site-level files --------------------------------------------------------------------------------------------


def _department_files(slug: str, base_url: str) -> list[str]:
    """The site-level files in a department's folder (with slug "", their names)."""
    return [
        f"{slug}/{name}".lstrip("/") for name in ("index.html", "datasets.json", "sitemap.xml")[: 3 if base_url else 2]
    ]


def _site(config, shared, units: list[Unit], index, old, fresh: set, cache, stage: Stage, matrix, moved: bool) -> None:
    """The files that summarise every department-year: home, year lists, department pages, glossary, datasets,
    sitemaps, search. Those of one department or one year are made again only when one of its department-years
    changed (or came or went); the rest every time, and only files whose bytes changed are staged."""
    from . import charts, opendata, search
    from .model import Department, Site, glossary_terms
    from .render import Renderer, sitemap, sitemap_index

    ordered = list(index.summaries.values())
    base_url = config.base_url
    departments: dict[str, Department] = {}
    for u in units:
        d = departments.setdefault(
            u.dept.slug, Department(u.dept.slug, u.dept.name, u.dept.region, f"{u.dept.slug}/index.html", u.dept)
        )
        d.years.append(index.summaries[u.key])
    for d in departments.values():
        d.years.sort(key=lambda s: -s.year)
    listed = sorted(departments.values(), key=lambda d: (d.region, d.name, d.slug))
    glossary = glossary_terms(shared.glossary)
    site = Site(config, listed, glossary, [p for _, p in sorted(shared.pages.items())], index.failed)

    # What changed: everything, or the departments and years of the department-years that changed, came or went.
    everything = old is None or old.failed != index.failed
    touched = set(fresh) | (set(old.summaries) ^ set(index.summaries) if old else set())
    summary_of = {**(old.summaries if old else {}), **index.summaries}
    depts = set(departments) if everything else {summary_of[k].slug for k in touched}
    years = set(site.years) if everything else {summary_of[k].year for k in touched}
    kept = {} if everything else dict(old.site_files)
    for slug in depts:
        for p in _department_files(slug, base_url):
            kept.pop(p, None)
    for year in years:
        kept.pop(f"years/{year}.html", None)
    kept = {p: h for p, h in kept.items() if _partitioned(p)}  # the rest is made again every time

    renderer = Renderer(site, config.templates_dir)
    inline = len(ordered) <= INLINE_LIMIT
    renderer.home(inline)
    for year in sorted(years & set(site.years), reverse=True):
        renderer.year_list(year)
    renderer.fixed_pages()
    made: dict[str, bytes] = {}
    total = sum(s.dataset_count for s in ordered)
    if inline:
        entries = [
            e for u in units for e in opendata.dataset_entries(index.summaries[u.key], cache.record(u.key, u.key in fresh).datasets)
        ]  # fmt: skip
    else:
        entries = [
            {"department": s.name, "department_id": s.slug, "year": s.year, "count": s.dataset_count}
            for s in ordered
            if s.dataset_count
        ]
    renderer.datasets(entries, total, compact=not inline)
    made["datasets.json"] = opendata.catalogue(config.title, listed)
    for d in listed:
        if d.slug not in depts:
            continue
        renderer.department(d)
        mine = [(y, cache.record(f"{d.slug}-{y.year}", f"{d.slug}-{y.year}" in fresh)) for y in d.years]
        path, data = opendata.department_index(
            config.title, d, [e for y, r in mine for e in opendata.dataset_entries(y, r.datasets)]
        )
        made[path] = data
        if base_url:
            made[f"{d.slug}/sitemap.xml"] = sitemap(base_url, [d.url] + [url for _, r in mine for url, _ in r.pages])

    # Each term's page lists the pages it appears on: the department-years' in the site's order, then the
    # site-level pages' (by address), the first APPEARS_LIMIT of them.
    site_terms = {p: t for p, t in (old.site_terms.items() if old and not everything else ()) if p in kept}
    site_terms.update({p: (renderer.titles[p], slugs) for p, slugs in renderer.used.items()})
    for term in glossary:
        term.appears_total = sum(s.term_counts.get(term.slug, 0) for s in ordered)
        term.appears_total += sum(1 for _, slugs in site_terms.values() if term.slug in slugs)
    for u in units:
        wanted = [
            t for t in glossary if len(t.appears_on) < APPEARS_LIMIT and index.summaries[u.key].term_counts.get(t.slug)
        ]
        if not wanted:
            if all(len(t.appears_on) >= APPEARS_LIMIT for t in glossary):
                break
            continue
        record = cache.record(u.key, u.key in fresh)
        for term in wanted:
            for i in record.terms.get(term.slug, ()):
                if len(term.appears_on) < APPEARS_LIMIT:
                    url, title = record.pages[i]
                    term.appears_on.append((title, url))
    for p, (title, slugs) in sorted(site_terms.items()):
        for term in glossary:
            if term.slug in slugs and len(term.appears_on) < APPEARS_LIMIT:
                term.appears_on.append((title, p))
    renderer.glossary_pages()
    made.update(renderer.pages)
    made.update(read_assets(config.templates_dir / "static"))

    # The search index: the shards that hold the tokens that changed; all of them when their number changed, the
    # department-years moved, or none of the old ones is kept (see `kept`).
    old_count = search.TokenMatrix.shard_count(old.token_count, len(old.order)) if old and old.order else None
    if everything or moved or matrix.shards != old_count:
        matrix.load_all()
        shards = None
    else:
        shards = matrix.shards_of(matrix.dirty)
    made.update(matrix.shard_files(shards))
    docs = search.site_docs(listed, glossary)
    made["assets/search/site.js"] = search.site_file(
        [(u.key, f"{u.dept.name} {u.year} 年度", f"assets/search/u/{u.key}.js") for u in units], docs, matrix.shards
    )
    index.token_count = matrix.token_count
    for i in matrix.dirty:
        cache.stage_search_part(i, matrix.part(i))

    hashes = dict(kept)
    if shards is None:  # every shard was made: none of the old ones stays
        hashes = {p: h for p, h in hashes.items() if not p.startswith("assets/search/t/")}
    hashes.update({p: _sha(data) for p, data in made.items()})
    if base_url:
        sitemaps = ["sitemap-site.xml"] + [f"{d.slug}/sitemap.xml" for d in listed]
        site_pages = [p for p in hashes if p.endswith(".html") and (p.startswith("years/") or not _partitioned(p))]
        made["sitemap-site.xml"] = sitemap(base_url, site_pages)
        made["sitemap.xml"] = sitemap_index(base_url, sitemaps)
        hashes["sitemap-site.xml"], hashes["sitemap.xml"] = _sha(made["sitemap-site.xml"]), _sha(made["sitemap.xml"])
    index.site_staged = stage.add_site_files(made, old.site_files if old else {})
    index.site_files = dict(sorted(hashes.items()))
    index.site_terms = site_terms
    index.shapes = charts.known_shapes()
    sizes = {p: n for p, n in (old.search_sizes.items() if old else ()) if p in hashes}
    sizes.update({p: len(d) for p, d in made.items() if p.startswith("assets/search/")})
    index.search_sizes = dict(sorted(sizes.items()))


def _partitioned(path: str) -> bool:
    """Site-level files made per department, per year or per search shard: kept when nothing of theirs changed."""
    if path.startswith(("years/", "assets/search/t/")):
        return True
    folder, _, name = path.partition("/")
    return folder not in RESERVED_SLUGS and name in ("index.html", "datasets.json", "sitemap.xml")


def _matrix(keys: list[str], old, cache):
    """The search index's token bitmaps as the last build left them, with the department-years moved to their
    places in this build's order (a new matrix in a full build). Returns it and whether anything moved."""
    from .search import PARTS, TokenMatrix

    if old is None or not old.order:
        matrix = TokenMatrix(len(keys))
        matrix.dirty = set(range(PARTS))
        return matrix, old is not None
    matrix = TokenMatrix(len(old.order), cache.search_part, old.token_count)
    if old.order == keys:
        return matrix, False
    position = {k: i for i, k in enumerate(old.order)}
    runs: list[list[int]] = []  # [old start, new start, length] of positions that stay in order
    for new, key in enumerate(keys):
        at = position.get(key)
        if at is None:
            continue
        if runs and runs[-1][0] + runs[-1][2] == at and runs[-1][1] + runs[-1][2] == new:
            runs[-1][2] += 1
        else:
            runs.append([at, new, 1])
    matrix.remap([tuple(r) for r in runs], len(keys))
    return matrix, True


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = ["BuildReport", "build", "check_site", "run_checks", "validate"]
