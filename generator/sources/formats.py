"""Table formats: the national layout of the nine tables, read from data/formats/<id>.yaml.

Rows, 行次, columns, 栏次, header groups, notes and the identities that must hold are data; this module only
turns that data into typed objects and answers questions about it ("which row does 「一、一般公共服务支出」
mean?", "which header cells does this part print?").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from generator.core.diagnostics import Diagnostic, Loc, UserError
from generator.core.frozen import quick_init
from generator.sources.yamlnodes import Map, Scalar, Seq
from generator.sources.yamlsrc import line_of, load

ORDINAL = re.compile(r"^[一二三四五六七八九十]+、")
_QUOTES = str.maketrans("", "", "“”‘’\"'「」")


@functools.lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    """How names are compared: full/half-width, spaces, quotes and a leading 一、 numbering do not matter."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return ORDINAL.sub("", _SPACE.sub("", text))


_SPACE = re.compile(r"\s+")


def norm_is(text: str, normed: str) -> bool:
    """norm(text) == normed, quickly for the many texts that are not (each seen once, so not worth caching): norm
    of a text already in NFKC only leaves characters out, so it can equal `normed` only if the text holds its
    first character."""
    return _may_hold(text, normed) and norm(text) == normed


def norm_has(text: str, normed: str) -> bool:
    """normed in norm(text), quickly in the same way as norm_is."""
    return _may_hold(text, normed) and normed in _norm_once(text)


def _may_hold(text: str, normed: str) -> bool:
    return normed[:1] in text or not unicodedata.is_normalized("NFKC", text)


def _norm_once(text: str) -> str:
    return norm.__wrapped__(text)  # a long text seen once: not kept in norm's cache


@dataclass(frozen=True)
class Column:
    key: str  # its path in the header tree, joined by "/": "本年支出/小计"
    label: str  # the printed leaf label: "小计"
    no: int | None  # 栏次
    path: tuple[str, ...]

    @property
    def full_label(self) -> str:
        return "·".join(self.path)


@dataclass(frozen=True)
class ColumnNode:
    label: str
    children: tuple[ColumnNode, ...] = ()
    column: Column | None = None  # set on leaves


@dataclass(frozen=True)
class Row:
    key: str
    label: str | None  # None: a blank filler row that only prints its 行次
    no: int | None = None  # 行次
    code: str | None = None
    total: bool = False
    indent: int = 0

    @property
    def filler(self) -> bool:
        return self.label is None

    @property
    def display(self) -> str:
        """How a message names the row, as the form prints it: 「一、一般公共服务支出」（行31）, 「30101 基本工资」."""
        label = self.label or ""
        if self.code and not self.no:  # the form prints the code beside the name only where there is no 行次 (表6)
            label = f"{self.code} {label}"
        text = f"「{label}」" if label else ""
        return f"{text}（行{self.no}）" if self.no else text


@dataclass(frozen=True)
class StubColumn:
    label: str
    field: str  # "label", "no" or "code"


@dataclass(frozen=True)
class SumRule:
    total: str
    parts: tuple[tuple[int, str], ...]  # (sign, key)
    line: int = 0


@quick_init
@dataclass(frozen=True)
class HeaderCell:
    label: str
    colspan: int = 1
    rowspan: int = 1
    kind: str = "col"  # "part", "stub", "group", "col", "number"


