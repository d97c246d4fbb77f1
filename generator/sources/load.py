"""load: files → source records. Each value keeps its file and line; every problem becomes a diagnostic.

Reading goes on past a broken file, so one run reports every problem (nothing stops at the first error).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.core.config import SiteConfig
from generator.core.diagnostics import Diagnostics, Loc, UserError
from generator.core.files import leaves_site, outside_error
from generator.core.money import WITHHELD, AmountError, decimals, is_unknown_mark, parse_decimal
from generator.sources import yamlsrc
from generator.sources.folders import DEPARTMENT_FILE, department_entries
from generator.sources.formats import ORDINAL, Format, Part, Row, TableFormat, load_format, norm, norm_is
from generator.sources.records import (
    Cell,
    ClassRow,
    ContentPage,
    DepartmentSource,
    Duties,
    FigureRef,
    FundRow,
    GlossaryEntry,
    Indicator,
    Narrative,
    Overview,
    ProjectSource,
    SiteSource,
    TableSource,
    TermUse,
    YearSource,
)
from generator.sources.yamlnodes import Map, Scalar, Seq
from generator.sources.yamlsrc import line_of

DEPARTMENTS = "departments"
OVERVIEW_FILE = "概况.yaml"
NARRATIVE_FILE = "情况说明.md"
TERMS_FILE = "名词解释.yaml"
PROJECTS_DIR = "项目"
SOURCE_NOTES = "原件备注"
RESERVED_SLUGS = {"glossary", "assets", "data", "search", "projects", "years"}  # the site's own folders
YEAR_FOLDER = re.compile(r"(19|20)[0-9]{2}")  # a year folder: 2023, never 0023 or ２０２３
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CLASS_CODE = re.compile(r"^(\d{3}|\d{5}|\d{7})$")
NESTED_CLASS_ROW = re.compile(r"^\s*(\d{3}|\d{5}|\d{7})(?!\d)\s*[^\d\s]")  # 3, 5 or 7 digits, then a name
# [printed figure](表N/… or 项目/编码/…) followed by the unit as printed.
FIGURE_LINK = re.compile(r"\[(?P<text>[^\]\n]+)\]\((?P<target>(?:表\d+|项目)/[^)\s]*)\)\s*(?P<unit>万元|亿元|元|%|％)?")
# Text a department has yet to write (the files `python -m generator new` creates say so): a warning, not an error.
PLACEHOLDER = "待填写"


# ------------------------------------------------------------------------------------ the file shapes
# What each kind of data file may hold. The readers below take their key lists from these declarations, and
# generator/schema.py turns the same declarations into the JSON Schemas an editor checks while one types:
# one definition, two uses. (Table files are declared by the format file, data/formats/<id>.yaml.)

TEXT, TEXTS, SCORE, NUMBER, MAP, LIST = "text", "texts", "score", "number", "map", "list"


@dataclass(frozen=True)
class Key:
    """One key a data file may have: its name, whether it must be there, what its value is, and what it means."""

    name: str
    kind: str  # TEXT, TEXTS (a list of texts), SCORE (a figure or 无/有关内容涉密), NUMBER, MAP or LIST
    required: bool = False
    doc: str = ""  # shown in the editor when the pointer rests on the key
    keys: tuple[Key, ...] = ()  # MAP: its keys; LIST: the keys of each item
    text_items: bool = False  # LIST: an item may also be a plain text (名词解释: “- 财政拨款收入”)
    choices: tuple[str, ...] = ()  # TEXTS: the only texts allowed
    loose: bool = False  # compared with formats.norm, like table rows (spaces, full-width forms, 一、 do not matter)
    aliases: tuple[str, ...] = ()  # other printed names of a loose key


def key_names(keys: tuple[Key, ...]) -> tuple[str, ...]:
    return _names(keys)[0]


def required_names(keys: tuple[Key, ...]) -> tuple[str, ...]:
    return _names(keys)[1]


_NAMES: dict[int, tuple] = {}  # by the identity of a (module-level) tuple of keys: hashing one hashes every key


def _names(keys: tuple[Key, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found = _NAMES.get(id(keys))
    if found is None or found[0] is not keys:
        names = tuple(k.name for k in keys), tuple(k.name for k in keys if k.required)
        found = _NAMES[id(keys)] = (keys, *names)
    return found[1], found[2]


DEPARTMENT_KEYS = (
    Key("名称", TEXT, True, "部门全称，如“中共深圳市罗湖区委办公室”。网页上以此称呼部门。"),
    Key("地区", TEXT, doc="部门所属地区，如“深圳市罗湖区”。"),
)
DUTY_KEYS = (
    Key("单位", TEXT, True, "单位全称：本级或下属单位。"),
    Key("引言", TEXT, doc="职责前的引导语，如“中共深圳市罗湖区委办公室的主要职责是：”。"),
    Key("职责", TEXTS, True, "每条职责一项，各以“- ”开头。"),
)
COMPOSITION_KEYS = (
    Key("说明", TEXT, doc="决算单位构成的说明文字，照公开文件抄录。"),
    Key("单位", TEXTS, doc="纳入决算编报范围的各单位，每个一项。"),
)
OVERVIEW_KEYS = (
    Key("主要职责", LIST, True, "第一部分 概况：主要职责。每个单位一组（单位、引言、职责）。", keys=DUTY_KEYS),
    Key("机构设置", TEXT, True, "第一部分 概况：机构设置，照公开文件抄录。"),
    Key("决算单位构成", MAP, True, "第一部分 概况：决算单位构成。", keys=COMPOSITION_KEYS),
)
TERM_KEYS = (
    Key("名词", TEXT, True, "名词本身，如“财政拨款收入”。"),
    Key("解释", TEXT, True, "本部门公开的解释（与站点通用解释不同时才写）。"),
)
TERMS_KEYS = (
    Key(
        "名词",
        LIST,
        True,
        "第四部分 名词解释：与站点通用解释相同的名词只写名词（- 财政拨款收入）；"
        "本部门自己的解释写成“- 名词: …”并在下一行写“解释: …”。",
        keys=TERM_KEYS,
        text_items=True,
    ),
)
SOURCE_NOTES_KEY = Key(SOURCE_NOTES, TEXTS, doc="录入时对原件的说明（如原件的错漏、换行断字），每条一项。")


def suggest(key: str, candidates: Sequence[str]) -> str:
    """“是否应为「…」？” for the closest candidate, and the full list when it is short."""
    normalised = {norm(c): c for c in candidates}
    close = difflib.get_close_matches(norm(key), list(normalised), n=1, cutoff=0.4)
    text = f"是否应为「{normalised[close[0]]}」？" if close else ""
    if len(candidates) <= 12:
        text += f"可用的名称：{'、'.join(candidates)}。"
    return text


class FileReader:
    """Reads one file against its schema, reporting each problem at its line."""

    def __init__(self, rel: str, diags: Diagnostics) -> None:
        self.rel = rel
        self.diags = diags

    def loc(self, line: int) -> Loc:
        return Loc(self.rel, line)

    def error(self, line: int, message: str, code: str) -> None:
        self.diags.error(self.loc(line), message, code)

    def warning(self, line: int, message: str, code: str) -> None:
        self.diags.warning(self.loc(line), message, code)

    def mapping(self, value, line: int, what: str) -> Map | None:
        if isinstance(value, Map):
            return value
        self.error(line_of(value, line), f"{what}应是“名称: 值”的映射，这里却是{_kind(value)}。", "type")
        return None

    def sequence(self, value, line: int, what: str) -> Seq | None:
        if isinstance(value, Seq):
            return value
        self.error(line_of(value, line), f"{what}应是以“- ”开头的列表，这里却是{_kind(value)}。", "type")
        return None

    def only_keys(self, m: Map, allowed: Sequence[str], context: str) -> None:
        for key in m:
            if key not in allowed:
                self.error(m.key_lines[key], f"{context}里没有“{key}”这一项。{suggest(key, allowed)}", "unknown-key")

    def require(self, m: Map, keys: Sequence[str], context: str) -> None:
        for key in keys:
            if m.get(key) is None:
                self.error(m.line, f"{context}缺少“{key}”。请补上“{key}: …”。", "missing")

    def text(self, m: Map, key: str) -> str:
        value = m.get(key)
        if value is None:
            return ""
        if isinstance(value, Scalar):
            self.placeholder(value, f"“{key}”")
            return str(value)
        self.error(m.key_lines[key], f"“{key}”应是一段文字，这里却是{_kind(value)}。", "type")
        return ""

    def placeholder(self, value: Scalar, what: str) -> None:
        """Text still reading 待填写 (as `new` writes it) is a warning: the file is valid, the work is not done."""
        if norm_is(value, PLACEHOLDER):
            self.warning(value.line, f"{what}尚未填写（待填写）。照公开文件填写后此提示消失。", "blank")

    def texts(self, m: Map, key: str) -> tuple[str, ...]:
        value = m.get(key)
        if value is None:
            return ()
        seq = self.sequence(value, m.key_lines[key], f"“{key}”")
        if seq is None:
            return ()
        out = []
        for item, line in zip(seq, seq.item_lines, strict=True):
            if isinstance(item, Scalar):
                self.placeholder(item, f"“{key}”的这一项")
                out.append(str(item))
            else:
                self.error(line, f"“{key}”的每一项应是一段文字。", "type")
        return tuple(out)

    def amount(self, value, line: int, what: str, max_places: int | None = None) -> Cell | None:
        """A figure: Decimal from its text; ##### and blanks are unknown (a warning); other text is an error."""
        if value is None:
            self.warning(line, f"{what}尚未填写（待填写）。填上印刷的金额后此提示消失。", "blank")
            return Cell(None, "", self.loc(line))
        if not isinstance(value, Scalar):
            self.error(line_of(value, line), f"{what}应是一个金额，这里却是{_kind(value)}。", "type")
            return None
        line = value.line
        if is_unknown_mark(value):
            self.warning(
                line,
                f"{what}在原件中印作“{value}”（表格列宽不足，数值未显示），按未知值处理；依赖它的合计也显示为未知。",
                "unknown-value",
            )
            return Cell(None, str(value), self.loc(line))
        try:
            number = parse_decimal(value)
        except AmountError as exc:
            self.error(line, f"{what}应是金额，{exc}。请填写数字，如 4,272.71。", "not-amount")
            return None
        if max_places is not None and decimals(number) > max_places:
            self.error(line, f"{what}“{value}”有 {decimals(number)} 位小数；本表金额以万元计，最多两位小数。", "places")
        return Cell(number, str(value), self.loc(line))


