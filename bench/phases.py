"""Where a department-year's build time goes: CPU milliseconds per department-year for each phase, in one
process, nothing written (so the disk does not blur the figures). Run it from the repository:

    .venv/bin/python bench/phases.py                 # the first 60 department-years of bench/.sites/site-100
    .venv/bin/python bench/phases.py --size 1000 --units 200

The site is bench/run.py's (made as it makes it, when it is not there yet). Phases nest: “读取” includes “YAML”,
“生成页面” includes “图表”. Process CPU time, not wall time; this machine's figures vary by about 10% from run
to run, so compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import collections
import gc
import sys
import time
from pathlib import Path

from run import HERE, synthetic_site

sys.path.insert(0, str(HERE.parent))

from generator.builder import units
from generator.core.config import load_config
from generator.core.diagnostics import Diagnostics
from generator.output import charts, opendata, render, search
from generator.sources import yamlsrc

PHASES = [
    (units, "read_year", "读取（含YAML）"),
    (yamlsrc, "parse", "YAML"),
    (units, "check_loaded", "核对"),
    (units, "build_year", "建模"),
    (render.Renderer, "year", "生成页面（含图表）"),
    (charts, "year_charts", "图表"),
    (opendata, "year_files", "开放数据"),
    (search, "unit_docs", "搜索：文档"),
    (search, "unit_tokens", "搜索：词"),
    (search, "unit_file", "搜索：文件"),
]


def timed(spent: collections.Counter, owner, name: str, label: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    setattr(owner, name, wrapper)


WARM = 3  # department-years a worker has done before the ones measured: templates compiled, chart shapes made


def worker_like(site: Path) -> tuple[tuple[units.Shared, units.Machinery], list[units.Unit]]:
    """What every unit shares with the Machinery a worker keeps, and the site's units, in a process set up as a
    build's worker is (the collector included) and after its first WARM department-years."""
    config = load_config(site)
    shared = units.load_shared(config, Diagnostics())
    found = units.discover(config, shared, Diagnostics())
    worker = (shared, units.Machinery.make(config.templates_dir))
    gc.freeze()
    gc.set_threshold(*units.WORKER_GC)  # as in a worker
    for unit in found.units[:WARM]:
        render(worker, unit)
    return worker, found.units


def render(worker: tuple[units.Shared, units.Machinery], unit: units.Unit) -> None:
    """One department-year read, checked, modelled and rendered, nothing written."""
    shared, machinery = worker
    units.process(shared, unit, units.Task(unit, True), {}, machinery)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100, help="合成站点的部门年度数，默认 100")
    parser.add_argument("--sites", type=Path, default=HERE / ".sites", help="合成站点放在哪里，默认 bench/.sites/")
    parser.add_argument("--units", type=int, default=60, help="测多少个部门年度（默认 60）")
    args = parser.parse_args()
    worker, every = worker_like(synthetic_site(args.size, args.sites.resolve()))
    chosen = every[: args.units]
    spent: collections.Counter = collections.Counter()
    for owner, name, label in PHASES:
        timed(spent, owner, name, label)
    started = time.process_time()
    for unit in chosen:
        render(worker, unit)
    total = time.process_time() - started
    print(f"{len(chosen)} 个部门年度，每个 CPU 毫秒：")
    print(f"  {'合计':<18}{total / len(chosen) * 1000:8.1f}")
    for _, _, label in PHASES:
        print(f"  {label:<18}{spent[label] / len(chosen) * 1000:8.1f}")


if __name__ == "__main__":
    main()
