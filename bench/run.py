"""The build benchmark: synthetic sites of 100, 1,000 and 10,000 department-years, built as a user would.

For each size it prints pages written, wall seconds, pages per second, peak memory (the build's and its
workers' resident memory together, sampled every 20 ms from /proc: Linux), bytes written, the time of the
first rebuild with nothing changed (right after the full build, when the kernel has just dropped much of what
it knew of the data folders), the median of three rebuilds with nothing changed and of three after one
department's YAML changed (each a `build` command),
and, for `serve`, how long after one department's edit it knows what changed (notified by the operating
system, then that department's folder looked at again) and its rebuild after it (in its running process). Run
it from the repository:

    .venv/bin/python bench/run.py                 # 100 and 1,000
    .venv/bin/python bench/run.py 100 1000 10000  # the full set (about 15 GB of disk and an hour here)
    .venv/bin/python bench/run.py --jobs 1 100     # one process

The sites are generated once per size under bench/.sites/ (gitignored) and reused; --fresh makes them again.
Targets (issue 7): 10,000 department-years in no more than Hugo's time for the same pages (the issue measured
about 1.1 ms a page on this 2-core machine; where Debian's `hugo` is installed, the last line is Hugo's figure
for as many pages as the largest site's, up to HUGO_MOST (Hugo keeps every page in memory: 10,000
department-years' pages do not fit in this machine's 24 GiB), measured after the builds by bench/hugo.py,
before anything is deleted: see clear_output), a one-department edit and a no-change rebuild each under 1 second,
peak memory under 1 GiB. The figures are printed, not asserted: speed is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from synthetic import make_site

HERE = Path(__file__).resolve().parent
YEARS = 5  # each department has five years, as an archive keeps them
REPEAT = 3  # rebuilds measured this many times each, their median printed
# The builds run as on a reader's machine, where Python keeps the compiled generator in __pycache__/: some
# machines (this one among them) set PYTHONDONTWRITEBYTECODE, and every command would compile it again (~0.15 s).
BUILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _tree_rss(pid: int) -> int:
    """Resident memory (KiB) of a process and all its descendants, from /proc (Linux)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run(site: Path, *args: str, jobs: int | None) -> tuple[float, int]:
    """Wall seconds and peak memory (KiB) of one `python -m generator build`: the largest sum, sampled every
    20 ms, of the resident memory of the build and its worker processes together."""
    command = ["build", "--site", str(site), "--quiet", *args]
    seconds, peak, _ = measured([*command, *(["--jobs", str(jobs)] if jobs else [])], "build")
    return seconds, peak


def measured(args: list[str], what: str, exits: tuple[int, ...] = (0,)) -> tuple[float, int, str]:
    """Wall seconds, peak memory (KiB: as run() measures it) and what it printed, of `python -m generator args`,
    which must end with one of `exits`."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        cwd=HERE.parent, env=BUILD_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.02):
            peak = max(peak, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode not in exits:
        sys.exit(f"{what} failed:\n{out}\n{err}")
    return seconds, peak or resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, out  # too quick to sample


def edit_one_department(site: Path) -> str:
    """One department's 概况 changes: its pages and the site's summaries of it are all that must be redone.
    Returns the department's folder name (for `build --only`)."""
    overview = next((site / "data" / "departments").glob("*/2023")) / "概况.yaml"
    text = overview.read_text(encoding="utf-8")
    overview.write_text(
        text.replace("个科室。", "个科室（基准测试改动）。", 1)
        if "基准测试改动" not in text
        else text.replace("（基准测试改动）", ""),
        encoding="utf-8",
    )
    return overview.parent.parent.name


