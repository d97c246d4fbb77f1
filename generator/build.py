"""The pipeline, as a list: config → load → check → model → render → write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .check import CheckResult, check_code_names, check_narrative, check_terms, check_year
from .config import SiteConfig, load_config
from .diagnostics import CheckFailed, Diagnostics, Loc
from .load import load_site
from .model import RESERVED_SLUGS, build_site, figure_links
from .opendata import build_open_data
from .projects import check_projects, project_lookup
from .render import Renderer, sitemap
from .search import build_index
from .sources import SiteSource
from .write import check_output_dir, write_site


@dataclass
class BuildReport:
    diagnostics: Diagnostics
    checks: list[CheckResult]
    pages: int = 0
    files: int = 0
    published_with_errors: bool = False
    search_docs: int = 0
    search_bytes: int = 0


def run_checks(source: SiteSource, config: SiteConfig, diags: Diagnostics) -> tuple[list[CheckResult], dict]:
    """Every check, for every department-year; nothing stops at the first problem."""
    results: list[CheckResult] = []
    narrative: dict = {}
    check_code_names(source, diags)
    for dept in source.departments.values():
        if dept.slug in RESERVED_SLUGS:
            diags.error(Loc(dept.rel), f"部门文件夹名“{dept.slug}”与站点自用的网址冲突，请换一个名字。", "slug")
        for ys in dept.years.values():
            results += check_year(ys, config.rounding, diags)
            results += check_projects(ys, dept, ys.fmt, config.rounding, diags)
            check_terms(ys, source, diags)
            if ys.fmt is not None:
                resolved = check_narrative(ys, ys.fmt, diags, lambda y, t, r: project_lookup(y, t, r, diags))
                narrative[(dept.slug, ys.year)] = figure_links(f"{dept.slug}/{ys.year}/", ys.fmt, resolved)
    return results, narrative


def validate(root: Path) -> BuildReport:
    config = load_config(root)
    diags = Diagnostics()
    source = load_site(config, diags)
    checks, _ = run_checks(source, config, diags)
    return BuildReport(diags, checks)


def read_assets(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        f"assets/{p.relative_to(folder).as_posix()}": p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def build(root: Path, out: Path | None = None, *, allow_errors: bool = False, strict: bool = False) -> BuildReport:
    config = load_config(root)
    out = out or root / "public"
    check_output_dir(out, root)
    diags = Diagnostics()
    source = load_site(config, diags)
    checks, narrative = run_checks(source, config, diags)
    failed = diags.has_errors or (strict and diags.count("warning") > 0)
    if failed and not allow_errors:
        raise CheckFailed("数据有误，未生成网站", diags.sorted())
    site = build_site(config, source, checks, narrative, failed)
    data, datasets = build_open_data(site)
    pages = Renderer(site, config.templates_dir).render(datasets)
    index, docs = build_index(site)
    files = {**pages, **data, **read_assets(config.templates_dir / "static"), "assets/search-index.js": index}
    if (map_ := sitemap(site, list(pages))) is not None:
        files["sitemap.xml"] = map_
    write_site(out, files)
    return BuildReport(diags, checks, len(pages), len(files), failed, docs, len(index))