@dataclass(frozen=True)
class Part:
    key: str  # "" when the table has a single part
    stub: tuple[StubColumn, ...]
    stub_group: str | None
    numbers: tuple[str, int] | None  # the 栏次 row: (label, stub column it sits in); None: not printed
    tree: tuple[ColumnNode, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    classified: bool
    hierarchy: bool
    sums: tuple[SumRule, ...]
    column_sums: tuple[SumRule, ...]
    _row_index: dict[str, Row] = field(default_factory=dict, compare=False, repr=False)
    _col_index: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def find_row(self, key: str) -> Row | None:
        return self._row_index.get(norm(key))

    def find_column(self, key: str) -> Column | None:
        return self._col_index.get(norm(key))

    @property
    def data_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.filler)

    @property
    def width(self) -> int:
        return len(self.stub) + len(self.columns)

    def header_rows(self, with_part_label: bool) -> list[list[HeaderCell]]:
        """The printed header: part label, stub and column groups with their spans, then the 栏次 row."""
        depth = max([_depth(n) for n in self.tree] + [2 if self.stub_group else (1 if self.stub else 0)])
        rows: list[list[HeaderCell]] = [[] for _ in range(depth)]
        if self.stub_group:
            rows[0].append(HeaderCell(self.stub_group, colspan=len(self.stub), rowspan=depth - 1, kind="group"))
            rows[depth - 1].extend(HeaderCell(s.label, kind="stub") for s in self.stub)
        else:
            rows[0].extend(HeaderCell(s.label, rowspan=depth, kind="stub") for s in self.stub)

        def place(node: ColumnNode, level: int) -> None:
            if node.children:
                rows[level].append(HeaderCell(node.label, colspan=_leaves(node), kind="group"))
                for child in node.children:
                    place(child, level + 1)
            else:
                rows[level].append(HeaderCell(node.label, rowspan=depth - level, kind="col"))

        for node in self.tree:
            place(node, 0)
        if with_part_label and self.key:
            rows.insert(0, [HeaderCell(self.key, colspan=self.width, kind="part")])
        if self.numbers is not None:
            label, at = self.numbers
            cells = [HeaderCell(label if i == at else "", kind="number") for i in range(len(self.stub))]
            cells.extend(HeaderCell(str(c.no) if c.no is not None else "", kind="number") for c in self.columns)
            rows.append(cells)
        return rows


def _depth(node: ColumnNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=0)


def _leaves(node: ColumnNode) -> int:
    return sum(_leaves(c) for c in node.children) if node.children else 1


class CellRef(NamedTuple):
    """One cell of one table: 表N / part / row / column (part "" for one-part tables, row "" for one-row tables).
    A named tuple: the checks make and look up some seventy thousand a department-year."""

    table: int
    part: str
    row: str
    col: str


@dataclass(frozen=True)
class Identity:
    total: CellRef
    parts: tuple[tuple[int, CellRef], ...]
    line: int
    table: int | None  # the table it belongs to, or None for a cross-table identity


@dataclass(frozen=True)
class ByCode:
    left: tuple[int, str, str]  # table, part, column
    right: tuple[int, str]  # table, column
    line: int


@dataclass(frozen=True)
class TableFormat:
    no: int
    title: str
    file: str
    note: str
    parts: tuple[Part, ...]
    identities: tuple[Identity, ...]

    @property
    def name(self) -> str:
        return f"表{self.no} {self.title}"

    def part(self, key: str) -> Part | None:
        return self._parts.get(norm(key))

    @functools.cached_property
    def _parts(self) -> dict[str, Part]:
        """Parts by normalised key, the first of each (a check asks for a part thousands of times a year)."""
        parts: dict[str, Part] = {}
        for p in self.parts:
            parts.setdefault(norm(p.key), p)
        return parts


@dataclass(frozen=True)
class IndicatorClass:
    level1: str
    weight: int
    level2: tuple[str, ...]


@dataclass(frozen=True)
class ProjectForm:
    unit: str
    fund_score: int
    total_score: int
    indicators: tuple[IndicatorClass, ...]
    grades: tuple[tuple[str, int], ...]

    def grade(self, score) -> str:
        for name, minimum in self.grades:
            if score >= minimum:
                return name
        return self.grades[-1][0]


