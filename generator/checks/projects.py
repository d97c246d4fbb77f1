"""项目支出绩效自评表: the checks DOMAIN.md §4 asks for, and what the project pages show.

Amounts are in 元, rates in percent, scores in points. Unknown values (##### in the original), withheld
content (有关内容涉密) and "not scored" text (无) are never turned into numbers: a sum that depends on an
unknown value is unknown; a withheld or not-scored cell is left out of sums and still counted as a row.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from generator.checks.tables import CheckResult, Term, evaluate
from generator.core.diagnostics import Diagnostics, Loc
from generator.core.money import WITHHELD, decimals, rounding_bound
from generator.sources.formats import Format, ProjectForm, norm, norm_is
from generator.sources.load import NOT_SCORED
from generator.sources.records import Cell, DepartmentSource, ProjectSource, YearSource

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Text a spreadsheet template prints around the form; it is never content (DOMAIN.md §4).
TEMPLATE_DEBRIS = [
    "导入模板无需填写",
    "限2000字以内",
    "限40字以内",
    "新增项目年度目标为必填项",
    "多年度项目长期目标为必填项",
    "Windows 用户",
]
_CJK_GAP = re.compile(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]")


def is_withheld(cell: Cell | None) -> bool:
    return cell is not None and cell.value is None and norm_is(cell.text, norm(WITHHELD))


def is_not_scored(cell: Cell | None) -> bool:
    return cell is not None and cell.value is None and cell.text.strip() in NOT_SCORED


def _unit_name(unit: str) -> str:
    return {"元": "元", "万元": "万元"}.get(unit, unit)


def _strip_level(name: str) -> str:
    """中共深圳市罗湖区委办公室（本级） → 中共深圳市罗湖区委办公室: how units are compared with the department."""
    return norm(re.sub(r"[（(]本级[)）]\s*$", "", name.strip()))


class ProjectChecker:
    def __init__(
        self,
        p: ProjectSource,
        ys: YearSource,
        dept: DepartmentSource,
        form: ProjectForm,
        rounding: Decimal,
        diags: Diagnostics,
    ):
        self.p, self.ys, self.dept, self.form, self.rounding, self.diags = p, ys, dept, form, rounding, diags
        self.results: list[CheckResult] = []
        self.where = (ys.department, ys.year, (), p.code)
        self.used: set[str] = set()  # acknowledged discrepancies that were in fact found

    def term(self, label: str, cell: Cell | None, sign: int = 1, fallback: Loc | None = None) -> Term:
        """A cell as a term of a sum. Withheld and not-scored cells count as nothing; ##### stays unknown."""
        if cell is None:
            return Term(label, ZERO, "（未填）", sign, fallback or self.p.loc, None)
        if is_withheld(cell) or is_not_scored(cell):
            return Term(label, ZERO, cell.text, sign, cell.loc, None)
        return Term(label, cell.value, cell.text, sign, cell.loc, None)

    def check(self, name: str, rule: str, total: Term, parts: list[Term], fix: str, bound: Decimal) -> CheckResult:
        result = evaluate(
            self.diags, self.where, f"{self.p.name}：{rule}", total, parts, fix, bound, name in self.p.acknowledged
        )
        if result.status == "source":
            self.used.add(name)
        self.results.append(result)
        return result

    def run(self) -> list[CheckResult]:
        p = self.p
        self.funds()
        self.rate()
        self.scores()
        self.weights()
        self.identity()
        for name in p.acknowledged:
            if name not in self.used:
                self.diags.warning(
                    p.at("原件差异"),
                    f"{p.name}：原件差异中列出了“{name}”，但这一项核对并无差异。请从“原件差异”中删去。",
                    "acknowledged",
                )
        return self.results

    # -- 资金使用情况 -------------------------------------------------------------------------------

    def funds(self) -> None:
        total = self.p.fund_total
        if total is None:
            return
        others = [f for f in self.p.funds if f.name != "年度资金总额"]
        if not others:
            return
        for column, attr in (("年初预算数", "initial"), ("全年预算数", "budget"), ("全年执行数", "executed")):
            t = self.term(f"「年度资金总额」「{column}」", getattr(total, attr), fallback=total.loc)
            parts = [self.term(f"「{f.name}」「{column}」", getattr(f, attr), fallback=f.loc) for f in others]
            self.check(
                "资金合计",
                f"资金合计：「年度资金总额」的{column}应等于当年财政拨款、上年结转资金、其他资金之和",
                t,
                parts,
                "请核对资金使用情况中这一栏的各项金额。",
                rounding_bound(len(parts), self.rounding),
            )

    def rate(self) -> None:
        """执行率 = 全年执行数 / 全年预算数 × 100, and 资金得分 = min(分值, 分值 × 执行率), to the printed precision."""
        p, total = self.p, self.p.fund_total
        if total is None or p.rate is None or p.rate.value is None:
            return
        budget, executed = total.budget, total.executed
        if budget is None or executed is None or budget.value in (None, ZERO) or executed.value is None:
            return
        computed = executed.value / budget.value * HUNDRED
        self._derived(
            "执行率",
            "执行率：印刷的执行率应等于 全年执行数 ÷ 全年预算数 × 100",
            p.rate,
            computed,
            "全年执行数 ÷ 全年预算数 × 100",
        )
        if p.fund_score is None or p.fund_score.value is None or p.fund_weight is None or p.fund_weight.value is None:
            return
        weight = p.fund_weight.value
        expected = min(weight, weight * p.rate.value / HUNDRED)
        self._derived(
            "资金得分", "资金得分：资金得分应等于 分值 × 执行率（不超过分值）", p.fund_score, expected, "分值 × 执行率"
        )

    def _derived(self, name: str, rule: str, printed: Cell, computed: Decimal, how: str) -> None:
        # Spreadsheets pad rates with zeros (95.3600): compare at no more than two decimals, and allow one unit
        # in the last place for rounding done differently (half-up against truncation).
        places = min(decimals(printed.value), 2)
        unit = Decimal(1).scaleb(-places)
        rounded = computed.quantize(unit, rounding=ROUND_HALF_UP)
        t = Term(
            f"「{name}」", printed.value.quantize(unit, rounding=ROUND_HALF_UP), printed.text, 1, printed.loc, None
        )
        part = Term(how, rounded, f"{rounded}", 1, printed.loc, None)
        self.check(name, rule, t, [part], f"请核对{name}或据以计算的金额。", unit)

    # -- 年度绩效指标 ------------------------------------------------------------------------------

    def scores(self) -> None:
        p = self.p
        for ind in p.indicators:
            label = ind.name or ind.level2
            w, s = ind.weight, ind.score
            if w is not None and s is not None and w.value is not None and s.value is not None and s.value > w.value:
                if "指标得分" in p.acknowledged:
                    self.used.add("指标得分")
                    self.diags.warning(
                        s.loc, f"{p.name}：指标“{label}”得分 {s.text} 超过分值 {w.text}（原件即如此）。", "score"
                    )
                else:
                    self.diags.error(
                        s.loc,
                        f"{p.name}：指标“{label}”得分 {s.text} 超过了分值 {w.text}。得分不能高于分值，请核对。",
                        "score",
                    )
            if is_not_scored(s) and w is not None and w.value not in (None, ZERO):
                self.diags.warning(
                    s.loc, f"{p.name}：指标“{label}”分值为 {w.text}，得分却印作“{s.text}”，按未得分处理。", "score"
                )

        fund_w = self.term("「资金执行率」分值", p.fund_weight)
        weights = [self.term(f"「{i.name or i.level2}」分值", i.weight, fallback=i.loc) for i in p.indicators]
        # Without a printed 总分 row the weights must still add up to the national total.
        total_w = (
            self.term("「总分」分值", p.total_weight)
            if p.total_weight is not None
            else Term(
                "全国通用表式的总分",
                Decimal(self.form.total_score),
                str(self.form.total_score),
                1,
                p.at("年度绩效指标"),
                None,
            )
        )
        self.check(
            "分值合计",
            "分值合计：总分的分值应等于资金分值与各指标分值之和",
            total_w,
            [fund_w, *weights],
            "请核对各指标的分值，或注明原件如此（原件差异: [分值合计]）。",
            rounding_bound(len(weights) + 1, self.rounding),
        )
        if (
            p.total_weight is not None
            and p.total_weight.value is not None
            and p.total_weight.value != self.form.total_score
        ):
            self.diags.warning(
                p.total_weight.loc,
                f"{p.name}：总分的分值为 {p.total_weight.text}，全国通用表式为 {self.form.total_score}。",
                "weights",
            )
        fund_s = self.term("「资金执行率」得分", p.fund_score)
        scores = [self.term(f"「{i.name or i.level2}」得分", i.score, fallback=i.loc) for i in p.indicators]
        if p.total_score is not None:
            self.check(
                "得分合计",
                "得分合计：总分应等于资金得分与各指标得分之和",
                self.term("「总分」得分", p.total_score),
                [fund_s, *scores],
                "请核对各指标的得分，或注明原件如此（原件差异: [得分合计]）。",
                rounding_bound(len(scores) + 1, self.rounding),
            )

    def weights(self) -> None:
        """The national weights: 产出 50, 效益 30, 满意度 10, 资金 10. A table that departs from them is a warning."""
        p, form = self.p, self.form
        if p.fund_weight is not None and p.fund_weight.value is not None and p.fund_weight.value != form.fund_score:
            self.diags.warning(
                p.fund_weight.loc,
                f"{p.name}：资金执行率的分值为 {p.fund_weight.text}，全国通用权重为 {form.fund_score}。",
                "weights",
            )
        classes = {norm(c.level1): c for c in form.indicators}
        sums: dict[str, Decimal] = {}
        for ind in p.indicators:
            cls = classes.get(norm(ind.level1))
            if cls is None:
                self.diags.warning(
                    ind.loc,
                    f"{p.name}：一级指标“{ind.level1}”不是全国通用表式中的{'、'.join(c.level1 for c in form.indicators)}之一。",
                    "indicator-class",
                )
                continue
            if norm(ind.level2) not in {norm(x) for x in cls.level2}:
                self.diags.warning(
                    ind.loc,
                    f"{p.name}：二级指标“{ind.level2}”不属于{cls.level1}（应为{'、'.join(cls.level2)}之一）。",
                    "indicator-class",
                )
            if ind.weight is not None and ind.weight.value is not None:
                sums[cls.level1] = sums.get(cls.level1, ZERO) + ind.weight.value
        for cls in form.indicators:
            got = sums.get(cls.level1, ZERO)
            if p.indicators and got != cls.weight:
                self.diags.warning(
                    p.at("年度绩效指标"),
                    f"{p.name}：{cls.level1}各行分值合计为 {got}，全国通用权重为 {cls.weight}。",
                    "weights",
                )

    # -- who and when ------------------------------------------------------------------------------

    def identity(self) -> None:
        p, dept, ys = self.p, self.dept, self.ys
        if p.year and p.year.strip() != str(ys.year):
            self.diags.error(
                p.at("绩效自评年度"),
                f"{p.name}：绩效自评年度是 {p.year}，却放在 {ys.year} 年度的文件夹里。请移到 {p.year} 年度文件夹，或核对年度。",
                "project-year",
            )
        if p.budget_unit and _strip_level(p.budget_unit) != norm(dept.name):
            self.diags.warning(
                p.at("一级预算单位"),
                f"{p.name}：一级预算单位印作“{p.budget_unit}”，与所属部门“{dept.name}”不一致（照原件录入时请在原件备注中说明）。",
                "project-unit",
            )
        units = {norm(dept.name)} | {_strip_level(u) for u in (ys.overview.units if ys.overview else ())}
        if p.implementer and _strip_level(p.implementer) not in units:
            listed = "、".join(ys.overview.units) if ys.overview else dept.name
            self.diags.warning(
                p.at("实施单位"),
                f"{p.name}：实施单位“{p.implementer}”不是本部门的决算单位（{listed}）。",
                "project-unit",
            )
        for key, where, text in (
            ("项目名称", "项目名称", p.name),
            ("年度总体目标", "预期目标", p.goal),
            ("年度总体目标", "实际完成情况", p.achieved),
        ):
            for debris in TEMPLATE_DEBRIS:
                if debris in text:
                    self.diags.warning(
                        p.at(key),
                        f"{p.name}：{where}中含有模板文字“{debris}”，它不是内容，请删去（可在原件备注中说明）。",
                        "debris",
                    )
        if _CJK_GAP.search(p.name):
            self.diags.warning(
                p.at("项目名称"),
                f"项目名称“{p.name}”的汉字之间有空格，可能是原件换行断字。请连写，并在原件备注中说明。",
                "line-wrap",
            )


