"""model: source records and check results → Site, ready to render. No I/O.

URLs are paths from the site root, all ASCII (they survive zips, USB sticks and old file systems), and every
link a page prints is made relative to that page, so the site works from file:// and under any base path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.checks.tables import STATUS_RANK, CheckResult, Status, explain
from generator.core.config import SiteConfig
from generator.core.money import format_amount
from generator.sources.formats import CellRef, Format, HeaderCell, Part, TableFormat
from generator.sources.records import (
    Cell,
    ContentPage,
    DepartmentSource,
    GlossaryEntry,
    Narrative,
    Overview,
    TableSource,
    TermUse,
    YearSource,
)

# ------------------------------------------------------------------------------------------ tables


@dataclass
class CellView:
    text: str
    kind: str = "num"  # "num", "unknown" (##### or blank), "empty" (a filler row prints nothing)
    status: Status | None = None  # the worst check result on this cell (never "ok": a cell that passes has none)
    check: str | None = None  # anchor of that check in the page's list


@dataclass
class RowView:
    anchor: str | None
    label: str
    no: str
    code: str
    level: int  # hierarchy of coded rows: 1 类, 2 款, 3 项 (classified tables, 表6); 0 otherwise
    indent: int  # printed indentation of a fixed row (表4 rows 29–31)
    total: bool
    filler: bool
    cells: list[CellView]


@dataclass
class PartView:
    key: str
    caption: str
    part: Part
    header: list[list[HeaderCell]]
    rows: list[RowView]


@dataclass
class CheckView:
    anchor: str
    status: Status
    rule: str
    message: str


@dataclass
class TableView:
    no: int
    title: str
    url: str
    source: str  # the YAML file, relative to the site folder
    note: list[str]
    empty: bool
    empty_note: str
    parts: list[PartView]
    checks: list[CheckView]
    source_notes: list[str]

    @property
    def name(self) -> str:
        return f"表{self.no} {self.title}"

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def worst(self) -> Status:
        return max((c.status for c in self.checks), key=STATUS_RANK.__getitem__, default="ok")


def row_anchor(part_index: int, part: Part, key: str, no: int | None) -> str:
    if no:
        return f"row-{no}"
    if part.classified and key == "合计":
        return "total"
    if key.isdigit():
        return f"code-{key}"
    if len(part.rows) == 1:
        return "row"
    return f"total-{part_index + 1}"


def _cell_view(cell: Cell | None) -> CellView:
    if cell is None:
        return CellView("0.00")
    if cell.value is None:
        return CellView(cell.text or "待填写", "unknown")
    return CellView(format_amount(cell.value))


def build_table(table: TableSource, fmt: Format, checks: list[CheckResult], url: str) -> TableView:
    tf: TableFormat = fmt.tables[table.fmt.no]
    # Every check that involves this table is listed on it; the mark goes on the total it is about.
    mine = sorted((c for c in checks if tf.no in c.tables), key=lambda c: -STATUS_RANK[c.status])
    views, marks = check_views(mine), {}
    for view, result in zip(views, mine, strict=True):
        anchor = view.anchor
        ref = result.total.ref
        if ref is not None and ref.table == tf.no and result.status != "ok":
            key = (ref.part, ref.row, ref.col)
            if key not in marks or STATUS_RANK[result.status] > STATUS_RANK[marks[key][0]]:
                marks[key] = (result.status, anchor)
        for part_term in result.parts:  # an error also marks the figures it compares
            pref = part_term.ref
            if result.status == "error" and pref is not None and pref.table == tf.no:
                marks.setdefault((pref.part, pref.row, pref.col), ("error", anchor))

    parts = []
    for index, part in enumerate(tf.parts):
        rows: list[RowView] = []
        if part.classified:
            keyed = [("合计", "合计", "", 0)] + [
                (r.code, r.name, r.code, {3: 1, 5: 2, 7: 3}[len(r.code)])
                for r in sorted(table.class_rows, key=lambda r: r.code)
            ]
            for key, label, code, level in keyed:
                cells = [
                    _mark(_cell_view(table.cells.get((part.key, key, c.key))), marks.get((part.key, key, c.key)))
                    for c in part.columns
                ]
                rows.append(
                    RowView(row_anchor(index, part, key, None), label, "", code, level, 0, key == "合计", False, cells)
                )
        else:
            for row in part.rows:
                if row.filler:
                    cells = [CellView("", "empty") for _ in part.columns]
                    rows.append(RowView(None, "", str(row.no or ""), "", 0, 0, False, True, cells))
                    continue
                cells = [
                    _mark(
                        _cell_view(table.cells.get((part.key, row.key, c.key))), marks.get((part.key, row.key, c.key))
                    )
                    for c in part.columns
                ]
                level = (1 if len(row.code) == 3 else 2) if (row.code and part.hierarchy) else 0
                rows.append(
                    RowView(
                        row_anchor(index, part, row.key, row.no),
                        row.label or "",
                        str(row.no or ""),
                        row.code or "",
                        level,
                        row.indent,
                        row.total,
                        False,
                        cells,
                    )
                )
        caption = f"{tf.name}" + (f"（{part.key}）" if part.key else "")
        parts.append(PartView(part.key, caption, part, part.header_rows(with_part_label=len(tf.parts) > 1), rows))

    empty = table.empty
    note = [line for line in tf.note.splitlines() if line.strip()]
    return TableView(
        no=tf.no,
        title=tf.title,
        url=url,
        source=table.rel,
        note=note,
        empty=empty,
        empty_note=fmt.empty_note,
        parts=parts,
        checks=views,
        source_notes=table.notes,
    )


@dataclass
class Tally:
    """Check results counted by status once, for the pages that summarise and list them."""

    total: int
    ok: int
    rounding: int
    unknown: int
    source: int
    error: int
    notable: list  # worst first, as listed
    fine: list


def tally(checks: list) -> Tally:
    counts: dict[Status, int] = {status: 0 for status in STATUS_RANK}
    notable, fine = [], []
    for c in checks:
        counts[c.status] += 1
        (fine if c.status == "ok" else notable).append(c)
    return Tally(
        len(checks),
        counts["ok"],
        counts["rounding"],
        counts["unknown"],
        counts["source"],
        counts["error"],
        notable,
        fine,
    )


def check_views(results: list[CheckResult]) -> list[CheckView]:
    """Checks as a page lists them, worst first, each with an anchor the marked cells link to."""
    ordered = sorted(results, key=lambda c: -STATUS_RANK[c.status])
    return [CheckView(f"check-{i}", c.status, c.rule, _check_message(c)) for i, c in enumerate(ordered, start=1)]


def _mark(view: CellView, mark: tuple[Status, str] | None) -> CellView:
    if mark:
        view.status, view.check = mark
    return view


def _check_message(result: CheckResult) -> str:
    if result.status == "ok":
        return ""
    if result.status == "unknown":
        unknown = "、".join(t.label for t in [result.total, *result.parts] if t.value is None)
        return f"{unknown}的数值未知，无法核对。"
    return explain(result)


# ------------------------------------------------------------------------------------------- the site


@dataclass
class SummaryFigure:
    label: str
    text: str
    url: str


@dataclass
class Year:
    department: Department
    year: int
    url: str
    source: YearSource
    tables: list[TableView] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    projects: list = field(default_factory=list)  # projects.ProjectView
    summary: list[SummaryFigure] = field(default_factory=list)
    narrative_links: dict = field(default_factory=dict)  # figure target → (url, status)

    @property
    def title(self) -> str:
        return f"{self.department.name} {self.year} 年度部门决算"

    @property
    def overview(self) -> Overview | None:
        return self.source.overview

    @property
    def narrative(self) -> Narrative | None:
        return self.source.narrative

    @property
    def terms(self) -> tuple[TermUse, ...] | None:
        return self.source.terms

    @property
    def has_tables(self) -> bool:
        return bool(self.tables)

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def table_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if c.project is None]

    @property
    def missing_parts(self) -> list[str]:
        missing = []
        if not self.overview:
            missing.append("第一部分 概况")
        if not self.tables:
            missing.append("第二部分 部门决算表（九张表）")
        if not self.narrative:
            missing.append("第三部分 情况说明")
        if not self.terms:
            missing.append("第四部分 名词解释")
        if not self.projects:
            missing.append("附件 项目支出绩效自评表")
        return missing


@dataclass
class Department:
    slug: str
    name: str
    region: str
    url: str
    source: DepartmentSource
    years: list[Year] = field(default_factory=list)


@dataclass
class GlossaryTerm:
    entry: GlossaryEntry
    url: str
    appears_on: list[tuple[str, str]] = field(default_factory=list)  # (title, url), filled while rendering
    appears_total: int = 0  # pages it appears on; a province lists only the first APPEARS_LIMIT

    @property
    def term(self) -> str:
        return self.entry.term

    @property
    def slug(self) -> str:
        return self.entry.slug


@dataclass
class Site:
    config: SiteConfig
    departments: list[Department]
    glossary: list[GlossaryTerm]
    pages: list[ContentPage]
    failed: bool = False  # published with errors (--allow-errors): pages say so
    _years: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def years(self) -> list[int]:
        return sorted(self._by_year(), reverse=True)

    def by_year(self, year: int) -> list[Year]:
        return self._by_year().get(year, [])

    def _by_year(self) -> dict[int, list[Year]]:
        """year → its department-years in the site's order, gathered once: a province's pages ask for them a
        dozen times, over 10,000 department-years each (the departments are complete when the Site is made)."""
        if self._years is None:
            self._years = {}
            for d in self.departments:
                for y in d.years:
                    self._years.setdefault(y.year, []).append(y)
        return self._years

    def all_years(self) -> list[Year]:
        return [y for d in self.departments for y in d.years]

    def term_map(self) -> dict[str, str]:
        """Every spelling of every term → its slug (the text the linker looks for)."""
        out: dict[str, str] = {}
        for t in self.glossary:
            for text in (t.entry.term, *t.entry.aliases):
                out.setdefault(text, t.slug)
                # Printed forms use Chinese quotes; the data sometimes has straight ones.
                out.setdefault(text.replace("“", '"').replace("”", '"'), t.slug)
        return out


def table_url(year_url: str, no: int) -> str:
    return f"{year_url}table-{no}.html"


def cell_url(year_url: str, fmt: Format, ref: CellRef) -> str:
    tf = fmt.tables[ref.table]
    index = next(i for i, p in enumerate(tf.parts) if p.key == ref.part)
    part = tf.parts[index]
    row = part.find_row(ref.row) if not part.classified else None
    return f"{table_url(year_url, ref.table)}#{row_anchor(index, part, ref.row, row.no if row else None)}"


SUMMARY = [  # the figures a reader looks for first, where the format has them
    ("本年收入", "表1/收入/本年收入合计"),
    ("本年支出", "表1/支出/本年支出合计"),
    ("基本支出", "表3/合计/基本支出"),
    ("项目支出", "表3/合计/项目支出"),
    ("“三公”经费决算", "表9/决算数/合计"),
]


def build_year(dept: Department, ys: YearSource, checks: list[CheckResult], narrative_links: dict) -> Year:
    """One department-year, ready to render: its tables, key figures, projects and their checks."""
    from generator.model.projects import project_views

    base = f"{dept.slug}/{ys.year}/"
    y = Year(dept, ys.year, f"{base}index.html", ys)
    y.checks = checks
    if ys.fmt:
        for no, table in sorted(ys.tables.items()):
            y.tables.append(build_table(table, ys.fmt, y.checks, table_url(base, no)))
        if ys.tables:
            for label, target in SUMMARY:
                ref = ys.fmt.resolve(target)
                if isinstance(ref, CellRef) and ref.table in ys.tables:
                    cell = ys.tables[ref.table].cells.get((ref.part, ref.row, ref.col))
                    text = format_amount(cell.value) if cell and cell.value is not None else "—"
                    y.summary.append(SummaryFigure(label, text, cell_url(base, ys.fmt, ref)))
    y.projects = project_views(ys, base, ys.fmt.project_form if ys.fmt else None)
    by_project: dict[str, list[CheckResult]] = {}
    for c in y.checks:
        if c.project is not None:
            by_project.setdefault(c.project, []).append(c)
    for p in y.projects:
        p.checks = check_views(by_project.get(p.code, []))
    y.narrative_links = narrative_links
    return y


def department(ds: DepartmentSource) -> Department:
    return Department(ds.slug, ds.name, ds.region, f"{ds.slug}/index.html", ds)


def glossary_terms(entries: dict[str, GlossaryEntry]) -> list[GlossaryTerm]:
    # By slug, which is the term's 拼音 (content/glossary/<拼音>.md): the order of a Chinese index.
    return [GlossaryTerm(e, f"glossary/{slug}.html") for slug, e in sorted(entries.items())]


def build_site(config: SiteConfig, source, checks: list[CheckResult], narrative_checks: dict, failed: bool) -> Site:
    departments = []
    for _, ds in sorted(source.departments.items(), key=lambda kv: (kv[1].region, kv[1].name, kv[0])):
        dept = department(ds)
        for year_no, ys in sorted(ds.years.items(), reverse=True):
            mine = [c for c in checks if c.department == ds.slug and c.year == year_no]
            dept.years.append(build_year(dept, ys, mine, narrative_checks.get((ds.slug, year_no), {})))
        departments.append(dept)
    pages = [p for _, p in sorted(source.pages.items())]
    return Site(config, departments, glossary_terms(source.glossary), pages, failed)


def figure_links(year_base: str, fmt: Format, resolved: list[tuple]) -> dict:
    """(target, printed text) of each narrative figure → (url from the site root, check status)."""
    out = {}
    for ref, anchor, status in resolved:
        if isinstance(anchor[0], CellRef):
            out[(ref.target, ref.text)] = (cell_url(year_base, fmt, anchor[0]), status)
        else:
            code, section = anchor
            out[(ref.target, ref.text)] = (f"{year_base}projects/{code}.html#{section}", status)
    return out
