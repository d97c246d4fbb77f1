"""YAML that remembers where each value came from, and never guesses a type.

Department staff write amounts like `4,272.71` or `0.00`; YAML 1.1 would turn `0.00` into a float, `1` into an
int and `no` into False. Here every scalar stays the text that was written (a `Scalar`, a `str` with its line),
and the schema of each file decides what it means: money goes straight from that text to `Decimal`.
Mappings keep each key's line, duplicate keys are an error (YAML libraries silently keep the last one), and a
syntax error becomes a Chinese message naming the line.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from generator.core.diagnostics import Diagnostic, Loc, UserError
from generator.core.files import read_source
from generator.sources.yamlnodes import NULLS, Map, Scalar, Seq

try:  # libyaml's parser is several times faster on large sites; the node tree it builds is the same.
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _Loader(_SafeLoader):
    """Every scalar stays text (see Scalar), so YAML's implicit types are never wanted: skip resolving them,
    which otherwise runs a Python regular expression on every scalar even under libyaml."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            return "tag:yaml.org,2002:str"
        return super().resolve(kind, value, implicit)


# PyYAML's problem texts, in Chinese, with what to do. Matched by prefix.
_PROBLEMS = [
    (
        "mapping values are not allowed",
        "这里不能出现“冒号加空格”。可能是缩进不对，或文字里含有“: ”——含冒号的文字请用引号括起来。",
    ),
    ("could not find expected ':'", "缺少“冒号加空格”。每行应写成“名称: 值”，冒号为半角“:”，后面要有一个空格。"),
    ("did not find expected key", "缩进不一致：同一层的各行应左端对齐。"),
    ("expected <block end>", "缩进不一致：这一行比同一层的其他行多了或少了空格。"),
    ("did not find expected '-' indicator", "列表缩进不一致：同一列表的各项“- ”应左端对齐。"),
    ("found unexpected end of stream", "文件在一个未写完的结构中结束：可能少了引号或括号。"),
    ("found unknown escape character", "双引号里的反斜杠“\\”需要写成“\\\\”，或改用单引号。"),
    ("found undefined alias", "“*”开头的文字在 YAML 里有特殊含义，请用引号括起来。"),
    (
        "found character that cannot start any token",
        "这一行以 YAML 的特殊符号开头（如 @、`、%），请把整段文字用引号括起来。",
    ),
    ("expected alphabetic or numeric character", "“*”或“&”开头的文字在 YAML 里有特殊含义，请用引号括起来。"),
    (
        "did not find expected alphabetic or numeric character",
        "“*”或“&”开头的文字在 YAML 里有特殊含义，请用引号括起来。",
    ),
    *(
        (prefix, "“- ”开头的列表项要另起一行，并比上一行多缩进；若“-”是文字的一部分，请把整段文字用引号括起来。")
        for prefix in ("block sequence entries are not allowed", "sequence entries are not allowed")  # libyaml, PyYAML
    ),
]

# A value opened with “[” or “{” is a flow collection (a list, a group of “名称: 值”) that must close on its
# bracket; PyYAML reports the problem where it gave up, often lines later, and names the opening line as context.
_FLOW = {
    "while parsing a flow sequence": ("[", "]", "列表"),
    "while parsing a flow mapping": ("{", "}", "一组“名称: 值”"),
}
_FLOW_TAIL = ("did not find expected key", "expected <block end>", "did not find expected '-' indicator")
_NO_CONTENT = ("did not find expected node content", "expected the node content")


def _flow_message(opening: str, closing: str, what: str, source: str) -> str:
    comma = "这一行用了全角逗号“，”，请改为半角“,”。" if "，" in source else ""
    return (
        f"这一行的“{opening}”在 YAML 里表示{what}，但没有找到与它配对的“{closing}”，或各项之间缺少半角逗号“,”。{comma}"
        f"请补上“{closing}”；若“{opening}”是文字的一部分（如“{opening}注{closing}”），请把整段文字用引号括起来。"
    )


def _value_start(source: str) -> str:
    """The first character of the value on a line (after “名称: ” or “- ”), or of the line."""
    code = source.split(" #", 1)[0]
    value = code.split(": ", 1)[1] if ": " in code else code
    value = value.strip()
    while value.startswith("- "):
        value = value[2:].lstrip()
    return value[:1]


