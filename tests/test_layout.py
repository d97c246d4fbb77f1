"""How the printed forms lay out in a real Chromium (Debian's /usr/bin/chromium, driven by Playwright): what the
stylesheet promises (类/款/项 indented, codes readable, halves of a form side by side row for row) measured on
the bundled site, at the widths people read it at.

Without Chromium these tests skip with the reason printed at the end of the run; under CI=true they fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browsing import Visit

pytestmark = pytest.mark.browser

YEAR_DIR = ("luohu-quweiban", "2023")


def padding_left(page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).paddingLeft)")


@pytest.mark.parametrize("width", [375, 1280])
def test_classification_rows_are_indented_by_level(browser, public: Path, width: int):
    """表3: a 项 row's name sits further in than its 款, and a 款 further than its 类 (the printed hierarchy)."""
    visit = Visit(browser, width)
    page = visit.open(public.joinpath(*YEAR_DIR, "table-3.html"))
    lei = padding_left(page, "#code-201 th.label")  # 201 一般公共服务支出
    kuan = padding_left(page, "#code-20103 th.label")  # 20103 政府办公厅（室）及相关机构事务
    xiang = padding_left(page, "#code-2010301 th.label")  # 2010301 行政运行
    assert xiang > kuan > lei, (lei, kuan, xiang)
    visit.close()


def test_indented_rows_of_table_4_sit_in_from_their_heading(browser, public: Path):
    """表4 rows 29–31 (by fund, under 年初财政拨款结转和结余) are printed indented under row 28."""
    visit = Visit(browser, 1280)
    page = visit.open(public.joinpath(*YEAR_DIR, "table-4.html"))
    heading = padding_left(page, "#row-28 th.label")
    indented = padding_left(page, "#row-29 th.label")
    assert indented > heading, (heading, indented)
    visit.close()