SERVE_PROBE = """
import sys, time
from pathlib import Path
from generator.builder.pipeline import Warm, default_jobs
from generator.commands.serve import rebuild, refresh, snapshot, start_watcher
sys.path.insert(0, sys.argv[1])
from run import edit_one_department
site, jobs = Path(sys.argv[2]), int(sys.argv[3]) or default_jobs()
watcher, why = start_watcher(site)  # as serve starts: notifications first, then the first look and build
state, warm = snapshot(site, site / "public", jobs), Warm()
rebuild(site, site / "public", state, warm)  # serve's first build, with nothing changed
edit_one_department(site)
started = time.perf_counter()
if watcher is None:
    print("no notifications:", why, file=sys.stderr)
    state = snapshot(site, site / "public", jobs)
else:
    woken, changed = watcher.wait(10)
    if not woken:
        sys.exit("serve probe: no notification of the edit within 10 s")
    state = refresh(site, site / "public", state, changed, jobs)
looked = time.perf_counter()
rebuild(site, site / "public", state, warm)
print(looked - started, time.perf_counter() - looked)
"""


def serve_edit(site: Path, jobs: int | None) -> tuple[float, float]:
    """serve with a department edited: how long from the edit until it knows what changed (the operating
    system's notification, then that department's folder scanned again; a whole look where notifications cannot
    be had), and the rebuild after it (in serve's warm process, from that look)."""
    command = [sys.executable, "-c", SERVE_PROBE, str(HERE), str(site), str(jobs or 0)]
    done = subprocess.run(command, cwd=HERE.parent, env=BUILD_ENV, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"serve probe failed:\n{done.stdout}\n{done.stderr}")
    looked, rebuilt = done.stdout.split("\n")[-2].split()
    return float(looked), float(rebuilt)