def read_yaml(path: Path, root: Path, diags: Diagnostics, prefetched: dict[str, bytes] | None = None
              ) -> tuple[FileReader, object] | None:  # fmt: skip
    """A YAML file's values and a reader for it; None when it cannot be parsed (its problems are recorded).
    `prefetched`: files already read (yamlsrc.read_text), as for every reader of a year's files below."""
    reader = FileReader(path.relative_to(root).as_posix(), diags)
    try:
        return reader, yamlsrc.load(path, root, prefetched)
    except UserError as exc:
        diags.extend(exc.diagnostics)
        return None


def _kind(value) -> str:
    if isinstance(value, Map):
        return "多层结构"
    if isinstance(value, Seq):
        return "列表"
    if value is None:
        return "空白"
    return f"文字“{value}”"


# ------------------------------------------------------------------------------------------- tables


def read_table(path: Path, root: Path, fmt: TableFormat, diags: Diagnostics, prefetched: dict[str, bytes] | None = None
               ) -> TableSource | None:  # fmt: skip
    opened = read_yaml(path, root, diags, prefetched)
    if opened is None:
        return None
    r, raw = opened
    table = TableSource(fmt, r.rel)
    if raw is None:
        r.error(1, f"{fmt.name}是空文件。没有发生额的表也要写出合计行，各栏为 0.00。", "missing")
        return table
    top = r.mapping(raw, 1, fmt.name)
    if top is None:
        return table
    if SOURCE_NOTES in top:
        table.notes = list(r.texts(top, SOURCE_NOTES))
    body = Map({k: v for k, v in top.items() if k != SOURCE_NOTES})
    body.line, body.key_lines = top.line, {k: v for k, v in top.key_lines.items() if k != SOURCE_NOTES}
    if len(fmt.parts) == 1:
        _read_part(r, table, fmt.parts[0], body, fmt.name)
    else:
        r.only_keys(body, [p.key for p in fmt.parts], fmt.name)
        for part in fmt.parts:
            if part.key not in body:
                r.error(1, f"{fmt.name}缺少“{part.key}”部分。请补上“{part.key}:”及其下各行。", "missing")
                continue
            table.part_lines[part.key] = body.key_lines[part.key]
            rows = r.mapping(body[part.key], body.key_lines[part.key], f"“{part.key}”部分")
            if rows is not None:
                _read_part(r, table, part, rows, f"{fmt.name}「{part.key}」")
    _require_totals(r, table)
    return table


