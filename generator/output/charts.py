"""charts: a department-year, or the whole site, → Vega-Lite charts built with Altair. No I/O.

Every chart is a `Chart`: a title, a one-sentence description (read out by screen readers and printed under the
title), the Vega-Lite spec with its data inline (file:// forbids fetching anything), and the same data as a table
that shows without JavaScript. A chart exists only where its data does: no table, or only zeros, means no chart.

Amounts stay `Decimal` until the spec's JSON, where they become numbers (`_num`); every figure a reader sees as
text (bar labels, tooltips, the data table) is formatted here from the Decimal, so JavaScript never rounds one.
Altair is driven with channel objects rather than string shorthands, with its validation off while building and
`to_dict(validate=False)`: parsing shorthands and validating cost more than building (tools/bench_charts.py
prints the figures); the tests validate every spec against the Vega-Lite schema instead.

Which cells a chart reads is the format's business: the charts name the same table/part/row targets the
narrative links use (表1/收入/总计) and follow the format's own sum rules down to the items that make a total.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import orjson

from generator.core.money import format_amount
from generator.sources.formats import ORDINAL, CellRef, Format, Part, SumRule
from generator.sources.records import TableSource


class _Altair:
    """Altair, imported when a chart's structure is first built (see _shaped): a build whose chart shapes are
    all in the build cache, such as a rebuild after one department's edit, never pays for the import."""

    def __getattr__(self, name: str):
        import altair

        globals()["alt"] = altair
        return getattr(altair, name)


alt = _Altair()
ZERO = Decimal(0)
TEN_THOUSAND = Decimal(10000)
HUNDRED = Decimal(100)

# The site's own type (templates/static/site.css): system CJK fonts, no webfont.
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", sans-serif'
INK, MUTED, GRID = "#1b1f24", "#57606a", "#d0d7de"
# One blue in steps of lightness (CIE L* about 27, 45, 62, 80): the series stay apart when printed in grey,
# and the labels and legend say the rest.
SHADES = ("#1d3d6b", "#3d679c", "#7b9fcc", "#c3d4ea")
AXIS_AMOUNT = ",~f"  # axis ticks: thousands separators, no trailing zeros (1,000 and 2.5); bar labels have two decimals
# px of a category label before it is cut with "…" (the tooltip and the data table have the whole name): about a
# third of a phone's width, more on a wider screen. containerSize() is Vega's; the interpreter evaluates it.
# Every size of text, and the room made for it, is a multiple of this Vega parameter: 1 in the spec, set by
# assets/charts.js to 1.25 while a reader has 大字 on (html.large-text in site.css) and again when it is switched.
TEXT_SCALE = "textScale"
LABEL_LIMIT = {"expr": f"(containerSize()[0] < 480 ? 116 : 220) * {TEXT_SCALE}"}


def _px(size: int) -> dict:
    """A font size that grows with 大字 (see TEXT_SCALE)."""
    return {"expr": f"{size} * {TEXT_SCALE}"}


@dataclass(frozen=True)
class Chart:
    key: str  # unique on its page; element ids derive from it
    title: str
    description: str  # one sentence
    spec: dict
    head: tuple[str, ...]  # the data table
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()  # what it leaves out and why, the unit
    reading: str = ""  # how to read the drawing (shown only once it is drawn)
    text_cols: tuple[int, ...] = ()  # data-table columns that hold words, not figures (column 0 is the row header)

    @property
    def id(self) -> str:
        return f"chart-{self.key}"


@dataclass
class Series:
    """One bar per item; `values` maps a series name (e.g. 基本支出) to Decimal amounts, in item order."""

    items: list[str]
    values: dict[str, list[Decimal]] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ numbers


def _num(value: Decimal) -> int | float:
    """Decimal → JSON number at the spec's boundary. float(Decimal) is correctly rounded, so always the same."""
    return int(value) if value == value.to_integral_value() else float(value)


def wan(yuan: Decimal) -> Decimal:
    """元 → 万元, exact (a division by 10⁴ in decimal arithmetic)."""
    return yuan / TEN_THOUSAND


def _pct(part: Decimal, whole: Decimal) -> str:
    return f"{(part / whole * HUNDRED).quantize(Decimal('0.1'))}%"


def _score(value: Decimal) -> str:
    return str(value)  # as printed, and as the project list shows it


# ------------------------------------------------------------------------------------- chart shapes


def _label_px(text: str) -> int:
    """About how wide a bar label draws at 11 px: CJK and full-width characters are square, digits narrower."""
    return sum(11 if ord(ch) > 0x2E80 else 7 for ch in text)