def synthetic_site(size: int, sites: Path = HERE / ".sites", fresh: bool = False, trash: Path | None = None) -> Path:
    """bench/.sites/site-<size>: `size` department-years (five years a department), made once and reused. With
    `fresh`, made again, the old one moved into `trash` where there is one (see clear_output)."""
    site = sites / f"site-{size}"
    if fresh and site.exists():
        if trash is None:
            shutil.rmtree(site)
        else:
            trash.mkdir(parents=True, exist_ok=True)
            site.rename(trash / f"{site.name}-{time.time_ns()}")
    if not site.exists():
        started = time.perf_counter()
        departments = max(1, size // YEARS)
        # Made beside it and renamed when whole: an interrupted run must not leave half a site to be reused.
        partial = sites / f".site-{size}.partial"
        if partial.exists():
            shutil.rmtree(partial)
        make_site(partial, departments, [2023 - i for i in range(min(YEARS, size))], seed=2023)
        partial.rename(site)
        print(f"  generated {size} department-years in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return site


def clear_output(site: Path, trash: Path) -> None:
    """No public/ and no build cache: the next build starts from nothing. The old ones are moved into `trash`,
    for main to delete after every measurement, Hugo's included. This machine's disk is ext4 without a journal,
    where the kernel will not give a new file the inode of one deleted in the last one to six minutes: until
    then each new file costs a search past the freed inodes, 0.3–0.7 ms of system time instead of 0.05 ms (in
    a build of 1,000 department-years, 29 s of system time instead of 5). A deletion just before a measurement
    would time the benchmark's own clean-up."""
    leftovers = [p for p in (site / "public", site / ".build-cache") if p.exists()]
    if not leftovers:
        return
    n = 0
    while (folder := trash / f"{site.name}-{n}").exists():
        n += 1
    folder.mkdir(parents=True)
    for leftover in leftovers:
        leftover.rename(folder / leftover.name)


def measure(size: int, jobs: int | None, fresh: bool, sites: Path, trash: Path) -> dict:
    site = synthetic_site(size, sites, fresh, trash)
    clear_output(site, trash)
    full, peak = run(site, "--clean", jobs=jobs)
    pages = sum(1 for _ in (site / "public").rglob("*.html"))
    written = sum(p.stat().st_size for p in (site / "public").rglob("*") if p.is_file())
    # Right after writing the whole site the kernel has dropped much of what it knew of data/ (on 10,000
    # department-years it reads it from disk again): that first rebuild, then the median of REPEAT, as a
    # department's staff rebuild again and again.
    first, _ = run(site, jobs=jobs)
    nothing = statistics.median(run(site, jobs=jobs)[0] for _ in range(REPEAT))
    ones, onlys = [], []
    for _ in range(REPEAT):
        edit_one_department(site)  # each time the other way: every run is an edit
        ones.append(run(site, jobs=jobs)[0])
    for _ in range(REPEAT):  # the same, with the department named: the others are not looked at
        onlys.append(run(site, "--only", edit_one_department(site), jobs=jobs)[0])
    look, warm = serve_edit(site, jobs)
    return {"size": size, "pages": pages, "full": full, "peak": peak, "bytes": written, "first": first,
            "nothing": nothing, "one": statistics.median(ones), "only": statistics.median(onlys), "look": look,
            "warm": warm}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description="合成数据的生成基准：打印页数、用时、每秒页数、内存峰值、写入量和增量重建用时。"
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--jobs", type=int, help="进程数，默认为全部核心")
    parser.add_argument("--fresh", action="store_true", help="重新生成合成数据")
    parser.add_argument(
        "--hugo-pages",
        type=int,
        help=f"对照的 hugo 生成多少页，默认与最大的合成站点页数相同，但最多 {HUGO_MOST:,} 页；0 为不测",
    )
    parser.add_argument("--sites", type=Path, default=HERE / ".sites", help="合成站点放在哪里，默认 bench/.sites/")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; jobs: {args.jobs or 'all cores'}")
    header = (
        f"{'部门年度':>8} {'页面':>8} {'用时(秒)':>9} {'页/秒':>7} {'毫秒/页':>7} {'内存峰值':>9} {'写入':>9}"
        f" {'首次无改动':>10} {'无改动重建':>10} {'改一个部门':>10} {'同上 --only':>10} {'预览：查看改动':>10}"
        f" {'预览：重建':>10}"
    )
    print(header)
    pages = []  # of each size
    # What the runs replace or make for comparison, deleted only once everything is measured.
    trash = args.sites.resolve() / ".trash"
    try:
        for size in args.sizes:
            r = measure(size, args.jobs, args.fresh, args.sites.resolve(), trash)
            print(
                f"{r['size']:>8,} {r['pages']:>8,} {r['full']:>9.1f} {r['pages'] / r['full']:>7.0f} {r['full'] * 1000 / r['pages']:>7.2f}"
                f" {r['peak'] / 1024:>7.0f} MB {r['bytes'] / 2**30:>7.2f} GB {r['first']:>9.2f}s {r['nothing']:>9.2f}s"
                f" {r['one']:>9.2f}s {r['only']:>10.2f}s"
                f" {r['look']:>11.2f}s {r['warm']:>10.2f}s",
                flush=True,
            )
            pages.append(r["pages"])
        if args.hugo_pages != 0:
            yardstick(max(pages), args.hugo_pages or min(max(pages), HUGO_MOST), trash, capped=not args.hugo_pages)
    finally:
        shutil.rmtree(trash, ignore_errors=True)


# Hugo holds every page in memory: 28,283 pages took it 2.7 GB here, and the 282,827 of 10,000 department-years
# ran it out of this machine's 24 GiB (killed at 22 GB). Past this many pages, its time a page at this many.
HUGO_MOST = 30_000


def yardstick(pages: int, hugo_pages: int, trash: Path, capped: bool = False) -> None:
    """Hugo's milliseconds a page in these same minutes (bench/hugo.py), when Debian's hugo is installed: the
    median of three runs."""
    import hugo

    if hugo.hugo() is None:
        print("对照：没有安装 hugo（apt-get install -y hugo），略过")
        return
    walls, written = hugo.measure(hugo_pages, 3, keep=trash)
    per_page = statistics.median(walls) * 1000 / written
    fits = ""
    if capped and hugo_pages < pages:  # the default, HUGO_MOST, for a larger site
        fits = f"（Hugo 把全部页面留在内存中，28,283 页约 2.7 GB：这里按 {written:,} 页的每页用时折算）"
    print(
        f"对照：hugo 生成 {written:,} 页 40 行表格，中位数 {per_page:.2f} 毫秒/页；{pages:,} 页约 {per_page * pages / 1000:.1f} 秒"
        + fits
    )


if __name__ == "__main__":
    main()
