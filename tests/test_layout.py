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


PROJECT = "440303221040200000000"  # 深圳市罗湖区智慧档案馆项目: the 21-digit code of the printed form


@pytest.mark.parametrize("width", [375, 600, 1280])
def test_project_code_is_whole_and_on_one_line(browser, public: Path, width: int):
    """The 项目编码 is read and copied as one unit: none of its 21 digits hidden under the next cell or clipped,
    and not broken across lines where the header has room for it."""
    visit = Visit(browser, width)
    page = visit.open(public.joinpath(*YEAR_DIR, "projects", f"{PROJECT}.html"))
    code = page.locator(".form-head dd.code")
    assert code.inner_text() == PROJECT
    box = code.evaluate(
        """e => {
          const r = e.getBoundingClientRect(), cell = e.parentElement.getBoundingClientRect();
          const range = document.createRange(); range.selectNodeContents(e);
          const text = range.getBoundingClientRect(), lines = range.getClientRects().length;
          const next = e.parentElement.nextElementSibling.getBoundingClientRect();
          return {scroll: e.scrollWidth, client: e.clientWidth, right: r.right, cellRight: cell.right,
                  textRight: text.right, textBottom: text.bottom, cellBottom: cell.bottom, lines,
                  next: {left: next.left, top: next.top, right: next.right, bottom: next.bottom}};
        }"""
    )
    assert box["scroll"] <= box["client"], f"the code overflows its cell at {width}px: {box}"
    assert box["textRight"] <= box["cellRight"] + 0.5 and box["textBottom"] <= box["cellBottom"] + 0.5, box
    n = box["next"]
    overlaps = box["textRight"] > n["left"] + 0.5 and n["top"] < box["textBottom"] and n["bottom"] > box["textBottom"] - 1
    assert not overlaps, f"the code runs under the next cell at {width}px: {box}"
    assert box["lines"] == 1, f"the code is broken over {box['lines']} lines at {width}px"
    visit.close()
