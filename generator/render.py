"""render: Site → pages (path, bytes). Reads templates; writes nothing.

Each page gets `root`, the relative path back to the site root, so every link is relative and the site works
from file:// and under any base path. Autoescape is on everywhere; text from the data reaches a page only
escaped, or as sanitised Markdown.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from . import charts
from .markup import TermLinker, paragraphs, plain_text, render_markdown
from .model import Site, Year
from .money import format_amount, format_plain
from .opendata import downloads
from .projects import indicator_rows

TEN_THOUSAND = Decimal(10000)


def _json_script(data) -> Markup:
    """JSON safe inside <script type="application/json">: no "</script>", no "<!--"."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.quantize(Decimal('0.01'))}%"


def _wan(value: Decimal | None) -> str:
    """元 → 万元 with two decimals, for summaries of project funds."""
    return "—" if value is None else format_amount(value / TEN_THOUSAND)


class Renderer:
    def __init__(self, site: Site, templates: Path) -> None:
        self.site = site
        self.env = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(money=format_amount, plain=format_plain, pct=_pct, wan=_wan)
        self.env.globals.update(indicator_rows=indicator_rows, downloads=downloads, json_script=_json_script)
        self.glossary = {t.slug: t for t in site.glossary}
        self.terms = site.term_map()
        self.definitions = {t.slug: {"term": t.term, "def": plain_text(t.entry.body)} for t in site.glossary}
        self.pages: dict[str, bytes] = {}

    def page(self, path: str, template: str, title: str, root: str | None = None, **context) -> None:
        if path in self.pages:
            raise ValueError(f"two pages would be written to {path}")
        root = "../" * path.count("/") if root is None else root
        linker = TermLinker(self.terms, href=lambda slug: f"{root}glossary/{slug}.html")

        def term_data() -> Markup:
            return _json_script({s: self.definitions[s] for s in sorted(linker.used)})

        html = self.env.get_template(template).render(
            site=self.site,
            config=self.site.config,
            root=root,
            path=path,
            title=title,
            terms=linker,
            term_data=term_data,
            md=lambda text, resolve=None: render_markdown(text, linker, resolve),
            paras=lambda text: paragraphs(text, linker),
            **context,
        )
        for slug in sorted(linker.used):
            if path.startswith("glossary/"):
                continue
            self.glossary[slug].appears_on.append((title, path))
        self.pages[path] = html.encode("utf-8")

    def render(self, datasets: list[dict]) -> dict[str, bytes]:
        site = self.site
        site_charts = {year: charts.site_charts(site.by_year(year)) for year in site.years}
        self.page(
            "index.html",
            "home.html",
            f"{site.config.title}：各部门决算表、情况说明与项目绩效自评",
            site_charts=site_charts,
        )
        self.page("search.html", "search.html", "搜索")
        self.page("datasets.html", "datasets.html", "开放数据", datasets=datasets)
        # A host serves 404.html at whatever address was missing, so its links start from the site's base path.
        self.page("404.html", "404.html", "找不到这个页面", root=urlsplit(site.config.base_url).path or "/")
        for p in site.pages:
            self.page(f"{p.slug}.html", "page.html", p.title, page=p)
        for dept in site.departments:
            self.page(dept.url, "department.html", dept.name, dept=dept)
            for year in dept.years:
                self.year(year)
        # The glossary comes last: its pages list every page each term appears on.
        self.page("glossary/index.html", "glossary_index.html", "名词解释")
        for term in site.glossary:
            self.page(term.url, "glossary_term.html", f"名词解释：{term.term}", term=term)
        return self.pages

    def year(self, y: Year) -> None:
        base = y.url.rsplit("/", 1)[0] + "/"
        table_charts = charts.year_charts(y.source.fmt, y.source.tables)
        project_charts = charts.project_charts(y.projects)
        self.page(y.url, "year.html", y.title, y=y, table_charts=table_charts, project_charts=project_charts)
        for i, table in enumerate(y.tables):
            prev_t = y.tables[i - 1] if i > 0 else None
            next_t = y.tables[i + 1] if i + 1 < len(y.tables) else None
            self.page(
                table.url, "table.html", f"{table.name} · {y.title}", y=y, table=table, prev_t=prev_t, next_t=next_t
            )
        if y.narrative:
            links = y.narrative_links

            def resolve(target: str, text: str, root: str = "../" * base.count("/")):
                found = links.get((target, text))
                if found is None:
                    return None
                url, status = found
                return (root + url, status)

            self.page(f"{base}narrative.html", "narrative.html", f"情况说明 · {y.title}", y=y, resolve=resolve)
        if y.terms:
            self.page(f"{base}terms.html", "terms.html", f"名词解释 · {y.title}", y=y, glossary=self.glossary)
        if y.projects:
            self.page(
                f"{base}projects/index.html",
                "projects.html",
                f"项目支出绩效自评 · {y.title}",
                y=y,
                project_charts=project_charts,
            )
            for i, p in enumerate(y.projects):
                self.page(
                    p.url,
                    "project.html",
                    f"{p.name} · 项目支出绩效自评 · {y.title}",
                    y=y,
                    p=p,
                    prev_p=y.projects[i - 1] if i > 0 else None,
                    next_p=y.projects[i + 1] if i + 1 < len(y.projects) else None,
                )


def sitemap(site: Site, pages: list[str]) -> bytes | None:
    """sitemap.xml for search engines: absolute URLs under site.toml's base_url (none without one)."""
    if not site.config.base_url:
        return None
    urls = "".join(
        f"  <url><loc>{escape(site.config.base_url + p)}</loc></url>\n" for p in sorted(pages) if p != "404.html"
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'.encode()
