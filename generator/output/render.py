"""render: Site → pages (path, bytes). Reads templates; writes nothing.

Each page gets `root`, the relative path back to the site root, so every link is relative and the site works
from file:// and under any base path. Autoescape is on everywhere; text from the data reaches a page only
escaped, or as sanitised Markdown.
"""

from __future__ import annotations

import functools
import operator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import markupsafe
import orjson
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

from generator.checks.tables import Status
from generator.core.money import format_amount, format_plain
from generator.model.site import Site, Year, tally
from generator.output import charts
from generator.output.markup import Glossary, TermLinker, paragraphs, plain_text, render_markdown
from generator.output.opendata import downloads

TEN_THOUSAND = Decimal(10000)


def _json_script(data) -> Markup:
    """JSON safe inside <script type="application/json">: no "</script>", no "<!--"."""
    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.quantize(Decimal('0.01'))}%"


def _wan(value: Decimal | None) -> str:
    """元 → 万元 with two decimals, for summaries of project funds."""
    return "—" if value is None else format_amount(value / TEN_THOUSAND)


# A project form's cells, as the page prints them. Python rather than Jinja macros: a department-year's
# project pages call them some two thousand times, and a macro call costs several times a function's.

WITHHELD = "有关内容涉密"


def cell_value(cell) -> Markup:
    """A cell as printed: withheld content marked, ##### shown as printed with what it means, the rest as text."""
    if cell is None:
        return Markup("")
    if cell.value is None and cell.text == WITHHELD:
        return Markup('<span class="withheld">有关内容涉密</span>')
    if cell.value is None and cell.text.startswith("#"):
        text = escape(cell.text)
        return Markup(
            f'<span class="unknown-value" title="原件此格印作 {text}：列宽不足，数值未显示">{text}</span>'
            '<span class="vh">（原件数值未显示）</span>'
        )
    return escape(cell.text)


def cell_money(cell) -> Markup:
    """An amount in 元 without separators, as the form prints it; a cell without a value as cell_value."""
    if cell is None:
        return Markup("")
    return cell_value(cell) if cell.value is None else escape(format_plain(cell.value))


def measure_attrs(m) -> Markup:
    """A target or actual value's parsed form, as data attributes (for sorting and comparison in the page)."""
    if not m:
        return Markup("")
    # escape() each value into an f-string: Markup.format would do the same through string.Formatter, slowly
    return _as_markup(
        Markup,
        f' data-comparator="{escape(m.comparator)}" data-value="{escape(m.number)}" data-unit="{escape(m.unit)}"',
    )


def form_text(text: str, linker) -> Markup:
    """An indicator's text: withheld content marked as such, otherwise with its glossary terms linked."""
    if text in (WITHHELD, WITHHELD + "。"):
        return Markup(f'<span class="withheld">{escape(text)}</span>')
    return linker.link(text, True)


def indicator_trs(rows, linker) -> Markup:
    """`{{ p.rows | indicator_trs(terms) }}`: the indicator table's rows (projects.indicator_rows), cell by cell as
    the form prints them. Python rather than a Jinja loop: a department-year has some three hundred of these rows,
    and each iteration of a loop costs some forty Jinja calls. Texts are linked in reading order, as a loop would."""
    out = []
    for n, row in enumerate(rows, start=1):
        i = row.indicator
        out.append(f'    <tr id="ind-{n}" class="deduct">\n' if row.deducted else f'    <tr id="ind-{n}">\n')
        if row.span1:
            weight = f'<span class="weight">（{escape(row.weight1)}分）</span>' if row.weight1 else ""
            out.append(f'<th scope="rowgroup" rowspan="{row.span1}" class="l1">{escape(i.level1)}{weight}</th>')
        if row.span2:
            out.append(f'<th scope="rowgroup" rowspan="{row.span2}" class="l2">{escape(i.level2)}</th>')
        name = form_text(i.name, linker)
        target = f"<td{measure_attrs(row.target)}>{form_text(i.target, linker)}</td>"
        actual = (
            f"<td{measure_attrs(row.actual)}>{form_text(i.actual, linker)}{ATTAINMENT.get(row.attainment, '')}</td>"
        )
        deducted = f'<span class="deduction">扣 {escape(row.deducted)}</span>' if row.deducted else ""
        out.append(
            f"      <td>{name}</td>\n      {target}\n      {actual}\n"
            f'      <td class="num">{cell_value(i.weight)}</td>\n'
            f'      <td class="num">{cell_value(i.score)}{deducted}</td>\n'
            f'      <td class="deviation">{form_text(i.deviation, linker)}</td>\n    </tr>\n'
        )
    return Markup("".join(out))


