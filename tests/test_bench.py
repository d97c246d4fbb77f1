"""The benchmark runs as its README section says and prints every figure (the figures themselves are
measurements, not asserted: see bench/run.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, in_ci


def test_benchmark_prints_every_figure_for_a_small_site(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/run.py", "10", "--jobs", "2", "--sites", str(tmp_path), "--hugo-pages", "30"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.split()[:1] == ["10"])
    # size, pages, seconds, pages/s, ms/page, peak MB, bytes GB, then six rebuild times
    figures = re.findall(r"[\d,.]+", row)
    assert len(figures) == 13, row
    assert int(figures[1].replace(",", "")) > 10 * 20  # every department-year has its tables and projects
    assert all(float(f.replace(",", "")) > 0 for f in figures[2:5])  # (rebuilds of 10 may round to 0.00)
    assert (tmp_path / "site-10" / "public" / "index.html").is_file()
    yardstick = done.stdout.splitlines()[-1]
    again = subprocess.run(
        [sys.executable, "bench/rebuilds.py", "10", "--jobs", "2", "--sites", str(tmp_path), "--times", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    labels = [line.split("秒", 1)[1].split("（")[0].strip() for line in again.stdout.splitlines()]
    assert labels == ["build，无改动", "build，改一个部门", "build --only 那个部门，改一个部门", "validate，无改动",
                      "validate，改一个部门", "validate --only 那个部门，改一个部门", "serve，查看改动",
                      "serve，改一个部门后重建"]  # fmt: skip
    assert all(float(re.search(r"中位数\s+([\d.]+)", line).group(1)) > 0 for line in again.stdout.splitlines()[3:5])
    if shutil.which("hugo") or in_ci():  # .ci/run installs Debian's hugo
        assert re.fullmatch(
            r"对照：hugo 生成 3\d 页 40 行表格，中位数 [\d.]+ 毫秒/页；[\d,]+ 页约 [\d.]+ 秒", yardstick
        )
    else:
        assert yardstick.startswith("对照：没有安装 hugo"), yardstick


def test_pull_request_benchmark_prints_each_commands_figures_and_leaves_the_site_as_it_was(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/pull_request.py", "10", "--jobs", "2", "--sites", str(tmp_path), "--shared"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [
        re.fullmatch(r"\s*10  (\S+ .*?)\s+([\d.]+)\s+(\d+) MB  (.*)", line) for line in done.stdout.splitlines()[2:]
    ]
    assert all(rows), done.stdout
    assert [row[1].split()[:2] for row in rows] == [["validate", "--format"], ["diff", "--format"],
                                                    ["build", "--changed-from（预览）"], ["diff", "--format"]]  # fmt: skip
    assert all(float(row[2]) > 0 and int(row[3]) > 0 for row in rows)
    assert [row[4] for row in rows[1:]] == ["比较了文件有改动的 1 个部门", rows[2][4], "比较了全部部门"]
    assert re.fullmatch(r"预览 [\d.]+ MB", rows[2][4])
    site = tmp_path / "site-10"
    git = ["git", "-C", str(site)]
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    branches = subprocess.run([*git, "branch", "--format=%(refname:short)"], capture_output=True, text=True)
    assert branches.stdout.split() == ["main"]  # the change's branch deleted, main checked out again
    assert subprocess.run([*git, "log", "--format=%s"], capture_output=True, text=True).stdout.split("\n")[0] == (
        "synthetic site"
    )


def test_hugo_yardstick_pages_hold_a_40_row_table(tmp_path):
    import hugo  # bench/ is on the tests' path (pyproject.toml)

    hugo.make_site(tmp_path / "a", 3)
    hugo.make_site(tmp_path / "b", 3)
    pages = sorted((tmp_path / "a" / "content" / "p").iterdir())
    assert [p.name for p in pages] == ["00000.md", "00001.md", "00002.md"]
    front = yaml.safe_load(pages[1].read_text(encoding="utf-8").split("---")[1])
    assert len(front["rows"]) == 40 and set(front["rows"][0]) == {"code", "name", "a", "b", "c", "d"}
    assert pages[1].read_bytes() == (tmp_path / "b" / "content" / "p" / "00001.md").read_bytes()  # same seed
    if not (shutil.which("hugo") or in_ci()):
        return
    walls, written = hugo.measure(5, times=1)
    assert written == 5 + 2 and len(walls) == 1 and walls[0] > 0  # the pages, the home page and the section's list


def test_phase_profile_prints_each_phase(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/phases.py", "--size", "10", "--sites", str(tmp_path), "--units", "3"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("3 个部门年度")
    figures = {line.split()[0]: float(line.split()[-1]) for line in lines[1:]}
    assert list(figures) == ["合计", "读取（含YAML）", "YAML", "核对", "建模", "生成页面（含图表）", "图表", "开放数据",
                             "搜索：文档", "搜索：词", "搜索：文件"]  # fmt: skip
    assert figures["合计"] > figures["生成页面（含图表）"] > 0 and figures["读取（含YAML）"] > figures["YAML"] > 0


def worktrees() -> str:
    return subprocess.run(["git", "worktree", "list"], cwd=REPO, capture_output=True, text=True).stdout


def test_comparison_with_an_earlier_commit_builds_both_in_turns(tmp_path):
    before = worktrees()
    done = subprocess.run(
        [sys.executable, "bench/compare.py", "HEAD", "--size", "10", "--times", "1", "--sites", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[3] for line in lines[:2]] == ["HEAD", "工作区"], lines
    medians = [line for line in lines if line.startswith("中位数")]
    assert len(medians) == 2 and all(float(line.split()[2]) > 0 for line in medians), lines
    assert worktrees() == before  # the earlier commit's checkout is gone again


def test_instruction_count_runs_what_it_counts(tmp_path):
    """bench/instructions.py's counted part (under valgrind it takes minutes: here only that it runs)."""
    import gc

    import instructions  # bench/ is on the tests' path (pyproject.toml)
    import run

    site = run.synthetic_site(10, tmp_path)
    made = []
    original, thresholds = run.synthetic_site, gc.get_threshold()
    instructions.synthetic_site = lambda size: made.append(size) or original(size, tmp_path)
    try:
        instructions.process_units(10, 2)
    finally:  # it sets the collector up as a worker's: this process goes on with the other tests
        instructions.synthetic_site = original
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert made == [10] and (site / "data").is_dir()


def test_hugo_renders_at_most_hugo_most_pages_kept_until_the_end_and_says_its_figure_is_scaled(
    tmp_path, monkeypatch, capsys
):
    """A site larger than HUGO_MOST pages: Hugo renders that many (it keeps every page in memory) and the line
    says the larger site's time is scaled from them; what it wrote stays in the trash folder for main to delete."""
    import run  # bench/ is on the tests' path (pyproject.toml)

    if not (shutil.which("hugo") or in_ci()):  # under CI=true, a missing hugo fails below
        pytest.skip("没有安装 hugo（apt-get install -y hugo）")
    monkeypatch.setattr(run, "HUGO_MOST", 4)
    run.yardstick(100, run.HUGO_MOST, tmp_path / "trash", capped=True)
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(
        r"对照：hugo 生成 6 页 40 行表格，中位数 [\d.]+ 毫秒/页；100 页约 [\d.]+ 秒（Hugo 把全部页面留在内存中，"
        r"28,283 页约 2.7 GB：这里按 6 页的每页用时折算）",
        line,
    ), line
    kept = list((tmp_path / "trash").iterdir())
    assert len(kept) == 1 and (kept[0] / "out-2" / "index.html").is_file()
