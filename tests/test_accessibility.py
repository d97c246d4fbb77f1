"""Accessibility, keyboard, larger text, print and hostile text, verified in a real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from browsing import Visit, site_pages
from conftest import DEPT, YEAR, TinySite, to_yaml

from generator.builder.pipeline import BuildOptions, build

pytestmark = pytest.mark.browser

PAGE_TYPES = [
    "index.html",
    "luohu-quweiban/index.html",
    "luohu-quweiban/2023/index.html",
    "luohu-quweiban/2023/table-1.html",
    "luohu-quweiban/2023/table-3.html",
    "luohu-quweiban/2023/table-4.html",
    "luohu-quweiban/2023/table-6.html",
    "luohu-quweiban/2023/table-7.html",
    "luohu-quweiban/2023/table-9.html",
    "luohu-quweiban/2023/narrative.html",
    "luohu-quweiban/2023/terms.html",
    "luohu-quweiban/2023/projects/index.html",
    "luohu-quweiban/2023/projects/440303210301500004385.html",
    "luohu-quweiban/2023/projects/440303210301500004470.html",
    "luohu-zhengshuju/2023/index.html",
    "luohu-zhengshuju/2023/projects/440303210301500002808.html",
    "glossary/index.html",
    "glossary/sangong-jingfei.html",
    "about.html",
    "datasets.html",
    "search.html?q=行政运行",
    "years/2023.html",
]


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_axe_finds_no_violations(browser, public: Path, axe, path: str):
    visit = Visit(browser)
    file, _, query = path.partition("?")
    visit.page.goto((public / file).as_uri() + (f"?{query}" if query else ""))
    visit.page.wait_for_load_state("load")
    if query:
        visit.page.wait_for_selector("#search-results li")
    violations = axe.run(visit.page).response["violations"]
    report = [
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})" for v in violations
    ]
    assert report == [], "\n".join(report)  # the aim is none at all; serious and critical never
    visit.close()


def test_a_year_list_grouped_by_region_has_no_violations_and_its_index_reaches_each_region(
    browser, axe, tmp_path: Path, monkeypatch
):
    """A province's year list (past INLINE_LIMIT), headed by region: axe finds nothing, and on a phone each link of
    the regions' index brings its region's heading to the top of the screen. The open data page likewise."""
    from synthetic import make_site

    monkeypatch.setattr("generator.builder.sitefiles.INLINE_LIMIT", 3)
    site = make_site(tmp_path / "site", departments=6, years=[2023], seed=5)
    build(site, options=BuildOptions(jobs=1))
    visit = Visit(browser, 375)
    page = visit.open(site / "public" / "years" / "2023.html")
    violations = axe.run(page).response["violations"]
    assert [f"{v['impact']} {v['id']}: {v['help']}" for v in violations] == []
    links = page.locator("nav.regions a")
    assert links.count() == 6
    for i in (0, 5):
        links.nth(i).click()
        target = page.locator(f"#region-{i + 1}")
        assert target.evaluate("e => Math.abs(e.getBoundingClientRect().top) < 2"), i
        page.locator(f"section[aria-labelledby='region-{i + 1}'] .to-regions a").click()
        assert page.locator("#regions-h").evaluate("e => Math.abs(e.getBoundingClientRect().top) < 2")
    page = visit.open(site / "public" / "datasets.html")  # the open data page, grouped alike
    assert page.locator("nav.regions a").count() == 6 and page.locator("section.region").count() == 6
    violations = axe.run(page).response["violations"]
    assert [f"{v['impact']} {v['id']}: {v['help']}" for v in violations] == []
    visit.close()


def test_every_control_is_reachable_by_keyboard_with_visible_focus(browser, public: Path):
    visit = Visit(browser)
    page = visit.open(public / "luohu-quweiban" / "2023" / "projects" / "index.html")
    controls = page.evaluate(
        "(() => { const all = Array.from(document.querySelectorAll(`a[href], button:not([hidden]), input, [tabindex]:not([tabindex='-1'])`))"
        ".filter(e => e.checkVisibility()); all.forEach((e, i) => e.setAttribute('data-kb', i)); return all.length; })()"
    )
    reached, outlines = set(), set()
    for _ in range(controls + 5):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.getAttribute('data-kb'), s.outlineStyle, s.outlineWidth]; })()"
        )
        if info[0] is not None:
            reached.add(info[0])
            outlines.add((info[1], info[2]))
    assert len(reached) == controls
    assert all(style != "none" and width != "0px" for style, width in outlines), outlines
    visit.close()


def test_larger_text_switch(browser, public: Path):
    visit = Visit(browser)
    page = visit.open(public / "luohu-quweiban" / "2023" / "table-3.html")
    button = page.locator("#text-size")
    assert button.is_visible() and button.get_attribute("aria-pressed") == "false"
    before = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    button.click()
    after = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert after >= before * 1.2 and button.get_attribute("aria-pressed") == "true"
    page = visit.open(public / "luohu-quweiban" / "2023" / "table-1.html")  # remembered on the next page
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.locator("#text-size").click()
    assert not page.evaluate("document.documentElement.classList.contains('large-text')")
    visit.close()


@pytest.mark.parametrize(
    "path", ["luohu-quweiban/2023/table-4.html", "luohu-quweiban/2023/projects/440303210301500004385.html"]
)
def test_print_gives_clean_pages(browser, public: Path, path: str, tmp_path: Path):
    visit = Visit(browser)
    page = visit.open(public / path)
    page.emulate_media(media="print")
    hidden = page.evaluate(
        "['.site-header', '.site-footer', '.breadcrumb', '.pager', '.downloads']"
        ".every(s => Array.from(document.querySelectorAll(s)).every(e => getComputedStyle(e).display === 'none'))"
    )
    assert hidden
    # Nothing is cut off: the table containers do not scroll in print, every row is printed.
    assert page.evaluate(
        "Array.from(document.querySelectorAll('.table-scroll')).every(e => getComputedStyle(e).overflowX === 'visible')"
    )
    # A table over several sheets repeats its header on each (a table's thead, shown as a header group, is
    # repeated by Chromium) and no row is split across two sheets.
    tables = page.evaluate(
        """Array.from(document.querySelectorAll('main table')).map(t => ({
            caption: t.caption ? t.caption.textContent.trim() : t.className,
            display: getComputedStyle(t).display,
            head: t.tHead ? getComputedStyle(t.tHead).display : null,
            headers: t.querySelectorAll('th[scope=col]').length,
            headersInHead: t.tHead ? t.tHead.querySelectorAll('th[scope=col]').length : 0,
            split: Array.from(t.rows).filter(r => {
                const s = getComputedStyle(r);
                return s.breakInside !== 'avoid' && s.pageBreakInside !== 'avoid';
            }).length,
        }))"""
    )
    assert len(tables) >= 2, tables
    for t in tables:
        assert t["display"] == "table" and t["head"] == "table-header-group", t
        assert t["headers"] > 0 and t["headersInHead"] == t["headers"], t  # every column header is in the head
        assert t["split"] == 0, t
    pdf = tmp_path / "page.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True)
    assert pdf.stat().st_size > 10_000
    visit.close()


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert("y")>'


def test_html_in_every_text_field_is_shown_as_text_and_nothing_runs(browser, site: TinySite, tables, tmp_path: Path):
    site.write(f"data/departments/{DEPT}/部门.yaml", f"名称: '{HOSTILE}部门'\n地区: '{HOSTILE}'\n")
    site.write_tables(tables)
    year = f"data/departments/{DEPT}/{YEAR}"
    site.write(f"{year}/概况.yaml", to_yaml({"主要职责": [{"单位": f"'{HOSTILE}'", "引言": f"'{HOSTILE}'", "职责": [f"'{HOSTILE}'"]}],
                                           "机构设置": f"'{HOSTILE}'", "决算单位构成": {"说明": f"'{HOSTILE}'", "单位": [f"'{HOSTILE}'"]}}) + "\n")  # fmt: skip
    site.write(f"{year}/情况说明.md", f"## {HOSTILE}\n\n{HOSTILE} [点我](javascript:alert(1))\n\n- {HOSTILE}\n")
    site.write(f"{year}/名词解释.yaml", to_yaml({"名词": [{"名词": f"'{HOSTILE}'", "解释": f"'{HOSTILE}'"}]}) + "\n")
    site.write("content/about.md", f"---\n标题: '{HOSTILE}'\n---\n{HOSTILE}\n")
    project = {
        "项目编码": '"440303000000000000009"', "项目名称": f"'{HOSTILE}'", "绩效自评年度": "2023",
        "实施单位": f"'{HOSTILE}'", "一级预算单位": f"'{HOSTILE}'",
        "资金使用情况": {"年度资金总额": {"年初预算数": "1.00", "全年预算数": "1.00", "全年执行数": "1.00"}, "分值": "10", "执行率": "100", "得分": "10"},
        "年度总体目标": {"预期目标": f"'{HOSTILE}'", "实际完成情况": f"'{HOSTILE}'"},
        "年度绩效指标": [{"一级指标": "产出指标", "二级指标": "数量指标", "三级指标": f"'{HOSTILE}'", "年度指标值": f"'{HOSTILE}'",
                      "实际完成值": f"'{HOSTILE}'", "分值": "90", "得分": "90", "偏差原因分析及改进措施": f"'{HOSTILE}'"}],
        "原件备注": [f"'{HOSTILE}'"],
    }  # fmt: skip
    site.write(f"{year}/项目/440303000000000000009.yaml", to_yaml(project) + "\n")
    build(site.root)
    public = site.root / "public"
    visit = Visit(browser)
    dialogs: list[str] = []
    visit.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    shown = 0
    for path in site_pages(public):
        page = visit.open(path)
        # Ours: chart specs as <script type="application/json"> (data, never run) and the site's own assets/ scripts.
        # Anything else would be the attack.
        foreign = 'main script:not([type="application/json"]):not([src*="assets/"]), main img'
        assert page.locator(foreign).count() == 0, path
        shown += page.inner_text("body").count('<script>alert("x")</script>')
    assert dialogs == []
    assert not [p for p in visit.problems if "alert" in p or "Refused" in p], visit.problems
    assert shown >= 15  # the hostile text is visible as text wherever it was written
    # The search results are built in the browser from the same text: titles, places and snippets stay text.
    visit.problems.clear()
    for query in ("alert", "onerror 部门"):
        page = visit.open(public / "search.html")
        page.fill("#search-page-q", query)
        page.press("#search-page-q", "Enter")
        page.wait_for_function("() => document.activeElement.id === 'search-status'")
        results = page.locator("#search-results li")
        kinds = set(results.locator(".tag").all_inner_texts())
        assert kinds >= ({"部门", "项目", "绩效指标", "情况说明", "概况"} if query == "alert" else {"部门"}), query
        assert page.locator("#search-results *:not(li, span, a, p, mark)").count() == 0, query  # no img, no script
        assert HOSTILE in page.locator("#search-results a").first.inner_text(), query
    assert dialogs == []
    assert visit.problems == []
    visit.close()


@pytest.mark.parametrize("large", [False, True], ids=["standard-text", "large-text"])
@pytest.mark.parametrize("width", [375, 1280])
def test_project_code_stays_whole_and_inside_its_box(browser, public: Path, width: int, large: bool):
    """The 21-digit 项目编码 is read and copied as one number: on one line, never cut off or under the next box."""
    visit = Visit(browser, width)
    page = visit.open(public / "luohu-quweiban" / "2023" / "projects" / "440303210301500004385.html")
    if large:
        page.locator("#text-size").click()
    box = page.evaluate(
        """(() => { const dd = document.querySelector('.form-head dd.code'), r = document.createRange();
            r.selectNodeContents(dd);
            const lines = new Set(Array.from(r.getClientRects()).map(q => Math.round(q.top)));
            const text = r.getBoundingClientRect(), cell = dd.parentElement.getBoundingClientRect();
            return {text: dd.textContent, lines: lines.size, right: text.right, cell: cell.right}; })()"""
    )
    assert box["text"] == "440303210301500004385"
    assert box["lines"] == 1, box
    assert box["right"] <= box["cell"], box  # inside its own box, not under the one beside it
    visit.close()
