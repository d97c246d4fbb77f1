"""The pull-request workflow for department staff: problems annotated at their line on GitHub, the reviewer's
summary of what a change does, `new` giving a year ready to fill, the example workflow, and the guide's examples
being what the program really prints."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import DEPT, FILES, REPO, YEAR, TinySite, git, in_ci, tiny_year, to_yaml
from test_schema import schema_errors

from generator.builder.pipeline import validate
from generator.commands.cli import main
from generator.core.config import load_config
from generator.core.diagnostics import Diagnostics, escape_data, escape_property
from generator.sources.load import load_site

PROJECT = "440303000000000000001"


def run(site: TinySite, *args: str, capsys) -> tuple[int, str, str]:
    code = main([*args, "--site", str(site.root)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


# -- GitHub annotations ------------------------------------------------------------------------------------------


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command read the way the Actions runner reads one: `::name key=value,key=value::data`, the
    properties ending at the first `::`, split at `,` and at the first `=`; then unescaped."""
    assert line.startswith("::"), line
    end = line.index("::", 2)
    head, data = line[2:end], line[end + 2 :]
    name, _, props = head.partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, sep, value = pair.partition("=")
        assert sep, pair
        properties[key] = unescape_property(value)
    return name, properties, unescape_data(data)


def test_escaping_follows_the_actions_toolkit():
    assert escape_data("50% 完成\r\n第二行: a,b") == "50%25 完成%0D%0A第二行: a,b"
    assert escape_property("表2,收入%:x\n") == "表2%2C收入%25%3Ax%0A"


def test_annotations_parse_as_github_workflow_commands_at_the_right_file_and_line(site: TinySite, tables, capsys):
    tables[1]["收入"]["一般公共预算财政拨款收人"] = tables[1]["收入"].pop("一般公共预算财政拨款收入")
    tables[9]["决算数"]["公务接待费"] = ""
    site.write_tables(tables)
    odd = f"data/departments/{DEPT}/{YEAR}/表2,收入%.yaml"  # a comma and a percent sign in a property and a message
    site.write(odd, "合计:\n")
    code, out, _ = run(site, "validate", "--format", "github", capsys=capsys)
    assert code == 1
    *commands, summary = out.splitlines()
    assert summary.startswith("核对完成：") and "4 个错误，2 个警告" in summary
    parsed = [parse_command(line) for line in commands]
    rel1, rel2, rel9 = site.table_rel(1), site.table_rel(2), site.table_rel(9)
    table9 = (site.root / rel9).read_text(encoding="utf-8").splitlines()
    final = table9.index("决算数:") + 1  # 决算数's rows come after 预算数's
    final_total = next(i for i, line in enumerate(table9[final:], start=final + 1) if "合计" in line)
    final_hospitality = next(i for i, line in enumerate(table9[final:], start=final + 1) if "公务接待费" in line)
    # What the mistakes made above must give, in this order: problems reading the files before the sums they cause.
    expected = [
        ("error", rel1, site.line_of(rel1, "收人"), "错误（unknown-row）",
         "表1 收入支出决算总表「收入」里没有“一般公共预算财政拨款收人”这一行。是否应为「一般公共预算财政拨款收入」？"),
        ("error", odd, None, "错误（unknown-file）", "不认识的文件“表2,收入%.yaml”。是否应为「表2-收入决算表.yaml」？"),
        ("error", rel1, site.line_of(rel1, "本年收入合计"), "错误（sum）",
         "表1「收入」「本年收入合计」（行27）应等于行1至行8之和。表1「收入」「本年收入合计」（行27）印刷为 135.00，各项合计为 15.00"),
        ("error", rel2, site.line_of(rel2, "  财政拨款收入"), "错误（sum）",
         "表间核对：表2「合计」「财政拨款收入」应等于 表1「收入」「一、一般公共预算财政拨款收入」（行1） + "),
        ("warning", rel9, final_hospitality, "警告（blank）",
         "表9 财政拨款“三公”经费支出决算表「决算数·公务接待费」尚未填写（待填写）。"),
        ("warning", rel9, final_total, "警告（unknown-sum）",
         "表9「决算数·合计」应等于同一行的 「决算数·因公出国（境）费」 + 「决算数·公务用车购置及运行维护费·小计」 + "
         "「决算数·公务接待费」：无法核对，因为表9「决算数·公务接待费」的数值未知。"),
    ]  # fmt: skip
    assert len(parsed) == len(expected)
    for (name, props, message), (level, file, line, title, words) in zip(parsed, expected, strict=True):
        assert (name, props["file"], props.get("line"), props["title"]) == (
            level,
            file,
            str(line) if line else None,
            title,
        )
        assert words in message, message
    assert (final_hospitality, final_total) == (17, 11)  # the 决算数 rows, not the 预算数 ones (9 and 3)
    raw = next(line for line in commands if "unknown-file" in line)
    assert f"file=data/departments/{DEPT}/{YEAR}/表2%2C收入%25.yaml,title=" in raw  # no line: the whole file
    assert "不认识的文件“表2,收入%25.yaml”" in raw


