"""The pipeline, as a list.

config     site.toml → SiteConfig
shared     formats, glossary, content pages: what every department-year needs
discover   the department-years, and problems with folders and department files
units      each department-year, in parallel: load → check → model → render into a staging folder
           (or, unchanged since the last build, its summary from the build cache)
site       the checks across department-years, then the pages that summarise them all
apply      staged files into public/: the only step that touches it, after everything has succeeded
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cache import BuildCache, Entry, State, digests_of, global_fingerprint, unchanged
from .check import CheckResult, consistent_names
from .config import SiteConfig, load_config
from .diagnostics import CheckFailed, Diagnostics
from .load import load_site
from .model import Department, Site, glossary_terms
from .search import TokenMatrix
from .sources import SiteSource
from .units import Summary, Unit, check_loaded, discover, load_shared, run_units
from .write import Stage, check_output_dir

APPEARS_LIMIT = 200  # pages a glossary term's page lists; beyond that it says how many and points to search


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
    return _pipeline(root, None, jobs=jobs, render=False, progress=progress)


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
    return _pipeline(root, out or root / "public", jobs=jobs, render=True, allow_errors=allow_errors, strict=strict, clean=clean, progress=progress)  # fmt: skip


def _pipeline(root, out, *, jobs, render, allow_errors=False, strict=False, clean=False, progress=None) -> BuildReport:
    started = time.monotonic()
    config = load_config(root)
    if out is not None:
        check_output_dir(out, root)
    diags = Diagnostics()
    shared = load_shared(config, diags)
    units = discover(config, shared, diags)
    report = BuildReport(diags, units=len(units))
    jobs = jobs or default_jobs()

    cache = BuildCache(root, out) if out is not None else None
    fingerprint = global_fingerprint(root, config.templates_dir) if cache else ""
    state = cache.load(fingerprint) if cache and not clean else State(fingerprint)
    full = not state.entries  # no usable cache: everything is rebuilt and public/ replaced whole
    stage = Stage(out, full) if render else None

    try:
        summaries, entries = _units(config, shared, units, state, stage, jobs, render, allow_errors, report, progress)
        named = [n for u in units for n in summaries[u.key].named]
        consistent_names(named, diags)
        for u in units:
            diags.extend(summaries[u.key].diagnostics)
        report.check_count = sum(s.checks for s in summaries.values())
        failed = diags.has_errors or (strict and diags.count("warning") > 0)
        if not render:
            return report
        if failed and not allow_errors:
            raise CheckFailed("数据有误，未生成网站", diags.sorted())
        ordered = [summaries[u.key] for u in units]
        unchanged_site = all((out / p).is_file() for p in state.site_files)
        if report.rebuilt == 0 and state.order == [u.key for u in units] and state.site_files and unchanged_site:
            # Nothing any page is made of has changed: the site-level pages are as the last build left them.
            site_hashes, matrix = dict(state.site_files), state.matrix
        else:
            site_files, matrix = _site(config, shared, units, ordered, state, entries, report)
            site_hashes = {p: _sha(d) for p, d in site_files.items()}
            stage.add_site_files(site_files, state.site_files)
        report.written = stage.apply(
            expected={p for s in ordered for p in s.files} | set(site_hashes),
            previous={p for e in state.entries.values() for p in e.summary.files} | set(state.site_files),
        )
    finally:
        if stage is not None:
            stage.discard()
    report.pages = sum(1 for p in site_hashes if p.endswith(".html")) + sum(
        1 for s in ordered for p in s.files if p.endswith(".html")
    )
    report.files = len(site_hashes) + sum(len(s.files) for s in ordered)
    report.published_with_errors = failed
    if cache is not None and (report.rebuilt or report.written or full):
        cache.save(State(fingerprint, entries, site_hashes, [u.key for u in units], matrix))
    report.seconds = time.monotonic() - started
    return report


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _units(config, shared, units: list[Unit], state: State, stage, jobs, render, allow_errors, report, progress):
    """Each department-year's Summary: from the cache where nothing it is made of changed, else processed."""
    summaries: dict[str, Summary] = {}
    entries: dict[str, Entry] = {}
    tasks, fresh = [], {}
    for unit in units:
        old = state.entries.get(unit.key) if render else None
        same, stats, digests = unchanged(config.root, unit, old, stage.out) if render else (False, {}, {})
        # Reuse what was rendered; or what failed its checks, unless this build publishes despite errors.
        if same and (old.summary.files or (old.summary.errors and not allow_errors)):
            summaries[unit.key] = old.summary
            entries[unit.key] = Entry(stats, digests, old.summary, old.tokens)
            continue
        fresh[unit.key] = stats
        # What the last build wrote, where it is still there: a file removed by hand is written again.
        previous = (
            {p: h for p, h in old.summary.files.items() if (stage.out / p).is_file()}
            if (old and not stage.full)
            else {}
        )
        tasks.append((unit, render, allow_errors, stage.folder if render else None, previous))
    report.rebuilt = len(tasks)
    for done, (key, (summary, tokens)) in enumerate(run_units(shared, tasks, jobs), start=1):
        summaries[key] = summary
        if render:
            entries[key] = Entry(fresh[key], digests_of(config.root, fresh[key]), summary, frozenset(tokens))
        if progress:
            progress(done, len(tasks))
    return summaries, entries


