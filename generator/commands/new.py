"""new: a department-year with the format's standard rows, ready to fill.

Every figure is left blank and every text reads 待填写, which the loader reports as warnings: the new year
validates with no errors, and each warning disappears as the figure or text is filled in. The files look like
the bundled ones (行次 and 栏次 in comments), so filling them is copying the printed tables line by line.
`new` only creates: it refuses a year folder that exists and never opens an existing file for writing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from generator.commands.schema import written_name
from generator.core.config import load_config
from generator.core.diagnostics import Diagnostic, Diagnostics, Loc, UserError
from generator.sources.formats import ColumnNode, Format, Part, TableFormat, load_format
from generator.sources.load import (
    DEPARTMENT_FILE,
    DEPARTMENTS,
    NARRATIVE_FILE,
    OVERVIEW_FILE,
    PLACEHOLDER,
    RESERVED_SLUGS,
    SLUG,
    TERMS_FILE,
    read_glossary,
    read_yaml,
)
from generator.sources.yamlnodes import Map

# The headings of 第三部分 情况说明 as departments publish it (DOMAIN.md §1); {year} is the disclosure's year.
NARRATIVE_OUTLINE = [
    "## 一、{year} 年度收入支出决算总体情况说明",
    "### （一）年度收入总体情况",
    "### （二）年度支出总体情况",
    "## 二、{year} 年度财政拨款收入支出总表说明",
    "### （一）{year} 年度财政拨款收入说明",
    "### （二）{year} 年度财政拨款支出说明",
    "## 三、{year} 年度财政拨款“三公”经费支出决算情况说明",
    "### （一）“三公”经费财政拨款支出决算总体情况说明",
    "### （二）“三公”经费财政拨款支出决算具体情况说明",
    "## 四、其他重要事项的情况说明",
    "### （一）机关运行经费支出情况",
    "### （二）政府采购支出情况说明",
    "### （三）国有资产占用情况",
    "### （四）{year} 年度绩效评价情况的说明",
]


def _fail(message: str, where: str) -> UserError:
    return UserError("未新建任何文件", [Diagnostic("error", Loc(where), message, "new")])


def create(root: Path, slug: str, year: int, name: str | None = None, region: str | None = None) -> list[str]:
    """Writes the new department-year; returns the files created (paths relative to the site folder)."""
    config = load_config(root)
    dept_rel = f"data/{DEPARTMENTS}/{slug}"
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise _fail(
            f"部门文件夹名“{slug}”不能用：只能由小写字母、数字和连字符组成（如 luohu-quweiban），"
            f"且不能是站点自用的 {('、'.join(sorted(RESERVED_SLUGS)))}。它会成为网址的一部分。",
            dept_rel,
        )
    fmt_id = config.formats.get(year)
    if fmt_id is None:
        latest = max(config.formats) if config.formats else None
        example = f'{year} = "{config.formats[latest]}"' if latest else f'{year} = "shenzhen-2023"'
        raise _fail(
            f"site.toml 没有为 {year} 年度指定表格格式。请先在 site.toml 的 [formats] 下加一行 {example}"
            "（格式不变时沿用上一年度的格式），再运行 new。",
            "site.toml",
        )
    fmt = load_format(config.data_dir, root, fmt_id)
    dept_dir = root / dept_rel
    year_dir = dept_dir / str(year)
    year_rel = f"{dept_rel}/{year}"
    if year_dir.exists():
        raise _fail(
            f"{year_rel} 已经存在。new 只建立新的年度，从不改动已有的文件；要重新开始，请先把这个文件夹改名或删去。",
            year_rel,
        )
    files: dict[str, str] = {}
    info = dept_dir / DEPARTMENT_FILE
    if info.is_file():
        existing = _department_name(info, root)
        if name and existing and name != existing:
            raise _fail(
                f"{dept_rel}/{DEPARTMENT_FILE} 已写明部门名称“{existing}”，与 --name “{name}”不同。"
                f"new 不改动已有的文件；若名称有误，请直接修改 {DEPARTMENT_FILE}。",
                f"{dept_rel}/{DEPARTMENT_FILE}",
            )
        name = existing or name or slug
    else:
        if not name:
            raise _fail(
                f"还没有部门 {slug}（没有 {dept_rel}/{DEPARTMENT_FILE}）。新部门请用 --name 写明部门全称，例如："
                f"python -m generator new {slug} {year} --name 中共深圳市罗湖区委办公室",
                dept_rel,
            )
        files[f"{dept_rel}/{DEPARTMENT_FILE}"] = department_text(name, region)
    for _, table in sorted(fmt.tables.items()):
        files[f"{year_rel}/{table.file}"] = table_text(fmt, table, name, year)
    files[f"{year_rel}/{OVERVIEW_FILE}"] = overview_text(name, year)
    files[f"{year_rel}/{TERMS_FILE}"] = terms_text(_site_terms(config.content_dir / "glossary", root))
    files[f"{year_rel}/{NARRATIVE_FILE}"] = narrative_text(year)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:  # "x": never replaces a file that exists
            f.write(text)
    return list(files)


def _department_name(path: Path, root: Path) -> str:
    opened = read_yaml(path, root, Diagnostics())
    if opened is None or not isinstance(opened[1], Map):
        return ""
    value = opened[1].get("名称")
    return str(value) if value is not None else ""


def _site_terms(folder: Path, root: Path) -> list[str]:
    return [e.term for _, e in sorted(read_glossary(folder, root, Diagnostics()).items()) if e.term]


def _key(text: str) -> str:
    """A mapping key as YAML reads it back unchanged: plain where that is safe, else double-quoted."""
    if re.fullmatch(r"[^\s#:\[\]{}&*!|>'\"%@`,?\-][^#:]*", text) and text == text.strip():
        return text
    return json.dumps(text, ensure_ascii=False)


# ------------------------------------------------------------------------------------ the files


def department_text(name: str, region: str | None) -> str:
    lines = ["# 部门信息", f"名称: {_key(name)}"]
    lines.append(f"地区: {_key(region)}" if region else "# 地区: 深圳市罗湖区  （部门所属地区，可不写）")
    return "\n".join(lines) + "\n"


def table_text(fmt: Format, table: TableFormat, department: str, year: int) -> str:
    lines = [
        f"# {table.name}",
        f"# {department} {year} 年度部门决算 · 单位：{fmt.unit}",
        "# 行名、栏名与印刷的表格一致；金额照印刷填写（可带千分位逗号）。全为零的行可以不写，合计行必须写。",
        "# 冒号后空着的金额是“待填写”：核对时逐项提示，填上印刷的金额后提示消失。",
    ]
    classified = next((p for p in table.parts if p.classified), None)
    if classified is not None:
        lines += _classified_help(fmt, classified, 0 if len(table.parts) == 1 else 1)
    for part in table.parts:
        lines.append("")
        indent = 0
        if len(table.parts) > 1:
            header = f"{_key(part.key)}:"
            if len(part.columns) == 1 and part.columns[0].no is not None:
                header += f"  # 栏次 {part.columns[0].no} {part.columns[0].label}"
            lines.append(header)
            indent = 1
        lines += _part_lines(part, indent)
    return "\n".join(lines) + "\n"


def _classified_help(fmt: Format, part: Part, indent: int) -> list[str]:
    """How 科目 rows are written, with a 类 and one of its 款 as the example: each row starts where 合计 starts,
    never indented under its 类 (the loader would read an indented row as a column of the row above)."""
    where = "从最左边写起（与“合计:”对齐）" if indent == 0 else "与“合计:”左端对齐"
    top = next((c for c in sorted(fmt.classification) if len(c) == 3), None)
    child = next((c for c in sorted(fmt.classification) if len(c) == 5 and top and c.startswith(top)), None)
    lines = [
        f"# 合计之下，每个科目（类、款、项）各写一行“科目编码 科目名称:”，{where}，不要缩进在所属的类下面；",
        "# 各栏金额缩进两格写在它的下面。" + ("例如：" if top else ""),
    ]
    first = part.tree[0]
    for code in filter(None, (top, child)):
        lines.append(f"# {'  ' * indent}{_key(f'{code} {fmt.classification[code]}')}:")
        node, depth = first, indent + 1
        while node.column is None:  # a header group (表8 本年支出): its first column under it
            lines.append(f"# {'  ' * depth}{_key(node.label)}:")
            node, depth = node.children[0], depth + 1
        lines.append(f"# {'  ' * depth}{_key(node.label)}: 100.00")
    return lines


def _part_lines(part: Part, indent: int) -> list[str]:
    pad = "  " * indent
    if len(part.rows) == 1 and not part.classified:  # one unnamed row: the header tree itself
        return _column_lines(part.tree, indent)
    if part.classified:
        return [f"{pad}合计:", *_column_lines(part.tree, indent + 1)]
    lines = []
    for row in part.data_rows:
        comment = f"  # 行{row.no}" if row.no else ""
        lines.append(f"{pad}{_key(written_name(part, row))}:{comment}")
        if len(part.columns) > 1:
            lines += _column_lines(part.tree, indent + 1)
    return lines


def _column_lines(nodes: tuple[ColumnNode, ...], indent: int) -> list[str]:
    pad = "  " * indent
    lines = []
    for node in nodes:
        if node.column is not None:
            comment = f"  # 栏次 {node.column.no}" if node.column.no is not None else ""
            lines.append(f"{pad}{_key(node.label)}:{comment}")
        else:
            lines.append(f"{pad}{_key(node.label)}:")
            lines += _column_lines(node.children, indent + 1)
    return lines


def overview_text(department: str, year: int) -> str:
    return (
        "\n".join(
            [
                "# 第一部分 概况",
                f"# {department} {year} 年度部门决算。照公开文件填写：把每个“{PLACEHOLDER}”换成公开文件中的文字。",
                "# 有下属单位时，在“主要职责”下为每个单位加一组（- 单位: …、引言: …、职责: …）。",
                "主要职责:",
                f"  - 单位: {_key(department)}",
                f"    引言: {PLACEHOLDER}",
                "    职责:",
                f"      - {PLACEHOLDER}",
                f"机构设置: {PLACEHOLDER}",
                "决算单位构成:",
                f"  说明: {PLACEHOLDER}",
                "  单位:",
                f"    - {PLACEHOLDER}",
            ]
        )
        + "\n"
    )


def terms_text(site_terms: list[str]) -> str:
    lines = [
        "# 第四部分 名词解释",
        "# 下面是站点通用解释（content/glossary/）中的全部名词：请对照公开文件，删去本部门没有解释的名词。",
        "# 本部门自己的解释写成“- 名词: …”，下一行写“  解释: …”。",
        "名词:",
    ]
    lines += [f"  - {_key(term)}" for term in site_terms] or [f"  - {PLACEHOLDER}"]
    return "\n".join(lines) + "\n"


def narrative_text(year: int) -> str:
    blocks = []
    for heading in NARRATIVE_OUTLINE:
        blocks.append(heading.format(year=year))
        if heading.startswith("###"):
            blocks.append(f"{PLACEHOLDER}。")
    return "\n\n".join(blocks) + "\n"