@pytest.mark.parametrize("damage", ["indentation", "gbk"])
def test_an_unreadable_table_comes_first_and_its_narrative_links_wait_for_it(site: TinySite, tables, damage, capsys):
    """A table file that cannot be read is the first error in the text and in the annotations (GitHub shows only
    10), before the sums and the narrative that sort earlier by path; the narrative's links into it are not reported
    as links to a table the year does not have, only noted once as not yet checkable."""
    tables[2]["合计"]["本年收入合计"] = "136.00"  # two sum errors in 表2, which sorts before 表3
    site.write_tables(tables)
    rel3, project = site.table_rel(3), f"data/departments/{DEPT}/{YEAR}/项目/{PROJECT}.yaml"
    lines = (site.root / rel3).read_text(encoding="utf-8").splitlines()
    assert lines[3] == "  基本支出: 90.00"
    if damage == "indentation":
        lines[3] = "   基本支出: 90.00"  # one space too many
        (site.root / rel3).write_text("\n".join(lines) + "\n", encoding="utf-8")
        line, code = "4", "yaml"
        read_error = (
            f"{rel3}:4: 错误：这里不能出现“冒号加空格”。可能是缩进不对，或文字里含有“: ”——含冒号的文字请用引号括起来。"
        )
    else:
        (site.root / rel3).write_bytes(("\n".join(lines) + "\n").encode("gbk"))  # line 1 is “# 表3”
        line, code = "1", "encoding"
        read_error = f"{rel3}:1: 错误：文件不是 UTF-8 编码（可能以 GBK 保存）。请用编辑器“另存为 UTF-8”后再提交。"
    site.write(project, f'项目编码: "{PROJECT}\n项目名称: 测试项目\n')  # a quote never closed: unreadable too
    narrative = f"data/departments/{DEPT}/{YEAR}/情况说明.md"
    site.write(
        narrative,
        "本年支出[135.00](表3/合计/本年支出合计)万元，其中基本支出[90.00](表3/合计/基本支出)万元、"
        "项目支出[45.00](表3/合计/项目支出)万元。\n\n"
        f"本年收入[130.00](表1/收入/本年收入合计)万元。项目预算[1.00](项目/{PROJECT}/全年预算数)元。\n",
    )
    code_, out, _ = run(site, "validate", capsys=capsys)
    assert code_ == 1
    printed = out.splitlines()
    errors = [line for line in printed if ": 错误：" in line]
    assert errors[:2] == [
        read_error,
        f"{project}:1: 错误：这一行的引号没有成对闭合。",
    ]
    assert errors[2].startswith(
        f"{narrative}:3: 错误：情况说明中的“130.00万元”与表1「收入」「本年收入合计」（行27）不符"
    )
    assert [line.split(": 错误：")[0] for line in errors[3:]] == [f"{site.table_rel(2)}:3"] * 2
    assert not [line for line in printed if "本年度没有这张表" in line or "没有项目表" in line]
    assert [line for line in printed if ": 警告：" in line] == [
        f"{narrative}:1: 警告：情况说明中引用表3的 3 处数字暂时无法核对：表3-支出决算表.yaml 没能读入（见这个文件的错误）。改正那个文件后会逐一核对。",
        f"{narrative}:3: 警告：情况说明中引用项目 {PROJECT} 的 1 处数字暂时无法核对：项目/{PROJECT}.yaml 没能读入（见这个文件的错误）。改正那个文件后会逐一核对。",
    ]
    _, out, _ = run(site, "validate", "--format", "github", capsys=capsys)
    annotations = [parse_command(line) for line in out.splitlines() if line.startswith("::")]
    assert [(n, p["file"], p.get("line"), p["title"]) for n, p, _ in annotations[:3]] == [
        ("error", rel3, line, f"错误（{code}）"),
        ("error", project, "1", "错误（yaml）"),
        ("error", narrative, "3", "错误（narrative-figure）"),
    ]
    assert [p["title"] for n, p, _ in annotations if n == "warning"] == ["警告（narrative-unchecked）"] * 2


def test_annotation_paths_are_relative_to_the_checkout(site: TinySite, tables, capsys, monkeypatch):
    tables[1]["收入"]["总计"] = "abc"
    site.write_tables(tables)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(site.root.parent))
    _, out, _ = run(site, "validate", "--format", "github", capsys=capsys)
    commands = [parse_command(line) for line in out.splitlines() if line.startswith("::")]
    assert {p["file"] for _, p, _ in commands} == {f"{site.root.name}/{site.table_rel(1)}"}
    _, props, _ = next(
        c for c in commands if c[2].startswith("表1 收入支出决算总表「收入」「总计」应是金额，“abc”不是金额。")
    )
    assert props["line"] == str(site.line_of(site.table_rel(1), "abc"))


def test_only_files_changed_since_a_revision_are_annotated(site: TinySite, tables, capsys):
    """--changed-from: problems in files the change touches are annotations; problems already there elsewhere are
    still printed, as plain log lines, so they do not use up GitHub's 10 annotations."""
    tables[9]["预算数"]["公务接待费"] = ""  # an old warning, and the unknown sum it causes, in 表9
    site.write_tables(tables)
    git(site.root, "init", "-q", "-b", "main")
    git(site.root, "add", "-A")
    git(site.root, "commit", "-q", "-m", "一")
    git(site.root, "checkout", "-q", "-b", "change")
    rel1, rel9 = site.table_rel(1), site.table_rel(9)
    text = (site.root / rel1).read_text(encoding="utf-8").replace("年初结转和结余: 5.00", "年初结转和结余: 6.00")
    (site.root / rel1).write_text(text, encoding="utf-8")
    git(site.root, "commit", "-q", "-am", "二")
    git(site.root, "checkout", "-q", "main")
    git(site.root, "commit", "-q", "--allow-empty", "-m", "main moves on")  # compared with the merge base, not main
    git(site.root, "checkout", "-q", "change")
    narrative = site.write(
        f"data/departments/{DEPT}/{YEAR}/情况说明.md", "本年收入[130.00](表1/收入/本年收入合计)万元。\n"
    )
    code, out, _ = run(site, "validate", "--format", "github", "--changed-from", "main", capsys=capsys)
    assert code == 1
    lines = out.splitlines()
    annotations = [parse_command(line) for line in lines if line.startswith("::")]
    line29, line30 = site.line_of(rel1, "年初结转和结余"), site.line_of(rel1, "总计")
    assert [(n, p["file"], p.get("line"), p["title"]) for n, p, _ in annotations] == [
        ("error", narrative.relative_to(site.root).as_posix(), "1", "错误（narrative-figure）"),  # untracked: changed
        ("error", rel1, str(line30), "错误（sum）"),  # 总计 = 本年收入合计 + 年初结转和结余 no longer holds
    ]
    assert "“130.00万元”与表1「收入」「本年收入合计」（行27）不符" in annotations[0][2]
    assert "印刷为 140.00，各项合计为 141.00" in annotations[1][2]
    assert line29 != line30
    rest = lines[len(annotations) :]
    blank, unknown = site.line_of(rel9, "公务接待费"), site.line_of(rel9, "合计")
    assert rest[0] == "另有 2 个问题所在的文件自 main 以来没有改动，只列在这里，不标注在合并请求上："
    assert rest[1].startswith(f"{rel9}:{blank}: 警告：表9 财政拨款“三公”经费支出决算表「预算数·公务接待费」尚未填写")
    assert rest[2].startswith(f"{rel9}:{unknown}: 警告：表9「预算数·合计」应等于同一行的")
    assert rest[3].startswith("核对完成：") and len(rest) == 4

    # A removed table file is a change: the year folder's "missing" error is annotated.
    (site.root / site.table_rel(2)).unlink()
    narrative.unlink()
    _, out, _ = run(site, "validate", "--format", "github", "--changed-from", "main", capsys=capsys)
    titles = [(p["file"], p["title"]) for _, p, _ in (parse_command(x) for x in out.splitlines() if x.startswith("::"))]
    assert (f"data/departments/{DEPT}/{YEAR}", "错误（missing-table）") in titles
    assert all(file != rel9 for file, _ in titles)


def test_changed_from_needs_github_format_and_a_revision(site: TinySite, tables, capsys):
    site.write_tables(tables)
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "--changed-from", "main", "--site", str(site.root)])
    assert exit_.value.code == 2
    assert (
        capsys.readouterr().err.splitlines()[-1]
        == "命令有误：--changed-from 只能与 --format github 一起用（它决定哪些问题标注在合并请求上）"
    )
    code, out, err = run(site, "validate", "--format", "github", "--changed-from", "main", capsys=capsys)
    assert code == 1 and out == ""
    assert err.splitlines()[0] == f"main: 错误：站点文件夹 {site.root} 不在 git 仓库中，无法比较“main”以来改动的文件。"
    git(site.root, "init", "-q", "-b", "main")
    code, out, err = run(site, "validate", "--format", "github", "--changed-from", "origin/main", capsys=capsys)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "origin/main: 错误：“origin/main”不是这个仓库里的版本（分支名、标签或提交号）。请检查拼写，或先 git fetch（在 GitHub Actions 中 actions/checkout 要写 fetch-depth: 0）。",
        "无法确定改动了哪些文件：1 个错误。改正后重新运行。",
    ]


