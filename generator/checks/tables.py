"""check: source records → results of every identity, and diagnostics. Every check runs; none stops the others.

A difference inside the rounding bound (DOMAIN.md §3) is a note, shown on the page as rounding; outside it
is an error naming the printed figures and what to correct. A figure that is unknown (##### or blank) makes
every sum that depends on it unknown: a warning, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from generator.core.diagnostics import Diagnostics, Loc
from generator.core.frozen import quick_init
from generator.core.money import decimals, format_amount, format_diff, half_unit, parse_decimal, rounding_bound
from generator.sources.formats import CellRef, Format, Part, TableFormat, norm
from generator.sources.records import SiteSource, TableSource, YearSource

ZERO = Decimal(0)

# What a check found: the difference is none, within the rounding bound, unknowable (a figure is unknown), in the
# original itself (acknowledged in the data), or an error. Plain strings: they go as they are into the pages'
# classes, the open data's JSON and the build cache's pickles.
Status = Literal["ok", "unknown", "rounding", "source", "error"]


@quick_init
@dataclass(frozen=True)
class Term:
    label: str  # how a reader names the cell: 表1「收入」「本年收入合计」（行27）
    value: Decimal | None
    text: str  # as printed, or 0.00 for a row the data leaves out
    sign: int
    loc: Loc
    ref: CellRef | None


@quick_init
@dataclass(frozen=True)
class CheckResult:
    """One identity evaluated: a total against the sum of its parts."""

    department: str
    year: int
    tables: tuple[int, ...]  # every table the identity involves (it is shown on each)
    rule: str  # what must hold, in Chinese
    total: Term
    parts: tuple[Term, ...]
    status: Status
    diff: Decimal | None
    bound: Decimal
    fix: str
    project: str | None = None  # the project code, for checks of a 项目支出绩效自评表


STATUS_RANK: dict[Status, int] = {"ok": 0, "unknown": 1, "rounding": 2, "source": 3, "error": 4}  # mildest first


def evaluate(
    diags: Diagnostics,
    where: tuple[str, int, tuple[int, ...], str | None],
    rule: str,
    total: Term,
    parts: list[Term],
    fix: str,
    bound: Decimal,
    acknowledged: bool = False,
) -> CheckResult:
    """total against Σ parts. Inside `bound` a difference is rounding (a note); outside it an error, unless the
    data says the original prints it so (`acknowledged`): then a warning, still shown on the page."""
    department, year, tables, project = where
    if total.value is None or any(p.value is None for p in parts):
        result = CheckResult(department, year, tables, rule, total, tuple(parts), "unknown", None, bound, fix, project)
        unknown = "、".join(t.label for t in [total, *parts] if t.value is None)
        diags.warning(total.loc, f"{rule}：无法核对，因为{unknown}的数值未知。", "unknown-sum")
        return result
    diff = total.value - sum((p.sign * p.value for p in parts), ZERO)
    status: Status = "ok" if diff == 0 else ("rounding" if abs(diff) <= bound else "error")
    if status == "error" and acknowledged:
        status = "source"
    result = CheckResult(department, year, tables, rule, total, tuple(parts), status, diff, bound, fix, project)
    if status == "error":
        diags.error(total.loc, explain(result), "sum")
    elif status == "source":
        diags.warning(total.loc, explain(result), "sum-in-source")
    elif status == "rounding":
        diags.note(total.loc, explain(result), "rounding")
    return result


class YearChecker:
    """Checks one department-year's nine tables against its format."""

    def __init__(self, ys: YearSource, fmt: Format, rounding: Decimal, diags: Diagnostics) -> None:
        self.ys, self.fmt, self.rounding, self.diags = ys, fmt, rounding, diags
        self.results: list[CheckResult] = []
        self.terms: dict[tuple[CellRef, int], Term] = {}  # each cell is a term of several identities

    # -- reading cells ------------------------------------------------------------------------------

    def term(self, ref: CellRef, sign: int = 1) -> Term:
        found = self.terms.get((ref, sign))
        if found is not None:
            return found
        table = self.ys.tables[ref.table]
        label = describe(table, self.fmt.tables[ref.table], ref)
        cell = table.cells.get((ref.part, ref.row, ref.col))
        if cell is None:  # left out of the data: zero by the format's convention
            found = Term(label, ZERO, "0.00", sign, table.row_loc(ref.part, ref.row), ref)
        else:
            found = Term(label, cell.value, cell.text, sign, cell.loc, ref)
        self.terms[ref, sign] = found
        return found

    # -- evaluating ---------------------------------------------------------------------------------

    def evaluate(self, rule: str, total: Term, parts: list[Term], fix: str, tables: tuple[int, ...]) -> CheckResult:
        where = (self.ys.department, self.ys.year, tables, None)
        result = evaluate(self.diags, where, rule, total, parts, fix, rounding_bound(len(parts), self.rounding))
        self.results.append(result)
        return result

    def run(self) -> list[CheckResult]:
        for no, table in sorted(self.ys.tables.items()):
            fmt_table = self.fmt.tables[no]
            for part in fmt_table.parts:
                if part.classified:
                    self.classified(table, fmt_table, part)
                else:
                    self.part_sums(table, fmt_table, part)
                self.column_sums(table, fmt_table, part)
            for identity in fmt_table.identities:
                self.identity(identity.total, identity.parts, "本表内", (no,))
        if len(self.ys.tables) == len(self.fmt.tables):  # across tables only when all nine are published
            for identity in self.fmt.identities:
                tables = tuple(sorted({identity.total.table, *(r.table for _, r in identity.parts)}))
                self.identity(identity.total, identity.parts, "表间", tables)
            for rule in self.fmt.by_code:
                self.by_code(rule)
        return self.results

    def identity(self, total_ref: CellRef, part_refs, scope: str, tables: tuple[int, ...]) -> None:
        total = self.term(total_ref)
        parts = [self.term(ref, sign) for sign, ref in part_refs]
        names = " + ".join(("−" if p.sign < 0 else "") + p.label for p in parts).replace("+ −", "− ")
        rule = f"{total.label}应等于{parts[0].label}" if len(parts) == 1 else f"{total.label}应等于 {names}"
        fix = "请核对这几个数字，改正抄录有误的一处。"
        self.evaluate(f"{scope}核对：{rule}", total, parts, fix, tables)

    def part_sums(self, table: TableSource, fmt_table: TableFormat, part: Part) -> None:
        for col in part.columns:
            for rule in part.sums:
                total_row = part.find_row(rule.total)
                total = self.term(CellRef(fmt_table.no, part.key, total_row.key, col.key))
                parts = [
                    self.term(CellRef(fmt_table.no, part.key, part.find_row(k).key, col.key), s) for s, k in rule.parts
                ]
                where = _column_phrase(part, col)
                self.evaluate(
                    f"{total.label}应等于{_rows_phrase(part, rule.parts)}之和{where}",
                    total,
                    parts,
                    "请核对合计行与各行的金额。",
                    (fmt_table.no,),
                )
        if part.hierarchy:
            codes = [r.code for r in part.rows if r.code]
            self.hierarchy(table, fmt_table, part, codes)

    def column_sums(self, table: TableSource, fmt_table: TableFormat, part: Part) -> None:
        if not part.column_sums:
            return
        row_keys = ["合计", *(r.code for r in table.class_rows)] if part.classified else [r.key for r in part.data_rows]
        for row_key in row_keys:
            present = any((part.key, row_key, c.key) in table.cells for c in part.columns)
            if not present:
                continue  # a row the data leaves out is zero in every column
            for rule in part.column_sums:
                total = self.term(CellRef(fmt_table.no, part.key, row_key, part.find_column(rule.total).key))
                parts = [
                    self.term(CellRef(fmt_table.no, part.key, row_key, part.find_column(k).key), s)
                    for s, k in rule.parts
                ]
                names = " + ".join(
                    ("−" if s < 0 else "") + f"「{part.find_column(k).full_label}」" for s, k in rule.parts
                )
                self.evaluate(
                    f"{total.label}应等于同一行的 {names}".replace("+ −", "− "),
                    total,
                    parts,
                    "请核对这一行各栏的金额。",
                    (fmt_table.no,),
                )

    def classified(self, table: TableSource, fmt_table: TableFormat, part: Part) -> None:
        codes = [r.code for r in table.class_rows]
        present = set(codes)
        for row in table.class_rows:
            parent = _parent(row.code)
            if parent and parent not in present:
                level = "类" if len(parent) == 3 else "款"
                self.diags.error(
                    row.loc,
                    f"{fmt_table.name}列出了科目 {row.code}，却没有列出它所属的{level} {parent}。请补上“{parent} 名称”这一行及其金额。",
                    "code-parent",
                )
        tops = [c for c in codes if len(c) == 3]
        for col in part.columns:
            total = self.term(CellRef(fmt_table.no, part.key, "合计", col.key))
            parts = [self.term(CellRef(fmt_table.no, part.key, c, col.key)) for c in tops]
            self.evaluate(
                f"{total.label}应等于各类之和{_column_phrase(part, col)}",
                total,
                parts,
                "请核对合计行与各类的金额。",
                (fmt_table.no,),
            )
        self.hierarchy(table, fmt_table, part, codes)

    def hierarchy(self, table: TableSource, fmt_table: TableFormat, part: Part, codes: list[str]) -> None:
        """Each code equals the sum of the codes directly under it (类 = Σ款, 款 = Σ项), in every column."""
        children: dict[str, list[str]] = {}
        listed = set(codes)
        for code in codes:
            parent = _parent(code)
            if parent and parent in listed:
                children.setdefault(parent, []).append(code)
        for parent, kids in children.items():
            level = {3: "类", 5: "款"}.get(len(parent), "科目")
            child_level = {3: "款", 5: "项"}.get(len(parent), "明细科目")
            for col in part.columns:
                total = self.term(CellRef(fmt_table.no, part.key, parent, col.key))
                parts = [self.term(CellRef(fmt_table.no, part.key, k, col.key)) for k in kids]
                self.evaluate(
                    f"{total.label}应等于其下各{child_level}之和{_column_phrase(part, col)}",
                    total,
                    parts,
                    f"请核对这一{level}及其下各{child_level}的金额。",
                    (fmt_table.no,),
                )

    def by_code(self, rule) -> None:
        """Each 类 row of a fixed table equals that 类 in a classified table (表1 支出 ↔ 表3, …)."""
        left_table, left_part, left_col = rule.left
        right_table, right_col = rule.right
        part = self.fmt.tables[left_table].part(left_part) or self.fmt.tables[left_table].parts[0]
        listed = {r.code for r in self.ys.tables[right_table].class_rows if len(r.code) == 3}
        for row in part.rows:
            if not row.code:
                continue
            left = self.term(CellRef(left_table, part.key, row.key, left_col))
            right = self.term(CellRef(right_table, "", row.code, right_col))
            if left.value == 0 and right.value == 0 and row.code not in listed:
                continue  # a class neither table reports
            self.evaluate(
                f"表间核对：{left.label}应等于{right.label}",
                left,
                [right],
                f"同一支出功能分类在两张表中的金额应一致，请核对表{left_table}与表{right_table}。",
                (left_table, right_table),
            )