def _domain_end(labels: list[dict]) -> str:
    """The amount axis ends with room past the longest bar for the labels printed at the bars' ends.

    The room depends on the drawn width (a phone's plot is a third of a desktop's), so the domain's end is a
    Vega expression of `width`: the largest bar ends where its label, the widest one, still fits inside the plot
    (at any TEXT_SCALE).
    """
    top = max((row["v"] for row in labels), default=0) or 1
    room = max((_label_px(row["text"]) for row in labels), default=0) + 8
    return f"{top} * width / max(width - {room} * {TEXT_SCALE}, width * 0.4)"


def _x_amount(unit: str, domain_end: str, stack: str | None = None) -> alt.X:
    """The amount axis, from zero to `domain_end` (see _domain_end)."""
    return alt.X(
        field="v",
        type="quantitative",
        title=unit,
        stack=stack,
        axis=alt.Axis(format=AXIS_AMOUNT, tickCount=4, labelFlush=12),  # a label within 12 px of an end keeps inside
        scale=alt.Scale(zero=True, nice=False, domainMax={"expr": domain_end}),
    )


def _tooltip(item_title: str, series_title: str | None, unit: str) -> list[alt.Tooltip]:
    """The row's name, its series, and the figure as the tables print it (formatted here, from the Decimal)."""
    tips = [alt.Tooltip(field="item", type="nominal", title=item_title)]
    if series_title:
        tips.append(alt.Tooltip(field="series", type="nominal", title=series_title))
    return [*tips, alt.Tooltip(field="text", type="nominal", title=f"金额（{unit}）")]


def _aria():
    """What a screen reader says for one bar or dot: its own Chinese description (the "aria" field)."""
    return alt.Description(field="aria", type="nominal")


def _y_items(items: list[str]) -> alt.Y:
    """One line per item, in the order given (the data's own order, or largest first), labels cut at LABEL_LIMIT."""
    return alt.Y(
        field="item",
        type="nominal",
        title=None,
        sort=items,
        axis=alt.Axis(labelLimit=LABEL_LIMIT, ticks=False, domain=False, labelPadding=6),
    )


def _end_labels(name: str, items: list[str], dx: int = 4) -> alt.Chart:
    """Text just past the end of each bar (or dot): the figure, formatted from its Decimal."""
    return (
        alt.Chart(alt.NamedData(name=name))
        .mark_text(align="left", dx=dx, baseline="middle", aria=False)
        .encode(x=alt.X(field="v", type="quantitative"), y=_y_items(items), text=alt.Text(field="text", type="nominal"))
    )


BAND = 26  # px per category


def _config():
    """The site's fonts and ink (templates/static/site.css). Axes, legends and printed labels are hidden from
    screen readers (Vega would describe them in English, and the labels repeat the bars); each bar or dot carries
    its own Chinese description (the "aria" field), the chart its one sentence, and the data table the rest."""
    return alt.Config(
        font=FONT,
        padding={"left": 2, "right": 8, "top": 4, "bottom": 4},
        view=alt.ViewConfig(stroke=None),
        axis=alt.AxisConfig(
            labelFontSize=_px(12),
            titleFontSize=_px(12),
            labelColor=INK,
            titleColor=MUTED,
            gridColor=GRID,
            titleFontWeight="normal",
            aria=False,
        ),
        legend=alt.LegendConfig(
            orient="top", title=None, labelFontSize=_px(12), symbolType="square", labelColor=INK, offset=6, aria=False
        ),
        text=alt.MarkConfig(fontSize=_px(11), color=INK),
    )


# Placeholders for what differs between department-years in charts of the same shape (see _shaped).
ITEMS, DOMAIN_END, DOMAIN_START = "\u2063items\u2063", "\u2063domain-end\u2063", "\u2063domain-start\u2063"


class ChartShapes:
    """The structure of each shape of chart (see _shaped) as JSON text with placeholders, built by Altair once
    and kept by whoever makes the charts: a build, each of its workers (which send back what they built), and
    the build cache between builds. Keyed by everything the structure depends on, so a shape is the same
    whichever department-year first needed it."""

    def __init__(self, known: dict[tuple, str] | None = None) -> None:
        self._texts: dict[tuple, str] = dict(known or {})
        self._new: list[tuple] = []  # built here since new() was last asked

    def remember(self, shapes: dict[tuple, str]) -> None:
        """Shapes built in an earlier build or another process."""
        for shape, text in shapes.items():
            self._texts.setdefault(shape, text)

    def new(self) -> dict[tuple, str]:
        """The shapes built here since this was last asked (what a worker sends back to the build)."""
        made = {shape: self._texts[shape] for shape in self._new}
        self._new.clear()
        return made

    def known(self) -> dict[tuple, str]:
        """Every shape, in a fixed order (the build cache keeps them)."""
        return dict(sorted(self._texts.items(), key=repr))

    def text(self, shape: tuple, make) -> str:
        """The shape's JSON, from `make()` (which builds the chart in Altair) the first time it is asked for."""
        text = self._texts.get(shape)
        if text is None:
            from altair.utils.schemapi import debug_mode

            # Without Altair's checks: by default it validates every object as it is made (its debug mode), which
            # costs more than making the chart. The tests validate every finished spec against the schema instead.
            with debug_mode(False):
                text = self._texts[shape] = json.dumps(make(), ensure_ascii=False)
            self._new.append(shape)
        return text