def test_rounding_notes_are_notices_with_notes(site: TinySite, tables, capsys):
    tables[1]["收入"]["总计"] = "140.01"
    tables[1]["支出"]["总计"] = "140.01"
    site.write_tables(tables)
    _, out, _ = run(site, "validate", "--format", "github", capsys=capsys)
    assert not [line for line in out.splitlines() if line.startswith("::notice")]
    _, out, _ = run(site, "validate", "--format", "github", "--notes", capsys=capsys)
    notices = [parse_command(line) for line in out.splitlines() if line.startswith("::notice")]
    assert notices and all(p["title"] == "提示（rounding）" for _, p, _ in notices)


# -- diff: what a change does ------------------------------------------------------------------------------------


def write_project(site: TinySite, total_score: str = "96.00") -> None:
    from test_projects import project, write

    body = project()
    body["总分"]["得分"] = total_score
    write(site, body)


def section(text: str, title: str) -> list[str]:
    """The lines of one part of the text report (改动的数字：/ 结果改变的核对：), without their indentation."""
    lines = text.splitlines()
    start = lines.index(f"  {title}")
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        if not line.startswith("      "):
            out.append(line.strip())
    return out


@pytest.fixture
def history(site: TinySite, tables, tmp_path, monkeypatch):
    """A repository with two commits: the tiny year, then four figures changed and one rewritten as the same number."""
    site.write_tables(tables)
    write_project(site)
    git(site.root, "init", "-q", "-b", "main")
    git(site.root, "add", "-A")
    git(site.root, "commit", "-q", "-m", "一")
    tables[1]["收入"]["年初结转和结余"] = "6.00"
    del tables[1]["收入"]["国有资本经营预算财政拨款收入"]
    tables[9]["决算数"]["公务接待费"] = "2.50"
    tables[3]["合计"]["本年支出合计"] = "135.0"  # the same figure, written differently: not a change
    site.write_tables(tables)
    write_project(site, total_score="95.00")
    git(site.root, "commit", "-q", "-am", "二")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def test_diff_of_two_revisions_lists_exactly_the_changed_figures_and_checks(site: TinySite, history, capsys):
    before = snapshot(site.root)
    head = git(site.root, "rev-parse", "HEAD")
    code, out, _ = run(site, "diff", "HEAD~1", "HEAD", capsys=capsys)
    assert code == 0
    assert out.splitlines()[1:4] == [
        "改动的数字 4 处；结果改变的核对 5 项。",
        "新版本核对：5 个错误，0 个警告（旧版本：0 个错误，0 个警告）。",
        "",
    ]
    assert "■ 测试部门 2023 年度" in out.splitlines()
    assert section(out, "改动的数字：") == [
        "表1 收入支出决算总表「收入」「三、国有资本经营预算财政拨款收入」（行3）「决算数」：5.00 → （未列出）（单位：万元；差额 -5.00）",
        "表1 收入支出决算总表「收入」「年初结转和结余」（行29）「决算数」：5.00 → 6.00（单位：万元；差额 +1.00）",
        "表9 财政拨款“三公”经费支出决算表「决算数·公务接待费」：2.00 → 2.50（单位：万元；差额 +0.50）",
        f"项目 {PROJECT}（测试项目）总分「得分」：96.00 → 95.00（单位：分；差额 -1.00）",
    ]
    assert section(out, "结果改变的核对：") == [
        "表1「收入」「本年收入合计」（行27）应等于行1至行8之和：通过 → 未通过",
        "表1「收入」「总计」（行30）应等于「本年收入合计」、「使用非财政拨款结余（含专用结余）」、「年初结转和结余」之和：通过 → 未通过",
        "表9「决算数·合计」应等于同一行的 「决算数·因公出国（境）费」 + 「决算数·公务用车购置及运行维护费·小计」 + 「决算数·公务接待费」：通过 → 未通过",
        "表间核对：表2「合计」「财政拨款收入」应等于 表1「收入」「一、一般公共预算财政拨款收入」（行1） + 表1「收入」「二、政府性基金预算财政拨款收入」（行2） + 表1「收入」「三、国有资本经营预算财政拨款收入」（行3）：通过 → 未通过",
        "测试项目：得分合计：总分应等于资金得分与各指标得分之和：通过 → 未通过",
    ]
    # The working copy is as it was, and the exported trees are gone.
    assert snapshot(site.root) == before
    assert git(site.root, "status", "--porcelain") == ""
    assert git(site.root, "rev-parse", "HEAD") == head
    assert list(history.iterdir()) == []


def test_diff_as_markdown_for_a_pull_request(site: TinySite, history, capsys):
    _, out, _ = run(site, "diff", "main~1", "main", "--format", "markdown", capsys=capsys)
    lines = out.splitlines()
    assert lines[0] == "## 决算数据改动摘要"
    assert "### 测试部门 2023 年度" in lines
    rows = [line for line in lines if line.startswith("| ") and "| ---" not in line]
    assert rows[0] == "| 表或项目 | 行 | 栏 | 原数 | 新数 | 差额 | 单位 |"
    assert rows[1:5] == [
        "| 表1 收入支出决算总表 | 「收入」「三、国有资本经营预算财政拨款收入」（行3） | 决算数 | 5.00 | （未列出） | -5.00 | 万元 |",
        "| 表1 收入支出决算总表 | 「收入」「年初结转和结余」（行29） | 决算数 | 5.00 | 6.00 | +1.00 | 万元 |",
        "| 表9 财政拨款“三公”经费支出决算表 |  | 决算数·公务接待费 | 2.00 | 2.50 | +0.50 | 万元 |",
        f"| 项目 {PROJECT}（测试项目） | 总分 | 得分 | 96.00 | 95.00 | -1.00 | 分 |",
    ]
    assert rows[5] == "| 结果改变的核对 | 原结果 | 新结果 |"
    assert rows[6] == "| 表1「收入」「本年收入合计」（行27）应等于行1至行8之和 | 通过 | 未通过 |"
    assert (
        "- 表1「收入」「本年收入合计」（行27）应等于行1至行8之和：表1「收入」「本年收入合计」（行27）印刷为 135.00，"
        "各项合计为 130.00（「一、一般公共预算财政拨款收入」（行1） 120.00 + 「二、政府性基金预算财政拨款收入」（行2） 10.00，"
        "其余 6 项为 0），相差 5.00，超出尾数误差允许范围（±0.045）。请核对合计行与各行的金额。"
    ) in lines