def _read_part(r: FileReader, table: TableSource, part: Part, rows: Map, context: str) -> None:
    if len(part.rows) == 1 and not part.classified:  # one unnamed row: the mapping is the column tree
        row = part.rows[0]
        table.row_lines[(part.key, row.key)] = rows.line
        _read_columns(r, table, part, row.key, rows, context, ())
        return
    seen: dict[str, int] = {}
    for key, value in rows.items():
        line = rows.key_lines[key]
        if part.classified:
            classified = _classified_row(r, key, line, context)
            row_key = classified[0] if classified else None
        else:
            row = part.find_row(key)
            if row is None:
                names = [_row_name(part, x) for x in part.data_rows]
                r.error(line, f"{context}里没有“{key}”这一行。{suggest(key, names)}", "unknown-row")
                continue
            row_key = row.key
        if row_key is None:
            continue
        if row_key in seen:
            r.error(line, f"“{key}”与第 {seen[row_key]} 行是同一行，重复了。请删去其中一处。", "duplicate-row")
            continue
        seen[row_key] = line
        if part.classified and row_key != "合计":
            table.class_rows.append(ClassRow(row_key, classified[1], r.loc(line)))
        table.row_lines[(part.key, row_key)] = line
        label = f"{context}「{key}」"
        if len(part.columns) == 1 and not isinstance(value, Map):
            cell = r.amount(value, line, label, 2)
            if cell:
                table.cells[(part.key, row_key, part.columns[0].key)] = cell
        elif isinstance(value, Map):
            _read_columns(r, table, part, row_key, value, label, ())
        else:
            names = "、".join(c.key for c in part.columns)
            r.error(line, f"{label}有多栏（{names}），请在它下面分行写出各栏金额。", "type")


def _row_name(part: Part, row: Row) -> str:
    """A row as a person writes it: 表1/表4 file the function classes under their codes but print (and are written
    as) their names, without the ordinal (“一、”); 表6 prints the code beside the name (“301 工资福利支出”)."""
    if not row.code or not row.label:
        return row.key
    if any(s.field == "code" for s in part.stub):
        return f"{row.code} {row.label}"
    return ORDINAL.sub("", row.label)


def _classified_row(r: FileReader, key: str, line: int, context: str) -> tuple[str, str] | None:
    """“2010301 行政运行” → (code, name); “合计” → ("合计", ""); anything else is reported."""
    if norm(key) == "合计":
        return "合计", ""
    m = re.match(r"^(\d+)\s*(.*)$", key.strip())
    if not m:
        r.error(
            line,
            f"{context}的每一行应写成“科目编码 科目名称”（如“2010301 行政运行”）或“合计”，“{key}”不是。",
            "unknown-row",
        )
        return None
    code, name = m.group(1), m.group(2).strip()
    if not CLASS_CODE.match(code):
        r.error(line, f"科目编码“{code}”应为 3 位（类）、5 位（款）或 7 位（项）数字。", "code")
        return None
    if not name:
        r.error(line, f"科目编码 {code} 后缺少科目名称。请写成“{code} 名称”。", "code")
    return code, name