def _fill(node, values: dict[str, object]):
    """The spec with each placeholder (a string, or a list holding only it) replaced by its value."""
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        if len(node) == 1 and isinstance(node[0], str) and node[0] in values:
            return list(values[node[0]])
        return [_fill(v, values) for v in node]
    if isinstance(node, str) and node in values:
        return values[node]
    return node


def _shaped(shapes: ChartShapes, shape: tuple, make, items: list[str], domain_end: str | None, datasets: dict,
            description: str, categories: int) -> dict:  # fmt: skip
    """A chart's spec: Altair builds the structure of each shape of chart once (`shapes` keeps it), with
    placeholders for the items and the axis's end; each department-year's values, data, height and sentence are
    filled in. Building a layered chart in Altair is slow (it deep-copies every layer), filling a copy is not,
    and a province has thousands of department-years with the same few shapes of chart."""
    text = shapes.text(shape, make)
    spec = _fill(orjson.loads(text), {ITEMS: items, DOMAIN_END: domain_end})  # the same values as json.loads, faster
    spec["height"] = BAND * categories
    spec["description"] = description
    spec["datasets"] = datasets
    return spec


def _spec(layers: list[alt.Chart], datasets: dict[str, list[dict]], description: str, categories: int) -> dict:
    """The Vega-Lite spec: full container width, a band of 26 px per category, the figures inline.

    The layers name their data (alt.NamedData) and the rows join the spec as `datasets` after `to_dict`: Altair
    deep-copies whatever it holds at every step, and the rows are plain JSON already. One constructor call with
    the config, rather than .properties().configure_…() chains, for the same reason (tools/bench_charts.py).
    The height is a number, not alt.Step: with a step Vega-Lite warns in the console that it drops "fit-y",
    though the autosize asked for is fit-x only.
    """
    chart = alt.LayerChart(
        layer=layers,
        width="container",
        height=BAND * categories,
        description=description,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        config=_config(),
    )
    spec = chart.to_dict(validate=False)
    spec["params"] = [{"name": TEXT_SCALE, "value": 1}]
    spec["datasets"] = datasets
    return spec


def _color(domain: list[str], shades: tuple[str, ...] | None = None) -> alt.Color:
    if shades is None:  # two series: the darkest and a light one, as far apart as the print allows
        shades = (SHADES[0], SHADES[2]) if len(domain) == 2 else SHADES
    return alt.Color(
        field="series",
        type="nominal",
        sort=domain,
        scale=alt.Scale(domain=domain, range=list(shades[: len(domain)])),
        legend=alt.Legend(orient="top", direction="horizontal") if len(domain) > 1 else None,
    )


def stacked_bars(shapes: ChartShapes, series: Series, description: str, item_title: str, unit: str = "万元") -> dict:
    """Horizontal bars, one per item, stacked by series; the item's total printed at the end of its bar."""
    names = list(series.values)
    bars, totals = [], []
    for i, item in enumerate(series.items):
        total = ZERO
        for order, name in enumerate(names):
            v = series.values[name][i]
            total += v
            if v:
                said = f"{item}，{name}" if len(names) > 1 else item
                aria = f"{said}：{format_amount(v)} {unit}"
                bars.append(
                    {"item": item, "series": name, "v": _num(v), "text": format_amount(v), "o": order, "aria": aria}
                )
        totals.append({"item": item, "v": _num(total), "text": format_amount(total)})

    def make() -> dict:
        layer = (
            alt.Chart(alt.NamedData(name="bars"))
            .mark_bar(stroke=SHADES[0], strokeWidth=0.5, height=alt.RelativeBandSize(0.72))
            .encode(
                x=_x_amount(unit, DOMAIN_END, stack="zero"),
                y=_y_items([ITEMS]),
                color=_color(names),
                order=alt.Order(field="o", type="quantitative"),
                tooltip=_tooltip(item_title, "类别" if len(names) > 1 else None, unit),
                description=_aria(),
            )
        )
        return _spec([layer, _end_labels("labels", [ITEMS])], {}, "", 0)

    shape = ("stacked_bars", tuple(names), item_title, unit)
    data = {"bars": bars, "labels": totals}
    return _shaped(shapes, shape, make, series.items, _domain_end(totals), data, description, len(series.items))


