"""Every identity the format declares (DOMAIN.md §3): a passing case, a case inside the rounding bound, a failing case.

The cases are read from data/formats/shenzhen-2023.yaml itself, so an identity added to the format is tested
without a new test. Each case changes one printed total in a tiny department written by the test, runs the
real loader and checker, and looks at that identity's result and at the message a user would read.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import pytest
from conftest import REPO, TinySite

from generator.builder.pipeline import validate
from generator.sources.formats import CellRef, Format, load_format

FMT: Format = load_format(REPO / "data", REPO, "shenzhen-2023")


def _first_total_row(part) -> str:
    if part.classified:
        return "合计"
    if len(part.rows) == 1:
        return part.rows[0].key
    return next(r.key for r in part.rows if r.total)


def declared() -> list[tuple[str, CellRef, tuple[tuple[int, CellRef], ...]]]:
    """(name, total, parts) for every sum the format declares, each evaluated on one representative column/row."""
    cases = []
    for t in FMT.tables.values():
        for part in t.parts:
            where = f"表{t.no}" + (f"「{part.key}」" if part.key else "")
            col = part.columns[0]
            for rule in part.sums:
                total = CellRef(t.no, part.key, part.find_row(rule.total).key, col.key)
                parts = tuple((s, CellRef(t.no, part.key, part.find_row(k).key, col.key)) for s, k in rule.parts)
                cases.append((f"{where} {rule.total}", total, parts))
            for rule in part.column_sums:
                row = _first_total_row(part)
                total = CellRef(t.no, part.key, row, part.find_column(rule.total).key)
                parts = tuple((s, CellRef(t.no, part.key, row, part.find_column(k).key)) for s, k in rule.parts)
                cases.append((f"{where} 栏 {rule.total}", total, parts))
        for ident in t.identities:
            cases.append((f"表{t.no} {ident.total.part}/{ident.total.row}/{ident.total.col}", ident.total, ident.parts))
    for ident in FMT.identities:
        cases.append((f"表间 表{ident.total.table}/{ident.total.row}/{ident.total.col}", ident.total, ident.parts))
    for rule in FMT.by_code:
        (lt, lp, lc), (rt, rc) = rule.left, rule.right
        code = {3: "201", 5: "201", 7: "212", 8: "223"}[rt]  # a class the tiny department reports in both tables
        left = CellRef(lt, lp, code, lc)
        cases.append((f"按科目 表{lt}/{lc} ↔ 表{rt}/{rc} {code}", left, ((1, CellRef(rt, "", code, rc)),)))
    return cases


CASES = declared()


def locate(tables: dict, ref: CellRef) -> tuple[dict, str]:
    """The dict holding a cell in the test's data, and its key (rows the data leaves out are added)."""
    tf = FMT.tables[ref.table]
    node = tables[ref.table]
    part = tf.part(ref.part) or tf.parts[0]
    if ref.part:
        node = node[ref.part]
    if part.classified:
        key = next((k for k in node if k == ref.row or k.split()[0] == ref.row), ref.row)
        node = node.setdefault(key, {})
    elif len(part.rows) > 1:
        key = next((k for k in node if part.find_row(k) and part.find_row(k).key == ref.row), ref.row)
        if len(part.columns) == 1:
            return node, key
        node = node.setdefault(key, {})
    path = ref.col.split("/")
    for step in path[:-1]:
        node = node.setdefault(step, {})
    return node, path[-1]


def shift(tables: dict, ref: CellRef, delta: str) -> None:
    node, key = locate(tables, ref)
    node[key] = f"{Decimal(str(node.get(key, '0.00')).replace(',', '')) + Decimal(delta):.2f}"


def result_for(report, total: CellRef, parts):
    wanted = tuple(r for _, r in parts)
    found = [c for c in report.checks if c.total.ref == total and tuple(p.ref for p in c.parts) == wanted]
    assert found, f"no check of {total} was evaluated"
    return found[0]


def test_every_identity_is_covered():
    # Guards the parametrisation itself: the format declares this many sums, and each became a case.
    assert len(CASES) >= 30
    assert {c[1].table for c in CASES} == set(range(1, 10))