def _read_columns(r, table: TableSource, part: Part, row_key: str, value: Map, context: str, prefix: tuple) -> None:
    for key, item in value.items():
        line = value.key_lines[key]
        path = (*prefix, key)
        if part.classified and NESTED_CLASS_ROW.match(key):  # a 科目 row indented under the row above
            r.error(
                line,
                f"{context}下面的“{key}”是一个科目行。科目行（类、款、项）都从最左边写起，与“合计:”对齐，"
                f"不要缩进在所属的类或款下面：请把“{key}:”这一行左移到最左边，它的各栏仍缩进两格写在它下面。",
                "unknown-row",
            )
            continue
        if isinstance(item, Map):
            _read_columns(r, table, part, row_key, item, context, path)
            continue
        column = part.find_column("/".join(path))
        if column is None:
            r.error(
                line,
                f"{context}没有“{'/'.join(path)}”这一栏。{suggest(key, [c.key for c in part.columns])}",
                "unknown-column",
            )
            continue
        if (part.key, row_key, column.key) in table.cells:
            r.error(line, f"{context}的“{column.full_label}”栏写了两次。请删去其中一处。", "duplicate-key")
            continue
        cell = r.amount(item, line, f"{context}「{column.full_label}」", 2)
        if cell:
            table.cells[(part.key, row_key, column.key)] = cell


def _require_totals(r: FileReader, table: TableSource) -> None:
    """A table must state its totals; other rows may be left out when they are zero."""
    for part in table.fmt.parts:
        if part.classified:
            required = ["合计"]
        elif len(part.rows) == 1:
            continue
        else:
            required = [row.key for row in part.rows if row.total]
        present = {row for (p, row) in table.row_lines if p == part.key}
        for key in required:
            if key not in present:
                where = f"「{part.key}」部分" if part.key else ""
                r.error(
                    table.part_lines.get(part.key, 1),
                    f"{table.fmt.name}{where}缺少合计行“{key}”。合计行必须填写（为零时写 0.00）。",
                    "missing-total",
                )


# ----------------------------------------------------------------------------------- other year files


def read_overview(path: Path, root: Path, diags: Diagnostics, prefetched: dict[str, bytes] | None = None
                  ) -> Overview | None:  # fmt: skip
    opened = read_yaml(path, root, diags, prefetched)
    if opened is None:
        return None
    r, raw = opened
    m = r.mapping(raw, 1, "概况")
    if m is None:
        return None
    r.only_keys(m, key_names(OVERVIEW_KEYS), "概况")
    r.require(m, required_names(OVERVIEW_KEYS), "概况")
    duties = []
    seq = r.sequence(m["主要职责"], m.key_lines["主要职责"], "主要职责") if m.get("主要职责") is not None else None
    for item, line in zip(seq or [], (seq.item_lines if seq else []), strict=False):
        d = r.mapping(item, line, "主要职责的每一项")
        if d is None:
            continue
        r.only_keys(d, key_names(DUTY_KEYS), "主要职责")
        r.require(d, required_names(DUTY_KEYS), "主要职责的这一项")
        duties.append(Duties(r.text(d, "单位"), r.text(d, "引言"), r.texts(d, "职责")))
    composition, units = "", ()
    if m.get("决算单位构成") is not None:
        c = r.mapping(m["决算单位构成"], m.key_lines["决算单位构成"], "决算单位构成")
        if c is not None:
            r.only_keys(c, key_names(COMPOSITION_KEYS), "决算单位构成")
            composition, units = r.text(c, "说明"), r.texts(c, "单位")
    return Overview(r.rel, tuple(duties), r.text(m, "机构设置"), composition, units)


def read_narrative(path: Path, root: Path, diags: Diagnostics, prefetched: dict[str, bytes] | None = None
                   ) -> Narrative | None:  # fmt: skip
    rel = path.relative_to(root).as_posix()
    try:
        text = yamlsrc.read_text(path, rel, prefetched)
    except UserError as exc:
        diags.extend(exc.diagnostics)
        return None
    refs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if PLACEHOLDER in line:
            diags.warning(
                Loc(rel, number), "情况说明的这一处尚未填写（待填写）。照公开文件写出这一段后此提示消失。", "blank"
            )
        for m in FIGURE_LINK.finditer(line):
            unit = (m.group("unit") or "").replace("％", "%")
            refs.append(FigureRef(m.group("text"), m.group("target"), unit, Loc(rel, number)))
    return Narrative(rel, text, tuple(refs))


def read_terms(path: Path, root: Path, diags: Diagnostics, prefetched: dict[str, bytes] | None = None
               ) -> tuple[TermUse, ...] | None:  # fmt: skip
    opened = read_yaml(path, root, diags, prefetched)
    if opened is None:
        return None
    r, raw = opened
    m = r.mapping(raw, 1, "名词解释")
    if m is None:
        return None
    r.only_keys(m, key_names(TERMS_KEYS), "名词解释")
    r.require(m, required_names(TERMS_KEYS), "名词解释")
    seq = r.sequence(m.get("名词"), m.key_lines.get("名词", 1), "名词") if m.get("名词") is not None else None
    uses = []
    for item, line in zip(seq or [], (seq.item_lines if seq else []), strict=False):
        if isinstance(item, Scalar) and norm_is(item, PLACEHOLDER):
            r.placeholder(item, "名词解释")
        elif isinstance(item, Scalar):
            uses.append(TermUse(str(item), None, r.loc(line)))
        elif (d := r.mapping(item, line, "名词的每一项")) is not None:
            r.only_keys(d, key_names(TERM_KEYS), "名词解释的这一项")
            r.require(d, required_names(TERM_KEYS), "名词解释的这一项")
            uses.append(TermUse(r.text(d, "名词"), r.text(d, "解释") or None, r.loc(line)))
    return tuple(uses)