@dataclass(frozen=True)
class Format:
    id: str
    title: str
    unit: str
    empty_note: str
    tables: dict[int, TableFormat]
    identities: tuple[Identity, ...]
    by_code: tuple[ByCode, ...]
    classification: dict[str, str]
    classification_title: str
    project_form: ProjectForm | None
    path: str

    def table_by_file(self, name: str) -> TableFormat | None:
        for t in self.tables.values():
            if t.file == name:
                return t
        return None

    def resolve(self, ref: str) -> CellRef | str:
        """`表4/支出/本年支出合计/一般公共预算财政拨款` → CellRef, or a Chinese reason why it names no cell."""
        m = re.match(r"^表(\d+)/(.+)$", ref.strip())
        if not m:
            return f"“{ref}”不是表格位置，应写成“表N/…”，例如 表1/收入/总计"
        table = self.tables.get(int(m.group(1)))
        if table is None:
            return f"没有表{m.group(1)}（本格式共 {len(self.tables)} 张表）"
        rest = m.group(2).split("/")
        if len(table.parts) > 1:
            part = table.part(rest[0])
            if part is None:
                return f"{table.name}没有“{rest[0]}”部分（可用：{'、'.join(p.key for p in table.parts)}）"
            rest = rest[1:]
        else:
            part = table.parts[0]
        if part.classified:
            if not rest:
                return f"{table.name}的位置缺少科目编码或“合计”"
            row_key = rest[0] if norm(rest[0]) == "合计" or rest[0] == "*" else rest[0].split()[0]
            rest = rest[1:]
        elif len(part.rows) == 1:
            row_key = part.rows[0].key
        else:
            if not rest:
                return f"{table.name}的位置缺少行名"
            row = part.find_row(rest[0]) if rest[0] != "*" else None
            if row is None and rest[0] != "*":
                return f"{table.name}{('「' + part.key + '」') if part.key else ''}没有“{rest[0]}”这一行"
            row_key = row.key if row else "*"
            rest = rest[1:]
        col_text = "/".join(rest)
        if not col_text:
            if len(part.columns) != 1:
                names = "、".join(c.key for c in part.columns)
                return f"{table.name}的这一行有多栏，请写明是哪一栏（{names}）"
            column = part.columns[0]
        else:
            column = part.find_column(col_text)
            if column is None:
                names = "、".join(c.key for c in part.columns)
                return f"{table.name}没有“{col_text}”这一栏（可用：{names}）"
        return CellRef(table.no, part.key, row_key, column.key)


# ---------------------------------------------------------------------------------------------- loading