def _site(config, shared, units: list[Unit], ordered: list[Summary], state: State, entries: dict, report):
    """The pages that summarise every department-year, and the search index over them."""
    from . import opendata, search
    from .render import Renderer, sitemaps

    glossary = glossary_terms(shared.glossary)
    by_slug = {t.slug: t for t in glossary}
    for s in ordered:  # each term's page lists where it appears, in the site's order
        for slug, pages in sorted(s.terms.items()):
            term = by_slug.get(slug)
            if term is None:
                continue
            term.appears_total += len(pages)
            for i in pages:
                if len(term.appears_on) < APPEARS_LIMIT:
                    term.appears_on.append((s.pages[i][1], s.pages[i][0]))
    departments: dict[str, Department] = {}
    for u in units:
        d = departments.setdefault(
            u.dept.slug, Department(u.dept.slug, u.dept.name, u.dept.region, f"{u.dept.slug}/index.html", u.dept)
        )
        d.years.append(entries[u.key].summary)
    for d in departments.values():
        d.years.sort(key=lambda s: -s.year)
    listed = sorted(departments.values(), key=lambda d: (d.region, d.name, d.slug))
    failed = any(s.errors for s in ordered)
    site = Site(config, listed, glossary, [p for _, p in sorted(shared.pages.items())], failed)
    datasets_json, datasets = opendata.dataset_index(config.title, [s for d in listed for s in d.years])
    renderer = Renderer(site, config.templates_dir)
    files = renderer.render_site(datasets, listed_inline=len(ordered) <= 60)
    files["datasets.json"] = datasets_json
    files.update(read_assets(config.templates_dir / "static"))
    files.update(
        sitemaps(
            config.base_url, [p for p in files if p.endswith(".html")] + [url for s in ordered for url, _ in s.pages]
        )
    )

    # The search index: the bitmaps are updated column by column where the list of department-years is the
    # same as last time, and rebuilt from every department-year's tokens where it is not.
    keys = [u.key for u in units]
    matrix = state.matrix
    if matrix is None or state.order != keys:
        matrix = TokenMatrix(len(keys))
        for i, key in enumerate(keys):
            matrix.add(i, entries[key].tokens)
    else:
        for i, key in enumerate(keys):
            old = state.entries[key].tokens
            new = entries[key].tokens
            if old != new:
                matrix.remove(i, old - new)
                matrix.add(i, new - old)
    files.update(matrix.shard_files())
    docs = search.site_docs(listed, glossary)
    files["assets/search/site.js"] = search.site_file(
        [(u.key, f"{u.dept.name} {u.year} 年度", f"assets/search/u/{u.key}.js") for u in units], docs, matrix.shards
    )
    report.search_docs = len(keys)
    report.search_bytes = sum(len(d) for p, d in files.items() if p.startswith("assets/search/"))
    return files, matrix


__all__ = ["BuildReport", "build", "check_site", "run_checks", "validate"]