# ------------------------------------------------------------------------------------------ projects

# A printed text where a score belongs, meaning "not scored" (the row's 分值 is then 0): kept as printed.
NOT_SCORED = {"无", "不适用", "—", "-", "/"}
# Checks a project file may acknowledge as printed so in the original (`原件差异:`), after checking the original.
SOURCE_DISCREPANCIES = ["资金合计", "执行率", "资金得分", "指标得分", "分值合计", "得分合计"]
FUND_COLUMN_KEYS = (
    Key("年初预算数", SCORE, doc="年初预算数（元）。"),
    Key("全年预算数", SCORE, doc="全年预算数（元）。"),
    Key("全年执行数", SCORE, doc="全年执行数（元）。"),
)
FUND_KEYS = (
    Key(
        "年度资金总额",
        MAP,
        doc="年度资金总额 = 当年财政拨款 + 上年结转资金 + 其他资金。",
        keys=FUND_COLUMN_KEYS,
        loose=True,
    ),
    Key(
        "当年财政拨款",
        MAP,
        doc="原件印作“其中：当年财政拨款”，两种写法都可以。",
        keys=FUND_COLUMN_KEYS,
        loose=True,
        aliases=("其中：当年财政拨款",),
    ),
    Key("上年结转资金", MAP, keys=FUND_COLUMN_KEYS, loose=True),
    Key("其他资金", MAP, keys=FUND_COLUMN_KEYS, loose=True),
    Key("分值", SCORE, doc="资金执行率的分值（全国通用表式为 10）。"),
    Key("执行率", SCORE, doc="执行率（百分数，照印刷填写，不写 %）。"),
    Key("得分", SCORE, doc="资金执行率的得分。"),
)
FUND_ROWS = [k.name for k in FUND_KEYS if k.kind == MAP]
FUND_COLUMNS = key_names(FUND_COLUMN_KEYS)
GOAL_KEYS = (
    Key("预期目标", TEXT, doc="年度总体目标：预期目标。"),
    Key("实际完成情况", TEXT, doc="年度总体目标：实际完成情况。"),
)
INDICATOR_KEYS = (
    Key("一级指标", TEXT, True, "产出指标、效益指标或满意度指标。"),
    Key("二级指标", TEXT, True, "如 数量指标、社会效益指标、服务对象满意度指标。"),
    Key("三级指标", TEXT, doc="指标名称。"),
    Key("年度指标值", TEXT, doc="照印刷填写，如 ≥200人次。"),
    Key("实际完成值", TEXT, doc="照印刷填写。"),
    Key("分值", SCORE),
    Key("得分", SCORE, doc="不超过分值；未评分印作“无”的照写。"),
    Key("偏差原因分析及改进措施", TEXT),
)
TOTAL_KEYS = (Key("分值", SCORE, doc="总分的分值（全国通用表式为 100）。"), Key("得分", SCORE, doc="总分的得分。"))
PROJECT_KEYS = (
    Key("序号", NUMBER, doc="本表在原件中的次序（整数）。"),
    Key("项目编码", TEXT, True, "项目编码；文件名必须是“项目编码.yaml”。"),
    Key("项目名称", TEXT, True),
    Key("绩效自评年度", TEXT, True),
    Key("实施单位", TEXT, True),
    Key("一级预算单位", TEXT, True),
    Key("资金使用情况", MAP, True, "金额单位：元。", keys=FUND_KEYS),
    Key("年度总体目标", MAP, keys=GOAL_KEYS),
    Key("年度绩效指标", LIST, doc="每个指标一项，以“- 一级指标: …”开头。", keys=INDICATOR_KEYS),
    Key("总分", MAP, keys=TOTAL_KEYS),
    SOURCE_NOTES_KEY,
    Key(
        "原件差异",
        TEXTS,
        doc="已对照原件确认原件本身的算术不符时，写明是哪一项核对；核对记为警告，页面上标“原件如此”。",
        choices=tuple(SOURCE_DISCREPANCIES),
    ),
)


