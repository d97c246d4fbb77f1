"""Fixtures: tiny sites written by the test itself (Lektor's habit), on top of the real national format files.

`tiny_year()` returns a department-year whose every identity holds exactly; a test changes one figure and
looks at what the checks and the pages say.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = Path(__file__).resolve().parent / "seeds"
DEPT = "test-dept"
YEAR = 2023
FILES = {
    1: "表1-收入支出决算总表.yaml",
    2: "表2-收入决算表.yaml",
    3: "表3-支出决算表.yaml",
    4: "表4-财政拨款收入支出决算总表.yaml",
    5: "表5-一般公共预算财政拨款支出决算表.yaml",
    6: "表6-一般公共预算财政拨款基本支出决算明细表.yaml",
    7: "表7-政府性基金预算财政拨款收入支出决算表.yaml",
    8: "表8-国有资本经营预算财政拨款支出决算表.yaml",
    9: "表9-财政拨款三公经费支出决算表.yaml",
}


def _income(total, appropriation):
    return {"本年收入合计": total, "财政拨款收入": appropriation}


def _spend(total, basic, project="0.00"):
    return {"本年支出合计": total, "基本支出": basic, "项目支出": project}


def tiny_year() -> dict[int, dict]:
    """Nine tables of a small department whose arithmetic is exact.

    135.00 万元 in (一般公共预算 120, 政府性基金 10, 国有资本经营 5) and out, 5.00 carried over; every fund and
    every cross-table rule of the format has non-zero figures, so each identity has a real passing case.
    """
    return {
        1: {
            "收入": {"一般公共预算财政拨款收入": "120.00", "政府性基金预算财政拨款收入": "10.00",
                   "国有资本经营预算财政拨款收入": "5.00", "本年收入合计": "135.00", "年初结转和结余": "5.00",
                   "总计": "140.00"},
            "支出": {"一般公共服务支出": "100.00", "社会保障和就业支出": "20.00", "城乡社区支出": "10.00",
                   "国有资本经营预算支出": "5.00", "本年支出合计": "135.00", "年末结转和结余": "5.00", "总计": "140.00"},
        },
        2: {
            "合计": _income("135.00", "135.00"),
            "201 一般公共服务支出": _income("100.00", "100.00"),
            "20103 政府办公厅（室）及相关机构事务": _income("100.00", "100.00"),
            "2010301 行政运行": _income("60.00", "60.00"),
            "2010302 一般行政管理事务": _income("40.00", "40.00"),
            "208 社会保障和就业支出": _income("20.00", "20.00"),
            "20805 行政事业单位养老支出": _income("20.00", "20.00"),
            "2080505 机关事业单位基本养老保险缴费支出": _income("20.00", "20.00"),
            "212 城乡社区支出": _income("10.00", "10.00"),
            "21208 国有土地使用权出让收入安排的支出": _income("10.00", "10.00"),
            "2120801 征地和拆迁补偿支出": _income("10.00", "10.00"),
            "223 国有资本经营预算支出": _income("5.00", "5.00"),
            "22399 其他国有资本经营预算支出": _income("5.00", "5.00"),
            "2239999 其他国有资本经营预算支出": _income("5.00", "5.00"),
        },
        3: {
            "合计": _spend("135.00", "90.00", "45.00"),
            "201 一般公共服务支出": _spend("100.00", "70.00", "30.00"),
            "20103 政府办公厅（室）及相关机构事务": _spend("100.00", "70.00", "30.00"),
            "2010301 行政运行": _spend("60.00", "60.00"),
            "2010302 一般行政管理事务": _spend("40.00", "10.00", "30.00"),
            "208 社会保障和就业支出": _spend("20.00", "20.00"),
            "20805 行政事业单位养老支出": _spend("20.00", "20.00"),
            "2080505 机关事业单位基本养老保险缴费支出": _spend("20.00", "20.00"),
            "212 城乡社区支出": _spend("10.00", "0.00", "10.00"),
            "21208 国有土地使用权出让收入安排的支出": _spend("10.00", "0.00", "10.00"),
            "2120801 征地和拆迁补偿支出": _spend("10.00", "0.00", "10.00"),
            "223 国有资本经营预算支出": _spend("5.00", "0.00", "5.00"),
            "22399 其他国有资本经营预算支出": _spend("5.00", "0.00", "5.00"),
            "2239999 其他国有资本经营预算支出": _spend("5.00", "0.00", "5.00"),
        },
        4: {
            "收入": {"一般公共预算财政拨款": "120.00", "政府性基金预算财政拨款": "10.00", "国有资本经营预算财政拨款": "5.00",
                   "本年收入合计": "135.00", "年初财政拨款结转和结余": "5.00", "年初一般公共预算财政拨款": "5.00",
                   "总计": "140.00"},
            "支出": {
                "一般公共服务支出": {"合计": "100.00", "一般公共预算财政拨款": "100.00"},
                "社会保障和就业支出": {"合计": "20.00", "一般公共预算财政拨款": "20.00"},
                "城乡社区支出": {"合计": "10.00", "政府性基金预算财政拨款": "10.00"},
                "国有资本经营预算支出": {"合计": "5.00", "国有资本经营预算财政拨款": "5.00"},
                "本年支出合计": {"合计": "135.00", "一般公共预算财政拨款": "120.00", "政府性基金预算财政拨款": "10.00",
                           "国有资本经营预算财政拨款": "5.00"},
                "年末财政拨款结转和结余": {"合计": "5.00", "一般公共预算财政拨款": "5.00"},
                "总计": {"合计": "140.00", "一般公共预算财政拨款": "125.00", "政府性基金预算财政拨款": "10.00",
                       "国有资本经营预算财政拨款": "5.00"},
            },
        },
        5: {
            "合计": _spend("120.00", "90.00", "30.00"),
            "201 一般公共服务支出": _spend("100.00", "70.00", "30.00"),
            "20103 政府办公厅（室）及相关机构事务": _spend("100.00", "70.00", "30.00"),
            "2010301 行政运行": _spend("60.00", "60.00"),
            "2010302 一般行政管理事务": _spend("40.00", "10.00", "30.00"),
            "208 社会保障和就业支出": _spend("20.00", "20.00"),
            "20805 行政事业单位养老支出": _spend("20.00", "20.00"),
            "2080505 机关事业单位基本养老保险缴费支出": _spend("20.00", "20.00"),
        },
        6: {
            "人员经费": {"301 工资福利支出": "70.00", "30101 基本工资": "50.00", "30102 津贴补贴": "20.00",
                     "303 对个人和家庭的补助": "0.00", "人员经费合计": "70.00"},
            "公用经费": {"302 商品和服务支出": "20.00", "30201 办公费": "20.00", "公用经费合计": "20.00"},
        },
        7: {
            "合计": _fund("10.00"),
            "212 城乡社区支出": _fund("10.00"),
            "21208 国有土地使用权出让收入安排的支出": _fund("10.00"),
            "2120801 征地和拆迁补偿支出": _fund("10.00"),
        },
        8: {
            "合计": {"本年支出": {"小计": "5.00", "基本支出": "0.00", "项目支出": "5.00"}},
            "223 国有资本经营预算支出": {"本年支出": {"小计": "5.00", "项目支出": "5.00"}},
            "22399 其他国有资本经营预算支出": {"本年支出": {"小计": "5.00", "项目支出": "5.00"}},
            "2239999 其他国有资本经营预算支出": {"本年支出": {"小计": "5.00", "项目支出": "5.00"}},
        },
        9: {
            "预算数": {"合计": "10.00", "因公出国（境）费": "2.00",
                    "公务用车购置及运行维护费": {"小计": "6.00", "公务用车购置费": "0.00", "公务用车运行维护费": "6.00"},
                    "公务接待费": "2.00"},
            "决算数": {"合计": "8.00", "因公出国（境）费": "1.00",
                    "公务用车购置及运行维护费": {"小计": "5.00", "公务用车购置费": "0.00", "公务用车运行维护费": "5.00"},
                    "公务接待费": "2.00"},
        },
    }  # fmt: skip


def _fund(amount: str) -> dict:
    """A row of 表7 where this year's government-fund money came in and was spent on projects."""
    return {"年初结转和结余": "0.00", "本年收入": amount, "本年支出": {"小计": amount, "基本支出": "0.00", "项目支出": amount},
            "年末结转和结余": "0.00"}  # fmt: skip


