"""Rebuild times on a synthetic site that bench/run.py has built (public/ and the build cache in place), each
measured several times: run.py measures each once, right after writing the whole site, when the kernel has
just dropped much of what it knew of the data folders; a department's staff rebuild again and again.

    .venv/bin/python bench/rebuilds.py 10000            # after bench/run.py 10000 (or 100, 1000)
    .venv/bin/python bench/rebuilds.py 10000 --times 5

It prints each time and their median: a `build` with nothing changed, a `build` after one department's YAML
changed, and how long after one department's edit serve knows what changed and its rebuild after it (in its
running process).
"""

from __future__ import annotations

import argparse
import statistics
import sys

from run import HERE, edit_one_department, run, serve_edit


def main() -> None:
    parser = argparse.ArgumentParser(description="在 bench/run.py 生成过的合成站点上反复测量重建用时。")
    parser.add_argument("size", type=int, help="部门年度数（bench/.sites/site-<数目>）")
    parser.add_argument("--times", type=int, default=3, help="每项测量的次数，默认 3")
    parser.add_argument("--jobs", type=int, help="进程数，默认为全部核心")
    args = parser.parse_args()
    site = HERE / ".sites" / f"site-{args.size}"
    if not (site / "public" / "index.html").is_file():
        sys.exit(f"{site} 还没有生成：先运行 bench/run.py {args.size}")
    nothing = [run(site, jobs=args.jobs)[0] for _ in range(args.times)]
    one = []
    for _ in range(args.times):
        edit_one_department(site)
        one.append(run(site, jobs=args.jobs)[0])
    looks, rebuilds = zip(*(serve_edit(site, args.jobs) for _ in range(args.times)), strict=True)
    for label, times in (
        ("build，无改动", nothing),
        ("build，改一个部门", one),
        ("serve，查看改动", looks),
        ("serve，改一个部门后重建", rebuilds),
    ):
        each = " ".join(f"{t:.2f}" for t in times)
        print(
            f"{args.size:>7,} 个部门年度  中位数 {statistics.median(times):5.2f} 秒  {label}（各次 {each}）", flush=True
        )


if __name__ == "__main__":
    main()
