"""Bad input: a clear Chinese message naming the file and line and what to fix, exit code 1, no traceback,
and nothing lost (no source file is ever rewritten)."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import DEPT, REPO, YEAR, TinySite, run_command

from generator.commands.cli import main

run = run_command


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_misspelt_row_name(site: TinySite, tables, capsys):
    tables[1]["收入"]["一般公共预算财政拨款收人"] = tables[1]["收入"].pop("一般公共预算财政拨款收入")
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    rel = site.table_rel(1)
    line = site.line_of(rel, "收人")
    assert code == 1
    expected = f"{rel}:{line}: 错误：表1 收入支出决算总表「收入」里没有“一般公共预算财政拨款收人”这一行。是否应为「一般公共预算财政拨款收入」？"
    assert any(x.startswith(expected) for x in lines(text)), text


@pytest.mark.parametrize(
    "table,written,meant",
    [
        (1, "科学技术支岀", "科学技术支出"),
        (4, "住房保障支付", "住房保障支出"),
        (1, "一、一般公共服务支岀", "一般公共服务支出"),
    ],
)
def test_misspelt_expenditure_row_is_offered_the_printed_name(site: TinySite, tables, capsys, table, written, meant):
    """表1 and 表4 list the 26 function classes by name (a wrong character, 岀 for 出, is easy to type): the
    suggestion is the name as printed on the form, not the class code the format files it under."""
    tables[table]["支出"][written] = tables[table]["支出"].pop("一般公共服务支出")
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    rel = site.table_rel(table)
    line = site.line_of(rel, written)
    assert code == 1
    name = {1: "表1 收入支出决算总表", 4: "表4 财政拨款收入支出决算总表"}[table]
    expected = f"{rel}:{line}: 错误：{name}「支出」里没有“{written}”这一行。是否应为「{meant}」？"
    assert expected in lines(text), text


def test_misspelt_economic_row_is_offered_code_and_name(site: TinySite, tables, capsys):
    """表6 prints the code beside the name, and that is how its rows are written: the suggestion says both."""
    tables[6]["人员经费"]["30101 基本公资"] = tables[6]["人员经费"].pop("30101 基本工资")
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    rel = site.table_rel(6)
    expected = (
        f"{rel}:{site.line_of(rel, '基本公资')}: 错误：表6 一般公共预算财政拨款基本支出决算明细表「人员经费」里没有"
        "“30101 基本公资”这一行。是否应为「30101 基本工资」？"
    )
    assert code == 1 and expected in lines(text), text


def test_misspelt_column_name(site: TinySite, tables, capsys):
    row = tables[3]["2010301 行政运行"]
    row["基本支付"] = row.pop("基本支出")
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    rel = site.table_rel(3)
    line = site.line_of(rel, "基本支付")
    assert code == 1
    expected = f"{rel}:{line}: 错误：表3 支出决算表「2010301 行政运行」没有“基本支付”这一栏。是否应为「基本支出」？"
    assert any(x.startswith(expected) for x in lines(text)), text


def test_text_where_an_amount_belongs(site: TinySite, tables, capsys):
    tables[9]["决算数"]["公务接待费"] = "两万元"
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    rel = site.table_rel(9)
    assert code == 1
    assert (
        f"{rel}:{site.line_of(rel, '两万元')}: 错误：表9 财政拨款“三公”经费支出决算表「决算数·公务接待费」应是金额，“两万元”不是金额。请填写数字，如 4,272.71。"
        in lines(text)
    )


@pytest.mark.parametrize(
    "value,why",
    [("4,27.71", "“4,27.71”的千分位逗号位置不对（应每三位一个，如 4,272.71）"), ("1.005", "有 3 位小数")],
)
def test_malformed_amounts(site: TinySite, tables, capsys, value, why):
    tables[1]["收入"]["年初结转和结余"] = value
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    rel = site.table_rel(1)
    assert code == 1
    assert any(x.startswith(f"{rel}:{site.line_of(rel, value)}: 错误：") and why in x for x in lines(text)), text


@pytest.mark.parametrize(
    "broken,needle,message",
    [
        ("收入:\n  本年收入合计: 135.00\n 总计: 140.00\n", " 总计", "缩进不一致"),
        ("收入:\n  本年收入合计：135.00\n  总计: 140.00\n", "本年收入合计", "全角冒号"),
        ("收入:\n\t本年收入合计: 135.00\n", "本年收入合计", "不能用 Tab 键缩进，请改用空格。"),
        ('收入:\n  本年收入合计: "135.00\n支出:\n', "本年收入合计", "这一行的引号没有成对闭合。"),
    ],
    ids=["indentation", "full-width-colon", "tab", "unclosed-quote"],
)
def test_malformed_yaml(site: TinySite, tables, capsys, broken, needle, message):
    site.write_tables(tables)
    rel = site.table_rel(1)
    site.write(rel, broken)
    code, text = run(site, "validate", capsys=capsys)
    assert code == 1
    mine = [x for x in lines(text) if x.startswith(f"{rel}:")]
    assert mine and "错误：" in mine[0] and message in mine[0], text
    assert int(mine[0].split(":")[1]) == site.line_of(rel, needle)


PROJECT_REL = f"data/departments/{DEPT}/{YEAR}/项目/440303000000000000001.yaml"


@pytest.mark.parametrize(
    "broken,needle,message",
    [
        (
            "项目名称: 测试项目\n原件差异: [得分合计, 指标得分\n总分:\n  分值: 100\n",
            "原件差异",
            "这一行的“[”在 YAML 里表示列表，但没有找到与它配对的“]”，或各项之间缺少半角逗号“,”。请补上“]”；",
        ),
        (
            "项目名称: 测试项目\n总分: {分值: 100,\n  得分: 96.00\n年度总体目标:\n  预期目标: 完成。\n",
            "总分",
            "这一行的“{”在 YAML 里表示一组“名称: 值”，但没有找到与它配对的“}”",
        ),
        (
            "项目名称: 测试项目\n原件差异: [得分合计，指标得分\n总分:\n  分值: 100\n",
            "原件差异",
            "这一行用了全角逗号“，”，请改为半角“,”。",
        ),
        (
            "项目名称: 测试项目\n原件备注:\n  - 原件第 3 行空白。\n  - [注] 原件此格印作 ####。\n  - 第三条。\n",
            "[注]",
            "这一行的值以“[”开头，YAML 把“[…]”读作列表，其后不能再接文字。若它是文字的一部分（如“[注] …”）",
        ),
        (
            "项目名称: 测试项目\n项目编码: [注] 见原件\n绩效自评年度: 2023\n",
            "项目编码",
            "这一行的值以“[”开头，YAML 把“[…]”读作列表，其后不能再接文字。",
        ),
        ("项目名称: ]测试项目\n", "项目名称", "这一行的值以“]”开头，这个符号在 YAML 里有特殊含义。请把整段文字用引号括起来。"),
        ("项目名称: 测试项目\n原件差异: - 得分合计\n", "原件差异", "“- ”开头的列表项要另起一行，并比上一行多缩进"),
    ],
    ids=["unclosed-bracket", "unclosed-brace", "full-width-comma-in-list", "bracket-starts-list-item",
         "bracket-starts-value", "closing-bracket-starts-value", "dash-after-colon"],
)  # fmt: skip
def test_lists_and_brackets_written_wrong_are_explained_in_chinese(
    site: TinySite, tables, capsys, broken, needle, message
):
    """“[” and “{” open a YAML list or mapping: left open, PyYAML gives up lines later in English (“did not find
    expected ',' or ']'”). The message is in Chinese and names the line with the bracket; so for a bracket that
    was meant as text, and a list item written after a colon."""
    site.write_tables(tables)
    site.write(PROJECT_REL, broken)
    code, text = run(site, "validate", capsys=capsys)
    assert code == 1
    mine = [x for x in lines(text) if x.startswith(f"{PROJECT_REL}:")]
    assert mine and f"{PROJECT_REL}:{site.line_of(PROJECT_REL, needle)}: 错误：" in mine[0], text
    assert message in mine[0], mine[0]
    assert not re.search(r"[A-Za-z]{3,}", mine[0].split(": 错误：", 1)[1].replace("YAML", "")), mine[0]


def test_duplicate_key(site: TinySite, tables, capsys):
    site.write_tables(tables)
    rel = site.table_rel(1)
    text = (
        (site.root / rel).read_text(encoding="utf-8").replace("  总计: 140.00\n", "  总计: 140.00\n  总计: 150.00\n", 1)
    )
    site.write(rel, text)
    code, out = run(site, "validate", capsys=capsys)
    second = site.line_of(rel, "总计: 150.00")
    assert code == 1
    assert (
        f"{rel}:{second}: 错误：“总计”出现了两次（第 {second - 1} 行已有）。同一层里每个名称只能写一次，请删去或合并其中一处。"
        in lines(out)
    )


def test_two_names_for_the_same_row(site: TinySite, tables, capsys):
    tables[1]["支出"]["一、一般公共服务支出"] = "100.00"  # the printed label and the short name are one row
    site.write_tables(tables)
    code, out = run(site, "validate", capsys=capsys)
    rel = site.table_rel(1)
    assert code == 1
    assert (
        f"{rel}:{site.line_of(rel, '一、一般公共服务支出')}: 错误：“一、一般公共服务支出”与第 {site.line_of(rel, '  一般公共服务支出')} 行是同一行，重复了。请删去其中一处。"
        in lines(out)
    )


def test_same_code_twice_is_reported_once_and_not_summed_twice(site: TinySite, tables, capsys):
    site.write_tables(tables)
    rel = site.table_rel(3)
    text = (site.root / rel).read_text(encoding="utf-8")
    site.write(rel, text + "2010301 行政管理:\n  本年支出合计: 60.00\n  基本支出: 60.00\n")
    code, out = run(site, "validate", capsys=capsys)
    first, second = site.line_of(rel, "2010301 行政运行"), site.line_of(rel, "2010301 行政管理")
    assert code == 1
    errors = [x for x in lines(out) if ": 错误：" in x]
    assert errors == [f"{rel}:{second}: 错误：“2010301 行政管理”与第 {first} 行是同一行，重复了。请删去其中一处。"]


def test_missing_total_row(site: TinySite, tables, capsys):
    del tables[1]["支出"]["总计"]
    site.write_tables(tables)
    code, out = run(site, "validate", capsys=capsys)
    rel = site.table_rel(1)
    assert code == 1
    assert (
        f"{rel}:{site.line_of(rel, '支出:')}: 错误：表1 收入支出决算总表「支出」部分缺少合计行“总计”。合计行必须填写（为零时写 0.00）。"
        in lines(out)
    )


def test_missing_part(site: TinySite, tables, capsys):
    del tables[6]["公用经费"]
    site.write_tables(tables)
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert (
        f"{site.table_rel(6)}:1: 错误：表6 一般公共预算财政拨款基本支出决算明细表缺少“公用经费”部分。请补上“公用经费:”及其下各行。"
        in lines(out)
    )


def test_missing_table_file(site: TinySite, tables, capsys):
    del tables[8]
    site.write_tables(tables)
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert (
        f"data/departments/{DEPT}/{YEAR}: 错误：缺少 表8-国有资本经营预算财政拨款支出决算表.yaml：公开决算表时九张表都要有（没有发生额的表写出合计行，各栏为 0.00）。"
        in lines(out)
    )


def test_misnamed_file(site: TinySite, tables, capsys):
    site.write_tables(tables)
    old = site.root / site.table_rel(2)
    old.rename(old.with_name("表2-收入决算.yaml"))
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert any(
        x.startswith(
            f"data/departments/{DEPT}/{YEAR}/表2-收入决算.yaml: 错误：不认识的文件“表2-收入决算.yaml”。是否应为「表2-收入决算表.yaml」？"
        )
        for x in lines(out)
    ), out


def test_overview_missing_a_required_part(site: TinySite, tables, capsys):
    site.write_tables(tables)
    rel = f"data/departments/{DEPT}/{YEAR}/概况.yaml"
    site.write(rel, "主要职责:\n  - 单位: 测试部门\n    职责:\n      - 测试。\n决算单位构成:\n  说明: 一个单位。\n")
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert f"{rel}:1: 错误：概况缺少“机构设置”。请补上“机构设置: …”。" in lines(out)


def test_file_not_utf8(site: TinySite, tables, capsys):
    site.write_tables(tables)
    rel = site.table_rel(9)
    (site.root / rel).write_bytes("预算数:\n  合计: 10.00\n  公务接待费: 两元\n".encode("gbk"))
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert f"{rel}:1: 错误：文件不是 UTF-8 编码（可能以 GBK 保存）。请用编辑器“另存为 UTF-8”后再提交。" in lines(out)


def test_department_folder_name_must_be_a_url_slug(site: TinySite, tables, capsys):
    site.write_tables(tables)
    site.write("data/departments/区委办/部门.yaml", "名称: 区委办\n")
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert (
        "data/departments/区委办: 错误：部门文件夹名“区委办”只能由小写字母、数字和连字符组成（如 luohu-quweiban），因为它会成为网址的一部分。"
        in lines(out)
    )


def test_year_without_a_format(site: TinySite, tables, capsys):
    site.write_tables(tables)
    site.write(f"data/departments/{DEPT}/2031/概况.yaml", "机构设置: 无\n")
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert (
        f'data/departments/{DEPT}/2031: 错误：site.toml 没有为 2031 年度指定表格格式。请在 [formats] 下加一行 2031 = "…"。'
        in lines(out)
    )


def test_unknown_key_in_department_info(site: TinySite, tables, capsys):
    site.write_tables(tables)
    site.write(f"data/departments/{DEPT}/部门.yaml", "名称: 测试部门\n地域: 测试区\n")
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert (
        f"data/departments/{DEPT}/部门.yaml:2: 错误：部门信息里没有“地域”这一项。是否应为「地区」？可用的名称：名称、地区。"
        in lines(out)
    )


def test_bad_site_toml(site: TinySite, capsys):
    site.write("site.toml", 'title = "x\n')
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert lines(out)[0].startswith("site.toml:1: 错误：TOML 格式错误")


def test_build_with_errors_writes_nothing_and_never_touches_sources(site: TinySite, tables, capsys):
    tables[1]["收入"]["总计"] = "999.00"
    site.write_tables(tables)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in site.root.rglob("*") if p.is_file()}
    code, out = run(site, "build", capsys=capsys)
    assert code == 1
    assert "数据有误，未生成网站：" in out
    assert not (site.root / "public").exists()
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in site.root.rglob("*") if p.is_file()}
    assert before == after


def test_command_line_entry_point_reports_without_traceback(site: TinySite, tables):
    tables[1]["收入"]["总计"] = "abc"
    site.write_tables(tables)
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "validate", "--site", str(site.root)],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "“abc”不是金额" in proc.stdout


def test_usage_error_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
    assert "命令有误" in capsys.readouterr().err


def test_internal_error_is_reported_without_traceback_unless_verbose(site: TinySite, tables, capsys, monkeypatch):
    site.write_tables(tables)

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("generator.builder.sitefiles.site_names", boom)
    assert main(["validate", "--site", str(site.root)]) == 3
    err = capsys.readouterr().err
    assert "内部错误" in err and "Traceback" not in err
    assert main(["validate", "--site", str(site.root), "--verbose"]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_a_reader_closing_the_pipe_is_not_an_internal_error():
    """`validate | head`: the program stops quietly when its reader goes away."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "validate", "--notes"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "内部错误" not in err and "Traceback" not in err


def public_tree(site: TinySite) -> dict[str, str]:
    public = site.root / "public"
    return {p.relative_to(public).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in public.rglob("*") if p.is_file()}  # fmt: skip


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["one-process", "workers"])
@pytest.mark.parametrize(
    "error,advice",
    [
        (errno.ENOSPC, "磁盘空间不足。请腾出空间后重新运行"),
        (errno.EACCES, "没有权限。请检查这个文件或文件夹的权限；写不进输出文件夹时，可以用 --out 换一个。"),
        (errno.EIO, f"系统的说明是：{os.strerror(errno.EIO)}。看不出原因时，请加上 --verbose 重新运行。"),
    ],
    ids=["disk-full", "no-permission", "other"],
)
def test_a_file_that_cannot_be_written_is_named_with_what_to_do(site: TinySite, tables, monkeypatch, capsys,
                                                                 error, advice, jobs):  # fmt: skip
    """A full disk or a folder without permission is neither the data's fault nor a bug: the message says which
    file, and what to do; the exit code is 4; the site already in public/ stays as it was."""
    from generator.core import files

    site.write_tables(tables)
    site.write(f"data/departments/{DEPT}-2/部门.yaml", "名称: 测试部门二\n地区: 测试区\n")
    site.write_tables(tables, slug=f"{DEPT}-2")  # two department-years: with --jobs 2 the pages are the workers'
    assert run(site, "build", "--jobs", jobs, capsys=capsys)[0] == 0
    before = public_tree(site)
    toml = site.root / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("测试站", "改名的站"), encoding="utf-8")

    def refuse(fd, data):  # as os.write does: an error that names no file
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(files, "_write_all", refuse)
    code, out = run(site, "build", "--jobs", jobs, capsys=capsys)
    assert code == 4
    said = re.search(r"^读写 (\S+) 时出错：(.*)$", out, re.M)
    assert said and said.group(2).startswith(advice)
    written = Path(said.group(1))  # the file it was writing, in the folder staged beside public/
    assert written.parent.is_relative_to(site.root) and written.suffix in (".html", ".json", ".csv", ".js", ".xml")
    assert "内部错误" not in out
    assert public_tree(site) == before


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_under_the_build_cache_names_the_file():
    """A buffered file's write error names no file: the cache's writer adds it (here a real ENOSPC)."""
    from generator.commands.report import os_error_message
    from generator.core.files import dump_pickle

    with pytest.raises(OSError) as raised:
        dump_pickle(Path("/dev/full"), list(range(100_000)))
    assert raised.value.errno == errno.ENOSPC
    assert os_error_message(raised.value).startswith("读写 /dev/full 时出错：磁盘空间不足。")