def _parent(code: str) -> str | None:
    return code[:-2] if len(code) > 3 else None


def _column_phrase(part: Part, col) -> str:
    return f"（{col.full_label}栏）" if len(part.columns) > 1 else ""


def _rows_phrase(part: Part, keys) -> str:
    rows = [part.find_row(k) for _, k in keys]
    numbered = [r.no for r in rows if r and r.no]
    if len(rows) > 4 and len(numbered) == len(rows):
        return f"行{numbered[0]}至行{numbered[-1]}"
    return "、".join(f"「{(r.label or r.key)}」" for r in rows if r)


def describe(table: TableSource, fmt_table: TableFormat, ref: CellRef) -> str:
    """表3「201 一般公共服务支出」「基本支出」 — the cell named as a reader finds it on the printed form."""
    part = fmt_table.part(ref.part) or fmt_table.parts[0]
    text = f"表{fmt_table.no}"
    if ref.part:
        text += f"「{ref.part}」"
    if part.classified:
        if ref.row == "合计":
            text += "「合计」"
        else:
            name = table.class_name(ref.row)
            text += f"「{ref.row} {name}」".replace(" 」", "」")
    elif ref.row:
        row = part.find_row(ref.row)
        text += row.display if row else f"「{ref.row}」"
    if len(part.columns) > 1 or not ref.row:
        col = part.find_column(ref.col)
        text += f"「{col.full_label if col else ref.col}」"
    return text