def bullets(shapes: ChartShapes, items: list[str], plan: list[Decimal], actual: list[Decimal], names: tuple[str, str],
            description: str, item_title: str, unit: str = "万元") -> dict:  # fmt: skip
    """Plan against actual: a wide light bar for the plan, a narrow dark bar inside it for the actual."""
    data: dict[str, list[dict]] = {"plan": [], "actual": [], "labels": []}
    for item, p, a in zip(items, plan, actual, strict=True):
        share = f"（{_pct(a, p)}）" if p else ""
        said = f"{item}，{names[0]} {format_amount(p)} {unit}"
        data["plan"].append({"item": item, "series": names[0], "v": _num(p), "text": format_amount(p), "aria": said})
        said = f"{item}，{names[1]} {format_amount(a)} {unit}{share}"
        data["actual"].append({"item": item, "series": names[1], "v": _num(a), "text": format_amount(a), "aria": said})
        data["labels"].append({"item": item, "v": _num(max(p, a)), "text": format_amount(a) + share})

    def make() -> dict:
        color = _color(list(names), (SHADES[3], SHADES[0]))
        tooltip = _tooltip(item_title, "／".join(n.removesuffix("数") for n in names), unit)

        def bar(name: str, thickness: float) -> alt.Chart:
            return (
                alt.Chart(alt.NamedData(name=name))
                .mark_bar(stroke=SHADES[0], strokeWidth=0.5, height=alt.RelativeBandSize(thickness))
                .encode(
                    x=_x_amount(unit, DOMAIN_END),
                    y=_y_items([ITEMS]),
                    color=color,
                    tooltip=tooltip,
                    description=_aria(),
                )
            )

        return _spec([bar("plan", 0.78), bar("actual", 0.36), _end_labels("labels", [ITEMS])], {}, "", 0)

    shape = ("bullets", tuple(names), item_title, unit)
    return _shaped(shapes, shape, make, items, _domain_end(data["labels"]), data, description, len(items))


def dots(shapes: ChartShapes, items: list[str], scores: list[Decimal], description: str,
         groups: list[str] | None = None, names: list[str] | None = None) -> dict:  # fmt: skip
    """Scores as dots on a scale that starts near the lowest score (a dot, unlike a bar, needs no zero).

    With `groups`, one line per group (a department) and one dot per item on it, unlabelled (the data table has
    the figures); otherwise one line per item, with its score beside the dot.
    """
    low = min(scores)
    start = min(Decimal(90), (low / 10).to_integral_value(ROUND_FLOOR) * 10)
    rows = []
    for i, (item, s) in enumerate(zip(items, scores, strict=True)):
        name = names[i] if names else item
        said = f"{item}，{name}" if names else item
        rows.append({"item": item, "v": _num(s), "text": _score(s), "name": name, "aria": f"{said}：{_score(s)} 分"})
    lines = groups or items

    def make() -> dict:
        x = alt.X(field="v", type="quantitative", title="自评得分（满分 100）", scale=alt.Scale(domain=[DOMAIN_START, 100]),
                  axis=alt.Axis(tickCount=5, format="d"))  # fmt: skip
        tooltip = [
            *([alt.Tooltip(field="item", type="nominal", title="部门")] if groups else []),
            alt.Tooltip(field="name", type="nominal", title="项目"),
            alt.Tooltip(field="text", type="nominal", title="自评得分"),
        ]
        points = (
            alt.Chart(alt.NamedData(name="dots"))
            .mark_point(filled=True, size=70, color=SHADES[0], opacity=0.75 if groups else 1)
            .encode(x=x, y=_y_items([ITEMS]), tooltip=tooltip, description=_aria())
        )
        layers = [points] if groups else [points, _end_labels("dots", [ITEMS], dx=7)]
        return _spec(layers, {}, "", 0)

    spec = _shaped(shapes, ("dots", bool(groups)), make, lines, None, {"dots": rows}, description, len(lines))
    return _fill(spec, {DOMAIN_START: _num(start)})


# ------------------------------------------------------------------------------- reading the tables


class Reader:
    """The cells of one department-year's tables, by the targets the format understands (表1/收入/总计)."""

    def __init__(self, fmt: Format, tables: dict[int, TableSource]) -> None:
        self.fmt, self.tables = fmt, tables

    def ref(self, target: str) -> CellRef | None:
        ref = self.fmt.resolve(target)
        return ref if isinstance(ref, CellRef) and ref.table in self.tables else None

    def value(self, table: int, part: str, row: str, col: str) -> Decimal | None:
        """A figure; a row the data leaves out is zero (the format prints it as 0.00); None when unknown."""
        cell = self.tables[table].cells.get((part, row, col))
        return ZERO if cell is None else cell.value

    def at(self, target: str) -> Decimal | None:
        ref = self.ref(target)
        return None if ref is None else self.value(ref.table, ref.part, ref.row, ref.col)

    def part(self, ref: CellRef) -> Part:
        tf = self.fmt.tables[ref.table]
        return next(p for p in tf.parts if p.key == ref.part)


