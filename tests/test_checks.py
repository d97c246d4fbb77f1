"""Checks that come from the classification codes, the narrative, and the data as a whole."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import DEPT, REPO, YEAR, TinySite

from generator.builder.pipeline import validate


def messages(report, level=None):
    return [d for d in report.diagnostics.sorted() if level is None or d.level == level]


def check(report, rule_part: str, total_label: str):
    found = [c for c in report.checks if rule_part in c.rule and c.total.label == total_label]
    assert found, sorted({c.rule for c in report.checks})[:20]
    return found[0]


# -- 类 = Σ款, 款 = Σ项, 合计 = Σ类, by code prefix ------------------------------------------------------------

HIERARCHY = [
    # (table, row to change, column, the rule's total label, how the rule reads)
    (3, "201 一般公共服务支出", "本年支出合计", "表3「201 一般公共服务支出」「本年支出合计」", "其下各款之和"),
    (
        3,
        "20103 政府办公厅（室）及相关机构事务",
        "基本支出",
        "表3「20103 政府办公厅（室）及相关机构事务」「基本支出」",
        "其下各项之和",
    ),
    (3, "合计", "项目支出", "表3「合计」「项目支出」", "各类之和"),
    (
        2,
        "20805 行政事业单位养老支出",
        "财政拨款收入",
        "表2「20805 行政事业单位养老支出」「财政拨款收入」",
        "其下各项之和",
    ),
    (5, "合计", "本年支出合计", "表5「合计」「本年支出合计」", "各类之和"),
    (7, "212 城乡社区支出", "本年收入", "表7「212 城乡社区支出」「本年收入」", "其下各款之和"),
]


@pytest.mark.parametrize("table,row,col,label,rule", HIERARCHY)
@pytest.mark.parametrize("delta,status", [("0.00", "ok"), ("0.01", "rounding"), ("0.50", "error")])
def test_code_prefix_hierarchy(site: TinySite, tables, table, row, col, label, rule, delta, status):
    cell = tables[table][row]
    cell[col] = f"{Decimal(cell[col]) + Decimal(delta):.2f}"
    site.write_tables(tables)
    result = check(validate(site.root), rule, label)
    assert result.status == status
    if status != "ok":
        assert (
            result.total.loc.line == site.line_of(site.table_rel(table), row) + list(tables[table][row]).index(col) + 1
        )


def test_table6_economic_classes_sum_by_code(site: TinySite, tables):
    tables[6]["人员经费"]["30102 津贴补贴"] = "21.00"
    site.write_tables(tables)
    report = validate(site.root)
    result = check(report, "其下各款之和", "表6「人员经费」「301 工资福利支出」")
    assert result.status == "error"
    error = next(d for d in messages(report, "error") if "301 工资福利支出" in d.message and "其下各款" in d.message)
    assert error.loc.line == site.line_of(site.table_rel(6), "301 工资福利支出")
    assert (
        "印刷为 70.00" in error.message
        and "各项合计为 71.00" in error.message
        and "30102 津贴补贴」 21.00" in error.message
    )


def test_missing_parent_code_is_an_error(site: TinySite, tables):
    del tables[3]["20103 政府办公厅（室）及相关机构事务"]
    site.write_tables(tables)
    report = validate(site.root)
    rel = site.table_rel(3)
    expected = f"{rel}:{site.line_of(rel, '2010301 行政运行')}: 错误：表3 支出决算表列出了科目 2010301，却没有列出它所属的款 20103。"
    assert any(d.format().startswith(expected) for d in messages(report, "error"))


def test_a_code_has_one_name_against_the_catalogue(site: TinySite, tables):
    tables[3]["行政运行 2010301"] = tables[3].pop("2010301 行政运行")  # not "code name": reported as such
    tables[5]["2010301 行政管理"] = tables[5].pop("2010301 行政运行")
    site.write_tables(tables)
    report = validate(site.root)
    texts = [d.format() for d in messages(report, "error")]
    rel3, rel5 = site.table_rel(3), site.table_rel(5)
    assert (
        f"{rel3}:{site.line_of(rel3, '行政运行 2010301')}: 错误：表3 支出决算表的每一行应写成“科目编码 科目名称”（如“2010301 行政运行”）或“合计”，“行政运行 2010301”不是。"
        in texts
    )
    assert any(
        t.startswith(f"{rel5}:{site.line_of(rel5, '2010301 行政管理')}: 错误：科目编码 2010301 的名称应为「行政运行」")
        for t in texts
    )


def test_a_code_has_one_name_across_the_site(site: TinySite, tables):
    # 2239999 is not in the bundled catalogue, so only consistency across tables can catch a second name.
    tables[8]["2239999 其它国有资本经营预算支出"] = tables[8].pop("2239999 其他国有资本经营预算支出")
    site.write_tables(tables)
    report = validate(site.root)
    rel = site.table_rel(8)
    error = next(d for d in messages(report, "error") if d.code == "code-name")
    assert error.loc.path == rel and error.loc.line == site.line_of(rel, "2239999")
    assert "「其它国有资本经营预算支出」" in error.message and "「其他国有资本经营预算支出」" in error.message
    assert site.table_rel(2) in error.message  # names the other place


def test_by_code_mismatch_names_both_tables(site: TinySite, tables):
    tables[1]["支出"]["一般公共服务支出"] = "101.00"
    tables[1]["支出"]["社会保障和就业支出"] = "19.00"
    site.write_tables(tables)
    report = validate(site.root)
    error = next(
        d for d in messages(report, "error") if "表1「支出」「一、一般公共服务支出」（行31）应等于表3" in d.message
    )
    assert "印刷为 101.00" in error.message and "表3「201 一般公共服务支出」「本年支出合计」为 100.00" in error.message
    assert "相差 1.00" in error.message


# -- unknown values -----------------------------------------------------------------------------------------


def test_unknown_value_makes_dependent_sums_unknown_not_zero(site: TinySite, tables):
    tables[9]["决算数"]["因公出国（境）费"] = '"#####"'
    site.write_tables(tables)
    report = validate(site.root)
    result = check(report, "应等于同一行", "表9「决算数·合计」")
    assert result.status == "unknown" and result.diff is None
    rel = site.table_rel(9)
    line = site.line_of(rel, "#####")
    warnings = [d.format() for d in messages(report, "warning")]
    assert any(w.startswith(f"{rel}:{line}: 警告：") and "印作“#####”" in w and "未知值" in w for w in warnings)
    assert not messages(report, "error")


def test_blank_amount_is_a_to_fill_warning(site: TinySite, tables):
    tables[9]["预算数"]["公务接待费"] = ""
    site.write_tables(tables)
    report = validate(site.root)
    rel = site.table_rel(9)
    line = site.line_of(rel, "公务接待费:")
    assert (
        f"{rel}:{line}: 警告：表9 财政拨款“三公”经费支出决算表「预算数·公务接待费」尚未填写（待填写）。填上印刷的金额后此提示消失。"
        in [d.format() for d in messages(report, "warning")]
    )
    assert not messages(report, "error")


# -- the narrative quotes the tables ------------------------------------------------------------------------

NARRATIVE = """## 一、收入支出决算总体情况说明