def read_project(path: Path, root: Path, diags: Diagnostics, prefetched: dict[str, bytes] | None = None
                 ) -> ProjectSource | None:  # fmt: skip
    opened = read_yaml(path, root, diags, prefetched)
    if opened is None:
        return None
    r, raw = opened
    m = r.mapping(raw, 1, "项目支出绩效自评表")
    if m is None:
        return None
    r.only_keys(m, key_names(PROJECT_KEYS), "项目支出绩效自评表")
    r.require(m, required_names(PROJECT_KEYS), "项目支出绩效自评表")

    def score(container: Map, key: str, what: str) -> Cell | None:
        if key not in container:
            return None
        value = container[key]
        if isinstance(value, Scalar) and (norm_is(value, norm(WITHHELD)) or str(value).strip() in NOT_SCORED):
            return Cell(None, str(value), r.loc(value.line))
        return r.amount(value, container.key_lines[key], what)

    funds: list[FundRow] = []
    fund_weight = rate = fund_score = None
    if (f := m.get("资金使用情况")) is not None and (fm := r.mapping(f, m.key_lines["资金使用情况"], "资金使用情况")):
        # The form prints "其中：当年财政拨款"; either spelling names the row.
        loose = [k for k in FUND_KEYS if k.loose]
        names = {norm(spelling): k.name for k in loose for spelling in (k.name, *k.aliases)}
        for key in fm:
            name = names.get(norm(key))
            if name is None:
                if key not in key_names(FUND_KEYS):
                    r.error(
                        fm.key_lines[key],
                        f"资金使用情况里没有“{key}”这一项。{suggest(key, key_names(FUND_KEYS))}",
                        "unknown-key",
                    )
                continue
            row = r.mapping(fm[key], fm.key_lines[key], f"资金使用情况「{name}」")
            if row is None:
                continue
            r.only_keys(row, FUND_COLUMNS, f"资金使用情况「{name}」")
            cells = [score(row, c, f"资金使用情况「{name}」「{c}」") for c in FUND_COLUMNS]
            funds.append(FundRow(name, *cells, r.loc(fm.key_lines[key])))
        if not any(x.name == "年度资金总额" for x in funds):
            r.error(fm.line, "资金使用情况缺少“年度资金总额”。", "missing")
        fund_weight = score(fm, "分值", "资金使用情况「分值」")
        rate = score(fm, "执行率", "资金使用情况「执行率」")
        fund_score = score(fm, "得分", "资金使用情况「得分」")

    goal = achieved = ""
    if (g := m.get("年度总体目标")) is not None and (gm := r.mapping(g, m.key_lines["年度总体目标"], "年度总体目标")):
        r.only_keys(gm, key_names(GOAL_KEYS), "年度总体目标")
        goal, achieved = r.text(gm, "预期目标"), r.text(gm, "实际完成情况")

    indicators = []
    seq = m.get("年度绩效指标")
    if seq is not None and (seq := r.sequence(seq, m.key_lines["年度绩效指标"], "年度绩效指标")) is not None:
        for item, line in zip(seq, seq.item_lines, strict=True):
            row = r.mapping(item, line, "年度绩效指标的每一行")
            if row is None:
                continue
            r.only_keys(row, key_names(INDICATOR_KEYS), "年度绩效指标")
            r.require(row, required_names(INDICATOR_KEYS), f"年度绩效指标（第 {line} 行）")
            # Each text read once: reading one again would report its 待填写 again.
            level1, level2, name = r.text(row, "一级指标"), r.text(row, "二级指标"), r.text(row, "三级指标")
            target, actual = r.text(row, "年度指标值"), r.text(row, "实际完成值")
            what = f"指标“{name or level2}”"
            indicators.append(
                Indicator(
                    level1=level1,
                    level2=level2,
                    name=name,
                    target=target,
                    actual=actual,
                    weight=score(row, "分值", f"{what}的分值"),
                    score=score(row, "得分", f"{what}的得分"),
                    deviation=r.text(row, "偏差原因分析及改进措施"),
                    loc=r.loc(line),
                )
            )

    total_weight = total_score = None
    if (t := m.get("总分")) is not None and (tm := r.mapping(t, m.key_lines["总分"], "总分")):
        r.only_keys(tm, key_names(TOTAL_KEYS), "总分")
        total_weight, total_score = score(tm, "分值", "总分「分值」"), score(tm, "得分", "总分「得分」")

    order = None
    if (o := m.get("序号")) is not None:
        if isinstance(o, Scalar) and o.isdigit():
            order = int(o)
        else:
            r.error(m.key_lines["序号"], f"序号应是整数（本表在原件中的次序），而不是“{o}”。", "type")
    code = r.text(m, "项目编码")
    if code and path.stem != code:
        r.error(
            m.key_lines["项目编码"],
            f"文件名应与项目编码一致：项目编码是 {code}，文件却叫 {path.name}。请把文件改名为 {code}.yaml。",
            "file-name",
        )
    return ProjectSource(
        rel=r.rel,
        order=order,
        code=code,
        name=r.text(m, "项目名称"),
        year=r.text(m, "绩效自评年度"),
        implementer=r.text(m, "实施单位"),
        budget_unit=r.text(m, "一级预算单位"),
        funds=tuple(funds),
        fund_weight=fund_weight,
        rate=rate,
        fund_score=fund_score,
        goal=goal,
        achieved=achieved,
        indicators=tuple(indicators),
        total_weight=total_weight,
        total_score=total_score,
        notes=r.texts(m, SOURCE_NOTES),
        acknowledged=_acknowledged(r, m),
        loc=r.loc(1),
        lines=dict(m.key_lines),
    )


def _acknowledged(r: FileReader, m: Map) -> tuple[str, ...]:
    names = r.texts(m, "原件差异")
    for name in names:
        if name not in SOURCE_DISCREPANCIES:
            r.error(
                m.key_lines["原件差异"],
                f"原件差异里的“{name}”不是可注明的核对项。{suggest(name, SOURCE_DISCREPANCIES)}",
                "unknown-key",
            )
    return names


