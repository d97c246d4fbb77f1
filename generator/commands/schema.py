"""JSON Schemas for the data files, generated from the definitions the loader itself reads.

An editor with the YAML language server (VS Code with the Red Hat YAML extension) uses them to complete row and
column names and to flag mistakes while a person types. Table files are described by the format file
(data/formats/<id>.yaml: parts, rows, columns); the other files by the key declarations in generator/load.py.
Nothing here is written twice: change the format or the loader's keys and `python -m generator schema`
regenerates every schema (a test fails while the committed ones are stale).

The loader stays the authority. A schema is an editing aid and must never reject what the loader accepts, so
wherever the loader compares names loosely (formats.norm: spaces, quotes, full-width forms and a leading 一、 do
not matter) the schema accepts every such spelling:

- a name written only with ASCII, CJK ideographs, full-width ASCII forms, the ideographic space and comma and the
  quotes norm removes ("plain" text, which is what people type) is checked exactly: it must be one of the names;
- a name containing any other character (a Kangxi radical pasted from a PDF, a circled digit, …) might normalise
  to anything, so the schema lets it through and leaves it to the loader.

The same split gives amounts: a text made of plain digits, separators and signs, or containing some other
character, is accepted; a text of letters or ideographs (“两万元”) is flagged. These character sets are fixed
here rather than computed from the running Python's Unicode tables, so every Python writes the same bytes.
Patterns use only syntax that means the same to Python's `re` and to JavaScript's `RegExp` with the `u` flag.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

from generator.core.config import SiteConfig
from generator.core.diagnostics import Diagnostic, Loc, UserError
from generator.core.money import WITHHELD
from generator.sources.formats import ORDINAL, ColumnNode, Format, Part, Row, TableFormat, load_format, norm
from generator.sources.load import (
    DEPARTMENT_FILE,
    DEPARTMENT_KEYS,
    DEPARTMENTS,
    LIST,
    MAP,
    NOT_SCORED,
    NUMBER,
    OVERVIEW_FILE,
    OVERVIEW_KEYS,
    PROJECT_KEYS,
    PROJECTS_DIR,
    SCORE,
    SOURCE_NOTES_KEY,
    TERMS_FILE,
    TERMS_KEYS,
    TEXT,
    TEXTS,
    Key,
)

SCHEMA_DIR = "schema"
VSCODE_SETTINGS = ".vscode/settings.json"
DRAFT = "http://json-schema.org/draft-07/schema#"

# ------------------------------------------------------------------------------------ character sets

# Plain text: what the loader's comparison maps one-to-one and the schema can therefore check exactly.
_PLAIN = [
    (0x0000, 0x007F),  # ASCII
    (0x3000, 0x3001),  # ideographic space, ideographic comma 、
    (0x3400, 0x4DBF),  # CJK ideographs (extension A)
    (0x4E00, 0x9FFF),  # CJK ideographs
    (0xFF01, 0xFF5E),  # full-width ASCII forms: NFKC maps each to the ASCII character 0xFEE0 below it
    (0x2018, 0x2019),  # ‘ ’
    (0x201C, 0x201D),  # “ ”
    (0x300C, 0x300D),  # 「 」
    (0x20000, 0x2F7FF),  # CJK ideographs, extensions B–F (the compatibility ideographs at 2F800 are not plain)
    (0x30000, 0x3FFFF),  # CJK ideographs, extensions G–H
]
_QUOTES = "\"'“”‘’「」"  # what formats.norm removes
# Python's str.isspace(): the whitespace formats.norm removes and str.strip() strips (a test compares).
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SYNTAX = set("^$\\.*+?()[]{}|/")  # escaped with a backslash, which both dialects allow for exactly these


def _esc(ch: str, in_class: bool = False) -> str:
    """One character, written the same way for Python's `re` and JavaScript's `RegExp(…, "u")`."""
    if ch.isascii():
        if ch.isalnum():
            return ch
        if ch in _SYNTAX or (in_class and ch == "-"):
            return "\\" + ch
        return ch if ch.isprintable() and ch != " " else f"\\x{ord(ch):02x}"
    return f"\\u{ord(ch):04x}" if ch in WHITESPACE else ch


def _class(ranges: list[tuple[int, int]], negate: bool = False, extra: str = "") -> str:
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    body = "".join(
        _esc(chr(lo), True) if lo == hi else f"{_esc(chr(lo), True)}-{_esc(chr(hi), True)}" for lo, hi in merged
    )
    return "[" + ("^" if negate else "") + extra + body + "]"


def _chars(text: str) -> list[tuple[int, int]]:
    return [(ord(c), ord(c)) for c in set(text)]


# Any character outside plain text: a name or amount containing one is left to the loader.
OTHER = _class(_PLAIN, negate=True)
_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
# \s is wider in Python than in JavaScript and the other way round; every character the two disagree on is
# either not plain (so OTHER lets it through) or named here explicitly (\x1c-\x1f).
_SPACE = "\\s\\x1c-\\x1f"
GAP = _class(_chars(_QUOTES + _FULL_WIDTH['"'] + _FULL_WIDTH["'"]), extra=_SPACE) + "*"
_STRIP = f"[{_SPACE}]*"
_DIGIT = _class(_chars("0123456789" + "".join(_FULL_WIDTH[d] for d in "0123456789")))
_ORDINAL = f"(?:(?:[一二三四五六七八九十]{GAP})+、{GAP})?"
_AMOUNT_CHARS = _class(_chars("0123456789,.+-#" + "".join(_FULL_WIDTH[c] for c in "0123456789,.+-#")), extra=_SPACE)
# Keys that begin or end with whitespace: YAML keeps it in quoted keys, the loader strips it. Left unchecked.
PADDED = f"^{_class(_chars(WHITESPACE))}|{_class(_chars(WHITESPACE))}$"


def _position(ch: str) -> str:
    """What stands for one character of a normalised name in plain text: itself, or its full-width form."""
    return _class(_chars(ch + _FULL_WIDTH[ch])) if ch in _FULL_WIDTH else _esc(ch)


def names_pattern(names: list[str], ordinal: bool = True) -> str:
    """Every plain spelling whose formats.norm equals that of one of `names`, anchored.

    `ordinal`: the name starts the compared text, so norm strips a leading 一、 (False for a nested column, whose
    text is joined after its group's)."""
    bodies = sorted({GAP.join(_position(c) for c in (norm(n) if ordinal else norm("X" + n)[1:])) for n in names})
    return f"^{GAP}{_ORDINAL if ordinal else ''}(?:{'|'.join(bodies)}){GAP}$"


AMOUNT_PATTERN = f"^{_AMOUNT_CHARS}*$|{OTHER}"
_NOT_SCORED = "|".join(_position(c) if len(c) == 1 else c for c in sorted(NOT_SCORED))
SCORE_PATTERN = f"^{_AMOUNT_CHARS}*$|{names_pattern([WITHHELD])}|^{_STRIP}(?:{_NOT_SCORED}){_STRIP}$|{OTHER}"
# 科目编码 科目名称, as load._classified_row reads it: 3, 5 or 7 digits, then a name.
CLASS_ROW_PATTERN = f"^{_STRIP}{_DIGIT}{{3}}(?:{_DIGIT}{{2}}){{0,2}}(?!{_DIGIT})[\\s\\S]*[^{_SPACE}]"

# ------------------------------------------------------------------------------------ value schemas

SCALAR = ["boolean", "number", "string"]


def amount_schema(description: str = "") -> dict:
    schema = {
        "type": ["null", "number", "string"],
        "pattern": AMOUNT_PATTERN,
        "patternErrorMessage": '这里应填金额（照印刷填写，如 4,272.71），不能写文字或单位；数值未知时写 "#####"。',
    }
    if description:
        schema["description"] = description
    return schema


def _key_schema(key: Key) -> dict:
    """The value of one declared key, as the loader's readers accept it."""
    nullable = [] if key.required else ["null"]
    schema: dict
    if key.kind == TEXT:
        schema = {"type": sorted(SCALAR + nullable)}
    elif key.kind == TEXTS:
        items: dict = {"enum": list(key.choices)} if key.choices else {"type": SCALAR}
        schema = {"type": sorted(["array", *nullable]), "items": items}
    elif key.kind == SCORE:
        schema = {
            "type": ["null", "number", "string"],
            "pattern": SCORE_PATTERN,
            "patternErrorMessage": '这里应填数字（照印刷填写）；未评分照写“无”，涉密写“有关内容涉密”，数值未知写 "#####"。',
        }
    elif key.kind == NUMBER:
        schema = {"type": ["integer", "null", "string"], "pattern": f"^{_DIGIT}+$|{OTHER}"}
    elif key.kind == MAP:
        schema = _object(key.keys)
        schema["type"] = sorted(["object", *nullable])
    elif key.kind == LIST:
        item = _object(key.keys)
        if key.text_items:
            item["type"] = sorted(["object", *SCALAR])
        schema = {"type": sorted(["array", *nullable]), "items": item}
    else:  # pragma: no cover - every kind is listed above
        raise ValueError(key.kind)
    if key.doc:
        schema["description"] = key.doc
    return schema


def _object(keys: tuple[Key, ...]) -> dict:
    """A mapping with the declared keys. Loose keys (compared with norm) accept every spelling norm accepts."""
    schema: dict = {
        "type": "object",
        "properties": {k.name: _key_schema(k) for k in keys},
        "additionalProperties": False,
        "patternProperties": {PADDED: {}},
    }
    for k in keys:
        if k.loose:
            schema["patternProperties"][names_pattern([k.name, *k.aliases])] = _key_schema(k)
            schema["patternProperties"][OTHER] = {}
            for alias in k.aliases:
                schema["properties"][alias] = _key_schema(k)
    if required := [k.name for k in keys if k.required]:
        schema["required"] = required
    return schema


def file_schema(title: str, keys: tuple[Key, ...], description: str) -> dict:
    schema = _object(keys)
    schema.update({"$schema": DRAFT, "title": title, "description": description})
    return schema


# ------------------------------------------------------------------------------------ table files


def written_name(part: Part, row: Row) -> str:
    """The name a department writes for a row: as printed without its 一、 numbering, with the code where the form
    prints one beside the name (表6); the row's key where the printed label is another row's name (表4 行29–31)."""
    label = ORDINAL.sub("", row.label or "")
    candidates = [f"{row.code} {label}"] if row.code and not row.no else []
    for name in [*candidates, label, row.key]:
        if name and part.find_row(name) is row:
            return name
    return row.key


def _row_names(part: Part, row: Row) -> list[str]:
    """Every name the loader reads as this row (Part.find_row is the authority)."""
    spellings = {row.key, row.label or "", f"{row.code or ''}{row.label or ''}"}
    return sorted(s for s in spellings if s and part.find_row(s) is row)


def _column_level(part: Part, node: ColumnNode | None, amount_ok: bool = False) -> dict:
    """The mapping below a header node (None: the whole header), as load._read_columns reads it: nested by header
    group, or with a group path written in one key (预算数/合计), or a leaf by its own label when it is unique."""
    children = part.tree if node is None else node.children
    root = node is None
    schema: dict = {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
        "patternProperties": {PADDED: {}, OTHER: {}},
    }
    leaves: list[str] = []

    def walk(n: ColumnNode, path: tuple[str, ...]) -> None:
        path = (*path, n.label)
        if n.column is not None:
            leaves.append("/".join(path))
            return
        schema["patternProperties"][names_pattern(["/".join(path)], root)] = _column_level(part, n)
        for child in n.children:
            walk(child, path)

    for child in children:
        walk(child, ())
        if child.column is not None:
            no = f"栏次 {child.column.no}" if child.column.no else child.column.full_label
            schema["properties"][child.label] = amount_schema(no)
        else:
            schema["properties"][child.label] = _column_level(part, child)
    if root:  # a leaf's own label, where no other leaf shares it (Part.find_column)
        leaves += [c.label for c in part.columns if part.find_column(c.label) is c]
    schema["patternProperties"][names_pattern(leaves, root)] = amount_schema()
    if amount_ok:  # a one-column row may give its amount directly
        schema.update(amount_schema())
        schema["type"] = ["null", "number", "object", "string"]
    return schema


def _part_schema(part: Part, fmt: Format, definitions: dict) -> dict:
    if len(part.rows) == 1 and not part.classified:  # one unnamed row (表9): the mapping is the header tree
        return _column_level(part, None)
    ref_name = f"row-{part.key or 'rows'}"
    definitions[ref_name] = _column_level(part, None, amount_ok=len(part.columns) == 1)
    ref = {"$ref": f"#/definitions/{ref_name}"}
    schema: dict = {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
        "patternProperties": {PADDED: {}, OTHER: ref},
    }
    if part.classified:
        schema["properties"]["合计"] = {**ref, "description": "合计行（必须填写）。"}
        for code, name in sorted(fmt.classification.items()):
            level = {3: "类", 5: "款", 7: "项"}.get(len(code), "科目")
            schema["properties"][f"{code} {name}"] = {**ref, "description": f"{level} {code} {name}"}
        schema["patternProperties"][names_pattern(["合计"])] = ref
        schema["patternProperties"][CLASS_ROW_PATTERN] = ref
        return schema
    names = []
    for row in part.data_rows:
        where = f"行{row.no}" if row.no else (row.code or "")
        total = "，合计行必须填写" if row.total else "，全为零时可以不写"
        schema["properties"][written_name(part, row)] = {**ref, "description": f"{where} {row.label}{total}".strip()}
        names += _row_names(part, row)
    schema["patternProperties"][names_pattern(names)] = ref
    return schema


def table_schema(fmt: Format, table: TableFormat) -> dict:
    definitions: dict = {}
    description = f"{table.name}（单位：{fmt.unit}）。{fmt.title}。冒号前写印刷的行名或栏名，冒号后照印刷填写金额。"
    notes = {SOURCE_NOTES_KEY.name: _key_schema(SOURCE_NOTES_KEY)}
    if len(table.parts) == 1:
        schema = _part_schema(table.parts[0], fmt, definitions)
        schema["properties"].update(notes)
    else:
        schema = {
            "type": "object",
            "properties": {p.key: _part_schema(p, fmt, definitions) for p in table.parts} | notes,
            "required": [p.key for p in table.parts],
            "additionalProperties": False,
            "patternProperties": {PADDED: {}},
        }
    schema.update({"$schema": DRAFT, "title": table.name, "description": description})
    if definitions:
        schema["definitions"] = definitions
    return schema


# ------------------------------------------------------------------------------------ files and editor settings

TABLE_SCHEMA = "table-{no}.schema.json"
# Schema file names are ASCII: the YAML language server only resolves relative schema paths made of ASCII.
FIXED_FILES = [  # (schema file, the data files it describes, their keys, what they are)
    ("department.schema.json", f"data/{DEPARTMENTS}/*/{DEPARTMENT_FILE}", DEPARTMENT_KEYS, "部门信息"),
    ("overview.schema.json", f"data/{DEPARTMENTS}/*/*/{OVERVIEW_FILE}", OVERVIEW_KEYS, "第一部分 概况"),
    ("terms.schema.json", f"data/{DEPARTMENTS}/*/*/{TERMS_FILE}", TERMS_KEYS, "第四部分 名词解释"),
    ("project.schema.json", f"data/{DEPARTMENTS}/*/*/{PROJECTS_DIR}/*.yaml", PROJECT_KEYS, "项目支出绩效自评表"),
]


def _dump(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def generate(config: SiteConfig) -> dict[str, bytes]:
    """Every schema file and the editor settings that map them onto the data files: path → bytes."""
    files: dict[str, bytes] = {}
    associations: dict[str, list[str]] = {}
    for name, glob, keys, title in FIXED_FILES:
        schema = file_schema(title, keys, f"{title}（{glob.rsplit('/', 1)[-1]}）。")
        files[f"{SCHEMA_DIR}/{name}"] = _dump(schema)
        associations[f"./{SCHEMA_DIR}/{name}"] = editor_globs([glob])
    problems: list[Diagnostic] = []
    for fmt_id in sorted(set(config.formats.values())):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", fmt_id):
            problems.append(
                Diagnostic(
                    "error",
                    Loc("site.toml"),
                    f"格式名“{fmt_id}”含有字母、数字、连字符以外的字符，编辑器无法找到以它命名的 schema 文件。",
                    "format",
                )
            )
            continue
        try:
            fmt = load_format(config.data_dir, config.root, fmt_id)
        except UserError as exc:
            problems += exc.diagnostics
            continue
        for no, table in sorted(fmt.tables.items()):
            path = f"{SCHEMA_DIR}/{fmt_id}/{TABLE_SCHEMA.format(no=no)}"
            files[path] = _dump(table_schema(fmt, table))
            associations[f"./{path}"] = editor_globs(_table_globs(config, fmt_id, table.file))
    if problems:
        raise UserError("无法生成 schema", problems)
    files[VSCODE_SETTINGS] = _settings(config.root, associations)
    return files


def _table_globs(config: SiteConfig, fmt_id: str, file: str) -> list[str]:
    """The table files a format's schema applies to. The newest year's format takes every year but those of other
    formats (`!` excludes), so a year added with an unchanged format needs no new editor settings."""
    newest = config.formats[max(config.formats)]
    if fmt_id != newest:
        return [f"data/{DEPARTMENTS}/*/{y}/{file}" for y, f in sorted(config.formats.items()) if f == fmt_id]
    others = [f"!data/{DEPARTMENTS}/*/{y}/{file}" for y, f in sorted(config.formats.items()) if f != newest]
    return [f"data/{DEPARTMENTS}/*/*/{file}", *others]


def editor_globs(globs: list[str]) -> list[str]:
    """Each glob as written and, where they differ, percent-encoded. VS Code sends a document's URI
    percent-encoded (file:///…/%E8%A1%A81-….yaml) and the YAML language server matches `yaml.schemas` globs
    against that text, so a glob naming 表1-收入支出决算总表.yaml never matches unless it is encoded the same way
    (vscode-uri: UTF-8, upper-case hex; `-._~` and letters and digits left as they are, like urllib's quote).
    The plain form stays for a client that matches decoded paths. A leading `!` (exclude) is not part of the path."""
    out: list[str] = []
    for glob in globs:
        negated = glob.startswith("!")
        encoded = "!" * negated + quote(glob[negated:], safe="/*")
        out += [glob] if encoded == glob else [glob, encoded]
    return out


def _settings(root: Path, associations: dict[str, list[str]]) -> bytes:
    """.vscode/settings.json with `yaml.schemas` replaced; any other setting already there is kept."""
    path = root / VSCODE_SETTINGS
    settings: dict = {}
    if path.is_file():
        try:
            settings = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UserError(
                "无法更新编辑器设置",
                [
                    Diagnostic(
                        "error",
                        Loc(VSCODE_SETTINGS),
                        "文件不是纯 JSON（可能含有注释），无法自动更新其中的 yaml.schemas。请删去注释后重新运行。",
                        "settings",
                    )
                ],
            ) from None
    settings["yaml.schemas"] = associations
    return _dump(settings)


def stale(config: SiteConfig, files: dict[str, bytes]) -> list[str]:
    """Files that differ from what `generate` writes, and schema files it no longer writes."""
    root = config.root
    out = [p for p, data in files.items() if not (root / p).is_file() or (root / p).read_bytes() != data]
    folder = root / SCHEMA_DIR
    if folder.is_dir():
        out += [
            p.relative_to(root).as_posix()
            for p in sorted(folder.rglob("*.schema.json"))
            if p.relative_to(root).as_posix() not in files
        ]
    return sorted(out)


def write(config: SiteConfig, files: dict[str, bytes]) -> list[str]:
    """Writes what changed and removes schema files no longer generated; returns the paths touched."""
    touched = stale(config, files)
    for rel in touched:
        path = config.root / rel
        if rel in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[rel])
        else:
            path.unlink()
    return touched