def check_projects(
    ys: YearSource, dept: DepartmentSource, fmt: Format | None, rounding: Decimal, diags: Diagnostics
) -> list[CheckResult]:
    if fmt is None or fmt.project_form is None:
        return []
    results = []
    seen: dict[str, Loc] = {}
    for p in ys.projects:
        if p.code in seen:
            diags.error(p.loc, f"项目编码 {p.code} 与 {seen[p.code]} 重复。", "project-code")
        seen[p.code] = p.loc
        results += ProjectChecker(p, ys, dept, fmt.project_form, rounding, diags).run()
    return results


# ----------------------------------------------------------------------------------- narrative links

PROJECT_FIELDS = {"年初预算数": "initial", "全年预算数": "budget", "全年执行数": "executed"}


def project_lookup(ys: YearSource, target: str, ref, diags: Diagnostics):
    """项目/<编码>/<全年预算数|全年执行数|年初预算数|执行率> → (value, label, unit, anchor) or None (reported)."""
    parts = target.split("/")
    if len(parts) != 3:
        diags.error(
            ref.loc,
            f"链接“{target}”应写成“项目/项目编码/全年预算数”（或全年执行数、年初预算数、执行率）。",
            "narrative-ref",
        )
        return None
    _, code, field = parts
    project = next((p for p in ys.projects if p.code == code), None)
    if project is None:
        diags.error(
            ref.loc,
            f"链接“{target}”中的项目编码 {code} 在本年度没有项目表（{ys.rel}/项目/{code}.yaml）。",
            "narrative-ref",
        )
        return None
    label = f"项目“{project.name}”的{field}"
    if field == "执行率":
        cell = project.rate
        return (cell.value if cell else None), label, "%", (code, "funds")
    if field not in PROJECT_FIELDS or project.fund_total is None:
        diags.error(
            ref.loc,
            f"链接“{target}”中的“{field}”不是项目的可引用数字（全年预算数、全年执行数、年初预算数、执行率）。",
            "narrative-ref",
        )
        return None
    cell = getattr(project.fund_total, PROJECT_FIELDS[field])
    return (cell.value if cell else None), label, "元", (code, "funds")


# -------------------------------------------------------------------------------------------- views