def leaves(rules: tuple[SumRule, ...], total: str) -> list[str]:
    """The keys a total is the sum of, expanding every part that is itself a total: 总计 → 一般公共预算… 年初结转和结余."""
    by_total = {r.total: r for r in rules}
    if total not in by_total:
        return [total]
    out: list[str] = []
    for _sign, key in by_total[total].parts:
        out += leaves(rules, key)
    return out


def _known(pairs: list[tuple[str, Decimal | None]]) -> tuple[list[tuple[str, Decimal]], list[str]]:
    known = [(k, v) for k, v in pairs if v is not None]
    return known, [k for k, v in pairs if v is None]


def _unknown_note(labels: list[str], what: str = "数值") -> tuple[str, ...]:
    return (f"{'、'.join(labels)}的{what}在原件中无法辨认，未画出。",) if labels else ()


# ----------------------------------------------------------------------------- one department-year


def year_charts(shapes: ChartShapes, fmt: Format | None, tables: dict[int, TableSource]) -> list[Chart]:
    """The charts of the nine tables, in the order a reader meets the tables; only those with data."""
    if fmt is None or not tables:
        return []
    r = Reader(fmt, tables)
    made = (income(shapes, r), spending(shapes, r), basic(shapes, r), sangong(shapes, r))
    return [c for c in made if c is not None]


def income(shapes: ChartShapes, r: Reader) -> Chart | None:
    """Where the money came from: table 1's income rows that make up 总计 (本年收入 by source, then 结余 and 结转)."""
    ref = r.ref("表1/收入/总计")
    if ref is None:
        return None
    part = r.part(ref)
    rows = [part.find_row(k) for k in leaves(part.sums, ref.row)]
    pairs = [
        (ORDINAL.sub("", row.label or row.key), r.value(ref.table, ref.part, row.key, ref.col)) for row in rows if row
    ]
    known, unknown = _known(pairs)
    known = [(k, v) for k, v in known if v]
    if not known:
        return None
    total = r.at("表1/收入/总计") or sum((v for _, v in known), ZERO)
    top_label, top = max(known, key=lambda kv: kv[1])
    desc = f"收入总计 {format_amount(total)} 万元，其中最多的是{top_label} {format_amount(top)} 万元，占 {_pct(top, total)}。"
    series = Series([k for k, _ in known], {"金额": [v for _, v in known]})
    return Chart(
        "income",
        "收入来源",
        desc,
        stacked_bars(shapes, series, desc, "来源"),
        ("来源", "金额（万元）", "占收入总计"),
        tuple((k, format_amount(v), _pct(v, total)) for k, v in known),
        (*_unknown_note(unknown), "为零的来源不列出。"),
    )


def spending(shapes: ChartShapes, r: Reader) -> Chart | None:
    """Spending by function class (类), split as table 3 splits it: 基本支出, 项目支出 and any other column in use."""
    ref = r.ref("表3/合计/本年支出合计")
    if ref is None:
        return None
    part = r.part(ref)
    split = leaves(part.column_sums, ref.col)
    classes = sorted((c for c in r.tables[ref.table].class_rows if len(c.code) == 3), key=lambda c: c.code)
    rows, unknown = [], []
    for c in classes:
        values = [r.value(ref.table, ref.part, c.code, col) for col in split]
        if any(v is None for v in values):
            unknown.append(c.name)
        elif any(values):
            rows.append((c, values))
    if not rows:
        return None
    used = [i for i, col in enumerate(split) if any(vals[i] for _, vals in rows)]
    rows.sort(key=lambda cv: (-sum(cv[1], ZERO), cv[0].code))
    series = Series([c.name for c, _ in rows], {split[i]: [vals[i] for _, vals in rows] for i in used})
    # The printed 合计 row, not the sum of the printed classes: they may differ by rounding (DOMAIN.md §3).
    sums = {split[i]: r.value(ref.table, ref.part, ref.row, split[i]) for i in used}
    total = r.value(ref.table, ref.part, ref.row, ref.col)
    first, first_vals = rows[0]
    parts = "，".join(f"{name} {_amount_text(v)} 万元" for name, v in sums.items())
    desc = (
        f"本年支出 {_amount_text(total)} 万元分属 {len(rows)} 个功能分类，最多的是{first.name} "
        f"{format_amount(sum(first_vals, ZERO))} 万元；按支出性质分，{parts}。"
    )
    head = ("功能分类（类）", *(f"{split[i]}（万元）" for i in used), "合计（万元）")
    body = tuple(
        (f"{c.code} {c.name}", *(format_amount(vals[i]) for i in used), format_amount(sum(vals, ZERO)))
        for c, vals in rows
    )
    return Chart(
        "spending",
        "支出按功能分类",
        desc,
        stacked_bars(shapes, series, desc, "功能分类"),
        head,
        body,
        _unknown_note(unknown),
    )


