"""The benchmark runs as its README section says and prints every figure (the figures themselves are
measurements, not asserted: see bench/run.py)."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def test_benchmark_prints_every_figure_for_a_small_site(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/run.py", "10", "--jobs", "2", "--sites", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.split()[:1] == ["10"])
    # size, pages, seconds, pages/s, ms/page, peak MB, bytes GB, then four rebuild times
    figures = re.findall(r"[\d,.]+", row)
    assert len(figures) == 11, row
    assert int(figures[1].replace(",", "")) > 10 * 20  # every department-year has its tables and projects
    assert all(float(f.replace(",", "")) > 0 for f in figures[2:5])  # (rebuilds of 10 may round to 0.00)
    assert (tmp_path / "site-10" / "public" / "index.html").is_file()