def to_yaml(value, indent: int = 0) -> str:
    """Block-style YAML the way department staff write it: keys and figures as plain text."""
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, dict | list):
                lines.append(f"{pad}{k}:\n{to_yaml(v, indent + 1)}")
            else:
                lines.append(f"{pad}{k}: {v}")
        return "\n".join(lines)
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict):
                inner = to_yaml(item, indent + 1).lstrip()
                out.append(f"{pad}- {inner}")
            else:
                out.append(f"{pad}- {item}")
        return "\n".join(out)
    return f"{pad}{value}"


def load_script(path: Path, prefix: str) -> object:
    """The value a generated script (the search index's files) assigns after `prefix`, as the browser sees it."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith(prefix) and text.rstrip().endswith(";"), path
    return json.loads(text[len(prefix) : text.rstrip().rindex(";")])


class TinySite:
    """A site folder in tmp_path: site.toml, the real formats, the real templates, and data the test writes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "data" / "formats").mkdir(parents=True)
        for f in (REPO / "data" / "formats").glob("*.yaml"):
            shutil.copy(f, root / "data" / "formats" / f.name)
        (root / "site.toml").write_text(
            'title = "测试站"\ndescription = "测试"\nbase_url = "https://example.org/"\n'
            f'templates = "{(REPO / "templates").as_posix()}"\n\n[formats]\n2023 = "shenzhen-2023"\n',
            encoding="utf-8",
        )
        (root / "content" / "glossary").mkdir(parents=True)
        for f in (REPO / "content" / "glossary").glob("*.md"):
            shutil.copy(f, root / "content" / "glossary" / f.name)
        self.dept_dir(DEPT)
        self.write(f"data/departments/{DEPT}/部门.yaml", "名称: 测试部门\n地区: 测试区\n")

    def dept_dir(self, slug: str) -> Path:
        path = self.root / "data" / "departments" / slug
        path.mkdir(parents=True, exist_ok=True)
        return path

    def year_dir(self, slug: str = DEPT, year: int = YEAR) -> Path:
        path = self.dept_dir(slug) / str(year)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def table_rel(self, no: int, slug: str = DEPT) -> str:
        return f"data/departments/{slug}/{YEAR}/{FILES[no]}"

    def write_tables(self, tables: dict[int, dict], slug: str = DEPT) -> None:
        for no, body in tables.items():
            self.write(self.table_rel(no, slug), f"# 表{no}\n{to_yaml(body)}\n")

    def line_of(self, rel: str, needle: str) -> int:
        """The 1-based line of the first line containing `needle`: tests name lines the way users see them."""
        for i, line in enumerate((self.root / rel).read_text(encoding="utf-8").splitlines(), start=1):
            if needle in line:
                return i
        raise AssertionError(f"{needle!r} not in {rel}")


def run_command(site: TinySite, *args: str, capsys) -> tuple[int, str]:
    """A command of the generator on `site`, as a user runs it: (exit code, all it printed), never a traceback."""
    from generator.commands.cli import main

    code = main([*args, "--site", str(site.root)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    return code, text


@pytest.fixture
def site(tmp_path: Path) -> TinySite:
    return TinySite(tmp_path / "site")


@pytest.fixture
def tables() -> dict[int, dict]:
    return copy.deepcopy(tiny_year())


def git(root: Path, *args: str) -> str:
    """git in a test's repository, as a named committer, its output; fails the test where git fails."""
    proc = subprocess.run(
        ["git", "-c", "user.name=测试", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser():
    from browsing import launch_browser

    yield from launch_browser()


@pytest.fixture(scope="session")
def public(tmp_path_factory) -> Path:
    """The bundled site, built once for the session's browser and output tests."""
    from generator.builder.pipeline import build

    out = tmp_path_factory.mktemp("bundled") / "public"
    build(REPO, out)
    return out