def test_tiny_department_passes_every_check(site: TinySite, tables):
    site.write_tables(tables)
    report = validate(site.root)
    problems = [d.format() for d in report.diagnostics.items]
    assert problems == []
    assert report.checks and all(c.status == "ok" for c in report.checks)


@pytest.mark.parametrize("name,total,parts", CASES, ids=[c[0] for c in CASES])
def test_identity_passes(site: TinySite, tables, name, total, parts):
    site.write_tables(tables)
    assert result_for(validate(site.root), total, parts).status == "ok"


@pytest.mark.parametrize("name,total,parts", CASES, ids=[c[0] for c in CASES])
def test_identity_difference_inside_rounding_bound_is_a_note(site: TinySite, tables, name, total, parts):
    shift(tables, total, "0.01")  # |diff| = 0.01 ≤ 0.005 × (n + 1) for any n ≥ 1
    site.write_tables(tables)
    report = validate(site.root)
    result = result_for(report, total, parts)
    assert result.status == "rounding"
    assert result.bound == Decimal("0.005") * (len(parts) + 1)
    notes = [d for d in report.diagnostics.items if d.level == "note" and d.loc == result.total.loc]
    assert notes and "在尾数误差允许范围" in notes[0].message and "不是错误" in notes[0].message


def largest_step_inside(n_parts: int) -> Decimal:
    """The largest difference in whole 0.01 steps that rounding alone can make: 0.005 × (n + 1) (DOMAIN.md §3),
    floored to 0.01. 0.01 for one or two parts, 0.02 for three, 0.03 for five, 0.13 for 26."""
    return (Decimal("0.005") * (n_parts + 1)).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


@pytest.mark.parametrize("sign", ["+", "-"])
@pytest.mark.parametrize("name,total,parts", CASES, ids=[c[0] for c in CASES])
def test_identity_difference_at_the_edge_of_the_bound_is_rounding(site: TinySite, tables, name, total, parts, sign):
    edge = largest_step_inside(len(parts))
    shift(tables, total, f"{sign}{edge}")
    site.write_tables(tables)
    result = result_for(validate(site.root), total, parts)
    assert result.diff == Decimal(f"{sign}{edge}")
    assert result.status == "rounding", f"a difference of {sign}{edge} with {len(parts)} parts is rounding"


@pytest.mark.parametrize("sign", ["+", "-"])
@pytest.mark.parametrize("name,total,parts", CASES, ids=[c[0] for c in CASES])
def test_identity_difference_one_step_past_the_bound_is_an_error(site: TinySite, tables, name, total, parts, sign):
    past = largest_step_inside(len(parts)) + Decimal("0.01")
    shift(tables, total, f"{sign}{past}")
    site.write_tables(tables)
    result = result_for(validate(site.root), total, parts)
    assert result.diff == Decimal(f"{sign}{past}")
    assert result.status == "error", f"a difference of {sign}{past} with {len(parts)} parts is outside the bound"


@pytest.mark.parametrize("name,total,parts", CASES, ids=[c[0] for c in CASES])
def test_identity_difference_outside_bound_is_an_error_at_the_printed_total(site: TinySite, tables, name, total, parts):
    shift(tables, total, "1.00")
    site.write_tables(tables)
    report = validate(site.root)
    result = result_for(report, total, parts)
    assert result.status == "error"
    assert result.diff == Decimal("1.00")
    errors = [d for d in report.diagnostics.items if d.level == "error" and d.message.startswith(result.rule)]
    assert errors, [d.format() for d in report.diagnostics.items]
    error = errors[0]
    # The message names the file and the line of the printed total, its figure, the difference and the bound.
    assert error.loc.path == site.table_rel(total.table)
    assert error.loc.line == result.total.loc.line > 0
    written = Path(site.root, error.loc.path).read_text(encoding="utf-8").splitlines()[error.loc.line - 1]
    assert result.total.text in written
    assert f"印刷为 {result.total.text}" in error.message
    assert "相差 1.00" in error.message and "超出尾数误差允许范围" in error.message and "请核对" in error.message
