"""A full build of the same synthetic site by an earlier commit and by the working tree, taken in turns.

This machine's speed moves by up to half from one hour to the next, so a figure from another session says
little about a change: compare in the same minutes instead. Run it from the repository:

    .venv/bin/python bench/compare.py c7f4e14              # 1,000 department-years, each side twice
    .venv/bin/python bench/compare.py HEAD~3 --size 100 --times 3

The earlier commit is checked out into a temporary git worktree and builds a copy of the site (hard links to
the same data files, its own templates); the two sides alternate, each a `build --clean` from nothing. It
prints each build's wall seconds and CPU seconds (all its processes), and the medians of each side.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import BUILD_ENV, HERE, clear_output, synthetic_site

REPO = HERE.parent


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(code: Path, site: Path, jobs: int | None, trash: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `build --clean` of `site` by the generator in `code`, from nothing. The
    earlier output is moved into `trash`, deleted after all the builds (see clear_output)."""
    clear_output(site, trash)
    command = [sys.executable, "-m", "generator", "build", "--site", str(site), "--quiet", "--clean"]
    if jobs:
        command += ["--jobs", str(jobs)]
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=code, env=BUILD_ENV, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{code} 生成失败：\n{done.stdout}\n{done.stderr}")
    return wall, children_cpu() - cpu


def site_for(code: Path, site: Path, target: Path) -> Path:
    """`site` for the generator in `code`: the same data (hard links), site.toml naming `code`'s templates."""
    target.mkdir()
    for folder in ("data", "content"):
        shutil.copytree(site / folder, target / folder, copy_function=_link)
    text = (site / "site.toml").read_text(encoding="utf-8")
    line = f'templates = "{(code / "templates").as_posix()}"'
    (target / "site.toml").write_text(re.sub(r"(?m)^templates = .*$", line, text), encoding="utf-8")
    return target


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description="同一时段轮流测量：较早的提交与工作区各自全部生成同一个合成站点。")
    parser.add_argument("rev", help="较早的提交（git 版本号、标签或分支）")
    parser.add_argument("--size", type=int, default=1000, help="部门年度数，默认 1000")
    parser.add_argument("--times", type=int, default=2, help="每一方生成几次，默认 2")
    parser.add_argument("--jobs", type=int, help="进程数，默认为全部核心")
    parser.add_argument("--sites", type=Path, default=HERE / ".sites", help="合成站点放在哪里，默认 bench/.sites/")
    args = parser.parse_args()
    site = synthetic_site(args.size, args.sites.resolve())
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        earlier = Path(tmp) / "code"
        subprocess.run(["git", "worktree", "add", "--detach", str(earlier), args.rev], cwd=REPO, check=True,
                       capture_output=True)  # fmt: skip
        trash = Path(tmp) / "trash"
        try:
            sides = [(args.rev, earlier, site_for(earlier, site, Path(tmp) / "site")), ("工作区", REPO, site)]
            results: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in sides}
            for round_ in range(1, args.times + 1):
                for label, code, where in sides:
                    wall, cpu = build(code, where, args.jobs, trash)
                    results[label].append((wall, cpu))
                    print(f"第 {round_} 轮  {label:>12}  {wall:7.1f} 秒  CPU {cpu:7.1f} 秒", flush=True)
            for label, runs in results.items():
                wall = statistics.median(w for w, _ in runs)
                cpu = statistics.median(c for _, c in runs)
                print(f"中位数 {label:>12}  {wall:7.1f} 秒  CPU {cpu:7.1f} 秒  （{args.size} 个部门年度）")
        finally:
            shutil.rmtree(trash, ignore_errors=True)
            subprocess.run(["git", "worktree", "remove", "--force", str(earlier)], cwd=REPO, capture_output=True)


if __name__ == "__main__":
    main()