# ------------------------------------------------------------------------------------- departments


def read_year(folder: Path, root: Path, dept: str, year: int, fmt: Format | None, diags: Diagnostics,
              prefetched: dict[str, bytes] | None = None) -> YearSource:  # fmt: skip
    """A year folder's files. `prefetched`: some of them already read, by path from the site folder (taken from
    there instead of read again; see yamlsrc.read_text)."""
    rel = folder.relative_to(root).as_posix()
    ys = YearSource(dept, year, rel, fmt)
    table_files = {t.file: t for t in fmt.tables.values()} if fmt else {}
    known = [*table_files, OVERVIEW_FILE, NARRATIVE_FILE, TERMS_FILE, PROJECTS_DIR]
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.startswith("."):
            continue
        if name in table_files and entry.is_file():
            table = read_table(entry, root, table_files[name], diags, prefetched)
            if table:
                ys.tables[table.fmt.no] = table
            else:
                ys.unreadable.add(table_files[name].no)
        elif name == OVERVIEW_FILE:
            ys.overview = read_overview(entry, root, diags, prefetched)
        elif name == NARRATIVE_FILE:
            ys.narrative = read_narrative(entry, root, diags, prefetched)
        elif name == TERMS_FILE:
            ys.terms_rel = entry.relative_to(root).as_posix()
            ys.terms = read_terms(entry, root, diags, prefetched)
        elif name == PROJECTS_DIR and entry.is_dir() and not _left_site(entry, root, f"{rel}/{name}", diags):
            for p in sorted(entry.iterdir()):
                if p.suffix in (".yaml", ".yml") and p.is_file():
                    project = read_project(p, root, diags, prefetched)
                    if project:
                        ys.projects.append(project)
                    else:
                        ys.unreadable_projects.add(p.stem)
                elif not p.name.startswith("."):
                    diags.error(
                        Loc(p.relative_to(root).as_posix()),
                        "项目文件夹里只能放 .yaml 文件（每个项目一个，文件名为项目编码）。",
                        "unknown-file",
                    )
        elif fmt is not None or not name.endswith((".yaml", ".yml")):
            diags.error(
                Loc(entry.relative_to(root).as_posix()),
                f"不认识的文件“{name}”。{suggest(name, known)}年度文件夹里的文件名必须与格式规定的一致。",
                "unknown-file",
            )
        # else: the year's format could not be read (its own message says why), so its table files are not known
    if fmt and ys.tables and len(ys.tables) < len(fmt.tables):
        # A department publishes all nine tables or none; a partial set means a file is missing or misnamed.
        for no, t in sorted(fmt.tables.items()):
            if no not in ys.tables and not (folder / t.file).exists():
                diags.error(
                    Loc(rel),
                    f"缺少 {t.file}：公开决算表时九张表都要有（没有发生额的表写出合计行，各栏为 0.00）。",
                    "missing-table",
                )
    return ys


def _left_site(path: Path, root: Path, rel: str, diags: Diagnostics) -> bool:
    """Does a symbolic link take `path` out of the site folder? Then that is an error, and it is not read."""
    real = leaves_site(root, path)
    if real is not None:
        diags.extend(outside_error(rel, real).diagnostics)
    return real is not None


def read_department(
    folder: Path,
    root: Path,
    config: SiteConfig,
    formats: dict[str, Format],
    diags: Diagnostics,
    read_years: bool = True,
):
    """A department's 部门.yaml and its year folders; with read_years=False the years are only listed
    (DepartmentSource.year_folders), for a build that reads each one in its own worker."""
    rel = folder.relative_to(root).as_posix()
    slug = folder.name
    if _left_site(folder, root, rel, diags):
        return None
    if slug in RESERVED_SLUGS:
        diags.error(Loc(rel), f"部门文件夹名“{slug}”与站点自用的网址冲突，请换一个名字。", "slug")
        return None
    if not SLUG.match(slug):
        diags.error(
            Loc(rel),
            f"部门文件夹名“{slug}”只能由小写字母、数字和连字符组成（如 luohu-quweiban），因为它会成为网址的一部分。",
            "slug",
        )
        return None
    info = folder / DEPARTMENT_FILE
    name = region = ""
    if not info.is_file():
        diags.error(
            Loc(rel), f"缺少 {DEPARTMENT_FILE}：请写明部门全称，例如“名称: 中共深圳市罗湖区委办公室”。", "missing"
        )
    else:
        opened = read_yaml(info, root, diags)
        if opened is not None:
            r, raw = opened
            m = r.mapping(raw, 1, "部门信息")
            if m is not None:
                r.only_keys(m, key_names(DEPARTMENT_KEYS), "部门信息")
                r.require(m, required_names(DEPARTMENT_KEYS), "部门信息")
                name, region = r.text(m, "名称"), r.text(m, "地区")
    dept = DepartmentSource(slug, name or slug, region, rel)
    for entry in sorted(folder.iterdir()):
        if entry.name == DEPARTMENT_FILE or entry.name.startswith("."):
            continue
        if entry.is_dir() and re.fullmatch(r"[0-9０-９]{4}", entry.name) and not YEAR_FOLDER.fullmatch(entry.name):
            diags.error(
                Loc(entry.relative_to(root).as_posix()),
                f"年度文件夹“{entry.name}”不是一个年份：请用四位半角数字的年份命名，如 2023。",
                "year",
            )
            continue
        if entry.is_symlink() and _left_site(entry, root, entry.relative_to(root).as_posix(), diags):
            continue
        if not (entry.is_dir() and YEAR_FOLDER.fullmatch(entry.name)):
            diags.error(
                Loc(entry.relative_to(root).as_posix()),
                f"部门文件夹里只能有 {DEPARTMENT_FILE} 和年度文件夹（如 2023）。",
                "unknown-file",
            )
            continue
        year = int(entry.name)
        fmt_id = config.formats.get(year)
        if fmt_id is None:
            diags.error(
                Loc(entry.relative_to(root).as_posix()),
                f'site.toml 没有为 {year} 年度指定表格格式。请在 [formats] 下加一行 {year} = "…"。',
                "year",
            )
            continue
        dept.year_folders[year] = entry.relative_to(root).as_posix()
        if read_years:
            dept.years[year] = read_year(entry, root, slug, year, formats.get(fmt_id), diags)
    return dept


