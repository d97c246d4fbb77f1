"""diff reads only the departments whose files differ between the two versions (all of them where something every
department is checked against differs), one at a time, and reports what comparing the two whole sites reports.

On a province (10,000 department-years) a pull request's diff read both whole trees into memory: more than 21 GB
and twelve minutes before it was stopped. These tests show the shortcut loses nothing a reviewer reads.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import git
from synthetic import make_site

from generator.builder.pipeline import run_checks
from generator.commands import diff
from generator.core.config import load_config
from generator.core.diagnostics import Diagnostics
from generator.sources.load import load_site

CHANGED = "dept-00001"  # a figure of 2023 changed
SHORTER = "dept-00002"  # its 2022 removed
GONE = "dept-00003"  # removed
ADDED = "dept-00009"  # new: a copy of dept-00004 under another name
SAME = ["dept-00004", "dept-00005", "dept-00006"]


def change_figure(root: Path) -> None:
    """One figure of CHANGED's 2023 表1 one 万元 more."""
    path = root / "data" / "departments" / CHANGED / "2023" / "表1-收入支出决算总表.yaml"
    text = path.read_text(encoding="utf-8")
    line = re.search(r"^  一般公共预算财政拨款收入: ([\d,]+\.\d\d)$", text, re.M)
    more = f"{float(line.group(1).replace(',', '')) + 1:,.2f}"
    path.write_text(text.replace(line.group(0), f"  一般公共预算财政拨款收入: {more}", 1), encoding="utf-8")


def change_departments(root: Path) -> None:
    change_figure(root)
    departments = root / "data" / "departments"
    shutil.rmtree(departments / SHORTER / "2022")
    shutil.rmtree(departments / GONE)
    shutil.copytree(departments / SAME[0], departments / ADDED)
    info = departments / ADDED / "部门.yaml"
    info.write_text(re.sub(r"名称: .*", "名称: 新设测试局", info.read_text(encoding="utf-8")), encoding="utf-8")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """Six synthetic departments of two years each, committed as `main`; the branch `change` edits four of them."""
    root = make_site(tmp_path_factory.mktemp("diff") / "site", departments=6, years=[2022, 2023])
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "一")
    git(root, "checkout", "-q", "-b", "change")
    change_departments(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "二")
    git(root, "checkout", "-q", "main")
    return root


def whole(root: Path) -> diff.Side:
    """A version read and checked whole, as diff did before it compared only what differs."""
    config = load_config(root)
    diags = Diagnostics()
    source = load_site(config, diags)
    checks, _ = run_checks(source, config, diags)
    return diff.Side("", config, source, checks, diags)


def compared_whole(old_root: Path, new_root: Path, labels: tuple[str, str]) -> diff.Comparison:
    old, new = whole(old_root), whole(new_root)
    added = diff._years(new.source) - diff._years(old.source)
    result = diff.Comparison(diff.Version(labels[0], old.diagnostics), diff.Version(labels[1], new.diagnostics))
    result.figures = diff.compare_figures(old.source, new.source, added)
    result.checks, result.new_passing = diff.compare_checks(old, new, added)
    result.new_years = diff.new_years(old, new)
    result.errors_new, result.errors_gone = diff.compare_errors(old.diagnostics, new.diagnostics)
    return result


def checked_out(repo: Path, rev: str, where: Path) -> Path:
    """A revision's files in a folder of their own."""
    where.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=repo, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(where, filter="data")
    return where


def name_of(root: Path, slug: str) -> str:
    text = (root / "data" / "departments" / slug / "部门.yaml").read_text(encoding="utf-8")
    return re.search(r"名称: (.*)", text).group(1).strip()


def without_counts(text: str) -> list[str]:
    """The report without its line of each version's problem counts (the whole site's, or the compared ones')."""
    return [line for line in text.splitlines() if "新版本核对：" not in line]