SHARE_KEY = "括号内为决算数占预算数的比例。"
MAIN_ITEMS = 6  # per group; the rest of a group is one bar, "其余 n 项"


def basic(shapes: ChartShapes, r: Reader) -> Chart | None:
    """Basic spending by economic class: 人员经费 and 公用经费 (table 6), each with its largest items."""
    groups = []
    for name in ("人员经费", "公用经费"):
        ref = r.ref(f"表6/{name}/{name}合计")
        if ref is None:
            return None
        part = r.part(ref)
        classes = [key for key in leaves(part.sums, ref.row)]
        items = [row for row in part.data_rows if row.code and len(row.code) > 3 and row.code[:3] in classes]
        pairs = [(row, r.value(ref.table, ref.part, row.key, ref.col)) for row in items]
        groups.append((name, pairs, r.value(ref.table, ref.part, ref.row, ref.col)))
    labels, values, series_of, table, unknown = [], [], [], [], []
    for name, pairs, _total in groups:
        unknown += [row.label for row, v in pairs if v is None]
        known = sorted(((row, v) for row, v in pairs if v), key=lambda rv: (-rv[1], rv[0].code))
        shown, rest = known[:MAIN_ITEMS], known[MAIN_ITEMS:]
        for row, v in shown:
            labels.append(row.label if row.label not in labels else f"{row.code} {row.label}")
            values.append(v)
            series_of.append(name)
            table.append((name, f"{row.code} {row.label}", format_amount(v)))
        if rest:
            v = sum((v for _, v in rest), ZERO)
            labels.append(f"{name}其余 {len(rest)} 项")
            values.append(v)
            series_of.append(name)
            table.append((name, "、".join(f"{row.code} {row.label}" for row, _ in rest), format_amount(v)))
    if not values:
        return None
    names = [g[0] for g in groups]
    series = Series(labels, {n: [v if s == n else ZERO for v, s in zip(values, series_of, strict=True)] for n in names})
    totals = {name: total for name, _, total in groups}
    big = max(range(len(values)), key=lambda i: values[i])
    desc = (
        f"基本支出中人员经费 {_amount_text(totals['人员经费'])} 万元，公用经费 {_amount_text(totals['公用经费'])} 万元；"
        f"最大的一项是{labels[big]} {format_amount(values[big])} 万元。"
    )
    return Chart(
        "basic",
        "基本支出按经济分类",
        desc,
        stacked_bars(shapes, series, desc, "经济分类科目"),
        ("类别", "经济分类科目", "金额（万元）"),
        tuple(table),
        (*_unknown_note(unknown), f"每类列出金额最大的 {MAIN_ITEMS} 项，其余合为一行；为零的科目不列出。"),
        text_cols=(1,),
    )


def _amount_text(value: Decimal | None) -> str:
    return "（未知）" if value is None else format_amount(value)


def sangong(shapes: ChartShapes, r: Reader) -> Chart | None:
    """“三公”经费: budget against actual for each category (table 9's columns under 预算数 and 决算数)."""
    plan_ref, actual_ref = r.ref("表9/预算数/合计"), r.ref("表9/决算数/合计")
    if plan_ref is None or actual_ref is None:
        return None
    part = r.part(plan_ref)
    cols = leaves(part.column_sums, plan_ref.col)
    items, plan, actual, unknown = [], [], [], []
    for col in cols:
        tail = col.split("/", 1)[1]
        p = r.value(plan_ref.table, plan_ref.part, plan_ref.row, col)
        a = r.value(actual_ref.table, actual_ref.part, actual_ref.row, f"决算数/{tail}")
        label = part.find_column(col).label if part.find_column(col) else tail
        if p is None or a is None:
            unknown.append(label)
        elif p or a:
            items.append(label)
            plan.append(p)
            actual.append(a)
    if not items:
        return None
    tp, ta = r.value(plan_ref.table, plan_ref.part, plan_ref.row, plan_ref.col), r.at("表9/决算数/合计")
    share = f"，为预算的 {_pct(ta, tp)}" if tp and ta is not None else ""
    desc = f"“三公”经费预算 {_amount_text(tp)} 万元，决算 {_amount_text(ta)} 万元{share}。"
    rows = tuple(
        (i, format_amount(p), format_amount(a), _pct(a, p) if p else "—")
        for i, p, a in zip(items, plan, actual, strict=True)
    )
    return Chart(
        "sangong",
        "“三公”经费：预算与决算",
        desc,
        bullets(shapes, items, plan, actual, ("预算数", "决算数"), desc, "类别"),
        ("类别", "预算数（万元）", "决算数（万元）", "决算占预算"),
        rows,
        (*_unknown_note(unknown), "预算与决算都为零的类别不列出。"),
        reading=f"浅色宽条为预算数，深色窄条为决算数，{SHARE_KEY}",
    )


