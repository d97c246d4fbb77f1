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
    overlaps = (
        box["textRight"] > n["left"] + 0.5 and n["top"] < box["textBottom"] and n["bottom"] > box["textBottom"] - 1
    )
    assert not overlaps, f"the code runs under the next cell at {width}px: {box}"
    assert box["lines"] == 1, f"the code is broken over {box['lines']} lines at {width}px"
    visit.close()


ROW_BOXES = """t => Array.from(t.tBodies[0].rows, r => {
  const b = r.getBoundingClientRect(), label = r.querySelector('th.label');
  const range = document.createRange(); if (label) range.selectNodeContents(label);
  const lh = label ? parseFloat(getComputedStyle(label).lineHeight) : 0;
  return {no: (r.querySelector('td.no') || {}).textContent, top: b.top, bottom: b.bottom,
          lines: label && label.textContent.trim() ? Math.round(range.getBoundingClientRect().height / lh) : 0};
})"""


def table_4(browser, public: Path, width: int, large: bool):
    visit = Visit(browser, width)
    page = visit.open(public.joinpath(*YEAR_DIR, "table-4.html"))
    if large:
        page.get_by_role("button", name="大字").click()
    return visit, page


@pytest.mark.parametrize("width", [1100, 1280])
def test_table_4_halves_side_by_side_row_for_row(browser, public: Path, width: int):
    """表4 is printed as two halves side by side, row 1 beside row 33 … 本年收入合计 (27) beside 本年支出合计 (59),
    总计 (32) beside 总计 (64). On a wide screen the two halves keep that pairing; no row name wraps, and neither
    half has to scroll sideways."""
    visit, page = table_4(browser, public, width, False)
    left_box, right_box = page.locator("#part-1").bounding_box(), page.locator("#part-2").bounding_box()
    assert right_box["x"] >= left_box["x"] + left_box["width"] and abs(right_box["y"] - left_box["y"]) <= 1
    income = page.locator("#part-1").evaluate(ROW_BOXES)
    spending = page.locator("#part-2").evaluate(ROW_BOXES)
    assert [r["no"] for r in income] == [str(n) for n in range(1, 33)]
    assert [r["no"] for r in spending] == [str(n) for n in range(33, 65)]
    for left, right in zip(income, spending, strict=True):
        assert abs(left["top"] - right["top"]) <= 1 and abs(left["bottom"] - right["bottom"]) <= 1, (
            f"row {left['no']} and row {right['no']} are not on one line at {width}px: {left} {right}"
        )
    wrapped = [r["no"] for r in income + spending if r["lines"] > 1]
    assert not wrapped, f"row names wrap at {width}px in rows {wrapped}"
    for part in ("#part-1", "#part-2"):
        scroll = page.locator(part).evaluate("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
        assert scroll[0] <= scroll[1], f"{part} scrolls sideways at {width}px: {scroll}"
    visit.close()


@pytest.mark.parametrize("width,large", [(600, False), (1024, False), (1280, True)], ids=["600", "1024", "1280-大字"])
def test_table_4_halves_stack_where_they_do_not_fit_side_by_side(browser, public: Path, width: int, large: bool):
    """Where the two halves do not both fit (a narrower screen, or 大字), 支出 goes under 收入 at the full width
    instead of being squeezed beside it."""
    visit, page = table_4(browser, public, width, large)
    income = page.locator("#part-1").bounding_box()
    spending = page.locator("#part-2").bounding_box()
    assert spending["y"] >= income["y"] + income["height"], (income, spending)
    widths = page.locator(".parts").evaluate("p => [p.clientWidth, ...Array.from(p.children, c => c.clientWidth)]")
    assert all(w >= widths[0] - 1 for w in widths[1:]), widths
    visit.close()


def test_table_9_headers_keep_a_few_characters_a_line_at_phone_width(browser, public: Path):
    """表9 has fourteen columns: at 375 px its headers (因公出国（境）费, 公务用车运行维护费 …) must not wrap one
    character a line. The table scrolls inside its own box instead (the page itself never scrolls sideways)."""
    visit = Visit(browser, 375)
    page = visit.open(public.joinpath(*YEAR_DIR, "table-9.html"))
    widths = page.locator("table.form thead th.h-col").evaluate_all(
        """cells => cells.map(c => { const s = getComputedStyle(c);
             return [c.textContent.trim(),
                     (c.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)) / parseFloat(s.fontSize)]; })"""
    )
    assert len(widths) == 12
    narrow = [(label, round(w, 2)) for label, w in widths if w < 3]
    assert not narrow, f"header cells under three characters wide: {narrow}"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    visit.close()


FACTS = """Array.from(document.querySelectorAll('.dept-meta')).map(meta => {
    const box = meta.getBoundingClientRect();
    let top = null;
    return Array.from(meta.firstElementChild.children).map(fact => {
        const at = fact.getBoundingClientRect();
        const text = document.createRange();
        text.selectNodeContents(fact);
        const lines = Array.from(text.getClientRects());
        const starts = top === null || at.top > top + 1;  // begins a line
        top = at.top;
        return {fact: fact.textContent, starts: starts, dotShown: at.left >= box.left - 0.5, checks: fact.classList.contains('dept-checks'),
                lines: new Set(lines.map(r => Math.round(r.top))).size,
                inSight: lines.every(r => r.left >= box.left - 0.5 && r.right <= box.right + 0.5)};
    });
})"""


@pytest.mark.parametrize("width,large", [(375, False), (375, True), (1280, False)], ids=["375", "375-大字", "1280"])
def test_department_facts_wrap_between_facts_and_no_line_starts_with_a_dot(browser, public: Path, width, large):
    """A department's line (区 · 九张决算表 · 情况说明 · N 个项目自评 · 核对…) wraps between its facts, never inside
    one (but the checks, which can be longer than a phone's line); every fact is in sight, and the “·” shows only
    between two facts on the same line."""
    visit = Visit(browser, width)
    page = visit.open(public / "years" / "2023.html")
    if large:
        page.get_by_role("button", name="大字").click()
    departments = page.evaluate(FACTS)
    assert len(departments) == 2 and all(len(facts) >= 4 for facts in departments), departments
    for facts in departments:
        for f in facts:
            assert f["inSight"], f
            assert f["dotShown"] != f["starts"], f  # a dot before every fact but the first of each line
            assert f["checks"] or f["lines"] == 1, f
    if width == 375:  # the office's facts do not fit one phone line
        assert sum(f["starts"] for f in departments[0]) > 1, departments[0]
    visit.close()