def _short(label: str, total: str) -> str:
    """A part's label without the table and part it shares with the total: 「30101 基本工资」 not 表6「人员经费」「30101 基本工资」."""
    prefix = re.match(r"^(表\d+(「[^」]*」)?)", total)
    if prefix and label.startswith(prefix.group(1)) and label != prefix.group(1):
        rest = label[len(prefix.group(1)) :]
        if rest:
            return rest
    return label


def explain(result: CheckResult) -> str:
    """The message a user reads: the printed figures, the difference, the bound, and what to do."""
    t = result.total
    shown = [p for p in result.parts if p.value]
    listing = " + ".join(
        f"{_short(p.label, t.label)} {p.text}" if p.sign > 0 else f"− {_short(p.label, t.label)} {p.text}"
        for p in shown
    )
    listing = listing.replace("+ −", "−")
    zeros = len(result.parts) - len(shown)
    if zeros and shown:
        listing += f"，其余 {zeros} 项为 0"
    computed = t.value - result.diff
    head = f"{result.rule}。{t.label}印刷为 {t.text}，"
    if len(result.parts) == 1:
        head += f"而{result.parts[0].label}为 {result.parts[0].text}，"
    else:
        head += f"各项合计为 {format_amount(computed)}（{listing or '各项均为 0'}），"
    if result.status == "rounding":
        return (
            head
            + f"相差 {format_diff(result.diff)}，在尾数误差允许范围（±{result.bound}）内：各数字分别四舍五入所致，不是错误。"
        )
    if result.status == "source":
        return head + f"相差 {format_diff(result.diff)}。原件即如此印刷（数据中已注明），照录，页面上标明。"
    return head + f"相差 {format_diff(result.diff)}，超出尾数误差允许范围（±{result.bound}）。{result.fix}"