@pytest.mark.parametrize("jobs", [1, 2])
def test_only_the_departments_that_differ_are_compared_and_the_report_is_the_whole_sites(repo: Path, tmp_path, jobs):
    result = diff.compare("main", "change", repo, jobs)
    assert (result.compared, result.same) == (4, 3)
    # What comparing the two whole sites finds, figure by figure and check by check.
    old, new = checked_out(repo, "main", tmp_path / "old"), checked_out(repo, "change", tmp_path / "new")
    reference = compared_whole(old, new, (result.old.label, result.new.label))
    assert result.figures == reference.figures
    assert diff._groups(result) == diff._groups(reference)
    assert result.new_passing == reference.new_passing
    assert result.new_years == reference.new_years
    assert (result.errors_new, result.errors_gone) == (reference.errors_new, reference.errors_gone)
    assert without_counts(diff.render_text(result)) == without_counts(diff.render_text(reference))
    assert without_counts(diff.render_markdown(result)) == without_counts(diff.render_markdown(reference))
    # Each kind of change is there: a changed figure, a removed year, a removed and an added department.
    assert len(result.figures) > 1 and {y.department for y in result.new_years} == {"新设测试局"}
    assert {f.year for f in result.figures if f.new == "（无）"} == {2022, 2023}
    # The counts say what they are of.
    line = next(line for line in diff.render_text(result).splitlines() if "新版本核对：" in line)
    assert line.startswith("比较了文件有改动的 4 个部门，新版本核对：")
    assert line.endswith("其余 3 个部门两个版本的文件完全相同，没有再读（全站的问题见 validate）。")


def test_a_department_whose_files_are_the_same_on_both_sides_is_not_read(repo: Path, monkeypatch):
    read = []
    real = diff.read_department

    def reading(folder, *args):
        read.append(folder.name)
        return real(folder, *args)

    monkeypatch.setattr(diff, "read_department", reading)
    diff.compare("main", "change", repo, jobs=1)
    assert sorted(read) == sorted([CHANGED, CHANGED, SHORTER, SHORTER, GONE, ADDED])


def test_a_change_every_department_is_checked_against_compares_every_department(repo: Path, tmp_path):
    new = checked_out(repo, "main", tmp_path / "new")
    with open(new / "site.toml", "a", encoding="utf-8") as f:
        f.write('\n[checks]\nrounding = "0.0001"\n')  # rounding differences beyond this become errors everywhere
    result = diff.compare("main", str(new), repo, jobs=2)
    assert (result.compared, result.same) == (6, 0)
    # Departments whose own files did not change have checks that changed.
    assert {k.department for k in result.checks} >= {name_of(new, slug) for slug in SAME}
    assert without_counts(diff.render_text(result)) == without_counts(
        diff.render_text(compared_whole(repo, new, (result.old.label, result.new.label)))
    )


def test_a_working_copy_compares_with_a_revision_by_its_files_bytes(repo: Path, tmp_path):
    copy = checked_out(repo, "main", tmp_path / "copy")
    (copy / "data" / "departments" / SAME[1] / "2023" / "概况.yaml").touch()  # touched, not changed
    change_figure(copy)
    result = diff.compare("main", str(copy), repo, jobs=1)
    assert (result.compared, result.same) == (1, 5)
    assert [(f.where, f.column) for f in result.figures] == [("表1 收入支出决算总表", "决算数")]


@pytest.mark.parametrize("new", ["main", "folder"])
def test_two_versions_with_the_same_files_are_the_same_and_nothing_is_read(repo: Path, tmp_path, new, monkeypatch):
    read = []
    monkeypatch.setattr(diff, "read_department", lambda folder, *args: read.append(folder))
    other = "main" if new == "main" else str(checked_out(repo, "main", tmp_path / "copy"))
    result = diff.compare("main", other, repo, jobs=1)
    assert (result.compared, result.same, read) == (0, 6, [])
    assert diff.render_text(result).splitlines()[1:] == [
        "改动的数字 0 处；结果改变的核对 0 项。",
        "全部 6 个部门两个版本的文件完全相同，没有再读（全站的问题见 validate）；"
        "新版本核对：0 个错误，0 个警告（旧版本：0 个错误，0 个警告）。",
        "两个版本的数字和核对结果完全相同。",
    ]
