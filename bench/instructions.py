"""Instructions a department-year costs, counted by valgrind's callgrind: the same count for the same code and
data whatever else this machine is doing, where wall and CPU seconds here can differ by half from one hour to
the next. Compare two commits by running it in each (a git worktree per commit):

    .venv/bin/python bench/instructions.py               # 12 department-years of bench/.sites/site-100
    .venv/bin/python bench/instructions.py --units 5

It reads, checks, models and renders (writing nothing) a few department-years first, so templates are compiled
and chart shapes made, then counts only what the next `--units` cost: the count is collected inside one
functools.reduce over them (callgrind's --toggle-collect on that C function). Under callgrind Python runs some
fifty times slower: 12 department-years take about four minutes.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import subprocess
import sys
import tempfile

from phases import WARM, render, worker_like
from run import BUILD_ENV, synthetic_site


def process_units(size: int, count: int) -> None:
    """What is counted: `count` department-years processed after WARM others, inside functools.reduce."""
    worker, every = worker_like(synthetic_site(size))
    functools.reduce(lambda _, unit: render(worker, unit), every[WARM : WARM + count], None)


def main() -> None:
    parser = argparse.ArgumentParser(description="用 callgrind 数每个部门年度的指令数（不受本机快慢影响）。")
    parser.add_argument("--size", type=int, default=100, help="合成站点的部门年度数，默认 100")
    parser.add_argument("--units", type=int, default=12, help="数多少个部门年度，默认 12")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)  # the run valgrind watches
    args = parser.parse_args()
    if args.inside:
        process_units(args.size, args.units)
        return
    if shutil.which("valgrind") is None:
        sys.exit("没有 valgrind（apt-get install -y valgrind）")
    synthetic_site(args.size)  # made now, not counted and not under valgrind
    env = dict(BUILD_ENV, PYTHONHASHSEED="0")  # set and dict orders, and so the count, the same from run to run
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=functools_reduce",
             f"--callgrind-out-file={tmp}/callgrind.out", sys.executable, __file__, "--inside",
             "--size", str(args.size), "--units", str(args.units)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"valgrind 没有给出计数：\n{done.stderr[-2000:]}")
    total = int(found.group(1))
    print(f"{args.units} 个部门年度（site-{args.size}，先处理 {WARM} 个不计）：共 {total / 1e6:,.0f} 百万条指令，"
          f"每个 {total / args.units / 1e6:,.1f} 百万条")  # fmt: skip


if __name__ == "__main__":
    main()
