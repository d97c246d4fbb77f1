"""The JSON Schemas an editor uses: generated from the format and the loader, current, and never stricter than the
loader (an editing aid must not flag what the validator accepts), while still naming a misspelt row."""

from __future__ import annotations

import json
import re
import shutil
import string
import subprocess
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from conftest import DEPT, FILES, REPO, YEAR, TinySite, in_ci

from generator.commands import schema
from generator.commands.cli import main
from generator.core.config import load_config
from generator.core.diagnostics import Diagnostics
from generator.core.money import AmountError, is_unknown_mark, parse_decimal
from generator.sources import yamlsrc
from generator.sources.formats import norm
from generator.sources.load import load_site
from generator.sources.yamlnodes import Map, Seq

# -- how an editor sees a YAML file ------------------------------------------------------------------------------


def instance(path: Path, root: Path, typed: bool):
    """A data file as JSON. `typed`: scalars as the YAML language server types them (YAML 1.2 core schema: 0.00 is
    a number, true a boolean); otherwise every scalar as its text, the way the loader reads it."""
    return _convert(yamlsrc.load(path, root), typed)


def _convert(value, typed: bool):
    if isinstance(value, Map):
        return {k: _convert(v, typed) for k, v in value.items()}
    if isinstance(value, Seq):
        return [_convert(v, typed) for v in value]
    if value is None:
        return None
    text = str(value)
    if typed and not value.quoted:
        if re.fullmatch(r"true|True|TRUE|false|False|FALSE", text):
            return text.lower() == "true"
        if re.fullmatch(r"[-+]?[0-9]+", text):
            return int(text)
        if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", text):
            return Decimal(text)  # a JSON number; jsonschema counts Decimal as one
    return text


def schemas_for(root: Path) -> list[tuple[dict, list[str]]]:
    """Each generated schema with the file globs .vscode/settings.json maps it onto."""
    files = schema.generate(load_config(root))
    settings = json.loads(files[schema.VSCODE_SETTINGS])["yaml.schemas"]
    return [(json.loads(files[path.removeprefix("./")]), globs) for path, globs in settings.items()]


TABLE1_ENCODED = "%E8%A1%A81-%E6%94%B6%E5%85%A5%E6%94%AF%E5%87%BA%E5%86%B3%E7%AE%97%E6%80%BB%E8%A1%A8.yaml"


def vscode_uri(path: str) -> str:
    """A file's URI as VS Code sends it to the language server (vscode-uri's URI.file(path).toString()): each
    UTF-8 byte of the path outside A–Z a–z 0–9 - . _ ~ and / written %XX, upper-case."""
    keep = string.ascii_letters + string.digits + "-._~/"
    return "file://" + "".join(c if c in keep else "".join(f"%{b:02X}" for b in c.encode()) for c in path)


def server_matches(globs: list[str], uri: str) -> bool:
    """Whether yaml-language-server applies a schema with these `yaml.schemas` globs to a document: its
    FilePatternAssociation prefixes each glob with **/ and matches it (picomatch; * within one path segment)
    against the document's URI as sent, percent-encoded; a match of any !glob excludes."""

    def hit(glob: str) -> bool:
        assert "**" not in glob and "?" not in glob and "[" not in glob, glob  # this emulation's subset
        body = "".join("[^/]*" if ch == "*" else re.escape(ch) for ch in glob.lstrip("/"))
        return re.fullmatch(f"(?:.*/)?{body}", uri) is not None

    included = [g for g in globs if not g.startswith("!")]
    excluded = [g[1:] for g in globs if g.startswith("!")]
    return any(hit(g) for g in included) and not any(hit(g) for g in excluded)


def mapped_schemas(root: Path, rel: str) -> list[dict]:
    """The schemas the editor applies to `rel`, found the way the language server finds them."""
    uri = vscode_uri((root / rel).resolve().as_posix())
    return [body for body, globs in schemas_for(root) if server_matches(globs, uri)]


def schema_errors(root: Path, rel: str, typed: bool = False) -> list[str]:
    """What the schema mapped onto `rel` says about it (the editor's squiggles): where, and jsonschema's words up to
    the patterns it quotes."""
    bodies = mapped_schemas(root, rel)
    assert len(bodies) == 1, f"{len(bodies)} schemas are mapped onto {rel}"
    validator = jsonschema.Draft7Validator(bodies[0])
    errors = validator.iter_errors(instance(root / rel, root, typed))
    return sorted(f"{'/'.join(map(str, e.path))}: {_head(e.message)}" for e in errors)