def test_diff_of_two_folders_and_of_the_working_copy(site: TinySite, tables, tmp_path, capsys):
    site.write_tables(tables)
    other = tmp_path / "other"
    shutil.copytree(site.root, other)
    text = (site.root / site.table_rel(3)).read_text(encoding="utf-8").replace("一般行政管理事务", "一般行政管理")
    text += "2010399 其他政府办公厅（室）及相关机构事务支出:\n  本年支出合计: 1.00\n  基本支出: 1.00\n"
    (other / site.table_rel(3)).write_text(text, encoding="utf-8")
    _, out, _ = run(site, "diff", str(site.root), str(other), capsys=capsys)
    assert out.splitlines()[0] == f"比较 旧版本 文件夹 {site.root} → 新版本 文件夹 {other}"
    # A new 科目 row compares with 0 (rows left out are zero); a changed name is not a figure, and the check that
    # names agree with the catalogue reports it.
    assert section(out, "改动的数字：") == [
        "表3 支出决算表「2010399 其他政府办公厅（室）及相关机构事务支出」「本年支出合计」：（未列出） → 1.00（单位：万元；差额 +1.00）",
        "表3 支出决算表「2010399 其他政府办公厅（室）及相关机构事务支出」「基本支出」：（未列出） → 1.00（单位：万元；差额 +1.00）",
    ]
    assert (
        f"  {site.table_rel(3)}:{site.line_of(site.table_rel(3), '2010302')}: 错误：科目编码 2010302 的名称应为「一般行政管理事务」"
        in out
    )
    _, out, _ = run(site, "diff", str(site.root), str(site.root), capsys=capsys)
    assert out.splitlines()[-1] == "两个版本的数字和核对结果完全相同。"


def test_diff_names_what_it_cannot_compare(site: TinySite, tables, capsys):
    site.write_tables(tables)
    code, _, err = run(site, "diff", "nosuch", str(site.root), capsys=capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        f"nosuch: 错误：“nosuch”不是文件夹；站点文件夹 {site.root} 也不在 git 仓库中，无法按版本比较。"
    )
    git(site.root, "init", "-q", "-b", "main")
    code, _, err = run(site, "diff", "nosuch", str(site.root), capsys=capsys)
    assert err.splitlines() == [
        "nosuch: 错误：“nosuch”既不是文件夹，也不是这个仓库里的版本（分支名、标签或提交号）。请检查拼写，或先 git fetch。",
        "无法比较：1 个错误。改正后重新运行。",
    ]


# -- build --changed-from: a pull request's preview --------------------------------------------------------------

OTHER = "qita-bumen"


@pytest.fixture
def two_departments(site: TinySite, tables) -> TinySite:
    """The tiny year in two departments, committed as `main`; HEAD is a branch `change` with nothing changed yet."""
    site.write_tables(tables)
    site.write(f"data/departments/{OTHER}/部门.yaml", "名称: 其他部门\n地区: 测试区\n")
    site.write_tables(tables, OTHER)
    git(site.root, "init", "-q", "-b", "main")
    git(site.root, "add", "-A")
    git(site.root, "commit", "-q", "-m", "一")
    git(site.root, "checkout", "-q", "-b", "change")
    return site


def departments_in(public: Path) -> list[str]:
    return sorted(p.parent.name for p in public.glob("*/datasets.json"))


def test_a_preview_holds_the_departments_a_change_touches(two_departments: TinySite, tmp_path, capsys):
    site = two_departments
    site.write(f"data/departments/{OTHER}/部门.yaml", "名称: 其他部门（改名）\n地区: 测试区\n")
    site.write("README.md", "这个文件不出现在任何页面上。\n")
    git(site.root, "add", "-A")
    git(site.root, "commit", "-q", "-m", "二")
    preview = tmp_path / "preview"
    code, out, _ = run(site, "build", "--changed-from", "main", "--out", str(preview), capsys=capsys)
    assert code == 0
    assert departments_in(preview) == [OTHER]
    home = (preview / "index.html").read_text(encoding="utf-8")
    assert "其他部门（改名）" in home and "测试部门" not in home
    assert (
        f"这是预览：只生成了自 main 以来有文件改动的部门（{OTHER}），首页和各列表页也只列出它们。" in out.splitlines()
    )
    # Not committed yet counts too, as in validate --changed-from; a change that shapes no page adds nothing.
    site.write(f"data/departments/{DEPT}/部门.yaml", "名称: 测试部门\n地区: 另一区\n")
    code, out, _ = run(site, "build", "--changed-from", "HEAD", "--out", str(tmp_path / "p2"), capsys=capsys)
    assert code == 0
    assert departments_in(tmp_path / "p2") == [DEPT]


def test_a_preview_holds_every_department_where_what_every_page_is_made_of_changed(
    two_departments: TinySite, tmp_path, capsys
):
    site = two_departments
    glossary = next((site.root / "content" / "glossary").glob("*.md"))
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    preview = tmp_path / "preview"
    code, out, _ = run(site, "build", "--changed-from", "main", "--out", str(preview), capsys=capsys)
    assert code == 0
    assert departments_in(preview) == sorted([DEPT, OTHER])
    assert "自 main 以来表格格式、模板、名词解释或 site.toml 等共用的文件有改动" in out
    # Nothing a department holds changed: a preview with no department, said so.
    git(site.root, "checkout", "-q", "--", ".")
    code, out, _ = run(site, "build", "--changed-from", "main", "--out", str(tmp_path / "none"), capsys=capsys)
    assert code == 0
    assert departments_in(tmp_path / "none") == []
    assert "这是预览：自 main 以来没有部门的文件改动，预览中没有部门。" in out.splitlines()


# -- new: a year ready to fill -----------------------------------------------------------------------------------

NEW = "xin-bumen"