# ------------------------------------------------------------------------------------- names and codes


def catalogue_names(ys: YearSource, diags: Diagnostics) -> list[tuple[str, str, Loc]]:
    """Each 科目 row's name against the catalogue (2010301 is always 行政运行). Returns the rows whose code the
    catalogue does not list, for the site-wide check that such a code has one name (consistent_names); a row
    the catalogue names is checked against it alone (so a national rename between years is not a clash)."""
    catalogue = ys.fmt.classification if ys.fmt else {}
    named = []
    for _, table in sorted(ys.tables.items()):
        for row in table.class_rows:
            expected = catalogue.get(row.code)
            if expected is not None and norm(expected) != norm(row.name):
                diags.error(
                    row.loc,
                    f"科目编码 {row.code} 的名称应为「{expected}」（{ys.fmt.classification_title}），这里写作「{row.name}」。请改为「{expected}」，或核对编码。",
                    "code-name",
                )
            elif expected is None:
                named.append((row.code, row.name, row.loc))
    # 表6 and the fixed rows carry their names in the format, so only data-keyed rows can disagree.
    return named


def consistent_names(named: list[tuple[str, str, Loc]], diags: Diagnostics) -> None:
    """Across the whole site, in order: a code's later uses must carry the name of its first."""
    first: dict[str, tuple[str, Loc]] = {}
    for code, name, loc in named:
        seen = first.setdefault(code, (name, loc))
        if norm(seen[0]) != norm(name):
            diags.error(
                loc,
                f"科目编码 {code} 在这里名为「{name}」，在 {seen[1]} 名为「{seen[0]}」。同一编码的名称必须一致，请核对编码或名称。",
                "code-name",
            )


def check_code_names(site: SiteSource, diags: Diagnostics) -> None:
    """A code's name is the same everywhere: against the catalogue, then site-wide."""
    named = [n for dept in site.departments.values() for ys in dept.years.values() for n in catalogue_names(ys, diags)]
    consistent_names(named, diags)


# --------------------------------------------------------------------------------------- narrative


