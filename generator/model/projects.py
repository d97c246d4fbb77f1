"""项目支出绩效自评表 as the project pages show them: each project's view, its indicators and whether each was met."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from generator.checks.projects import ZERO, is_not_scored, is_withheld
from generator.core.frozen import quick_init
from generator.core.money import WITHHELD
from generator.sources.formats import ProjectForm, norm, norm_has
from generator.sources.records import Indicator, ProjectSource, YearSource


@dataclass
class ProjectView:
    source: ProjectSource
    url: str
    score: Decimal | None  # the total score: printed, or computed when the original prints no 总分 row
    score_printed: bool
    grade: str | None
    budget: Decimal | None
    executed: Decimal | None
    rate: Decimal | None
    withheld: int  # cells printed as 有关内容涉密
    unknown: int  # cells printed as #####
    deducted: int  # indicators scored below their 分值
    rows: list[IndicatorRow]  # the indicators as printed (its page and its open data both show them)
    checks: list = field(default_factory=list)  # model.CheckView, attached by the model

    @property
    def code(self) -> str:
        return self.source.code

    @property
    def name(self) -> str:
        return self.source.name


def _computed_total(p: ProjectSource) -> Decimal | None:
    cells = [p.fund_score, *(i.score for i in p.indicators)]
    if any(c is None or (c.value is None and not (is_withheld(c) or is_not_scored(c))) for c in cells):
        return None
    return sum((c.value for c in cells if c.value is not None), ZERO)


def project_views(ys: YearSource, base: str, form: ProjectForm | None) -> list[ProjectView]:
    views = []
    for p in sorted(ys.projects, key=lambda p: (p.order is None, p.order or 0, p.code)):
        total = p.fund_total
        cells = [c for f in p.funds for c in (f.initial, f.budget, f.executed)]
        cells += [p.fund_weight, p.rate, p.fund_score, p.total_weight, p.total_score]
        cells += [c for i in p.indicators for c in (i.weight, i.score)]
        texts = [p.goal, p.achieved] + [t for i in p.indicators for t in (i.name, i.target, i.actual)]
        withheld = sum(1 for c in cells if is_withheld(c)) + sum(1 for t in texts if norm_has(t, norm(WITHHELD)))
        unknown = sum(
            1 for c in cells if c is not None and c.value is None and not is_withheld(c) and not is_not_scored(c)
        )
        deducted = sum(
            1 for i in p.indicators
            if i.weight and i.score and i.weight.value is not None and i.score.value is not None and i.score.value < i.weight.value
        )  # fmt: skip
        if p.total_score is not None:
            score, printed = p.total_score.value, True
        else:
            score, printed = _computed_total(p), False
        views.append(
            ProjectView(
                source=p,
                url=f"{base}projects/{p.code}.html",
                score=score,
                score_printed=printed,
                grade=form.grade(score) if (form and score is not None) else None,
                budget=total.budget.value if total and total.budget else None,
                executed=total.executed.value if total and total.executed else None,
                rate=p.rate.value if p.rate else None,
                withheld=withheld,
                unknown=unknown,
                deducted=deducted,
                rows=indicator_rows(p.indicators, form),
            )
        )
    return views


@quick_init
@dataclass(frozen=True)
class Measure:
    """A target or actual value parsed from its printed text: ≥200人次 → (≥, 200, 人次). The text stays the record."""

    comparator: str  # "≥", "≤", ">", "<" or "="
    number: Decimal
    unit: str

    def __str__(self) -> str:
        return f"{self.comparator}{self.number}{self.unit}"


_MEASURE = re.compile(
    r"^(?P<hedge>预计|约)?(?P<words>不超过|不高于|不少于|不低于|大于|小于|高于|低于)?"
    r"(?P<sign>≥|≤|>=|<=|＞=|＜=|>|<|＞|＜|=)?(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<unit>[^\d\s；;/，,、（）()]*?)(?P<suffix>以上|以下|以内)?$"
)


_WORDS = {
    "不超过": "≤",
    "不高于": "≤",
    "不少于": "≥",
    "不低于": "≥",
    "大于": ">",
    "高于": ">",
    "小于": "<",
    "低于": "<",
}


_SIGNS = {">=": "≥", "<=": "≤", "＞=": "≥", "＜=": "≤", "＞": ">", "＜": "<"}


_SUFFIX = {"以上": "≥", "以下": "≤", "以内": "≤"}


def parse_measure(text: str) -> Measure | None:
    """The comparator, number and unit a printed value states, or None when it states none (第四季度前完成)."""
    m = _MEASURE.match(re.sub(r"\s+", "", text or ""))
    if not m:
        return None
    comparator = (
        _WORDS.get(m["words"] or "") or _SIGNS.get(m["sign"] or "", m["sign"]) or _SUFFIX.get(m["suffix"] or "") or "="
    )
    return Measure(comparator, Decimal(m["number"].replace(",", "")), m["unit"])


def attainment(target: Measure | None, actual: Measure | None) -> str | None:
    """ "met", "below" or "above" when both values are numbers in the same unit; None when they cannot be compared."""
    if target is None or actual is None or actual.comparator != "=" or target.unit != actual.unit:
        return None
    a, t = actual.number, target.number
    ok = {"≥": a >= t, ">": a > t, "≤": a <= t, "<": a < t, "=": a == t}[target.comparator]
    if ok:
        return "met"
    return "below" if a < t else "above"


@dataclass
class IndicatorRow:
    """One printed indicator row, with the rowspans the form prints for 一级 and 二级 (0: inside a span)."""

    indicator: Indicator
    span1: int
    span2: int
    weight1: int | None  # the national weight printed beside the 一级 label: 产出指标（50分）
    deducted: Decimal | None  # 分值 − 得分 where the row lost points
    target: Measure | None
    actual: Measure | None
    attainment: str | None


def indicator_rows(indicators, form: ProjectForm | None) -> list[IndicatorRow]:
    weights = {norm(c.level1): c.weight for c in form.indicators} if form else {}
    rows = []
    for i, ind in enumerate(indicators):
        new1 = i == 0 or norm(indicators[i - 1].level1) != norm(ind.level1)
        new2 = new1 or norm(indicators[i - 1].level2) != norm(ind.level2)
        span1 = span2 = 0
        if new1:
            span1 = (
                next(
                    (j for j in range(i + 1, len(indicators)) if norm(indicators[j].level1) != norm(ind.level1)),
                    len(indicators),
                )
                - i
            )
        if new2:
            end = i + 1
            while (
                end < len(indicators)
                and norm(indicators[end].level1) == norm(ind.level1)
                and norm(indicators[end].level2) == norm(ind.level2)
            ):
                end += 1
            span2 = end - i
        w, s = ind.weight, ind.score
        lost = (
            w.value - s.value
            if (w and s and w.value is not None and s.value is not None and s.value < w.value)
            else None
        )
        target, actual = parse_measure(ind.target), parse_measure(ind.actual)
        rows.append(
            IndicatorRow(
                ind, span1, span2, weights.get(norm(ind.level1)), lost, target, actual, attainment(target, actual)
            )
        )
    return rows