def fill(text: str, figures: dict) -> str:
    """A table file `new` wrote, with every blank figure filled from `figures` (the tiny year's) or 0.00."""
    lines, out, path = text.splitlines(), [], []
    for i, line in enumerate(lines):
        m = re.match(r"^( *)([^#\s][^:]*):(  #.*)?$", line)
        if not m:
            out.append(line)
            continue
        indent = m.group(1)
        path[len(indent) // 2 :] = [m.group(2)]
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if following.strip() and len(following) - len(following.lstrip(" ")) > len(indent):
            out.append(line)  # a heading: its figures are on the lines below
            continue
        value = figures
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        out.append(f"{indent}{m.group(2)}: {value if isinstance(value, str) else '0.00'}{m.group(3) or ''}")
    return "\n".join(out) + "\n"


def test_new_then_validate_gives_warnings_only_and_filling_the_figures_removes_them(site: TinySite, capsys):
    code, out, _ = run(site, "new", NEW, str(YEAR), "--name", "新建测试局", "--region", "测试区", capsys=capsys)
    assert code == 0
    folder = f"data/departments/{NEW}/{YEAR}"
    created = [f"data/departments/{NEW}/部门.yaml", *(f"{folder}/{FILES[n]}" for n in range(1, 10))]
    created += [f"{folder}/概况.yaml", f"{folder}/名词解释.yaml", f"{folder}/情况说明.md"]
    assert out.splitlines()[: len(created) + 1] == [f"已建立 {len(created)} 个文件：", *(f"  {c}" for c in created)]

    code, out, _ = run(site, "validate", capsys=capsys)
    assert code == 0
    report = validate(site.root)
    assert report.diagnostics.count("error") == 0
    assert {d.code for d in report.diagnostics.items if d.level == "warning"} == {"blank", "unknown-sum"}
    table1 = f"{folder}/{FILES[1]}"
    overview, narrative = f"{folder}/概况.yaml", f"{folder}/情况说明.md"
    for line in [
        f"{table1}:{site.line_of(table1, '一般公共预算财政拨款收入:')}: 警告：表1 收入支出决算总表「收入」「一般公共预算财政拨款收入」尚未填写（待填写）。填上印刷的金额后此提示消失。",
        f"{overview}:{site.line_of(overview, '机构设置')}: 警告：“机构设置”尚未填写（待填写）。照公开文件填写后此提示消失。",
        f"{narrative}:{site.line_of(narrative, '待填写')}: 警告：情况说明的这一处尚未填写（待填写）。照公开文件写出这一段后此提示消失。",
    ]:
        assert line in out.splitlines()
    for rel in created:
        if rel.endswith(".yaml"):
            assert schema_errors(site.root, rel) == [], rel

    figures = tiny_year()
    for no, name in FILES.items():
        path = site.root / folder / name
        text = fill(path.read_text(encoding="utf-8"), figures[no])
        if "科目编码 科目名称" in text:  # a classified table: add the tiny year's 科目 rows under 合计
            text += to_yaml({k: v for k, v in figures[no].items() if k != "合计"}) + "\n"
        path.write_text(text, encoding="utf-8")
    for rel, placeholder, text in [(overview, "待填写", "测试。"), (narrative, "待填写。", "本年度无需说明的事项。")]:
        site.write(rel, (site.root / rel).read_text(encoding="utf-8").replace(placeholder, text))
    report = validate(site.root)
    assert [d.format() for d in report.diagnostics.sorted()] == []
    assert len(report.checks) > 100


def example_rows(text: str) -> str:
    """The example a `new` table file gives in its comments (after 例如：), uncommented."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("例如：")) + 1
    example = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        example.append(line.removeprefix("# "))
    return "\n".join(example) + "\n"


@pytest.mark.parametrize("no", [3, 8])
def test_new_shows_how_to_write_kemu_rows_and_its_example_reads_as_two_rows(site: TinySite, no, capsys):
    """The comment of a classified table says 科目 rows start at the left margin, and shows a 类 and its 款 written
    so; the loader reads that example, copied out of the comment, as exactly those two 科目 rows."""
    assert run(site, "new", DEPT, str(YEAR), capsys=capsys)[0] == 0
    rel = site.table_rel(no)
    text = (site.root / rel).read_text(encoding="utf-8")
    assert "“科目编码 科目名称:”，从最左边写起（与“合计:”对齐），不要缩进在所属的类下面" in text
    example = example_rows(text)
    assert example.splitlines()[0] == "201 一般公共服务支出:"
    assert [line for line in example.splitlines() if not line.startswith(" ")] == [
        "201 一般公共服务支出:",
        "20103 政府办公厅（室）及相关机构事务:",
    ]
    site.write(rel, text + example)
    diags = Diagnostics()
    source = load_site(load_config(site.root), diags)
    table = source.departments[DEPT].years[YEAR].tables[no]
    assert [(r.code, r.name) for r in table.class_rows] == [
        ("201", "一般公共服务支出"),
        ("20103", "政府办公厅（室）及相关机构事务"),
    ]
    assert [d.format() for d in diags.items if d.loc.path == rel and d.level == "error"] == []


def test_a_kemu_row_indented_under_its_class_is_explained(site: TinySite, tables, capsys):
    """A 款 indented under its 类 reads as columns of the 类; the message says 科目 rows start at the left margin."""
    site.write_tables(tables)
    rel = site.table_rel(3)
    text = (site.root / rel).read_text(encoding="utf-8")
    row = "20103 政府办公厅（室）及相关机构事务:\n  本年支出合计: 100.00\n  基本支出: 70.00\n  项目支出: 30.00\n"
    assert row in text
    indented = "".join("  " + line + "\n" for line in row.splitlines())
    site.write(rel, text.replace(row, indented))
    code, out, _ = run(site, "validate", capsys=capsys)
    assert code == 1
    line = site.line_of(rel, "  20103 ")
    assert next(x for x in out.splitlines() if f"{rel}:" in x and ": 错误：" in x) == (
        f"{rel}:{line}: 错误：表3 支出决算表「201 一般公共服务支出」下面的“20103 政府办公厅（室）及相关机构事务”是一个科目行。"
        "科目行（类、款、项）都从最左边写起，与“合计:”对齐，不要缩进在所属的类或款下面：请把“20103 政府办公厅（室）及相关机构事务:”"
        "这一行左移到最左边，它的各栏仍缩进两格写在它下面。"
    )
    assert "这一栏" not in out


def leaf_figures(text: str) -> tuple[int, int]:
    """(filled, blank) figures of a table file, counted from its lines: a key with nothing below it is a figure."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    filled = blank = 0
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if following and len(following) - len(following.lstrip(" ")) > indent:
            continue  # a heading
        value = line.split("  #")[0].split(":", 1)[1].strip()
        filled, blank = (filled + 1, blank) if value else (filled, blank + 1)
    return filled, blank


def test_diff_summarises_a_new_year_by_table_and_lists_a_changed_year_in_full(site: TinySite, tables, tmp_path, capsys):
    """A year just made with `new` would list ~300 “（无） → 待填写” figures and ~200 “无此核对” checks: it is one
    line per table instead, with only its failing checks; an existing year's changes are still listed one by one."""
    site.write_tables(tables)
    old = tmp_path / "old"
    shutil.copytree(site.root, old)
    tables[1]["收入"]["年初结转和结余"] = "6.00"
    site.write_tables(tables)
    assert run(site, "new", NEW, str(YEAR), "--name", "新建测试局", capsys=capsys)[0] == 0
    folder = site.root / f"data/departments/{NEW}/{YEAR}"
    table1 = folder / FILES[1]
    text = table1.read_text(encoding="utf-8")
    for row in ("一般公共预算财政拨款收入:", "本年收入合计:"):
        assert f"  {row}  # " in text
        text = text.replace(f"  {row}  # ", f"  {row} 1.00  # ")
    table1.write_text(text, encoding="utf-8")
    budget = {"合计": "10.00", "因公出国（境）费": "1.00", "公务接待费": "3.00",
              "公务用车购置及运行维护费": {"小计": "2.00", "公务用车购置费": "1.00", "公务用车运行维护费": "1.00"}}  # fmt: skip
    table9 = folder / FILES[9]
    table9.write_text(fill(table9.read_text(encoding="utf-8"), {"预算数": budget}), encoding="utf-8")  # 合计 is 10 ≠ 6
    expected = []
    for no in range(1, 10):
        body = (folder / FILES[no]).read_text(encoding="utf-8")
        filled, blank = leaf_figures(body)
        expected.append(f"    {body.splitlines()[0].removeprefix('# ')}：已填 {filled} 个，待填写 {blank} 个")
    assert expected[0] == "    表1 收入支出决算总表：已填 2 个，待填写 40 个"
    assert expected[8] == "    表9 财政拨款“三公”经费支出决算表：已填 12 个，待填写 0 个"

    _, out, _ = run(site, "diff", str(old), str(site.root), capsys=capsys)
    lines = out.splitlines()
    blanks = sum(int(re.search(r"待填写 (\d+) 个", line).group(1)) for line in expected)
    assert blanks > 250
    assert lines[1:3] == [
        "改动的数字 1 处；结果改变的核对 1 项。",
        f"新增的部门年度 1 个：已填 {2 + 12} 个数字，待填写 {blanks} 个（按表汇总，不逐项列出）。",
    ]
    start = lines.index(f"■ 新建测试局 {YEAR} 年度（新增）")
    assert lines[start + 1 : start + 11] == ["  各表和项目的数字：", *expected]
    m = re.fullmatch(r"  核对 (\d+) 项：通过 (\d+) 项，无法核对（数值未知） (\d+) 项，未通过 1 项。", lines[start + 11])
    assert m and int(m.group(1)) == int(m.group(2)) + int(m.group(3)) + 1 and int(m.group(3)) > 100
    assert lines[start + 12 : start + 14] == [
        "  未通过的核对：",
        "    表9「预算数·合计」应等于同一行的 「预算数·因公出国（境）费」 + 「预算数·公务用车购置及运行维护费·小计」 + 「预算数·公务接待费」",
    ]
    assert "印刷为 10.00，各项合计为 6.00" in lines[start + 14]
    assert not [line for line in lines if "待填写（单位" in line or "（无此核对）" in line or "（无） →" in line]
    # The year both versions have: every changed figure and check, as before.
    assert section(out, "改动的数字：") == [
        "表1 收入支出决算总表「收入」「年初结转和结余」（行29）「决算数」：5.00 → 6.00（单位：万元；差额 +1.00）"
    ]
    assert len(section(out, "结果改变的核对：")) == 1

    _, md, _ = run(site, "diff", str(old), str(site.root), "--format", "markdown", capsys=capsys)
    assert len(md.encode()) < 6000
    md_lines = md.splitlines()
    assert f"### 新建测试局 {YEAR} 年度（新增）" in md_lines
    assert "| 表1 收入支出决算总表 | 2 | 40 | 0 |" in md_lines
    assert (
        "| 表1 收入支出决算总表 | 「收入」「年初结转和结余」（行29） | 决算数 | 5.00 | 6.00 | +1.00 | 万元 |"
        in md_lines
    )


def test_new_refuses_an_existing_year_and_changes_nothing(site: TinySite, capsys):
    assert run(site, "new", NEW, str(YEAR), "--name", "新建测试局", capsys=capsys)[0] == 0
    before = snapshot(site.root)
    code, _, err = run(site, "new", NEW, str(YEAR), capsys=capsys)
    assert code == 1
    folder = f"data/departments/{NEW}/{YEAR}"
    assert err.splitlines() == [
        f"{folder}: 错误：{folder} 已经存在。new 只建立新的年度，从不改动已有的文件；要重新开始，请先把这个文件夹改名或删去。",
        "未新建任何文件：1 个错误。改正后重新运行。",
    ]
    assert snapshot(site.root) == before


def test_new_uses_an_existing_department_and_asks_a_new_one_for_its_name(site: TinySite, capsys):
    code, _, err = run(site, "new", NEW, str(YEAR), capsys=capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        f"data/departments/{NEW}: 错误：还没有部门 {NEW}（没有 data/departments/{NEW}/部门.yaml）。新部门请用 --name "
        f"写明部门全称，例如：python -m generator new {NEW} {YEAR} --name 中共深圳市罗湖区委办公室"
    )
    assert not (site.root / "data/departments" / NEW).exists()
    assert run(site, "new", DEPT, str(YEAR), capsys=capsys)[0] == 0  # the department and its name exist already
    assert "# 测试部门 2023 年度部门决算 · 单位：万元" in (site.root / site.table_rel(1)).read_text(encoding="utf-8")
    assert (site.root / f"data/departments/{DEPT}/部门.yaml").read_text(
        encoding="utf-8"
    ) == "名称: 测试部门\n地区: 测试区\n"


def test_placeholder_text_is_a_warning_wherever_text_belongs(site: TinySite, tables, capsys):
    """待填写 (as `new` writes it) where text belongs warns and is not read as content: not a term, not a name."""
    site.write_tables(tables)
    site.write(f"data/departments/{DEPT}/部门.yaml", "名称: 待填写\n")
    terms = site.write(f"data/departments/{DEPT}/{YEAR}/名词解释.yaml", "名词:\n  - 待填写\n  - 基本支出\n")
    code, out, _ = run(site, "validate", capsys=capsys)
    assert code == 0
    assert [line for line in out.splitlines() if ": 警告：" in line] == [
        f"data/departments/{DEPT}/{YEAR}/名词解释.yaml:2: 警告：名词解释尚未填写（待填写）。照公开文件填写后此提示消失。",
        f"data/departments/{DEPT}/部门.yaml:1: 警告：“名称”尚未填写（待填写）。照公开文件填写后此提示消失。",
    ]
    terms.write_text("名词:\n  - 基本支出\n", encoding="utf-8")
    site.write(f"data/departments/{DEPT}/部门.yaml", "名称: 测试部门\n")
    assert "0 个警告" in run(site, "validate", capsys=capsys)[1]


@pytest.mark.parametrize(
    "args,message",
    [
        (
            [NEW, "2031", "--name", "新建测试局"],
            'site.toml: 错误：site.toml 没有为 2031 年度指定表格格式。请先在 site.toml 的 [formats] 下加一行 2031 = "shenzhen-2023"（格式不变时沿用上一年度的格式），再运行 new。',
        ),
        (
            ["新部门", str(YEAR), "--name", "新建测试局"],
            "data/departments/新部门: 错误：部门文件夹名“新部门”不能用：只能由小写字母、数字和连字符组成（如 luohu-quweiban），且不能是站点自用的 assets、data、glossary、projects、search、years。它会成为网址的一部分。",
        ),
        (
            [DEPT, str(YEAR), "--name", "别的名称"],
            f"data/departments/{DEPT}/部门.yaml: 错误：data/departments/{DEPT}/部门.yaml 已写明部门名称“测试部门”，与 --name “别的名称”不同。new 不改动已有的文件；若名称有误，请直接修改 部门.yaml。",
        ),
    ],
    ids=["year-without-format", "bad-folder-name", "name-differs"],
)
def test_new_explains_what_it_cannot_do(site: TinySite, capsys, args, message):
    before = snapshot(site.root)
    code, _, err = run(site, "new", *args, capsys=capsys)
    assert code == 1
    assert err.splitlines()[0] == message
    assert snapshot(site.root) == before


# -- the example GitHub workflow ---------------------------------------------------------------------------------


WORKFLOWS = REPO / ".github" / "workflows"


def workflow(name: str) -> dict:
    """A workflow file as GitHub reads it: YAML, with `on` as a key (PyYAML's YAML 1.1 reads a bare on as True)."""
    body = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    if True in body:
        body["on"] = body.pop(True)
    return body


def steps_of(body: dict) -> list[dict]:
    return [s for job in body["jobs"].values() for s in job["steps"]]


def uses(step: dict) -> str:
    return str(step.get("uses", "")).split("@")[0]


def test_pull_request_workflow_validates_summarises_builds_and_keeps_both_as_artifacts():
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == ["pull-request-comment.yml", "pull-request.yml"]
    wf = workflow("pull-request.yml")
    assert list(wf["on"]) == ["pull_request"]
    assert wf["permissions"] == {"contents": "read"}  # it runs the pull request's code: nothing it may write
    assert all("permissions" not in job for job in wf["jobs"].values())
    steps = steps_of(wf)
    checkout = next(s for s in steps if uses(s) == "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0  # the base branch is needed for diff and --changed-from
    assert any(uses(s) == "actions/setup-python" for s in steps)
    by_run = {s["run"].strip(): s for s in steps if "run" in s}
    validate_step = by_run['python -m generator validate --format github --changed-from "origin/$BASE"']
    assert validate_step["env"]["BASE"] == "${{ github.base_ref }}"  # through the environment, not in the script
    diff = next(s for s in steps if "generator diff" in s.get("run", ""))
    assert diff["env"] == {"BASE": "${{ github.base_ref }}", "NUMBER": "${{ github.event.pull_request.number }}"}
    assert diff["if"] == "${{ !cancelled() }}"
    assert diff["run"].splitlines() == [
        "mkdir -p diff-summary",
        'echo "$NUMBER" > diff-summary/pull-request-number',
        'python -m generator diff "origin/$BASE" HEAD --format markdown > diff-summary/summary.md',
        'cat diff-summary/summary.md >> "$GITHUB_STEP_SUMMARY"',
    ]
    assert "python -m generator schema --check" in by_run
    build = next(s for s in steps if "generator build" in s.get("run", ""))
    assert "--allow-errors" in build["run"]  # the preview is built even when the data has errors
    assert '--changed-from "origin/$BASE"' in build["run"]  # of the departments the pull request changes
    assert build["env"] == {"BASE": "${{ github.base_ref }}"}
    uploads = {s["with"]["name"]: s for s in steps if uses(s) == "actions/upload-artifact"}
    assert set(uploads) == {"diff-summary", "site-preview-${{ github.event.pull_request.number }}"}
    assert uploads["diff-summary"]["with"]["path"] == "diff-summary/"
    assert uploads["site-preview-${{ github.event.pull_request.number }}"]["with"]["path"] == "public/"
    for step in uploads.values():
        assert str(step["uses"]).endswith("@v4")
        assert step["with"]["overwrite"] is True  # a re-run would otherwise fail on the name (409)
        assert step["if"] == "${{ !cancelled() }}"
    order = [s.get("name") for s in steps]
    assert order.index(diff["name"]) < order.index(uploads["diff-summary"]["name"])


def test_comment_workflow_posts_the_summary_without_checking_out_or_running_the_pull_requests_code():
    wf = workflow("pull-request-comment.yml")
    assert wf["on"] == {"workflow_run": {"workflows": [workflow("pull-request.yml")["name"]], "types": ["completed"]}}
    assert wf["permissions"] == {"actions": "read", "pull-requests": "write"}  # nothing else, contents neither
    (job,) = wf["jobs"].values()
    assert "permissions" not in job
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    steps = job["steps"]
    assert [uses(s) for s in steps] == ["actions/download-artifact", "actions/github-script"]
    assert all("run" not in s for s in steps)  # no shell: nothing from the pull request is ever executed
    assert not any(uses(s) == "actions/checkout" for s in steps)
    download, post = steps
    assert download["with"] == {
        "name": "diff-summary",
        "path": "diff-summary/",
        "run-id": "${{ github.event.workflow_run.id }}",
        "github-token": "${{ github.token }}",
    }
    assert post["if"] == "${{ steps.download.outcome == 'success' }}" and download["id"] == "download"
    script = post["with"]["script"]
    assert "${{" not in script  # nothing pasted into the script by expression: the artifact is read as data
    assert "eval(" not in script and "child_process" not in script and "require('fs')" in script


COMMENT_HARNESS = """
const fs = require('fs');
const [script, state] = JSON.parse(fs.readFileSync(0, 'utf8'));
const calls = [];
const github = {
  rest: {
    pulls: { get: async (a) => ({ data: { head: { sha: state.prHead } } }) },
    issues: {
      listComments: 'listComments',
      updateComment: async (a) => calls.push(['update', a.comment_id, a.body]),
      createComment: async (a) => calls.push(['create', a.issue_number, a.body]),
    },
  },
  paginate: async (method, a) => (calls.push(['list', a.issue_number]), state.comments),
};
const context = { repo: { owner: 'o', repo: 'r' }, payload: { workflow_run: state.run } };
const core = { info: (m) => calls.push(['info', m]), setFailed: (m) => calls.push(['failed', m]) };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', script)(require, github, context, core)
  .then(() => console.log(JSON.stringify(calls)));
"""


def run_comment_script(tmp_path: Path, number: str, summary: str, pr_head: str, comments: list) -> list:
    if shutil.which("node") is None:
        message = "node (JavaScript) not installed: cannot run the comment workflow's script (apt-get install nodejs)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    script = workflow("pull-request-comment.yml")["jobs"]["comment"]["steps"][1]["with"]["script"]
    folder = tmp_path / "diff-summary"
    folder.mkdir(exist_ok=True)
    (folder / "pull-request-number").write_text(number + "\n", encoding="utf-8")
    (folder / "summary.md").write_text(summary, encoding="utf-8")
    run = {"head_sha": "a" * 40, "html_url": "https://github.com/o/r/actions/runs/1"}
    state = {"prHead": pr_head, "comments": comments, "run": run}
    out = subprocess.run(
        ["node", "-e", COMMENT_HARNESS], input=json.dumps([script, state]), cwd=tmp_path,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_comment_script_posts_one_comment_and_updates_it(tmp_path):
    """The github-script of the comment workflow, run in node against a stand-in for the GitHub API."""
    summary = "## 决算数据改动摘要\n\n改动的数字 1 处。\n"
    calls = run_comment_script(tmp_path, "7", summary, "a" * 40, [])
    assert [c[:2] for c in calls] == [["list", 7], ["create", 7], ["info", "已在合并请求 #7 上发表改动摘要评论。"]]
    body = calls[1][2]
    assert body.startswith("<!-- juesuan-diff-summary -->\n## 决算数据改动摘要\n") and "核对的提交：aaaaaaa。" in body
    mine = {"id": 42, "user": {"type": "Bot"}, "body": body}
    theirs = {"id": 41, "user": {"type": "User"}, "body": "<!-- juesuan-diff-summary --> 有人照抄了标记"}
    calls = run_comment_script(tmp_path, "7", summary.replace("1 处", "2 处"), "a" * 40, [theirs, mine])
    assert [c[:2] for c in calls][:2] == [["list", 7], ["update", 42]]
    assert "改动的数字 2 处。" in calls[1][2]
    # The number in the artifact is only believed when that pull request's head is the commit checked.
    calls = run_comment_script(tmp_path, "8", summary, "b" * 40, [])
    assert calls == [["info", f"合并请求 #8 的最新提交不是本次核对的提交 {'a' * 40}：不发表评论。"]]
    assert run_comment_script(tmp_path, "8; rm -rf /", summary, "a" * 40, []) == [
        ["failed", "改动摘要中的合并请求编号无效。"]
    ]
    long = summary + "| 表 | 行 |\n" * 20000
    calls = run_comment_script(tmp_path, "7", long, "a" * 40, [])
    assert len(calls[1][2]) < 65536 and "摘要太长，评论中只显示前一部分" in calls[1][2]


# -- the guide ---------------------------------------------------------------------------------------------------

GUIDE = REPO / "CONTRIBUTING.md"


def guide_outputs(site: TinySite, tmp_path: Path, capsys) -> list[list[str]]:
    """What each run the guide's examples come from prints, line by line: the common mistakes made one at a time on
    the tiny year, a reviewer's diff, and `new`."""
    lines: list[list[str]] = []

    def record(*args: str) -> None:
        _, out, err = run(site, *args, capsys=capsys)
        lines.append((out + err).splitlines())

    mistakes = [
        lambda x: x[1]["收入"].update({"一般公共预算财政拨款收人": x[1]["收入"].pop("一般公共预算财政拨款收入")}),
        lambda x: x[3]["2010301 行政运行"].update({"基本支付": x[3]["2010301 行政运行"].pop("基本支出")}),
        lambda x: x[9]["决算数"].update({"公务接待费": "两万元"}),
        lambda x: x[1]["收入"].update({"本年收入合计": "1,35.00"}),
        lambda x: x[1]["收入"].update({"本年收入合计": "134.00"}),
        lambda x: x[3]["合计"].update({"基本支出": "90.01"}),
        lambda x: x[1]["支出"].pop("总计"),
        lambda x: x[3].update({"2010301 行政运作": x[3].pop("2010301 行政运行")}),
        lambda x: x[3]["201 一般公共服务支出"].update(
            {"20103 政府办公厅（室）及相关机构事务": x[3].pop("20103 政府办公厅（室）及相关机构事务")}
        ),
        lambda x: x[9]["预算数"].update({"公务接待费": ""}),
    ]
    for mistake in mistakes:
        tables = tiny_year()
        mistake(tables)
        site.write_tables(tables)
        record("validate", "--notes")
        record("validate", "--format", "github")
    for broken in (
        "收入:\n  本年收入合计：135.00\n  总计: 140.00\n",
        "收入:\n\t本年收入合计: 135.00\n",
        "收入:\n  本年收入合计: 135.00\n 总计: 140.00\n",
    ):
        site.write_tables(tiny_year())
        site.write(site.table_rel(1), broken)
        record("validate")
    site.write_tables(tiny_year())
    misnamed = site.root / site.table_rel(2).replace("收入决算表", "收入决算")
    (site.root / site.table_rel(2)).rename(misnamed)
    record("validate")
    misnamed.unlink()
    site.write_tables(tiny_year())
    narrative = site.write(
        f"data/departments/{DEPT}/{YEAR}/情况说明.md", "本年收入[130.00](表1/收入/本年收入合计)万元。\n"
    )
    record("validate")
    narrative.unlink()
    old = tmp_path / "old"
    shutil.copytree(site.root, old)
    tables = tiny_year()
    tables[1]["收入"]["年初结转和结余"] = "6.00"
    tables[9]["决算数"]["公务接待费"] = "2.50"
    site.write_tables(tables)
    record("diff", str(old), str(site.root))
    record("diff", str(old), str(site.root), "--format", "markdown")
    shutil.rmtree(site.root / f"data/departments/{DEPT}/{YEAR}")
    record("new", DEPT, str(YEAR))
    record("validate")
    before_new = tmp_path / "before-new"
    shutil.copytree(site.root, before_new)
    record("new", NEW, str(YEAR), "--name", "新建测试局")
    record("diff", str(before_new), str(site.root))
    return lines


def console_blocks(text: str) -> list[list[str]]:
    """The lines of each ```console block, without the indentation of its fence (blocks inside list items)."""
    blocks = re.findall(r"^( *)```console\n(.*?)^\1```", text, flags=re.S | re.M)
    return [[line.removeprefix(indent) for line in body.splitlines()] for indent, body in blocks]


def test_guide_examples_are_what_the_program_prints_in_its_order(site: TinySite, tmp_path, capsys):
    """Each output line in the guide's ```console blocks is a line the program prints for the mistake it shows, and
    lines of a block that one run prints together are in the order that run prints them."""
    runs = guide_outputs(site, tmp_path, capsys)
    printed = {line for lines in runs for line in lines}
    blocks = [
        [line for line in block if line.strip() and not line.startswith("$ ")]
        for block in console_blocks(GUIDE.read_text(encoding="utf-8"))
    ]
    examples = [line for block in blocks for line in block]
    assert len(examples) >= 15
    assert [line for line in examples if line not in printed] == []
    misordered = [
        (a, b)
        for block in blocks
        for i, a in enumerate(block)
        for b in block[i + 1 :]
        for lines in runs
        if a in lines and b in lines and lines.index(a) > lines.index(b)
    ]
    assert misordered == []


@pytest.mark.parametrize(
    "command,says",
    [
        ("diff", "列出每一个改动的数字"),
        ("new", "核对时只有“待填写”警告，没有错误"),
        ("validate", "github：输出 GitHub Actions 标注"),
    ],
)
def test_the_workflow_commands_explain_themselves(command, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert says.replace(" ", "") in capsys.readouterr().out.replace("\n", "").replace(" ", "")