本部门 2023 年度总收入[140.00](表1/收入/总计)万元，其中本年收入 [135.00](表1/收入/本年收入合计) 万元。
“三公”经费财政拨款支出决算为 [8](表9/决算数/合计) 万元。
"""


def test_narrative_figures_agree_with_the_tables(site: TinySite, tables):
    site.write_tables(tables)
    site.write(f"data/departments/{DEPT}/{YEAR}/情况说明.md", NARRATIVE)
    report = validate(site.root)
    assert not messages(report, "error"), [d.format() for d in messages(report)]


def test_narrative_figure_that_disagrees_is_an_error_at_its_line(site: TinySite, tables):
    site.write_tables(tables)
    rel = f"data/departments/{DEPT}/{YEAR}/情况说明.md"
    site.write(rel, NARRATIVE.replace("[135.00]", "[153.00]"))
    report = validate(site.root)
    assert [d.format() for d in messages(report, "error")] == [
        f"{rel}:3: 错误：情况说明中的“153.00万元”与表1「收入」「本年收入合计」（行27）不符：表中为 135.00万元，相差 18.00。请核对说明中的数字或表中的数字。"
    ]


def test_narrative_rounds_to_its_own_precision(site: TinySite, tables):
    site.write_tables(tables)
    rel = f"data/departments/{DEPT}/{YEAR}/情况说明.md"
    site.write(
        rel, "决算为 [8.0](表9/决算数/合计) 万元，预算 [10](表9/预算数/合计) 万元；[7](表9/决算数/合计) 万元不对。\n"
    )
    report = validate(site.root)
    errors = [d.format() for d in messages(report, "error")]
    assert len(errors) == 1 and "“7万元”" in errors[0]


def test_narrative_link_to_a_cell_that_does_not_exist(site: TinySite, tables):
    site.write_tables(tables)
    rel = f"data/departments/{DEPT}/{YEAR}/情况说明.md"
    site.write(rel, "第一行\n总收入[140.00](表1/收入/总收入)万元。\n")
    report = validate(site.root)
    assert [d.format() for d in messages(report, "error")] == [
        f"{rel}:2: 错误：链接“表1/收入/总收入”指向的位置不存在：表1 收入支出决算总表「收入」没有“总收入”这一行。"
    ]


# -- the bundled data ---------------------------------------------------------------------------------------


def test_bundled_seed_data_passes_with_no_errors():
    report = validate(REPO)
    errors = [d.format() for d in messages(report, "error")]
    assert errors == []
    tables = [c for c in report.checks if c.project is None]
    # The seed's own 0.01 differences are rounding, never errors (DOMAIN.md §3), e.g. 表3 合计 4,272.71.
    rounding = {c.total.label for c in tables if c.status == "rounding"}
    assert "表3「合计」「本年支出合计」" in rounding
    assert {c.status for c in tables} == {"ok", "rounding"}
    assert len(tables) > 400


def test_every_status_has_a_rank_a_word_and_a_mark():
    """checks.tables.Status names every outcome a check can have, mildest first as STATUS_RANK ranks them; each
    has its word and mark on the pages."""
    from typing import get_args

    from generator.checks.tables import STATUS_RANK, Status
    from generator.output.render import STATUS_MARKS, STATUS_WORDS

    assert list(STATUS_RANK) == list(get_args(Status)) == sorted(STATUS_RANK, key=STATUS_RANK.__getitem__)
    assert set(STATUS_WORDS) == set(STATUS_MARKS) == set(get_args(Status))