def _explain(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """The line a person should look at, and what to do there, in Chinese.

    libyaml (the fast C parser) and PyYAML word their problems differently, and both often point one line past
    the real cause, so the source lines themselves are consulted: a tab in the indentation, a full-width colon
    “：” where “: ” was meant, a quote opened and never closed.
    """
    problem = exc.problem or str(exc)
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    lines = text.splitlines()

    def source(n: int) -> str:
        return lines[n - 1] if 0 < n <= len(lines) else ""

    if exc.context and "quoted scalar" in exc.context and exc.context_mark:
        return exc.context_mark.line + 1, "这一行的引号没有成对闭合。"
    if exc.context in _FLOW and exc.context_mark:  # the line that opened the bracket, not where PyYAML gave up
        opened = exc.context_mark.line + 1
        return opened, _flow_message(*_FLOW[exc.context], source(opened))
    for n in (line, line - 1):
        code = source(n).split(" #", 1)[0]
        if "：" in code and ": " not in code and not code.strip().startswith("#"):
            return n, "这一行用了全角冒号“：”。名称和值之间应为半角冒号加空格“: ”，例如“本年收入合计: 135.00”。"
    indent = source(line)[: len(source(line)) - len(source(line).lstrip())]
    if "\t" in indent or "\t" in problem:
        return line, "不能用 Tab 键缩进，请改用空格。"
    start = _value_start(source(line))
    if start in ("[", "{") and problem.startswith(_FLOW_TAIL):
        closing, what = {"[": ("]", "列表"), "{": ("}", "一组“名称: 值”")}[start]
        return line, (
            f"这一行的值以“{start}”开头，YAML 把“{start}…{closing}”读作{what}，其后不能再接文字。"
            f"若它是文字的一部分（如“{start}注{closing} …”），请把整段文字用引号括起来。"
        )
    if start in ("]", "}", ",") and problem.startswith(_NO_CONTENT):
        return line, f"这一行的值以“{start}”开头，这个符号在 YAML 里有特殊含义。请把整段文字用引号括起来。"
    for prefix, message in _PROBLEMS:
        if problem.startswith(prefix):
            return line, message
    return line, f"YAML 格式错误（{problem}）。请检查这一行及上一行的缩进、冒号和引号。"


def site_folder(path: Path, rel: str) -> Path:
    """The site folder of a source file at `path`, `rel` being its path from there."""
    return path.parents[rel.count("/")] if rel else path


def read_text(path: Path, rel: str, prefetched: dict[str, bytes] | None = None) -> str:
    """A source file's text. Not UTF-8 is a user error naming the file and the line of the first bad byte.
    `prefetched`: files already read, by path from the site folder (a build digests a department-year's files
    before they are parsed): this file's bytes are taken from there, and dropped from it, instead of read again."""
    data = prefetched.pop(rel, None) if prefetched else None
    if data is None:
        data = read_source(site_folder(path, rel), path, rel)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            "编码错误",
            [
                _diag(
                    Loc(rel, line),
                    "文件不是 UTF-8 编码（可能以 GBK 保存）。请用编辑器“另存为 UTF-8”后再提交。",
                    "encoding",
                )
            ],
        ) from None


def _diag(loc: Loc, message: str, code: str) -> Diagnostic:
    return Diagnostic("error", loc, message, code)


def parse(text: str, rel: str) -> Map | Seq | Scalar | None:
    """Parse YAML text into Map / Seq / Scalar values. Raises UserError with every problem found."""
    from generator.sources.yamlfast import GAVE_UP, read

    value = read(text)  # the plain YAML nearly every data file is, line by line; else PyYAML
    return parse_pyyaml(text, rel) if value is GAVE_UP else value


MAX_DEPTH = 64  # levels of nesting: a data file has a handful; libyaml's composer crashes the process at ~100,000


