"""The site-level files: what summarises every department-year (home, year lists, department pages, glossary,
dataset indexes, sitemaps, search), made from their Summaries and, where a file lists their pages, their
Records. An incremental build makes again only the files of the departments and years whose department-years
changed, came or went (`partitioned` files), and everything else every time; only changed bytes are staged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from generator.builder.records import Record, Summary
from generator.builder.stage import Stage, department_files
from generator.builder.units import Machinery, Shared, Unit
from generator.checks.tables import consistent_names
from generator.core.diagnostics import Diagnostics
from generator.sources.formats import norm
from generator.sources.load import RESERVED_SLUGS

if TYPE_CHECKING:
    from generator.builder.cache import BuildCache, Index
    from generator.core.config import SiteConfig
    from generator.model.site import Site
    from generator.output.render import Renderer
    from generator.output.search import TokenMatrix

APPEARS_LIMIT = 200  # pages a glossary term's page lists; beyond that it says how many and points to search
INLINE_LIMIT = 60  # department-years the home page and datasets page list in full; past it they link to lists


def site_names(units: list[Unit], ordered: list[Summary], record_of, diags: Diagnostics) -> None:
    """consistent_names over the whole site, as if every unit's codes were listed in order, from each unit's
    first name per code (Summary.named); a unit's record, with every place, is read only where it clashes."""
    first: dict[str, tuple[str, str]] = {}  # code → (its first name on the site, the unit it is in)
    clashing: list[tuple[str, str]] = []
    for unit, s in zip(units, ordered, strict=True):
        for code, name in s.named.items():
            seen = first.setdefault(code, (name, unit.key))
            if code in s.mixed or (seen[0] != name and norm(seen[0]) != norm(name)):
                clashing.append((unit.key, code))
    for key, code in clashing:
        origin = first[code][1]
        named = [n for n in record_of(origin).named if n[0] == code][:1]
        if key != origin:
            named += [n for n in record_of(key).named if n[0] == code]
        else:
            named = [n for n in record_of(key).named if n[0] == code]
        consistent_names(named, diags)