def table_rows(part, linker) -> Markup:
    """`{{ part | table_rows(terms) }}`: the rows of one part of a printed table (model.PartView), stub cells in
    the form's order, then each figure (table_cell). Python for the reason indicator_trs is."""
    stub = [s.field for s in part.part.stub]
    out = []
    for row in part.rows:
        if row.filler:
            cells = "".join(f'<td class="{escape(f)}">{escape(row.no) if f == "no" else ""}</td>' for f in stub)
            out.append(f'      <tr class="filler" aria-hidden="true">{cells}{"<td></td>" * len(row.cells)}</tr>\n')
            continue
        anchor = f' id="{escape(row.anchor)}"' if row.anchor else ""
        kind = "total" if row.total else f"lvl-{escape(row.level)}"
        out.append(f'      <tr{anchor} class="{kind}">\n')
        for field in stub:
            if field == "label":
                indent = f" indent-{escape(row.indent)}" if row.indent else ""
                label = linked(row.label, linker)
                out.append(f'        <th scope="row" class="label lvl-{escape(row.level)}{indent}">{label}</th>\n')
            elif field == "no":
                out.append(f'        <td class="no">{escape(row.no)}</td>\n')
            else:
                out.append(f'        <td class="code">{escape(row.code)}</td>\n')
        out.extend(f"        {table_cell(c)}\n" for c in row.cells)
        out.append("      </tr>\n")
    return Markup("".join(out))


ATTAINMENT = {
    "below": '<span class="attain below">未达到指标值</span>',
    "above": '<span class="attain above">超出指标值</span>',
}


def linked(text: str, linker, first_only: bool = False) -> Markup:
    """`{{ text | linked(terms) }}`: the text escaped, its glossary terms linked (TermLinker.link)."""
    return linker.link(text, first_only)


STATUS_WORDS: dict[Status, str] = {
    "ok": "相符",
    "rounding": "尾数差异",
    "unknown": "无法核对",
    "source": "原件如此",
    "error": "不符",
}
STATUS_MARKS: dict[Status, str] = {"ok": "✓", "rounding": "≈", "unknown": "?", "source": "!", "error": "✗"}


def table_cell(c) -> Markup:
    """`{{ c | table_cell }}`: one figure of a printed table (model.CellView) as its <td>, with the mark of the
    worst check on it linking to that check. Made here: a province's tables have some ten million cells."""
    text = escape(c.text)
    kind = "" if c.kind == "num" else f" {c.kind}"
    if c.kind == "unknown":
        text = f'<span class="unknown-value" title="数值未知">{text}</span>'
    # Made a Markup straight from the str (as _escape does): Markup() is a Python-level call for each cell.
    if not c.status:
        return _as_markup(Markup, f'<td class="num{kind}">{text}</td>')
    status = c.status
    return _as_markup(
        Markup,
        f'<td class="num{kind} st-{status}">{text}<a class="mark st-{status}" href="#{escape(c.check)}"'
        f' aria-label="核对：{STATUS_WORDS[status]}，查看说明">{STATUS_MARKS[status]}</a></td>',
    )


_escape_text = getattr(markupsafe, "_escape_inner", None)  # str → escaped str, in C (MarkupSafe's speedups)
_as_markup = str.__new__