def _too_deep(text: str) -> int:
    """The line where `text` nests more than MAX_DEPTH levels (blocks by indentation, or [ and {), else 0. An
    over-estimate (brackets inside quotes count too), made before libyaml sees the text."""
    flow = 0
    indents: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        body = line.lstrip(" ")
        if body and body[0] != "#" and not flow:
            indent = len(line) - len(body)
            while indents and indents[-1] >= indent:
                indents.pop()
            indents.append(indent)
            dashes = len(body) - len(body.lstrip("- "))
            if len(indents) + dashes // 2 > MAX_DEPTH:
                return number
        for ch in _BRACKETS.findall(line):
            flow += 1 if ch in "[{" else -1
            if flow > MAX_DEPTH:
                return number
        flow = max(flow, 0)
    return 0


_BRACKETS = re.compile(r"[\[\]{}]")


def parse_pyyaml(text: str, rel: str) -> Map | Seq | Scalar | None:
    """parse() by PyYAML (libyaml), for any YAML: what yamlfast gives up on, and what it is tested against."""
    deep = _too_deep(text)
    if deep:
        message = (
            f"从这一行起层次太深（超过 {MAX_DEPTH} 层）。数据文件只需要几层缩进或括号，请检查是否多写了括号或缩进。"
        )
        raise UserError("YAML 格式错误", [_diag(Loc(rel, deep), message, "yaml")])
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line, message = _explain(exc, text)
        raise UserError("YAML 格式错误", [_diag(Loc(rel, line), message, "yaml")]) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        raise UserError("YAML 格式错误", [_diag(Loc(rel, 0), f"YAML 格式错误：{exc}", "yaml")]) from None
    if node is None:
        return None
    problems: list = []
    try:
        value = _convert(node, rel, problems, [MAX_VALUES])
    except _TooLarge as exc:
        message = (
            f"这个文件展开别名（*名称）后超过 {MAX_VALUES:,} 个值，到这一行为止。数据文件只有几千个值："
            "请检查锚点（&名称）和别名是否互相嵌套，把内容直接写出来。"
        )
        raise UserError("YAML 格式错误", [_diag(Loc(rel, exc.args[0]), message, "yaml")]) from None
    if problems:
        raise UserError("YAML 格式错误", problems)
    return value


class _TooLarge(Exception):
    """More values than MAX_VALUES once aliases are expanded; args: the line of the alias that went past it."""


MAX_VALUES = 500_000  # values in one file, aliases (*名称) expanded: a data file has some thousands


def _convert(node: yaml.Node, rel: str, problems: list, budget: list[int], entry: int = 0):
    """A node as Scalar, Seq or Map, an alias (*名称) expanded where it is used. `budget`: how many more values
    may be made; nine aliases of nine aliases would be a billion, so past MAX_VALUES it stops (_TooLarge, with
    `entry`: the line of the top-level entry being made, since an alias's node has its anchor's line)."""
    line = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge(entry or line)
    if isinstance(node, yaml.ScalarNode):
        quoted = node.style in ("'", '"')
        if not quoted and node.value in NULLS:
            return None
        return Scalar(node.value, line, quoted)
    if isinstance(node, yaml.SequenceNode):
        seq = Seq(_convert(item, rel, problems, budget, entry or item.start_mark.line + 1) for item in node.value)
        seq.line = line
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    mapping = Map()
    mapping.line = line
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(
                _diag(Loc(rel, key_line), "名称（冒号前的部分）必须是一段文字，不能是列表或多层结构。", "yaml")
            )
            continue
        key = key_node.value.strip()
        if key in mapping.key_lines:
            problems.append(
                _diag(
                    Loc(rel, key_line),
                    f"“{key}”出现了两次（第 {mapping.key_lines[key]} 行已有）。同一层里每个名称只能写一次，请删去或合并其中一处。",
                    "duplicate-key",
                )
            )
            continue
        mapping.key_lines[key] = key_line
        mapping[key] = _convert(value_node, rel, problems, budget, entry or key_line)
    return mapping


def load(path: Path, root: Path, prefetched: dict[str, bytes] | None = None) -> Map | Seq | Scalar | None:
    rel = path.relative_to(root).as_posix()
    return parse(read_text(path, rel, prefetched), rel)


def line_of(value, default: int = 0) -> int:
    return getattr(value, "line", default)