class _FormatReader:
    """Reads one format file; every problem becomes a diagnostic naming the line."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.problems: list[Diagnostic] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Diagnostic("error", Loc(self.rel, line), message, "format"))

    def text(self, mapping: Map, key: str, default: str | None = None) -> str:
        value = mapping.get(key)
        if value is None:
            if default is None:
                self.fail(mapping.line, f"缺少 {key}")
                return ""
            return default
        if not isinstance(value, str):
            self.fail(mapping.key_lines.get(key, mapping.line), f"{key} 应为文字")
            return ""
        return str(value)

    def integer(self, mapping: Map, key: str) -> int | None:
        value = mapping.get(key)
        if value is None:
            return None
        if not (isinstance(value, str) and value.isdigit()):
            self.fail(mapping.key_lines.get(key, mapping.line), f"{key} 应为整数")
            return None
        return int(value)

    def flag(self, mapping: Map, key: str) -> bool:
        return str(mapping.get(key, "false")).lower() == "true"

    def seq(self, mapping: Map, key: str) -> Seq:
        value = mapping.get(key)
        if value is None:
            return Seq()
        if not isinstance(value, Seq):
            self.fail(mapping.key_lines.get(key, mapping.line), f"{key} 应为列表")
            return Seq()
        return value

    def rules(self, mapping: Map, key: str) -> tuple[SumRule, ...]:
        rules = []
        for item in self.seq(mapping, key):
            if not isinstance(item, Map) or "total" not in item or not isinstance(item.get("parts"), Seq):
                self.fail(line_of(item, mapping.line), f"{key} 的每一项应有 total 和 parts")
                continue
            parts = tuple(_signed(str(p)) for p in item["parts"])
            rules.append(SumRule(str(item["total"]), parts, item.line))
        return tuple(rules)

    def columns(self, items: Seq, prefix: tuple[str, ...], auto: list[int]) -> tuple[ColumnNode, ...]:
        nodes = []
        for item in items:
            if not isinstance(item, Map):
                self.fail(line_of(item), "columns 的每一项应为 {label: …}")
                continue
            label = self.text(item, "label")
            path = (*prefix, label)
            if "children" in item:
                nodes.append(ColumnNode(label, self.columns(self.seq(item, "children"), path, auto)))
                continue
            no = self.integer(item, "no")
            if no is None and auto:
                no = auto[0]
            if auto:
                auto[0] = (no or 0) + 1
            nodes.append(ColumnNode(label, (), Column("/".join(path), label, no, path)))
        return tuple(nodes)

    def part(self, raw: Map, table_no: int) -> Part:
        stub_raw = raw.get("stub")
        stub: tuple[StubColumn, ...] = ()
        stub_group = None
        if isinstance(stub_raw, Map):
            stub_group = str(stub_raw["group"]) if stub_raw.get("group") else None
            stub = tuple(
                StubColumn(self.text(s, "label"), self.text(s, "field")) for s in self.seq(stub_raw, "columns")
            )
            for s in stub:
                if s.field not in ("label", "no", "code"):
                    self.fail(stub_raw.line, f"stub 的 field 应为 label、no 或 code，而不是“{s.field}”")
        numbers = None
        auto: list[int] = []
        if isinstance(raw.get("column_numbers"), Map):
            nraw = raw["column_numbers"]
            numbers = (str(nraw.get("label", "")), int(nraw.get("at", 0) or 0))
            auto = [1]
        tree = self.columns(self.seq(raw, "columns"), (), auto)
        leaves: list[Column] = []

        def collect(node: ColumnNode) -> None:
            if node.column:
                leaves.append(node.column)
            for child in node.children:
                collect(child)

        for node in tree:
            collect(node)
        rows = []
        for r in self.seq(raw, "rows"):
            if not isinstance(r, Map):
                self.fail(line_of(r), "rows 的每一项应为 {no: …, label: …}")
                continue
            label = str(r["label"]) if "label" in r else None
            if label is None and r.get("code"):
                self.fail(r.line, "有编码的行必须有 label")
            code = str(r["code"]) if r.get("code") else None
            key = str(r["key"]) if r.get("key") else (code or ORDINAL.sub("", label or ""))
            rows.append(
                Row(key, label, self.integer(r, "no"), code, self.flag(r, "total"), self.integer(r, "indent") or 0)
            )
        key = str(raw.get("key") or "")
        part = Part(
            key=key,
            stub=stub,
            stub_group=stub_group,
            numbers=numbers,
            tree=tree,
            columns=tuple(leaves),
            rows=tuple(rows),
            classified=self.flag(raw, "classified"),
            hierarchy=self.flag(raw, "hierarchy"),
            sums=self.rules(raw, "sums"),
            column_sums=self.rules(raw, "column_sums"),
        )
        for row in rows:  # explicit keys and codes first, so an alias never hides another row's key
            if not row.filler:
                part._row_index.setdefault(norm(row.key), row)
        for row in rows:
            if row.filler:
                continue
            aliases = [row.label or ""]
            if row.code:
                aliases.append(f"{row.code}{row.label}")
            for alias in aliases:
                part._row_index.setdefault(norm(alias), row)
        for col in leaves:
            part._col_index[norm(col.key)] = col
        for col in leaves:  # a leaf's own label also finds it when no other column has that label
            if sum(1 for c in leaves if norm(c.label) == norm(col.label)) == 1:
                part._col_index.setdefault(norm(col.label), col)
        for rule in part.sums:
            for _, k in ((1, rule.total), *rule.parts):
                if part.find_row(k) is None:
                    self.fail(rule.line, f"表{table_no} sums 里的“{k}”不是这一部分的行")
        for rule in part.column_sums:
            for _, k in ((1, rule.total), *rule.parts):
                if part.find_column(k) is None:
                    self.fail(rule.line, f"表{table_no} column_sums 里的“{k}”不是这一部分的栏")
        return part


def _signed(text: str) -> tuple[int, str]:
    return (-1, text[1:]) if text.startswith("-") else (1, text)


def _identities(reader: _FormatReader, fmt: Format, items: Seq, table: TableFormat | None) -> tuple[Identity, ...]:
    out = []
    prefix = f"表{table.no}/" if table else ""
    for item in items:
        if not isinstance(item, Map) or "total" not in item or not isinstance(item.get("parts"), Seq):
            reader.fail(line_of(item), "identities 的每一项应有 total 和 parts")
            continue
        refs = []
        for sign, text in [(1, str(item["total"]))] + [_signed(str(p)) for p in item["parts"]]:
            ref = fmt.resolve(prefix + text)
            if isinstance(ref, str):
                reader.fail(item.line, ref)
                break
            refs.append((sign, ref))
        else:
            out.append(Identity(refs[0][1], tuple(refs[1:]), item.line, table.no if table else None))
    return tuple(out)


def load_format(data_dir: Path, root: Path, format_id: str) -> Format:
    """Read data/formats/<id>.yaml (and the classification it names). Raises UserError listing every problem."""
    path = data_dir / "formats" / f"{format_id}.yaml"
    rel = path.relative_to(root).as_posix()
    if not path.is_file():
        raise UserError(
            "找不到表格格式",
            [
                Diagnostic(
                    "error", Loc("site.toml"), f"site.toml 指定的格式“{format_id}”不存在：没有文件 {rel}。", "format"
                )
            ],
        )
    raw = load(path, root)
    reader = _FormatReader(rel)
    if not isinstance(raw, Map):
        raise UserError(
            "格式文件有误", [Diagnostic("error", Loc(rel, 1), "格式文件应为一个映射（名称: 值）", "format")]
        )

    tables: dict[int, TableFormat] = {}
    for t in reader.seq(raw, "tables"):
        no = reader.integer(t, "no") or 0
        parts = tuple(reader.part(p, no) for p in reader.seq(t, "parts"))
        tables[no] = TableFormat(
            no, reader.text(t, "title"), reader.text(t, "file"), reader.text(t, "note", ""), parts, ()
        )

    classification: dict[str, str] = {}
    classification_title = ""
    if raw.get("classification"):
        cpath = data_dir / "formats" / f"{raw['classification']}.yaml"
        craw = load(cpath, root) if cpath.is_file() else None
        if not isinstance(craw, Map) or not isinstance(craw.get("codes"), Map):
            reader.fail(raw.key_lines["classification"], f"找不到科目表 {cpath.relative_to(root).as_posix()}")
        else:
            classification = {str(k): str(v) for k, v in craw["codes"].items()}
            classification_title = str(craw.get("title") or raw["classification"])

    form = None
    if isinstance(raw.get("project_form"), Map):
        pf = raw["project_form"]
        form = ProjectForm(
            unit=reader.text(pf, "unit", "元"),
            fund_score=reader.integer(pf, "fund_score") or 10,
            total_score=reader.integer(pf, "total_score") or 100,
            indicators=tuple(
                IndicatorClass(
                    reader.text(i, "level1"),
                    reader.integer(i, "weight") or 0,
                    tuple(str(x) for x in reader.seq(i, "level2")),
                )
                for i in reader.seq(pf, "indicators")
            ),
            grades=tuple((reader.text(g, "grade"), reader.integer(g, "min") or 0) for g in reader.seq(pf, "grades")),
        )

    fmt = Format(
        id=format_id,
        title=reader.text(raw, "title"),
        unit=reader.text(raw, "unit", "万元"),
        empty_note=reader.text(raw, "empty_note", "本表本年度无发生额"),
        tables=tables,
        identities=(),
        by_code=(),
        classification=classification,
        classification_title=classification_title,
        project_form=form,
        path=rel,
    )
    # Identities name cells through the format itself, so they are resolved once the tables exist.
    for t in reader.seq(raw, "tables"):
        no = reader.integer(t, "no") or 0
        table = tables[no]
        object.__setattr__(table, "identities", _identities(reader, fmt, reader.seq(t, "identities"), table))
    object.__setattr__(fmt, "identities", _identities(reader, fmt, reader.seq(raw, "identities"), None))
    by_code = []
    for item in reader.seq(raw, "by_code"):
        left, right = fmt.resolve(str(item.get("left", ""))), fmt.resolve(str(item.get("right", "")))
        if isinstance(left, str) or isinstance(right, str):
            reader.fail(item.line, left if isinstance(left, str) else str(right))
            continue
        by_code.append(ByCode((left.table, left.part, left.col), (right.table, right.col), item.line))
    object.__setattr__(fmt, "by_code", tuple(by_code))
    if reader.problems:
        raise UserError("格式文件有误", reader.problems)
    return fmt


def is_scalar(value) -> bool:
    return isinstance(value, Scalar)
