"""The synthetic data for benchmarks: shaped like real disclosures, passes every check, same seed same bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from synthetic import make_site

from generator.builder.pipeline import build, validate


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def test_synthetic_site_passes_every_check_and_builds(tmp_path: Path):
    site = make_site(tmp_path / "site", departments=3, years=[2022, 2023], seed=7)
    report = validate(site)
    assert [d.format() for d in report.diagnostics.items if d.level != "note"] == []
    statuses = {c.status for c in report.checks}
    assert statuses == {"ok", "rounding"}  # rounding line by line makes real 0.01 differences, never errors
    assert len(report.checks) > 2000
    built = build(site)
    assert built.pages > 150 and (site / "public" / "dept-00001" / "2022" / "table-9.html").is_file()


def test_same_seed_same_files_and_another_seed_other_files(tmp_path: Path):
    a = make_site(tmp_path / "a", departments=2, years=[2023], seed=1)
    b = make_site(tmp_path / "b", departments=2, years=[2023], seed=1)
    c = make_site(tmp_path / "c", departments=2, years=[2023], seed=2)
    assert digest(a / "data") == digest(b / "data") != digest(c / "data")


def test_synthetic_data_looks_like_a_disclosure(tmp_path: Path):
    site = make_site(tmp_path / "s", departments=1, years=[2023], seed=3)
    year = site / "data" / "departments" / "dept-00001" / "2023"
    names = {p.name for p in year.iterdir()}
    assert {"概况.yaml", "情况说明.md", "名词解释.yaml", "项目"} <= names and len(
        [n for n in names if n.startswith("表")]
    ) == 9
    assert 10 <= len(list((year / "项目").glob("*.yaml"))) <= 20
    table3 = (year / "表3-支出决算表.yaml").read_text(encoding="utf-8")
    assert "201 一般公共服务支出:" in table3 and "208 社会保障和就业支出:" in table3
    assert "301 工资福利支出:" in (year / "表6-一般公共预算财政拨款基本支出决算明细表.yaml").read_text(encoding="utf-8")