def _escape(value) -> Markup:
    """markupsafe.escape, the same bytes, without its two Python-level calls per value (a department-year's
    pages escape thousands): a str is escaped straight into a Markup, a Markup is already safe and returned as
    it is, an int or a Decimal (digits, sign, point, exponent: nothing to escape) made one, anything else goes to
    markupsafe.escape."""
    kind = type(value)
    if kind is str:
        return _as_markup(Markup, _escape_text(value))
    if kind is Markup:
        return value
    if kind is int or kind is Decimal:  # row numbers, indicator values
        return _as_markup(Markup, str(value))
    return markupsafe.escape(value)


escape = _escape if _escape_text is not None else markupsafe.escape


class _Template(Template):
    """A template whose `{{ … }}` are escaped by `escape` above rather than markupsafe.escape (the same bytes).

    Autoescape calls `escape` by name from the compiled template's own namespace (its code starts `from
    jinja2.runtime import … escape …`), which every function of the template shares as its globals. Set there,
    once per loaded template, it changes these templates only: jinja2 and markupsafe stay as they are for the
    rest of the process. The compiled code itself is Jinja's own, so the bytecode cache holds what it always does.
    """

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = escape
        return template


class _CompiledTemplates(FileSystemBytecodeCache):
    """Jinja's cache of compiled templates, whose write errors (a full disk) name the file, as ours do."""

    def dump_bytecode(self, bucket) -> None:
        from generator.core.files import naming

        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            raise naming(exc, self._get_cache_filename(bucket)) from None