def project_charts(shapes: ChartShapes, projects: list) -> list[Chart]:
    """Budget against execution, and self-evaluation scores, of a department-year's projects (projects.ProjectView)."""
    return [c for c in (execution(shapes, projects), scores(shapes, projects)) if c is not None]


def _project_label(p, seen: dict[str, int]) -> str:
    # Two projects may share a name: the chart's categories must not.
    seen[p.name] = seen.get(p.name, 0) + 1
    return p.name if seen[p.name] == 1 else f"{p.name}（{p.code}）"


def execution(shapes: ChartShapes, projects: list) -> Chart | None:
    known = [p for p in projects if p.budget is not None and p.executed is not None]
    if not known or not any(p.budget or p.executed for p in known):
        return None
    known.sort(key=lambda p: (-p.budget, p.code))
    seen: dict[str, int] = {}
    items = [_project_label(p, seen) for p in known]
    plan, actual = [wan(p.budget) for p in known], [wan(p.executed) for p in known]
    tb, te = sum(plan, ZERO), sum(actual, ZERO)
    rate = f"，总体执行率 {_pct(te, tb)}" if tb else ""
    desc = (
        f"{len(known)} 个项目全年预算数合计 {format_amount(tb)} 万元，全年执行数合计 {format_amount(te)} 万元{rate}。"
    )
    left = [p.name for p in projects if p not in known]
    return Chart(
        "execution",
        "项目预算与执行",
        desc,
        bullets(shapes, items, plan, actual, ("全年预算数", "全年执行数"), desc, "项目"),
        ("项目", "全年预算数（万元）", "全年执行数（万元）", "执行率"),
        tuple(
            (i, format_amount(p), format_amount(a), _pct(a, p) if p else "—")
            for i, p, a in zip(items, plan, actual, strict=True)
        ),
        (*_unknown_note(left, "全年预算数或全年执行数"), "原件金额单位为元，此处折算为万元。"),
        reading="浅色宽条为全年预算数，深色窄条为全年执行数，括号内为执行率。",
    )


def scores(shapes: ChartShapes, projects: list) -> Chart | None:
    known = [p for p in projects if p.score is not None]
    if not known:
        return None
    known.sort(key=lambda p: (p.score, p.code))
    seen: dict[str, int] = {}
    items = [_project_label(p, seen) for p in known]
    low, high = known[0].score, known[-1].score
    grades = {}
    for p in known:
        grades[p.grade] = grades.get(p.grade, 0) + 1
    grade_text = "、".join(f"{g} {n} 个" for g, n in grades.items() if g)
    spread = f"在 {_score(low)} 至 {_score(high)} 分之间" if low != high else f"都是 {_score(low)} 分"
    desc = f"{len(known)} 个项目的自评得分{spread}" + (f"（{grade_text}）。" if grade_text else "。")
    left = [p.name for p in projects if p.score is None]
    return Chart(
        "scores",
        "项目自评得分",
        desc,
        dots(shapes, items, [p.score for p in known], desc),
        ("项目", "自评得分", "等级"),
        tuple((i, _score(p.score), p.grade or "—") for i, p in zip(items, known, strict=True)),
        (*_unknown_note(left, "总分"), "等级：优 ≥ 90 分，良 80～90 分，中 60～80 分，差 < 60 分。"),
        text_cols=(2,),
    )


# ------------------------------------------------------------------------------------ site level


COMPARE_LIMIT = 30  # departments a comparison draws; a province's thousands are in the open data, not one chart


def site_charts(shapes: ChartShapes, years: list) -> list[Chart]:
    """Departments side by side for one year (units.Summary objects): spending, “三公”, project scores."""
    made = (compare_spending(shapes, years), compare_sangong(shapes, years), compare_scores(shapes, years))
    return [c for c in made if c is not None]


def _missing(years: list, have: list[str], what: str) -> tuple[str, ...]:
    present = set(have)  # a province's year has thousands of departments
    missing = [y.name for y in years if y.name not in present]
    if len(missing) > COMPARE_LIMIT:
        return (f"另有 {len(missing)} 个部门未收录{what}，不在图中。",)
    return (f"{'、'.join(missing)}未收录{what}，不在图中。",) if missing else ()


def _limit(rows: list, what: str) -> tuple[list, tuple[str, ...]]:
    if len(rows) <= COMPARE_LIMIT:
        return rows, ()
    return rows[:COMPARE_LIMIT], (
        f"只画出{what}最多的 {COMPARE_LIMIT} 个部门，其余 {len(rows) - COMPARE_LIMIT} 个见开放数据。",
    )


