"""Source records: what the files say, each value keeping its file and line. Plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from generator.core.diagnostics import Loc
from generator.core.frozen import quick_init
from generator.sources.formats import Format, TableFormat


@quick_init
@dataclass(frozen=True)
class Cell:
    """One figure as written. `value` is None when it is not known: printed as ##### or left blank (待填写)."""

    value: Decimal | None
    text: str
    loc: Loc


@quick_init
@dataclass(frozen=True)
class ClassRow:
    code: str
    name: str
    loc: Loc


@dataclass
class TableSource:
    fmt: TableFormat
    rel: str
    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)  # (part, row, column) → Cell
    class_rows: list[ClassRow] = field(default_factory=list)  # classified tables, in file order
    row_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    part_lines: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # 原件备注
    _names: tuple | None = field(default=None, init=False, repr=False, compare=False)  # see class_name

    @property
    def loc(self) -> Loc:
        return Loc(self.rel, 1)

    def class_name(self, code: str) -> str:
        """The name of a 科目 code as its first row in the table gives it, or "" (asked for every check's cells)."""
        if self._names is None or self._names[0] != len(self.class_rows):
            names: dict[str, str] = {}
            for r in self.class_rows:
                names.setdefault(r.code, r.name)
            self._names = (len(self.class_rows), names)
        return self._names[1].get(code, "")

    def row_loc(self, part: str, row: str) -> Loc:
        line = self.row_lines.get((part, row)) or self.part_lines.get(part) or 1
        return Loc(self.rel, line)

    @property
    def empty(self) -> bool:
        """Nothing to report: every figure is zero (本表本年度无发生额)."""
        return all(c.value == 0 for c in self.cells.values())


@dataclass(frozen=True)
class Duties:
    unit: str
    intro: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    rel: str
    duties: tuple[Duties, ...]
    divisions: str  # 机构设置
    composition: str  # 决算单位构成 说明
    units: tuple[str, ...]


@dataclass(frozen=True)
class FigureRef:
    """A figure the narrative quotes, linked to the cell it quotes: [4,285.39](表1/收入/总计)万元."""

    text: str
    target: str
    unit: str  # the unit printed after the figure ("万元", "元", "%") or ""
    loc: Loc


@dataclass(frozen=True)
class Narrative:
    rel: str
    text: str
    refs: tuple[FigureRef, ...]


@dataclass(frozen=True)
class TermUse:
    term: str
    definition: str | None  # the department's own wording, when it differs from the site glossary
    loc: Loc


@quick_init
@dataclass(frozen=True)
class Indicator:
    level1: str
    level2: str
    name: str  # 三级指标
    target: str  # 年度指标值
    actual: str  # 实际完成值
    weight: Cell | None  # 分值
    score: Cell | None  # 得分
    deviation: str  # 偏差原因分析及改进措施
    loc: Loc


@quick_init
@dataclass(frozen=True)
class FundRow:
    name: str  # 年度资金总额, 当年财政拨款, 上年结转资金, 其他资金
    initial: Cell | None  # 年初预算数
    budget: Cell | None  # 全年预算数
    executed: Cell | None  # 全年执行数
    loc: Loc


@dataclass(frozen=True)
class ProjectSource:
    rel: str
    order: int | None  # 序号: position in the published document
    code: str
    name: str
    year: str
    implementer: str  # 实施单位
    budget_unit: str  # 一级预算单位
    funds: tuple[FundRow, ...]
    fund_weight: Cell | None
    rate: Cell | None  # 执行率 (%)
    fund_score: Cell | None
    goal: str
    achieved: str
    indicators: tuple[Indicator, ...]
    total_weight: Cell | None
    total_score: Cell | None
    notes: tuple[str, ...]
    acknowledged: tuple[str, ...]  # checks the original itself fails, named in 原件差异 after checking it
    loc: Loc
    lines: dict[str, int] = field(default_factory=dict)  # top-level key → line

    def at(self, key: str) -> Loc:
        return Loc(self.loc.path, self.lines.get(key, 1))

    @property
    def fund_total(self) -> FundRow | None:
        return next((f for f in self.funds if f.name == "年度资金总额"), None)


@dataclass
class YearSource:
    department: str  # slug
    year: int
    rel: str  # the year folder
    fmt: Format | None
    overview: Overview | None = None
    tables: dict[int, TableSource] = field(default_factory=dict)
    unreadable: set[int] = field(default_factory=set)  # tables whose file is there but could not be read
    unreadable_projects: set[str] = field(default_factory=set)  # the same for project files, by file stem
    narrative: Narrative | None = None
    terms: tuple[TermUse, ...] | None = None
    terms_rel: str = ""
    projects: list[ProjectSource] = field(default_factory=list)


@dataclass
class DepartmentSource:
    slug: str
    name: str
    region: str
    rel: str
    years: dict[int, YearSource] = field(default_factory=dict)
    year_folders: dict[int, str] = field(default_factory=dict)  # year → its folder, relative to the site


@dataclass(frozen=True)
class GlossaryEntry:
    slug: str
    term: str
    aliases: tuple[str, ...]
    body: str  # Markdown
    rel: str


@dataclass(frozen=True)
class ContentPage:
    slug: str
    title: str
    body: str
    rel: str


@dataclass
class SiteSource:
    formats: dict[str, Format]
    departments: dict[str, DepartmentSource]
    glossary: dict[str, GlossaryEntry]  # by slug
    pages: dict[str, ContentPage]  # by slug