def environment(templates: Path, compiled: Path | None = None) -> Environment:
    """A Jinja environment of the templates in `templates`. `compiled`: a folder where compiled templates are kept
    between builds (Jinja's bytecode cache, checked against each template's source), so that a rebuild after one
    edit does not compile every template again."""
    if compiled is not None:
        compiled.mkdir(parents=True, exist_ok=True)
    env = Environment(
        loader=FileSystemLoader(templates),
        bytecode_cache=_CompiledTemplates(str(compiled)) if compiled is not None else None,
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        auto_reload=False,  # a template is not edited during a build, and each build has its own Templates
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.template_class = _Template
    env.filters.update(money=format_amount, plain=format_plain, pct=_pct, wan=_wan)
    # What a page calls for every cell or row is a filter: Jinja calls a filter directly, a global through the
    # context, which is slower (a province's tables have ten million cells).
    env.filters.update(cell_value=cell_value, cell_money=cell_money, measure_attrs=measure_attrs, form_text=form_text)
    env.filters.update(linked=linked, table_cell=table_cell, indicator_trs=indicator_trs)
    env.filters.update(table_rows=table_rows, dept_items=dept_items)
    env.filters.update(status_word=STATUS_WORDS.__getitem__, status_mark=STATUS_MARKS.__getitem__)
    env.globals.update(downloads=downloads, json_script=_json_script, tally=tally)
    env.globals.update(dataset_departments=dataset_departments)
    return env


class Templates:
    """The site's templates, compiled once for whoever holds this (a build, one of its workers) and used for every
    page it renders; `compiled` as for environment(). Made when first asked for: a build with nothing to render
    compiles nothing."""

    def __init__(self, folder: Path, compiled: Path | None = None) -> None:
        self.folder = folder
        self.compiled = compiled

    @functools.cached_property
    def env(self) -> Environment:
        return environment(self.folder, self.compiled)


@functools.lru_cache(maxsize=4)
def _glossary(pairs: tuple) -> Glossary:
    """One Glossary object per set of terms and process, so cached links are found by identity."""
    return Glossary(dict(pairs))


@functools.lru_cache(maxsize=4)
def _definitions(terms: tuple[tuple[str, str, str], ...]) -> dict:
    """Each term's definition as plain text, for the tooltips: (slug, term, Markdown body) → made once."""
    return {slug: {"term": term, "def": plain_text(body)} for slug, term, body in terms}


class Renderer:
    """Pages of a site, rendered from `templates` into `pages` (path → bytes); `shapes`: the chart shapes of the
    build (charts.ChartShapes)."""

    def __init__(self, site: Site, templates: Templates, shapes: charts.ChartShapes) -> None:
        self.site = site
        self.env = templates.env
        self.shapes = shapes
        self.titles: dict[str, str] = {}
        self.glossary = {t.slug: t for t in site.glossary}
        self.terms = _glossary(tuple(sorted(site.term_map().items())))
        self.definitions = _definitions(tuple((t.slug, t.term, t.entry.body) for t in site.glossary))
        self.pages: dict[str, bytes] = {}
        self.used: dict[str, tuple[str, ...]] = {}  # page → the glossary terms it links to

    def page(self, path: str, template: str, title: str, root: str | None = None, **context) -> None:
        if path in self.pages:
            raise ValueError(f"two pages would be written to {path}")
        root = "../" * path.count("/") if root is None else root
        linker = TermLinker(self.terms, root)

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
        if linker.used and not path.startswith("glossary/"):
            self.used[path] = tuple(sorted(linker.used))
        self.pages[path] = html.encode("utf-8")
        self.titles[path] = title

    # The pages that summarise every department-year (`site.departments[].years` are units.Summary), in the
    # pieces an incremental build makes again only where what they show has changed.

    def home(self, listed_inline: bool, site_charts: dict[int, list]) -> None:
        """`site_charts`: each year's comparison charts (charts.site_charts; the caller keeps them by year)."""
        site = self.site
        self.page(
            "index.html",
            "home.html",
            f"{site.config.title}：各部门决算表、情况说明与项目绩效自评",
            site_charts=site_charts,
            inline=listed_inline,
        )

    def year_list(self, year: int, charts: list, grouped: bool = False) -> None:
        """`charts`: the year's comparison charts (charts.site_charts), which the home page shows only for the
        latest year once the departments are listed on these pages. `grouped`: a long list, headed by region
        where there is more than one, with an index of the regions at the top (a province's year has 2,000
        departments: on a phone, some 250 screens of them)."""
        units = self.site.by_year(year)
        self.page(
            f"years/{year}.html", "year_list.html", f"{year} 年度各部门决算", year=year, charts=charts, units=units,
            regions=regions_of(units) if grouped else [],
        )  # fmt: skip

    def fixed_pages(self) -> None:
        """Search, 404 and the content pages: the same whatever the departments."""
        self.page("search.html", "search.html", "搜索")
        # A host serves 404.html at whatever address was missing, so its links start from the site's base path.
        self.page("404.html", "404.html", "找不到这个页面", root=urlsplit(self.site.config.base_url).path or "/")
        for p in self.site.pages:
            self.page(f"{p.slug}.html", "page.html", p.title, page=p)

    def datasets(self, datasets: list[dict], total: int, compact: bool, grouped: bool = False) -> None:
        """`grouped` (with `compact`): the departments headed by region, as a long year list is."""
        self.page(
            "datasets.html", "datasets.html", "开放数据", datasets=datasets, total=total, compact=compact,
            regions=regions_of(datasets, operator.itemgetter("region")) if compact and grouped else [],
        )  # fmt: skip

    def department(self, dept) -> None:
        self.page(dept.url, "department.html", dept.name, dept=dept)

    def glossary_pages(self) -> None:
        """The glossary index and one page per term; each term's `appears_on` is filled in by the caller."""
        self.page("glossary/index.html", "glossary_index.html", "名词解释")
        for term in self.site.glossary:
            self.page(term.url, "glossary_term.html", f"名词解释：{term.term}", term=term)

    def year(self, y: Year) -> None:
        base = y.url.rsplit("/", 1)[0] + "/"
        table_charts = charts.year_charts(self.shapes, y.source.fmt, y.source.tables)
        project_charts = charts.project_charts(self.shapes, y.projects)
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


def dataset_departments(entries: list[dict]) -> Markup:
    """The datasets page of a province (compact): one line per department, with its years' dataset counts. Made
    here, not in the template: a province has 2,000 departments, too many for a Jinja loop on every edit."""
    lines = []
    for d in entries:
        slug, name = escape(d["department_id"]), escape(d["department"])
        # Spaced by the stylesheet, not by "·" between them: a phone wraps the line and would leave one at its end.
        years = "".join(f'<a href="{slug}/{y}/index.html">{y} 年度 {n} 个数据集</a> ' for y, n in d["years"])
        lines.append(
            f'  <li><a class="dataset-page" href="{slug}/index.html">{name}</a>\n'
            f'    <span class="downloads">{years}<span>全部文件见 <a class="file" href="{slug}/datasets.json">'
            "datasets.json</a></span></span></li>\n"
        )
    return Markup("".join(lines))


def dept_items(units, root: str, with_year: bool = False, with_region: bool = True) -> Markup:
    """`{{ units | dept_items(root) }}`: department-years in a list (units.Summary), each with what is published
    and what the checks found; `with_year` names each by its year (a department's page) instead of by its
    department. Each fact is its own piece, kept whole on a phone's narrow line; the stylesheet puts the "·"
    between them and hides the one a wrapped line would start with. Made here, not in a template: a province's
    year lists have 2,000 departments each, too many for a Jinja loop on every edit."""
    root = escape(root)
    out = []
    for y in units:
        label = f"{y.year} 年度部门决算" if with_year else escape(y.name)
        meta = [f"<span>{escape(y.region)}</span> "] if y.region and with_region and not with_year else []
        meta.append("<span>九张决算表</span>" if y.has_tables else "<span>未收录决算表</span>")
        if y.has_narrative:
            meta.append(" <span>情况说明</span>")
        if y.project_count:
            meta.append(f" <span>{y.project_count} 个项目自评</span>")
        if checks := y.checks:
            counts = y.counts
            meta.append(f' <span class="dept-checks">核对 {checks} 项')
            if counts.get("error"):
                meta.append(f'，<strong class="st-error">{counts["error"]} 项不符</strong>')
            else:
                meta.append("，无不符")
            if counts.get("source"):
                meta.append(f"（另有 {counts['source']} 项原件本身不符，已标明）")
            if counts.get("unknown"):
                meta.append(f"，{counts['unknown']} 项因数值未知无法核对")
            meta.append("</span>")
        out.append(
            f'<li>\n  <a class="dept-name" href="{root}{escape(y.url)}">{label}</a>\n'
            f'  <span class="dept-meta"><span>{"".join(meta)}</span></span>\n</li>\n'
        )
    return Markup("".join(out))


def regions_of(items, region=operator.attrgetter("region")) -> list[tuple[str, list]]:
    """Departments or department-years in runs of one region (the site lists them by region, then name), each
    run with its region; none where all are of one region (there is nothing to group them by)."""
    runs: list[tuple[str, list]] = []
    for item in items:
        where = region(item)
        if not runs or runs[-1][0] != where:
            runs.append((where, []))
        runs[-1][1].append(item)
    return runs if len(runs) > 1 else []


SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
SITEMAP_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def sitemap(base_url: str, pages: list[str]) -> bytes:
    """A sitemap (sitemaps.org) of absolute URLs under site.toml's base_url."""
    body = "".join(f"  <url><loc>{escape(base_url + p)}</loc></url>\n" for p in sorted(pages) if p != "404.html")
    return f"{SITEMAP_HEAD}<urlset {SITEMAP_NS}>\n{body}</urlset>\n".encode()


def sitemap_index(base_url: str, sitemaps: list[str]) -> bytes:
    """sitemap.xml: the index of the site's sitemaps, one for the site-level pages and one in each department's
    folder (a sitemap may list only addresses under its own folder), so a province's stays far under the
    protocol's 50,000 addresses per file and an edit rewrites one department's."""
    body = "".join(f"  <sitemap><loc>{escape(base_url + p)}</loc></sitemap>\n" for p in sitemaps)
    return f"{SITEMAP_HEAD}<sitemapindex {SITEMAP_NS}>\n{body}</sitemapindex>\n".encode()