def test_the_cache_file_a_full_disk_stopped_is_named_on_the_command_line(site: TinySite, tables, monkeypatch,
                                                                         capsys):  # fmt: skip
    from generator.core import files

    site.write_tables(tables)

    def full(obj, f, protocol):  # as a buffered file's write does: an error that names no file
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "pickle", types.SimpleNamespace(dump=full, HIGHEST_PROTOCOL=5))  # ours only
    code, out = run(site, "build", "--jobs", "1", capsys=capsys)
    said = re.search(r"^读写 (\S+) 时出错：磁盘空间不足。", out, re.M)
    assert code == 4 and said and ".build-cache" in said.group(1) and said.group(1).endswith(".pickle")
    assert "内部错误" not in out and "Traceback" not in out


def test_a_full_disk_under_the_compiled_templates_names_the_file(site: TinySite, tables, monkeypatch, capsys):
    """Jinja's cache of compiled templates writes with pickle too, and its errors name no file either."""
    import jinja2.bccache

    site.write_tables(tables)

    def full(obj, f, protocol):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(jinja2.bccache, "pickle", types.SimpleNamespace(dump=full))
    code, out = run(site, "build", "--jobs", "1", capsys=capsys)
    said = re.search(r"^读写 (\S+) 时出错：磁盘空间不足。", out, re.M)
    assert code == 4 and said and ".build-cache" in said.group(1) and said.group(1).endswith(".cache"), out


def test_a_template_missing_from_the_templates_folder_is_named(site: TinySite, tables, tmp_path, capsys):
    """site.toml's `templates` names a folder without the site's templates (a copy begun and not finished)."""
    site.write_tables(tables)
    (tmp_path / "my-templates").mkdir()
    toml = site.root / "site.toml"
    lines = [f'templates = "{(tmp_path / "my-templates").as_posix()}"' if line.startswith("templates") else line
             for line in toml.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = run(site, "build", capsys=capsys)
    assert code == 4
    assert re.search(
        r"^找不到模板“[\w/]+\.html”。请检查 site\.toml 中的 templates 是否指向一个完整的模板文件夹", out, re.M
    )
    assert not (site.root / "public").exists()