# ------------------------------------------------------------------------------------------- content


def read_front_matter(path: Path, root: Path, diags: Diagnostics) -> tuple[Map, str, int] | None:
    """`---` YAML front matter, then Markdown. Returns (front matter, body, line where the body starts)."""
    rel = path.relative_to(root).as_posix()
    try:
        text = yamlsrc.read_text(path, rel)
    except UserError as exc:
        diags.extend(exc.diagnostics)
        return None
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        diags.error(Loc(rel, 1), "文件开头应是以“---”包围的说明（如 术语: …），再写正文。", "front-matter")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        diags.error(Loc(rel, 1), "开头的“---”没有配对的结束行“---”。", "front-matter")
        return None
    try:
        meta = yamlsrc.parse("\n" + "".join(lines[1:end]), rel)
    except UserError as exc:
        diags.extend(exc.diagnostics)
        return None
    if not isinstance(meta, Map):
        diags.error(Loc(rel, 2), "开头的说明应是“名称: 值”的形式。", "front-matter")
        return None
    return meta, "".join(lines[end + 1 :]), end + 2


def _markdown_files(folder: Path, root: Path, diags: Diagnostics, keys: list[str], what: str):
    """Each `<slug>.md` with `---` front matter: (slug, reader, front matter, body). Names become URLs."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.md")):
        rel = path.relative_to(root).as_posix()
        if not SLUG.match(path.stem):
            diags.error(
                Loc(rel),
                f"文件名“{path.name}”只能由小写字母、数字和连字符组成（如拼音 jiben-zhichu.md），它会成为网址。",
                "slug",
            )
            continue
        parsed = read_front_matter(path, root, diags)
        if parsed is None:
            continue
        meta, body, _ = parsed
        r = FileReader(rel, diags)
        r.only_keys(meta, keys, what)
        r.require(meta, keys[:1], what)
        yield path.stem, r, meta, body


def read_glossary(folder: Path, root: Path, diags: Diagnostics) -> dict[str, GlossaryEntry]:
    entries: dict[str, GlossaryEntry] = {}
    for slug, r, meta, body in _markdown_files(folder, root, diags, ["术语", "别名"], "名词说明"):
        if not body.strip():
            r.error(1, "名词解释的正文（定义）是空的。", "missing")
        entries[slug] = GlossaryEntry(slug, r.text(meta, "术语"), r.texts(meta, "别名"), body.strip(), r.rel)
    return entries


def read_pages(folder: Path, root: Path, diags: Diagnostics) -> dict[str, ContentPage]:
    return {
        slug: ContentPage(slug, r.text(meta, "标题"), body, r.rel)
        for slug, r, meta, body in _markdown_files(folder, root, diags, ["标题"], "页面说明")
    }


def department_names(config: SiteConfig, diags: Diagnostics) -> list[str]:
    """The department folders in data/departments/, in name order, hidden names left out. No such folder, or a
    file beside the department folders, is an error."""

    entries = department_entries(config)
    if entries is None:
        diags.error(Loc("data"), f"缺少部门数据文件夹 data/{DEPARTMENTS}/。", "missing")
        return []
    for name, is_dir in entries:
        if not is_dir:
            diags.error(Loc(f"data/{DEPARTMENTS}/{name}"), f"data/{DEPARTMENTS}/ 里只能放部门文件夹。", "unknown-file")
    return [name for name, is_dir in entries if is_dir]


def load_formats(config: SiteConfig, diags: Diagnostics) -> dict[str, Format]:
    """Each format site.toml names, by its id; one that cannot be read is reported and left out."""
    formats: dict[str, Format] = {}
    for fmt_id in sorted(set(config.formats.values())):
        try:
            formats[fmt_id] = load_format(config.data_dir, config.root, fmt_id)
        except UserError as exc:
            diags.extend(exc.diagnostics)
    return formats


def load_site(config: SiteConfig, diags: Diagnostics) -> SiteSource:
    root = config.root
    formats = load_formats(config, diags)
    departments: dict[str, DepartmentSource] = {}
    for name in department_names(config, diags):
        dept = read_department(config.data_dir / DEPARTMENTS / name, root, config, formats, diags)
        if dept:
            departments[dept.slug] = dept
    glossary = read_glossary(config.content_dir / "glossary", root, diags)
    pages = read_pages(config.content_dir, root, diags)
    return SiteSource(formats, departments, glossary, pages)
