"""Rebuild times on a synthetic site that bench/run.py has built (public/ and the build cache in place), each
measured several times: run.py measures each once, right after writing the whole site, when the kernel has
just dropped much of what it knew of the data folders; a department's staff rebuild again and again.

    .venv/bin/python bench/rebuilds.py 10000            # after bench/run.py 10000 (or 100, 1000)
    .venv/bin/python bench/rebuilds.py 10000 --times 5

It prints each time and their median: a `build` with nothing changed, a `build` after one department's YAML
changed (also as `build --only` that department), `validate` with nothing changed since the last build and
with one department changed since (it takes the rest from the build cache; also as `validate --only`), and
how long after one department's edit serve knows what changed and its rebuild after it (in its running process).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import BUILD_ENV, HERE, edit_one_department, run, serve_edit


def validate(site: Path, jobs: int | None, *options: str) -> float:
    """Wall seconds of one `python -m generator validate`, as a department's staff run it."""
    command = [
        sys.executable,
        "-m",
        "generator",
        "validate",
        "--site",
        str(site),
        *(["--jobs", str(jobs)] if jobs else []),
        *options,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=HERE.parent, env=BUILD_ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"validate failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="在 bench/run.py 生成过的合成站点上反复测量重建用时。")
    parser.add_argument("size", type=int, help="部门年度数（bench/.sites/site-<数目>）")
    parser.add_argument("--times", type=int, default=3, help="每项测量的次数，默认 3")
    parser.add_argument("--jobs", type=int, help="进程数，默认为全部核心")
    parser.add_argument("--sites", type=Path, default=HERE / ".sites", help="合成站点在哪里，默认 bench/.sites/")
    args = parser.parse_args()
    site = args.sites.resolve() / f"site-{args.size}"
    if not (site / "public" / "index.html").is_file():
        sys.exit(f"{site} 还没有生成：先运行 bench/run.py {args.size}")
    nothing = [run(site, jobs=args.jobs)[0] for _ in range(args.times)]
    one = []
    for _ in range(args.times):
        edit_one_department(site)
        one.append(run(site, jobs=args.jobs)[0])
    only = [run(site, "--only", edit_one_department(site), jobs=args.jobs)[0] for _ in range(args.times)]
    checked = [validate(site, args.jobs) for _ in range(args.times)]
    edited = edit_one_department(site)  # not built: each validate after it checks that department-year again
    checked_one = [validate(site, args.jobs) for _ in range(args.times)]
    checked_only = [validate(site, args.jobs, "--only", edited) for _ in range(args.times)]
    looks, rebuilds = zip(*(serve_edit(site, args.jobs) for _ in range(args.times)), strict=True)
    for label, times in (
        ("build，无改动", nothing),
        ("build，改一个部门", one),
        ("build --only 那个部门，改一个部门", only),
        ("validate，无改动", checked),
        ("validate，改一个部门", checked_one),
        ("validate --only 那个部门，改一个部门", checked_only),
        ("serve，查看改动", looks),
        ("serve，改一个部门后重建", rebuilds),
    ):
        each = " ".join(f"{t:.2f}" for t in times)
        print(
            f"{args.size:>7,} 个部门年度  中位数 {statistics.median(times):5.2f} 秒  {label}（各次 {each}）", flush=True
        )


if __name__ == "__main__":
    main()