def check_narrative(ys: YearSource, fmt: Format, diags: Diagnostics, project_lookup) -> list[tuple]:
    """Each figure the narrative links to a cell must agree with it, to the precision it is printed with.
    Returns (figure, the cell or project section it links to, its Status) for each figure that resolved."""
    resolved: list[tuple[object, tuple, Status]] = []
    if ys.narrative is None:
        return resolved
    unchecked: dict[tuple[str, str], list] = {}  # links into a file that could not be read: its errors say why
    for ref in ys.narrative.refs:
        target = ref.target
        try:
            printed = parse_decimal(ref.text)
        except ValueError:
            diags.error(
                ref.loc, f"链接文字“{ref.text}”应是印刷的数字（如 4,272.71），才能与表中数字核对。", "narrative-ref"
            )
            continue
        if target.startswith("项目/"):
            code = target.split("/")[1]
            if code in ys.unreadable_projects and not any(p.code == code for p in ys.projects):
                unchecked.setdefault((f"项目 {code} ", f"项目/{code}.yaml"), []).append(ref)  # 项目 … 的
                continue
            found = project_lookup(ys, target, ref)
            if found is None:
                continue
            value, label, unit, anchor = found
        else:
            cell_ref = fmt.resolve(target)
            if isinstance(cell_ref, str):
                diags.error(ref.loc, f"链接“{target}”指向的位置不存在：{cell_ref}。", "narrative-ref")
                continue
            table = ys.tables.get(cell_ref.table)
            if table is None and cell_ref.table in ys.unreadable:
                unchecked.setdefault((f"表{cell_ref.table}", fmt.tables[cell_ref.table].file), []).append(ref)
                continue
            if table is None:
                diags.error(ref.loc, f"链接“{target}”指向表{cell_ref.table}，但本年度没有这张表。", "narrative-ref")
                continue
            cell = table.cells.get((cell_ref.part, cell_ref.row, cell_ref.col))
            value = cell.value if cell else ZERO
            label = describe(table, fmt.tables[cell_ref.table], cell_ref)
            unit, anchor = fmt.unit, (cell_ref, None)
        if value is None:
            diags.warning(ref.loc, f"“{ref.text}”引用的{label}数值未知，无法核对。", "narrative-ref")
            resolved.append((ref, anchor, "unknown"))
            continue
        shown_unit = ref.unit or unit
        scale = _unit_scale(unit, shown_unit)
        if scale is None:
            diags.error(ref.loc, f"“{ref.text}{ref.unit}”的单位与{label}（{unit}）不能换算。", "narrative-ref")
            continue
        converted = value * scale
        # The narrative rounds to its own precision: the printed figure may differ by half its last digit,
        # plus the rounding already in the cell it quotes.
        bound = half_unit(printed) + (half_unit(value) * scale if scale else ZERO)
        diff = printed - converted
        if abs(diff) > bound:
            diags.error(
                ref.loc,
                f"情况说明中的“{ref.text}{shown_unit}”与{label}不符：表中为 {_plain(value)}{unit}"
                + (f"（折合 {_plain(_places(converted, 4))}{shown_unit}）" if scale != 1 else "")
                + f"，相差 {_plain(_places(abs(diff), 4))}。请核对说明中的数字或表中的数字。",
                "narrative-figure",
            )
            resolved.append((ref, anchor, "error"))
        else:
            resolved.append((ref, anchor, "ok"))
    for (what, file), refs in unchecked.items():
        diags.warning(
            refs[0].loc,
            f"情况说明中引用{what}的 {len(refs)} 处数字暂时无法核对：{file} 没能读入（见这个文件的错误）。"
            "改正那个文件后会逐一核对。",
            "narrative-unchecked",
        )
    return resolved


def _plain(value: Decimal) -> str:
    return f"{value:,f}"


def _places(value: Decimal, most: int) -> Decimal:
    """At most `most` decimals, keeping the precision the figure already has (18.00 stays 18.00)."""
    return value.quantize(Decimal(1).scaleb(-min(most, decimals(value))))


def _unit_scale(unit: str, shown: str) -> Decimal | None:
    factors = {"元": Decimal(1), "万元": Decimal(10000), "亿元": Decimal(100000000)}
    if unit == shown:
        return Decimal(1)
    if unit in factors and shown in factors:
        return factors[unit] / factors[shown]
    return None


def check_terms(ys: YearSource, site: SiteSource, diags: Diagnostics) -> None:
    known = {norm(e.term): e for e in site.glossary.values()}
    for alias_entry in site.glossary.values():
        for alias in alias_entry.aliases:
            known.setdefault(norm(alias), alias_entry)
    for use in ys.terms or ():
        if use.definition is None and norm(use.term) not in known:
            diags.error(
                use.loc,
                f"名词“{use.term}”不在站点名词解释（content/glossary/）中。请写成“- 名词: {use.term}”并在“解释: ”后写出本部门的解释，或在 content/glossary/ 中新增该名词。",
                "term",
            )


def check_year(ys: YearSource, rounding: Decimal, diags: Diagnostics) -> list[CheckResult]:
    if ys.fmt is None or not ys.tables:
        return []
    return YearChecker(ys, ys.fmt, rounding, diags).run()
