"""What a pull request's checks cost on a province: the commands of .github/workflows/pull-request.yml after one
department's YAML changed, on a synthetic site made a git repository, each run once as the workflow runs it
(no build cache: a pull request's checkout has none). Run it from the repository:

    .venv/bin/python bench/pull_request.py                 # 1,000 department-years
    .venv/bin/python bench/pull_request.py 10000           # a province (its git repository: about 1 GB more)
    .venv/bin/python bench/pull_request.py 1000 --shared   # and diff after a change every department shares

For each command it prints wall seconds and peak memory (the command and its workers together, as bench/run.py
measures a build): validate --format github --changed-from, diff --format markdown, and the preview (build
--allow-errors --changed-from) with the size of what it wrote. With --shared, diff again after site.toml changed
too: then every department is compared (about ten minutes on 10,000 department-years).

The site is bench/run.py's (bench/.sites/site-N), made a git repository the first time (public/ and the build
cache ignored). The change is committed on a branch of its own, which is deleted afterwards; the branch that was
checked out is checked out again, so the site's files are as they were.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run import HERE, edit_one_department, measured, synthetic_site

IGNORED = "public/\n.build-cache/\n.public.lock\n"


def git(site: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=site, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed in {site}:\n{done.stderr}")
    return done.stdout.strip()


def repository(site: Path) -> None:
    """The synthetic site as a git repository with its files committed (once: about a minute for 10,000)."""
    if (site / ".git").exists():
        if git(site, "status", "--porcelain"):
            sys.exit(f"{site} has uncommitted changes: commit or discard them first")
        return
    (site / ".gitignore").write_text(IGNORED, encoding="utf-8")
    git(site, "init", "-q", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "-q", "-m", "synthetic site")


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _compared(summary: str) -> str:
    """What diff says it compared."""
    found = re.search(r"比较了文件有改动的 [\d,]+ 个部门", summary)
    return found.group(0) if found else "比较了全部部门"


def measure(site: Path, jobs: int | None, shared: bool) -> list[tuple[str, float, int, str]]:
    """(what, seconds, peak KiB, remark) for each command, on a branch with one department changed."""
    base = git(site, "rev-parse", "HEAD")
    was = git(site, "rev-parse", "--abbrev-ref", "HEAD")
    branch = f"bench-pull-request-{os.getpid()}"
    common = ["--site", str(site), *(["--jobs", str(jobs)] if jobs else [])]
    rows = []
    git(site, "checkout", "-q", "-b", branch)
    try:
        department = edit_one_department(site)
        git(site, "commit", "-q", "-am", f"{department}: one text changed")
        seconds, peak, _ = measured(["validate", *common, "--format", "github", "--changed-from", base], "validate")
        rows.append(("validate --format github --changed-from", seconds, peak, ""))
        seconds, peak, out = measured(["diff", base, "HEAD", *common, "--format", "markdown"], "diff")
        rows.append(("diff --format markdown（改一个部门）", seconds, peak, _compared(out)))
        with tempfile.TemporaryDirectory(prefix=".preview-", dir=site.parent) as tmp:
            preview = Path(tmp) / "public"
            command = ["build", *common, "--quiet", "--allow-errors", "--changed-from", base, "--out", str(preview)]
            seconds, peak, _ = measured(command, "build --changed-from", exits=(0, 1))
            rows.append(("build --changed-from（预览）", seconds, peak, f"预览 {size_of(preview) / 2**20:.1f} MB"))
        if shared:
            with open(site / "site.toml", "a", encoding="utf-8") as f:
                f.write("# bench/pull_request.py: a change every department shares\n")
            git(site, "commit", "-q", "-am", "site.toml changed")
            seconds, peak, out = measured(["diff", base, "HEAD", *common, "--format", "markdown"], "diff")
            rows.append(("diff --format markdown（改 site.toml）", seconds, peak, _compared(out)))
    finally:
        git(site, "checkout", "-q", base if was == "HEAD" else was)
        git(site, "branch", "-q", "-D", branch)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="合并请求的自动核对在合成数据上的用时与内存")
    parser.add_argument("sizes", nargs="*", type=int, default=[1000])
    parser.add_argument("--jobs", type=int, help="进程数，默认为全部核心")
    parser.add_argument("--shared", action="store_true", help="再测改了共用文件（site.toml）后的 diff：比较全部部门")
    parser.add_argument("--sites", type=Path, default=HERE / ".sites", help="合成站点放在哪里，默认 bench/.sites/")
    args = parser.parse_args()
    if shutil.which("git") is None:
        sys.exit("git is not installed")
    print(f"machine: {os.cpu_count()} cores; jobs: {args.jobs or 'all cores'}")
    print(f"{'部门年度':>8}  {'命令':<40} {'用时(秒)':>9} {'内存峰值':>9}")
    for size in args.sizes:
        site = synthetic_site(size, args.sites.resolve())
        repository(site)
        for what, seconds, peak, remark in measure(site, args.jobs, args.shared):
            print(f"{size:>8,}  {what:<40} {seconds:>9.2f} {peak / 1024:>6.0f} MB  {remark}", flush=True)


if __name__ == "__main__":
    main()