def _head(message: str) -> str:
    for cut in (" does not match any of the regexes", " does not match "):
        if cut in message:
            return message.split(cut)[0] + cut.rstrip()
    return message


def load_errors(root: Path) -> list[str]:
    diags = Diagnostics()
    load_site(load_config(root), diags)
    return [d.format() for d in diags.sorted() if d.level == "error"]


# -- generated, current, deterministic ---------------------------------------------------------------------------


def test_committed_schemas_are_current():
    config = load_config(REPO)
    outdated = schema.stale(config, schema.generate(config))
    assert outdated == [], "运行 python -m generator schema 重新生成并提交：" + "、".join(outdated)


def test_generation_is_byte_identical_and_sorted():
    config = load_config(REPO)
    first, second = schema.generate(config), schema.generate(config)
    assert first == second
    for data in first.values():
        assert data == (json.dumps(json.loads(data), ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def test_every_bundled_data_file_has_a_schema_and_passes_it():
    data_files = sorted(
        p.relative_to(REPO).as_posix() for p in (REPO / "data" / "departments").rglob("*.yaml") if p.is_file()
    )
    assert len(data_files) > 30
    for rel in data_files:
        for typed in (False, True):
            assert schema_errors(REPO, rel, typed) == [], rel


def test_editor_uris_are_encoded_as_vscode_encodes_them():
    """The helper the tests match with writes a URI as vscode-uri does (URI.file(…).toString(), run once in node):
    the language server sees the Chinese file names percent-encoded, never as written."""
    assert vscode_uri("/home/u/proj/data/departments/luohu-quweiban/2023/表1-收入支出决算总表.yaml") == (
        f"file:///home/u/proj/data/departments/luohu-quweiban/2023/{TABLE1_ENCODED}"
    )
    assert vscode_uri("/a/b!c (1)/项目/x.yaml") == "file:///a/b%21c%20%281%29/%E9%A1%B9%E7%9B%AE/x.yaml"
    assert not server_matches(
        [f"data/departments/*/*/{FILES[1]}"], vscode_uri(f"/p/data/departments/d/2023/{FILES[1]}")
    )


def test_a_schema_follows_the_format_file(site: TinySite, tables):
    """Rename a row in the format: the regenerated schema offers the new name and flags the old one."""
    fmt = site.root / "data" / "formats" / "shenzhen-2023.yaml"
    fmt.write_text(fmt.read_text(encoding="utf-8").replace("其他收入", "其它收入"), encoding="utf-8")
    table1 = next(body for body, globs in schemas_for(site.root) if globs[0].endswith(FILES[1]))
    assert "其它收入" in table1["properties"]["收入"]["properties"]
    tables[1]["收入"]["其他收入"] = "0.00"
    site.write_tables(tables)
    assert schema_errors(site.root, site.table_rel(1)) == ["收入: '其他收入' does not match any of the regexes"]


# -- it flags mistakes while one types ---------------------------------------------------------------------------


def test_misspelt_row_name_is_rejected_by_name(site: TinySite, tables):
    tables[1]["收入"]["一般公共预算财政拨款收人"] = tables[1]["收入"].pop("一般公共预算财政拨款收入")
    site.write_tables(tables)
    assert schema_errors(site.root, site.table_rel(1)) == [
        "收入: '一般公共预算财政拨款收人' does not match any of the regexes"
    ]
    assert any("没有“一般公共预算财政拨款收人”这一行" in e for e in load_errors(site.root))


@pytest.mark.parametrize(
    "table,edit,needle",
    [
        (
            3,
            lambda t: t[3]["2010301 行政运行"].update({"基本支付": "1.00"}),
            "2010301 行政运行: '基本支付' does not match any",
        ),
        (9, lambda t: t[9]["决算数"].update({"公务接待费": "两万元"}), "决算数/公务接待费: '两万元' does not match"),
        (3, lambda t: t[3].update({"行政运行": {"基本支出": "1.00"}}), ": '行政运行' does not match any"),
        (
            6,
            lambda t: t[6]["人员经费"].update({"30101 基本工钱": "1.00"}),
            "人员经费: '30101 基本工钱' does not match any",
        ),
        (4, lambda t: t[4]["支出"].update({"总计": "140.00"}), "支出/总计: '140.00' is not of type 'object'"),
    ],
    ids=["column", "text-for-amount", "row-without-code", "table6-row", "row-needs-columns"],
)
def test_other_mistakes_are_flagged(site: TinySite, tables, table, edit, needle):
    edit(tables)
    site.write_tables(tables)
    errors = schema_errors(site.root, site.table_rel(table))
    assert any(m.startswith(needle) for m in errors), errors
    assert load_errors(site.root)  # and the loader agrees that it is a mistake


def test_project_and_overview_keys_are_checked(site: TinySite):
    rel = f"data/departments/{DEPT}/{YEAR}/概况.yaml"
    site.write(
        rel,
        "主要职责:\n  - 单位: 测试部门\n    职责:\n      - 测试。\n机构设置: 无\n决算单位构成:\n  说民: 一个单位。\n",
    )
    assert schema_errors(site.root, rel) == ["决算单位构成: '说民' does not match any of the regexes"]
    assert any("决算单位构成里没有“说民”这一项" in e for e in load_errors(site.root))


# -- it never flags what the loader accepts ----------------------------------------------------------------------

KANGXI = str.maketrans({"一": "\u2f00", "支": "\u2f40"})  # ⼀ ⽀: what PDF text extraction often produces

VARIANTS = [
    # (table, what the test does to the tiny year's data)
    (1, lambda t: t[1]["支出"].update({"一、一般公共服务支出": t[1]["支出"].pop("一般公共服务支出")})),
    (1, lambda t: t[1]["支出"].update({"一般公共 服务支出": t[1]["支出"].pop("一般公共服务支出")})),
    (1, lambda t: t[1]["支出"].update({"一般公共服务支出".translate(KANGXI): t[1]["支出"].pop("一般公共服务支出")})),
    (1, lambda t: t[1]["收入"].update({"使用非财政拨款结余(含专用结余)": "0.00"})),
    (1, lambda t: t[1]["收入"].update({"一般公共预算财政拨款收入": {"决算数": "120.00"}})),
    (1, lambda t: t[1]["收入"].update({"年初结转和结余": "５．００"})),
    (1, lambda t: t[1]["收入"].update({"年初结转和结余": '"#####"'})),
    (1, lambda t: t[1]["收入"].update({"年初结转和结余": ""})),
    (4, lambda t: t[4]["支出"].update({"一、一般公共服务支出": t[4]["支出"].pop("一般公共服务支出")})),
    (6, lambda t: t[6]["人员经费"].update({"30101基本工资": t[6]["人员经费"].pop("30101 基本工资")})),
    (6, lambda t: t[6]["人员经费"].update({"30102": t[6]["人员经费"].pop("30102 津贴补贴")})),
    (7, lambda t: t[7]["合计"].update({"本年支出/小计": t[7]["合计"]["本年支出"].pop("小计")})),
    (7, lambda t: t[7]["合计"].update({"小计": t[7]["合计"]["本年支出"].pop("小计")})),
    (9, lambda t: t[9]["决算数"].update({"“因公出国(境)费”": t[9]["决算数"].pop("因公出国（境）费")})),
    (9, lambda t: t[9].update({"预算数/合计": t[9]["预算数"].pop("合计")})),
    (3, lambda t: t[3].update({"２０１０３０１ 行政运行": t[3].pop("2010301 行政运行")})),
    (3, lambda t: t[3].update({"一、合计": t[3].pop("合计")})),
]


@pytest.mark.parametrize("table,edit", VARIANTS, ids=[f"v{i}" for i in range(len(VARIANTS))])
def test_every_spelling_the_loader_accepts_passes_the_schema(site: TinySite, tables, table, edit):
    edit(tables)
    site.write_tables(tables)
    assert load_errors(site.root) == []
    for typed in (False, True):
        assert schema_errors(site.root, site.table_rel(table), typed) == []


def test_project_spellings_the_loader_accepts_pass_the_schema(site: TinySite):
    from test_projects import REL, project, write

    body = project()
    funds = body["资金使用情况"]
    funds["其中:当年财政拨款"] = funds.pop("当年财政拨款")
    body["年度绩效指标"][0]["得分"] = "有关内容涉密"
    body["年度绩效指标"][1]["得分"] = "无"
    write(site, body)
    assert load_errors(site.root) == []
    assert schema_errors(site.root, REL) == schema_errors(site.root, REL, typed=True) == []


# Characters that normalise to something else, are whitespace, or are digits: the only ones whose presence can
# make a spelling the loader accepts differ from the plain name (every other character stays itself).
@cache
def interesting() -> list[str]:
    return [
        chr(c)
        for c in range(0x110000)
        if not 0xD800 <= c <= 0xDFFF
        and (
            unicodedata.normalize("NFKC", chr(c)) != chr(c) or chr(c).isspace() or unicodedata.category(chr(c)) == "Nd"
        )
    ]


@pytest.mark.parametrize(
    "name,ordinal",
    [("一般公共服务支出", True), ("因公出国（境）费", True), ("30101基本工资", True), ("本年支出/小计", False)],
)
def test_name_patterns_accept_every_single_character_variant(name, ordinal):
    """Exhaustive over one substituted or inserted character: whatever norm reads as the name, the schema accepts
    (by the name's pattern, or by OTHER when the spelling has a character that is not plain text)."""
    pattern, other = re.compile(schema.names_pattern([name], ordinal)), re.compile(schema.OTHER)
    prefix = "" if ordinal else "X"  # a nested column is compared after its group's name
    missed = []
    for i in range(len(name) + 1):
        for ch in [*interesting(), "“", "'"]:
            for candidate in (name[:i] + ch + name[i + 1 :], name[:i] + ch + name[i:]):
                accepted = pattern.search(candidate) or other.search(candidate)
                if norm(prefix + candidate) == norm(prefix + name) and not accepted:
                    missed.append(candidate)
    assert missed == []
    assert not pattern.search(name.replace(name[1], "某"))  # and a wrong character is still a mistake


def _amount_accepted(text: str) -> bool:
    if is_unknown_mark(text):
        return True
    try:
        parse_decimal(text)
    except AmountError:
        return False
    return True


def test_amount_pattern_accepts_every_amount_the_loader_accepts():
    pattern = re.compile(schema.AMOUNT_PATTERN)
    missed = [
        text
        for ch in interesting() + list("0123456789,.+-#")
        for text in (ch, f"1{ch}", f"{ch}1", f"1{ch}2", f"12,34{ch}.5", f"{ch}##")
        if _amount_accepted(text) and not pattern.search(text)
    ]
    assert missed == []
    assert [t for t in ("两万元", "4272.71万元", "约100", "abc", "10%") if pattern.search(t)] == []


def test_class_row_pattern_accepts_every_code_the_loader_accepts():
    from generator.sources.load import CLASS_CODE

    pattern = re.compile(schema.CLASS_ROW_PATTERN)
    digits = [c for c in interesting() if unicodedata.category(c) == "Nd"]
    for d in digits:
        for key in (f"{d * 3} 名称", f"{d * 5}名称", f"{d * 7}\u3000名称"):
            m = re.match(r"^(\d+)\s*(.*)$", key.strip())
            if m and CLASS_CODE.match(m.group(1)) and m.group(2).strip():
                assert pattern.search(key) or re.search(schema.OTHER, key), key
    assert not pattern.search("行政运行") and not pattern.search("2010301")


def test_whitespace_is_pythons():
    assert "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) == schema.WHITESPACE


# -- the patterns mean the same in the editor (JavaScript) --------------------------------------------------------


def _patterns(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "pattern":
                found.append(item)
            if key == "patternProperties":
                found += list(item)
            found += _patterns(item)
    elif isinstance(value, list):
        for item in value:
            found += _patterns(item)
    return found


ALL_PATTERNS = sorted({p for body, _ in schemas_for(REPO) for p in _patterns(body)})


def test_patterns_use_only_syntax_both_dialects_read_alike():
    """\\s, \\S, \\xHH, \\uHHHH and a backslash before a syntax character: nothing Python and JavaScript differ on."""
    for p in ALL_PATTERNS:
        escapes = re.findall(r"\\(u[0-9a-f]{4}|x[0-9a-f]{2}|[sS]|[\^$\\.*+?()\[\]{}|/\-])|\\", p)
        assert all(escapes), p
        assert "\\d" not in p and "\\w" not in p and "(?P" not in p


def _texts(root: Path) -> set[str]:
    def walk(value) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {t for v in value.values() for t in walk(v)}
        if isinstance(value, list):
            return {t for v in value for t in walk(v)}
        return {value} if isinstance(value, str) else set()

    return {t for p in (root / "data" / "departments").rglob("*.yaml") for t in walk(instance(p, root, False))}


def test_patterns_give_the_same_answers_in_javascript():
    if shutil.which("node") is None:  # the editor's YAML server runs the patterns as JavaScript
        message = "node (JavaScript) not installed: cannot compare the pattern dialects (apt-get install nodejs)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    keys = [
        "一、一般公共服务支出",
        "一般公共服务支出",
        "一般公共服务之出",
        "２０１０３０１ 行政运行",
        "行政运行",
        " 合计",
        "两万元",
    ]
    keys += ["4,272.71", "#####", "因公出国(境)费", "“因公出国（境）费”", "预算数/合计", "\u2f00般公共服务\u2f40出"]
    keys += sorted(_texts(REPO))  # every key and value of the bundled data
    expected = [[bool(re.search(p, k)) for k in keys] for p in ALL_PATTERNS]
    script = (
        "const [ps, ks] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(ps.map(p => { const r = new RegExp(p, 'u'); return ks.map(k => r.test(k)); })));"
    )
    out = subprocess.run(
        ["node", "-e", script], input=json.dumps([ALL_PATTERNS, keys]), capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == expected


# -- the command -------------------------------------------------------------------------------------------------


def test_schema_command_writes_checks_and_keeps_other_editor_settings(site: TinySite, capsys):
    site.write(".vscode/settings.json", '{"editor.tabSize": 2}\n')
    assert main(["schema", "--site", str(site.root)]) == 0
    settings = json.loads((site.root / ".vscode/settings.json").read_text(encoding="utf-8"))
    assert settings["editor.tabSize"] == 2
    assert settings["yaml.schemas"]["./schema/shenzhen-2023/table-1.schema.json"] == [
        f"data/departments/*/*/{FILES[1]}",
        f"data/departments/*/*/{TABLE1_ENCODED}",
    ]
    capsys.readouterr()
    assert main(["schema", "--check", "--site", str(site.root)]) == 0
    table = site.root / "schema/shenzhen-2023/table-1.schema.json"
    table.write_text("{}\n", encoding="utf-8")
    (site.root / "schema/shenzhen-2023/table-10.schema.json").write_text("{}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["schema", "--check", "--site", str(site.root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "schema/shenzhen-2023/table-1.schema.json: 错误：与表格格式或读取程序不一致。请运行 python -m generator schema 重新生成并提交。",
        "schema/shenzhen-2023/table-10.schema.json: 错误：与表格格式或读取程序不一致。请运行 python -m generator schema 重新生成并提交。",
        "schema 检查完成：2 个文件过时。",
    ]
    assert main(["schema", "--site", str(site.root)]) == 0
    assert not (site.root / "schema/shenzhen-2023/table-10.schema.json").exists()
    assert main(["schema", "--check", "--site", str(site.root)]) == 0


def test_each_year_gets_its_formats_schemas_and_a_new_year_needs_no_new_settings(site: TinySite, capsys):
    """The newest year's format covers every year but those of other formats; adding a year in that format
    changes nothing, so a department adding a year never finds the editor settings out of date."""
    fmt = site.root / "data" / "formats"
    shutil.copy(fmt / "shenzhen-2023.yaml", fmt / "shenzhen-2021.yaml")
    toml = site.root / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '2021 = "shenzhen-2021"\n', encoding="utf-8")
    assert main(["schema", "--site", str(site.root)]) == 0
    settings = json.loads((site.root / ".vscode/settings.json").read_text(encoding="utf-8"))["yaml.schemas"]
    assert settings["./schema/shenzhen-2021/table-1.schema.json"] == [
        f"data/departments/*/2021/{FILES[1]}",
        f"data/departments/*/2021/{TABLE1_ENCODED}",
    ]
    assert settings["./schema/shenzhen-2023/table-1.schema.json"] == [
        f"data/departments/*/*/{FILES[1]}",
        f"data/departments/*/*/{TABLE1_ENCODED}",
        f"!data/departments/*/2021/{FILES[1]}",
        f"!data/departments/*/2021/{TABLE1_ENCODED}",
    ]
    # As the editor sends them, a 2021 file gets only the 2021 schema and a 2023 file only the 2023 one.
    for year, fmt_id in ((2021, "shenzhen-2021"), (2023, "shenzhen-2023"), (2024, "shenzhen-2023")):
        uri = vscode_uri((site.root / f"data/departments/{DEPT}/{year}/{FILES[1]}").as_posix())
        mapped = [path for path, globs in settings.items() if server_matches(globs, uri)]
        assert mapped == [f"./schema/{fmt_id}/table-1.schema.json"], year
    toml.write_text(toml.read_text(encoding="utf-8") + '2024 = "shenzhen-2023"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["schema", "--check", "--site", str(site.root)]) == 0


def test_schema_command_refuses_settings_with_comments(site: TinySite, capsys):
    site.write(".vscode/settings.json", '// mine\n{"editor.tabSize": 2}\n')
    assert main(["schema", "--site", str(site.root)]) == 1
    err = capsys.readouterr().err
    assert (
        ".vscode/settings.json: 错误：文件不是纯 JSON（可能含有注释），无法自动更新其中的 yaml.schemas。请删去注释后重新运行。"
        in err
    )
    assert (site.root / ".vscode/settings.json").read_text(encoding="utf-8") == '// mine\n{"editor.tabSize": 2}\n'


def test_schema_help(capsys):
    with pytest.raises(SystemExit):
        main(["schema", "--help"])
    assert "JSON Schema" in capsys.readouterr().out