def compare_spending(shapes: ChartShapes, years: list) -> Chart | None:
    pairs = [(y.name, y.spending) for y in years if y.has_tables]
    known = sorted(((n, v) for n, v in pairs if v), key=lambda nv: -nv[1])
    if not known:
        return None
    every = [n for n, _ in known]
    known, capped = _limit(known, "本年支出")
    year = years[0].year
    if len(known) == 1:
        desc = f"{year} 年度收录决算表的部门只有{known[0][0]}，本年支出 {format_amount(known[0][1])} 万元。"
    else:
        desc = f"{year} 年度收录决算表的 {len(known)} 个部门中，本年支出最多的是{known[0][0]} {format_amount(known[0][1])} 万元。"
    series = Series([n for n, _ in known], {"本年支出": [v for _, v in known]})
    return Chart(
        f"compare-spending-{year}",
        "各部门本年支出",
        desc,
        stacked_bars(shapes, series, desc, "部门"),
        ("部门", "本年支出合计（万元）"),
        tuple((n, format_amount(v)) for n, v in known),
        capped + _missing(years, every, "决算表"),
    )


def compare_sangong(shapes: ChartShapes, years: list) -> Chart | None:
    rows = []
    for y in years:
        p, a = y.sangong or (None, None)
        if p is not None and a is not None and (p or a):
            rows.append((y.name, p, a))
    if not rows:
        return None
    year = years[0].year
    rows.sort(key=lambda row: (-row[2], row[0]))
    every = [n for n, _, _ in rows]
    rows, capped = _limit(rows, "“三公”经费决算")
    if len(rows) == 1:
        name, p, a = rows[0]
        desc = (
            f"{year} 年度收录“三公”经费表的部门只有{name}，预算 {format_amount(p)} 万元，决算 {format_amount(a)} 万元。"
        )
    else:
        desc = f"{year} 年度 {len(rows)} 个部门的“三公”经费预算与决算；决算最多的是{rows[0][0]} {format_amount(rows[0][2])} 万元。"
    return Chart(
        f"compare-sangong-{year}",
        "各部门“三公”经费",
        desc,
        bullets(
            shapes,
            [n for n, _, _ in rows],
            [p for _, p, _ in rows],
            [a for _, _, a in rows],
            ("预算数", "决算数"),
            desc,
            "部门",
        ),
        ("部门", "预算数（万元）", "决算数（万元）", "决算占预算"),
        tuple((n, format_amount(p), format_amount(a), _pct(a, p) if p else "—") for n, p, a in rows),
        capped + _missing(years, every, "“三公”经费表"),
        reading=f"浅色宽条为预算数，深色窄条为决算数，{SHARE_KEY}",
    )


def _unscored(years: list, depts: list[str]) -> tuple[str, ...]:
    counts = [(y.name, y.projects.count - y.projects.scored) for y in years]
    said = [f"{name} {n} 个项目" for name, n in counts if n and name in depts]
    return (f"{'、'.join(said)}的总分在原件中无法辨认，未画出。",) if said else ()


def compare_scores(shapes: ChartShapes, years: list) -> Chart | None:
    scored = [y for y in years if y.projects.scored]  # (units.Projects: counted without unpacking them all)
    if not scored:
        return None
    every = [y.name for y in scored]
    capped: tuple[str, ...] = ()
    if len(scored) > COMPARE_LIMIT:  # the departments first in the list, as the home page lists them
        capped = (
            f"只画出列表中前 {COMPARE_LIMIT} 个部门的项目，其余 {len(scored) - COMPARE_LIMIT} 个部门见开放数据。",
        )
        scored = scored[:COMPARE_LIMIT]
    points = [(y.name, p) for y in scored for p in y.projects if p.score is not None]
    year = years[0].year
    depts = [y.name for y in scored]
    means = []
    for d in depts:
        mine = [p.score for n, p in points if n == d]
        means.append(f"{d} {len(mine)} 个项目平均 {(sum(mine, ZERO) / len(mine)).quantize(Decimal('0.01'))} 分")
    desc = f"{year} 年度各部门项目自评得分，每个点是一个项目：{'；'.join(means)}。"
    return Chart(
        f"compare-scores-{year}",
        "各部门项目自评得分",
        desc,
        dots(
            shapes,
            [n for n, _ in points],
            [p.score for _, p in points],
            desc,
            groups=depts,
            names=[p.name for _, p in points],
        ),
        ("部门", "项目", "自评得分", "等级"),
        tuple((n, p.name, _score(p.score), p.grade or "—") for n, p in points),
        capped + _missing(years, every, "项目自评得分") + _unscored(years, depts),
        text_cols=(1, 3),
    )