def asset_files(folder: Path) -> dict[str, Path]:
    """templates/static/ as the site's assets/: its address in the site → the file (the build has refused any
    that a symbolic link takes out of the templates folder: core.files.refuse_links_out)."""
    if not folder.is_dir():
        return {}
    return {f"assets/{p.relative_to(folder).as_posix()}": p for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass(frozen=True, kw_only=True)
class SiteWork:
    """What site_files makes the site-level files from, and where they go."""

    config: SiteConfig
    shared: Shared
    units: list[Unit]  # this build's department-years, in the site's order
    index: Index  # this build's, with every department-year's Summary: site_files fills in the rest
    old: Index | None  # the last build's, where it is of this fingerprint: what none of the changes reach is kept
    last: Index | None  # what the last build wrote to public/ (`old`, or an index of another fingerprint)
    fresh: set[str]  # the department-years processed in this build (their records are staged)
    cache: BuildCache
    stage: Stage
    matrix: TokenMatrix  # the search index's token bitmaps, with this build's changes
    moved: bool  # the department-years moved in the site's order since the last build (search_matrix)
    machinery: Machinery  # the build's templates and chart shapes

    def record(self, key: str) -> Record:
        """A department-year's Record: this build's where it processed it, else the last build's."""
        return self.cache.record(key, key in self.fresh)


class _Changed(NamedTuple):
    """What the site-level files must show anew."""

    everything: (
        bool  # no last build to start from, or it published with errors where this one does not (or the reverse)
    )
    touched: set[str]  # the department-years that changed, came or went
    departments: set[str]  # the departments whose own files are made again
    years: set[int]  # the years whose list and charts are made again


def site_files(work: SiteWork) -> None:
    """The files that summarise every department-year: home, year lists, department pages, glossary, datasets,
    sitemaps, search. Those of one department or one year are made again only when one of its department-years
    changed (or came or went); the rest every time, and only files whose bytes changed are staged (compared
    with what the last build wrote)."""
    from generator.output.render import Renderer

    site = _site(work)
    changed = _changed(work, site)
    kept = _kept(work, changed)
    renderer = Renderer(site, work.machinery.templates, work.machinery.shapes)
    inline = len(work.index.summaries) <= INLINE_LIMIT
    _lists(work, site, renderer, changed, inline)
    made = _datasets(work, site, renderer, inline)
    made.update(_department_files(work, site, renderer, changed.departments))
    site_terms = _glossary(work, site, renderer, kept, changed)
    made.update(renderer.pages)
    made.update(_assets(work, kept))
    shards = _search(work, site, changed, made)
    _staged(work, site, kept, made, shards, site_terms)


def _site(work: SiteWork) -> Site:
    """The site's model, from the department-years' Summaries: each department with its years, latest first."""
    from generator.model.site import Department, Site, glossary_terms

    departments: dict[str, Department] = {}
    for u in work.units:
        d = departments.get(u.dept.slug)
        if d is None:
            d = departments[u.dept.slug] = Department(
                u.dept.slug, u.dept.name, u.dept.region, f"{u.dept.slug}/index.html", u.dept
            )
        d.years.append(work.index.summaries[u.key])
    for d in departments.values():
        d.years.sort(key=lambda s: -s.year)
    listed = sorted(departments.values(), key=lambda d: (d.region, d.name, d.slug))
    glossary = glossary_terms(work.shared.glossary)
    pages = [p for _, p in sorted(work.shared.pages.items())]
    return Site(work.config, listed, glossary, pages, work.index.failed)


def _changed(work: SiteWork, site: Site) -> _Changed:
    """Everything, or the departments and years of the department-years that changed, came or went."""
    old, index = work.old, work.index
    everything = old is None or old.failed != index.failed
    touched = set(work.fresh) | (set(old.summaries) ^ set(index.summaries) if old else set())
    summary_of = {**(old.summaries if old else {}), **index.summaries}
    departments = {d.slug for d in site.departments} if everything else {summary_of[k].slug for k in touched}
    years = set(site.years) if everything else {summary_of[k].year for k in touched}
    return _Changed(everything, touched, departments, years)


def _kept(work: SiteWork, changed: _Changed) -> dict[str, str]:
    """The last build's files of departments and years that are not made again, with their digests (the rest is
    made again every time)."""
    kept = {} if changed.everything else dict(work.old.site_files)
    for slug in changed.departments:
        for p in department_files(slug, work.config.base_url):
            kept.pop(p, None)
    for year in changed.years:
        kept.pop(f"years/{year}.html", None)
    return {p: h for p, h in kept.items() if partitioned(p)}


def _lists(work: SiteWork, site: Site, renderer: Renderer, changed: _Changed, inline: bool) -> None:
    """The home page, the lists of the years made again, and the fixed pages."""
    from generator.output import charts

    # Each year's comparison charts show only that year's department-years: kept where none of them changed.
    kept_charts = {} if changed.everything else work.old.year_charts
    work.index.year_charts = {
        year: kept_charts[year]
        if year in kept_charts and year not in changed.years
        else charts.site_charts(work.machinery.shapes, site.by_year(year))
        for year in site.years
    }
    renderer.home(inline, work.index.year_charts)
    for year in sorted(changed.years & set(site.years), reverse=True):
        renderer.year_list(year, work.index.year_charts[year], grouped=len(site.by_year(year)) > INLINE_LIMIT)
    renderer.fixed_pages()


def _datasets(work: SiteWork, site: Site, renderer: Renderer, inline: bool) -> dict[str, bytes]:
    """The datasets page (every department-year's datasets on a small site, each department's count on a large
    one) and the catalogue datasets.json."""
    from generator.output import opendata

    summaries = work.index.summaries
    total = sum(s.dataset_count for s in summaries.values())
    if inline:
        entries = [
            e for u in work.units for e in opendata.dataset_entries(summaries[u.key], work.record(u.key).datasets)
        ]
    else:
        entries = [
            {
                "department": d.name,
                "department_id": d.slug,
                "region": d.region,
                "years": [(y.year, y.dataset_count) for y in counted],
            }
            for d in site.departments
            if (counted := [y for y in d.years if y.dataset_count])
        ]
    renderer.datasets(entries, total, compact=not inline, grouped=len(entries) > INLINE_LIMIT)
    return {"datasets.json": opendata.catalogue(work.config.title, site.departments)}


def _department_files(work: SiteWork, site: Site, renderer: Renderer, departments: set[str]) -> dict[str, bytes]:
    """Of each department made again: its page, its datasets index and (with a base_url) its sitemap."""
    from generator.output import opendata
    from generator.output.render import sitemap

    base_url = work.config.base_url
    made: dict[str, bytes] = {}
    for d in site.departments:
        if d.slug not in departments:
            continue
        renderer.department(d)
        mine = [(y, work.record(f"{d.slug}-{y.year}")) for y in d.years]
        path, data = opendata.department_index(
            work.config.title, d, [e for y, r in mine for e in opendata.dataset_entries(y, r.datasets)]
        )
        made[path] = data
        if base_url:
            made[f"{d.slug}/sitemap.xml"] = sitemap(base_url, [d.url] + [url for _, r in mine for url, _ in r.pages])
    return made


def _glossary(
    work: SiteWork, site: Site, renderer: Renderer, kept: dict[str, str], changed: _Changed
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The glossary's pages. Each term's page lists the pages it appears on: the department-years' in the
    site's order, then the site-level pages' (by address), the first APPEARS_LIMIT of them. Returns the site-level
    pages' terms (Index.site_terms)."""
    old, index, glossary = work.old, work.index, site.glossary
    site_terms = {p: t for p, t in (old.site_terms.items() if old and not changed.everything else ()) if p in kept}
    site_terms.update({p: (renderer.titles[p], slugs) for p, slugs in renderer.used.items()})
    same_order = old is not None and not changed.everything and old.order == [u.key for u in work.units]
    changes = [(k, old.summaries.get(k) if old else None, index.summaries.get(k)) for k in sorted(changed.touched)]
    index.term_totals = _term_totals(list(index.summaries.values()), old.term_totals if same_order else None, changes)
    totals = dict(index.term_totals)
    for _, slugs in site_terms.values():
        for slug in slugs:
            totals[slug] = totals.get(slug, 0) + 1
    for term in glossary:
        term.appears_total = totals.get(term.slug, 0)
    index.appears = _appearances(work, [t.slug for t in glossary], old.appears if same_order else None, changes)
    for term in glossary:
        term.appears_on = list(index.appears[term.slug][0])
    for p, (title, slugs) in sorted(site_terms.items()):
        for term in glossary:
            if term.slug in slugs and len(term.appears_on) < APPEARS_LIMIT:
                term.appears_on.append((title, p))
    renderer.glossary_pages()
    return site_terms


def _assets(work: SiteWork, kept: dict[str, str]) -> dict[str, bytes]:
    """The stylesheet, scripts and chart runtime: the global fingerprint covers them, so where there is a last
    build they are its bytes, added to `kept`; read (returned) only where public/ has lost one or there is none."""
    made: dict[str, bytes] = {}
    old = work.old
    for path, file in asset_files(work.config.templates_dir / "static").items():
        if old is not None and path in old.site_files and (work.stage.out / path).is_file():
            kept[path] = old.site_files[path]
        else:
            made[path] = file.read_bytes()
    return made


def _search(work: SiteWork, site: Site, changed: _Changed, made: dict[str, bytes]) -> set[int] | None:
    """The search index into `made`: the shards that hold the tokens that changed; all of them (returns None)
    when their number changed, the department-years moved, or there is no last build to keep any from."""
    from generator.output import search

    old, matrix = work.old, work.matrix
    old_count = search.TokenMatrix.shard_count(old.token_count) if old and old.order else None
    if changed.everything or work.moved or matrix.shards != old_count:
        matrix.load_all()
        shards = None
    else:
        shards = matrix.shards_of(matrix.dirty)
    made.update(matrix.shard_files(shards))
    docs = search.site_docs(site.departments, site.glossary)
    made["assets/search/site.js"] = search.site_file([u.key for u in work.units], docs, matrix.shards)
    work.index.token_count = matrix.token_count
    for i in matrix.dirty:
        work.cache.stage_search_part(i, matrix.part(i))
    return shards


def _staged(
    work: SiteWork,
    site: Site,
    kept: dict[str, str],
    made: dict[str, bytes],
    shards: set[int] | None,
    site_terms: dict,
) -> None:
    """The sitemaps of the site (with a base_url), then every file made whose bytes changed into the stage, and
    what the index keeps of the site-level files."""
    from generator.output.render import sitemap, sitemap_index

    base_url, index, old = work.config.base_url, work.index, work.old
    hashes = dict(kept)
    if shards is None:  # every shard was made: none of the old ones stays
        hashes = {p: h for p, h in hashes.items() if not p.startswith("assets/search/t/")}
    hashes.update({p: _sha(data) for p, data in made.items()})
    if base_url:
        sitemaps = ["sitemap-site.xml"] + [f"{d.slug}/sitemap.xml" for d in site.departments]
        site_pages = [p for p in hashes if p.endswith(".html") and (p.startswith("years/") or not partitioned(p))]
        made["sitemap-site.xml"] = sitemap(base_url, site_pages)
        made["sitemap.xml"] = sitemap_index(base_url, sitemaps)
        hashes["sitemap-site.xml"], hashes["sitemap.xml"] = _sha(made["sitemap-site.xml"]), _sha(made["sitemap.xml"])
    index.site_staged = work.stage.add_site_files(made, hashes, work.last.site_files if work.last else {})
    index.site_files = dict(sorted(hashes.items()))
    index.site_terms = site_terms
    index.shapes = work.machinery.shapes.known()
    sizes = {p: n for p, n in (old.search_sizes.items() if old else ()) if p in hashes}
    sizes.update({p: len(d) for p, d in made.items() if p.startswith("assets/search/")})
    index.search_sizes = dict(sorted(sizes.items()))


def _term_totals(ordered: list[Summary], last: dict | None, changed: list) -> dict[str, int]:
    """Each glossary term's pages among the department-years: the last build's totals with the changed
    department-years' counts taken out and put back (`changed`: their keys and (old, new) Summaries, either
    None), or, where there is no last build to start from, the sum over all of them."""
    totals: dict[str, int] = {}
    if last is None:
        for s in ordered:
            for slug, n in s.term_counts.items():
                totals[slug] = totals.get(slug, 0) + n
    else:
        totals = dict(last)
        for _, was, now in changed:
            for s, sign in ((was, -1), (now, 1)):
                for slug, n in s.term_counts.items() if s is not None else ():
                    totals[slug] = totals.get(slug, 0) + sign * n
    return {slug: n for slug, n in sorted(totals.items()) if n}


def _appearances(work: SiteWork, slugs: list[str], last: dict | None, changed: list):
    """Each term's first APPEARS_LIMIT pages among the department-years, in the site's order, and the position
    of the department-year that filled the list (-1 when it never filled): read from the records of the
    department-years that have the term, until it is full (a province's first hundred or two).

    `last` (the last build's, when the department-years are in the same order) is kept for a term unless a
    changed department-year that has or had it comes before where its list filled: an edit of one department
    then reads no record for the glossary."""
    result: dict[str, tuple[tuple[tuple[str, str], ...], int]] = {}
    redo = set(slugs)
    units = work.units
    if last is not None:
        position = {u.key: i for i, u in enumerate(units)}
        redo = {slug for slug in slugs if slug not in last}
        for key, was, now in changed:
            at = position.get(key, -1)
            for slug in {k for s in (was, now) if s is not None for k, n in s.term_counts.items() if n}:
                if slug in last and (last[slug][1] < 0 or at <= last[slug][1]):
                    redo.add(slug)
        result = {slug: last[slug] for slug in slugs if slug not in redo}
    found: dict[str, list[tuple[str, str]]] = {slug: [] for slug in slugs if slug in redo}
    for at, u in enumerate(units):
        if not found:
            break
        wanted = [slug for slug, n in work.index.summaries[u.key].term_counts.items() if n and slug in found]
        if not wanted:
            continue
        record = work.record(u.key)
        for slug in wanted:
            pages = found[slug]
            for i in record.terms.get(slug, ()):
                if len(pages) < APPEARS_LIMIT:
                    url, title = record.pages[i]
                    pages.append((title, url))
            if len(pages) >= APPEARS_LIMIT:
                result[slug] = (tuple(found.pop(slug)), at)
    result.update({slug: (tuple(pages), -1) for slug, pages in found.items()})
    return {slug: result[slug] for slug in slugs}


def partitioned(path: str) -> bool:
    """Site-level files made per department, per year or per search shard: kept when nothing of theirs changed."""
    if path.startswith(("years/", "assets/search/t/")):
        return True
    folder, _, name = path.partition("/")
    return folder not in RESERVED_SLUGS and name in ("index.html", "datasets.json", "sitemap.xml")


def search_matrix(keys: list[str], old, cache):
    """The search index's token bitmaps as the last build left them, with the department-years moved to their
    places in this build's order (a new matrix in a full build). Returns it and whether anything moved."""
    from generator.output.search import PARTS, TokenMatrix

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
