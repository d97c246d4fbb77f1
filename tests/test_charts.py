"""Charts: specs that validate, data that is the tables' own figures, no chart without data, text that stays text,
and, in Chromium over file:// and http, every chart drawn under the strict Content-Security-Policy."""

from __future__ import annotations

import functools
import json
import re
import threading
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import altair as alt
import pytest
from altair.utils.schemapi import validate_jsonschema
from browsing import Visit, wait_for_charts
from conftest import DEPT, REPO, YEAR, TinySite, tiny_year
from test_projects import project
from test_projects import write as write_project

from generator.builder.pipeline import BuildOptions, build
from generator.output import charts

SPEC = re.compile(r'<script type="application/json" class="chart-spec" data-canvas="([^"]+)">(.*?)</script>', re.S)
BUNDLED_CHARTS = {
    "index.html": ["compare-spending-2023", "compare-sangong-2023", "compare-scores-2023"],
    "luohu-quweiban/2023/index.html": ["income", "spending", "basic", "sangong", "execution", "scores"],
    "luohu-quweiban/2023/projects/index.html": ["execution", "scores"],
    "luohu-zhengshuju/2023/index.html": ["execution", "scores"],
    "luohu-zhengshuju/2023/projects/index.html": ["execution", "scores"],
    "years/2023.html": ["compare-spending-2023", "compare-sangong-2023", "compare-scores-2023"],
}


def specs(page: Path) -> dict[str, dict]:
    """The chart specs a page carries, by chart key, read back from their <script type="application/json">."""
    html = page.read_text(encoding="utf-8")
    return {
        m.group(1).removeprefix("chart-").removesuffix("-canvas"): json.loads(m.group(2)) for m in SPEC.finditer(html)
    }


def data(spec: dict, layer: int = 0) -> list[dict]:
    """The rows a layer draws: inline, in the spec's named datasets."""
    return spec["datasets"][spec["layer"][layer]["data"]["name"]]


def amounts(rows: list[dict], *keys: str) -> dict[tuple, Decimal]:
    """JSON numbers back to Decimal by their shortest repr: what the generator wrote, digit for digit."""
    return {tuple(r[k] for k in keys): Decimal(repr(r["v"])) for r in rows}


def tiny(site: TinySite, tables: dict) -> Path:
    site.write_tables(tables)
    build(site.root)
    return site.root / "public"


# ------------------------------------------------------------------------------------------ specs


def test_every_spec_validates_against_the_vega_lite_schema(public: Path):
    schema = alt.vegalite.v6.schema.core.load_schema()
    found = 0
    for page in sorted(public.rglob("*.html")):
        for key, spec in specs(page).items():
            assert spec["$schema"] == alt.SCHEMA_URL
            validate_jsonschema(spec, schema)  # raises with the first error
            assert spec["description"], f"{page}: {key} has no description"
            assert spec["params"] == [{"name": "textScale", "value": 1}], f"{page}: {key}"  # charts.js sets it
            found += 1
    assert found == sum(len(keys) for keys in BUNDLED_CHARTS.values())
    broken = {**spec, "layer": [{**spec["layer"][0], "mark": {"type": "barr"}}]}
    with pytest.raises(Exception, match="barr"):
        validate_jsonschema(broken, schema)


def test_bundled_pages_have_the_charts_their_data_allows(public: Path):
    for rel, keys in BUNDLED_CHARTS.items():
        assert list(specs(public / rel)) == keys, rel
    # luohu-zhengshuju publishes projects only: no table charts, and the home page says who is left out.
    home = (public / "index.html").read_text(encoding="utf-8")
    assert "深圳市罗湖区政务服务数据管理局未收录决算表，不在图中。" in home
    assert not [p for p in public.rglob("table-*.html") if specs(p)]


def test_a_long_list_keeps_earlier_years_comparisons_on_their_year_pages(tmp_path: Path, monkeypatch):
    """Past INLINE_LIMIT department-years the home page draws only the latest year's comparisons; each year's
    list page draws its own (a province's archive would otherwise put every year's charts on the home page)."""
    from synthetic import make_site

    monkeypatch.setattr("generator.builder.sitefiles.INLINE_LIMIT", 1)
    site = make_site(tmp_path / "site", departments=2, years=[2021, 2022, 2023], seed=5)
    build(site, options=BuildOptions(jobs=1))
    out = site / "public"
    kinds = ["compare-spending", "compare-sangong", "compare-scores"]
    home = specs(out / "index.html")
    assert list(home) == [f"{k}-2023" for k in kinds]
    for year in (2021, 2022, 2023):
        page = specs(out / "years" / f"{year}.html")
        assert list(page) == [f"{k}-{year}" for k in kinds]
        html = (out / "years" / f"{year}.html").read_text(encoding="utf-8")
        assert html.count('src="../assets/charts.js"') == 1
        assert f'<a href="#compare-{year}">各部门比较图 ↓</a>' in html  # above the list, which can be long
    assert specs(out / "years" / "2023.html") == home  # the same charts, not a second version of them
    text = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="years/2022.html">2022 年度全部 2 个部门的决算和各部门比较图 →</a>' in text
    assert '<a href="years/2023.html">2023 年度全部 2 个部门的决算 →</a>' in text  # its charts are right here


def test_a_chart_appears_only_where_its_data_exists(site: TinySite, tables):
    out = tiny(site, tables)
    year = out / DEPT / str(YEAR) / "index.html"
    assert list(specs(year)) == ["income", "spending", "basic", "sangong"]  # no projects: no project charts
    assert not (out / DEPT / str(YEAR) / "projects").exists()
    for side in ("预算数", "决算数"):  # nothing spent on “三公”: the table still shows, the chart does not
        tables[9][side] = {
            "合计": "0.00",
            "因公出国（境）费": "0.00",
            "公务用车购置及运行维护费": {"小计": "0.00"},
            "公务接待费": "0.00",
        }
    out = tiny(site, tables)
    html = (out / DEPT / str(YEAR) / "index.html").read_text(encoding="utf-8")
    assert list(specs(out / DEPT / str(YEAR) / "index.html")) == ["income", "spending", "basic"]
    assert "chart-sangong" not in html and "“三公”经费：预算与决算" not in html
    assert "compare-sangong" not in (out / "index.html").read_text(encoding="utf-8")


def test_charts_of_data_that_fail_a_check_say_so(site: TinySite, tables):
    tables[3]["合计"]["基本支出"] = "91.00"  # published anyway with --allow-errors
    site.write_tables(tables)
    build(site.root, options=BuildOptions(allow_errors=True))
    html = (site.root / "public" / DEPT / str(YEAR) / "index.html").read_text(encoding="utf-8")
    notice = re.compile(r"本年度数据有 \d+ 项核对不符（见各表），图中相关数字请以原件为准。")
    assert notice.search(html) and "chart-spending" in html
    assert not notice.search((tiny(site, tiny_year()) / DEPT / str(YEAR) / "index.html").read_text(encoding="utf-8"))


def test_chart_data_are_the_printed_figures(site: TinySite, tables):
    out = tiny(site, tables)
    s = specs(out / DEPT / str(YEAR) / "index.html")
    assert amounts(data(s["income"]), "item") == {("一般公共预算财政拨款收入",): Decimal("120.00"),
        ("政府性基金预算财政拨款收入",): Decimal("10.00"), ("国有资本经营预算财政拨款收入",): Decimal("5.00"),
        ("年初结转和结余",): Decimal("5.00")}  # fmt: skip
    # Table 3 by class (类), split into 基本支出 and 项目支出; zero segments are not drawn.
    assert amounts(data(s["spending"]), "item", "series") == {
        ("一般公共服务支出", "基本支出"): Decimal(70), ("一般公共服务支出", "项目支出"): Decimal(30),
        ("社会保障和就业支出", "基本支出"): Decimal(20), ("城乡社区支出", "项目支出"): Decimal(10),
        ("国有资本经营预算支出", "项目支出"): Decimal(5)}  # fmt: skip
    assert [r["item"] for r in data(s["spending"], 1)] == [
        "一般公共服务支出",
        "社会保障和就业支出",
        "城乡社区支出",
        "国有资本经营预算支出",
    ]
    assert amounts(data(s["basic"]), "item", "series") == {
        ("基本工资", "人员经费"): Decimal(50), ("津贴补贴", "人员经费"): Decimal(20), ("办公费", "公用经费"): Decimal(20)}  # fmt: skip
    assert amounts(data(s["sangong"], 0), "item") == {("因公出国（境）费",): Decimal(2), ("公务用车运行维护费",): Decimal(6),
                                                      ("公务接待费",): Decimal(2)}  # fmt: skip
    assert amounts(data(s["sangong"], 1), "item") == {("因公出国（境）费",): Decimal(1), ("公务用车运行维护费",): Decimal(5),
                                                      ("公务接待费",): Decimal(2)}  # fmt: skip
    html = (out / DEPT / str(YEAR) / "index.html").read_text(encoding="utf-8")
    assert "“三公”经费预算 10.00 万元，决算 8.00 万元，为预算的 80.0%。" in html
    assert (
        "本年支出 135.00 万元分属 4 个功能分类，最多的是一般公共服务支出 100.00 万元；按支出性质分，基本支出 90.00 万元，项目支出 45.00 万元。"
        in html
    )


def test_bundled_figures_survive_the_json_boundary_digit_for_digit(public: Path):
    """4,285.39 and every other figure reach the spec as the number the table prints, and the labels as text."""
    s = specs(public / "luohu-quweiban" / "2023" / "index.html")
    assert sum(amounts(data(s["income"]), "item").values()) == Decimal("4285.39")
    spending = amounts(data(s["spending"]), "item", "series")
    assert spending[("一般公共服务支出", "基本支出")] == Decimal("1454.65")
    assert spending[("一般公共服务支出", "项目支出")] == Decimal("1205.11")
    assert [r["text"] for r in data(s["spending"], 1)][:2] == ["2,659.76", "689.83"]
    # Projects are printed in 元 and charted in 万元, exactly: 3,314,876.80 元 is 331.48768 万元.
    budget = amounts(data(s["execution"], 0), "item")
    assert budget[("罗湖区政府门户网站改版升级建设项目",)] == Decimal("331.48768")
    labels = {r["item"]: r["text"] for r in data(s["execution"], 2)}
    assert labels["罗湖区政府门户网站改版升级建设项目"] == "322.83（97.4%）"
    scores = {r["item"]: r["text"] for r in data(s["scores"])}
    assert scores["其他管理事务"] == "95.61" and len(scores) == 18


def test_project_charts_in_wan_yuan_and_scores(site: TinySite, tables):
    site.write_tables(tables)
    write_project(site, project())
    build(site.root)
    s = specs(site.root / "public" / DEPT / str(YEAR) / "projects" / "index.html")
    assert list(s) == ["execution", "scores"]
    assert amounts(data(s["execution"], 0), "item") == {("测试项目",): Decimal(10)}  # 100,000.00 元
    assert amounts(data(s["execution"], 1), "item") == {("测试项目",): Decimal(9)}
    assert data(s["execution"], 2)[0]["text"] == "9.00（90.0%）"
    assert amounts(data(s["scores"]), "item") == {("测试项目",): Decimal(96)}
    assert "1 个项目的自评得分都是 96.00 分（优 1 个）。" in s["scores"]["description"]


def test_text_from_yaml_stays_text_inside_the_chart_json(site: TinySite, tables):
    name = '</script><script>alert(1)</script><!--&"测试部门'
    site.write(f"data/departments/{DEPT}/部门.yaml", "名称: '" + name.replace("'", "''") + "'\n")
    out = tiny(site, tables)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "<!--&" not in html
    spec = specs(out / "index.html")["compare-spending-2023"]
    assert data(spec)[0]["item"] == name  # and back out of the JSON unchanged


def test_decimal_becomes_a_number_only_at_the_json_boundary():
    assert charts._num(Decimal("4272.71")) == 4272.71 and isinstance(charts._num(Decimal("12.00")), int)
    assert charts.wan(Decimal("747788.47")) == Decimal("74.778847")
    assert json.dumps(charts._num(charts.wan(Decimal("747788.47")))) == "74.778847"


def test_a_shape_of_chart_is_built_once_by_whoever_keeps_the_shapes():
    """charts.ChartShapes: Altair's structure of a shape built the first time it is asked for and kept; what was
    built since last asked is sent back (a worker's new shapes), and shapes from elsewhere never replace one."""
    made = []

    def make() -> dict:
        made.append(1)
        return {"mark": "bar"}

    shapes = charts.ChartShapes()
    assert shapes.text(("bars",), make) == shapes.text(("bars",), make) == '{"mark": "bar"}' and len(made) == 1
    assert shapes.new() == {("bars",): '{"mark": "bar"}'} and shapes.new() == {}
    other = charts.ChartShapes(shapes.known())
    assert other.text(("bars",), make) == '{"mark": "bar"}' and len(made) == 1 and other.new() == {}
    other.remember({("bars",): "{}", ("dots",): '{"mark": "point"}'})
    assert other.known() == {("bars",): '{"mark": "bar"}', ("dots",): '{"mark": "point"}'}
    assert charts.ChartShapes().known() == {}  # nothing kept for the process


def test_vendored_runtime_is_what_the_pinned_vl_convert_makes():
    """The committed runtime is reproducible from requirements.txt: tools/vendor_vega.py --check."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("vendor_vega", REPO / "tools" / "vendor_vega.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--check"]) == 0
    text = tool.RUNTIME.read_text(encoding="utf-8")
    assert '(function () {\n"use strict";\n' in text and text.endswith("}());\n")  # no top-level names
    assert "window.vegaEmbed=" in text
    assert "window.vega=" not in text and "window.vegaLite=" not in text  # the default snippet would set these


# ------------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def http_root(public: Path):
    """The built site over http on a loopback port, for the same checks as over file://."""
    handler = functools.partial(Quiet, directory=str(public))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the standard library's signature
        pass


def _every_chart_draws_svg_marks_without_errors_or_outside_requests(browser, site, http_root, scheme):
    visit = Visit(browser)
    pages = [p for p in sorted(site.rglob("*.html")) if specs(p)]
    assert [p.relative_to(site).as_posix() for p in pages] == sorted(BUNDLED_CHARTS)
    for path in pages:
        rel = path.relative_to(site).as_posix()
        origin = site.as_uri() + "/" if scheme == "file" else http_root
        visit.page.goto(origin + rel if scheme == "http" else path.as_uri())
        drawn = wait_for_charts(visit.page)
        assert [d["id"].removeprefix("chart-") for d in drawn] == BUNDLED_CHARTS[rel]
        for d in drawn:
            assert d["state"] == "drawn" and d["svg"] == 1, f"{rel}: {d}"
            # every row of the data table is drawn: at least one mark (bar, dot, label) per row
            assert d["marks"] >= d["rows"] > 0, f"{rel}: {d}"
            assert d["label"] == d["desc"] and d["title"], f"{rel}: {d}"
            # what a screen reader says for each bar or dot: Chinese, with the printed figure, not Vega's field dump
            assert len(d["spoken"]) >= d["rows"], f"{rel}: {d['id']} {d['spoken']}"
            for said in d["spoken"]:
                assert not re.search(r"\b(item|series|text|name|aria|[ovx]):|axis", said), f"{rel}: {said}"
                assert re.search(r"[\d.,]+ (万元|分)", said), f"{rel}: {said}"
        outside = [u for u in visit.requests if not u.startswith(origin)]
        assert not outside, f"{rel} requested {outside}"
        assert not visit.problems, f"{rel}: {visit.problems}"
        visit.requests.clear()
    visit.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["file", "http"])
def test_every_chart_draws_svg_marks_without_errors_or_outside_requests(browser, public, http_root, scheme):
    _every_chart_draws_svg_marks_without_errors_or_outside_requests(browser, public, http_root, scheme)


def _without_its_options_the_runtime_would_break_the_policy(browser, site):
    visit = Visit(browser)
    page = visit.open(site / "luohu-quweiban" / "2023" / "index.html")
    wait_for_charts(page)
    assert not visit.problems
    # Run as a task of the page (from setTimeout): code run straight from the test is exempt from the policy.
    outcome = page.evaluate(
        """() => new Promise(resolve => setTimeout(() => {
            const div = document.createElement('div');
            document.body.appendChild(div);
            const spec = JSON.parse(document.querySelector('script.chart-spec').textContent);
            window.vegaEmbed(div, spec, {renderer: 'svg'}).then(() => resolve('drawn'), e => resolve(String(e)));
        }, 0))"""
    )
    assert "unsafe-eval" in outcome  # Vega's default expression compiler is refused: nothing is drawn
    assert any("Applying inline style violates" in p for p in visit.problems), visit.problems
    visit.close()


@pytest.mark.browser
def test_without_its_options_the_runtime_would_break_the_policy(browser, public):
    """The guard behind the options in charts.js: vega-embed's defaults inject a <style> and compile expressions
    with new Function(), and the page's Content-Security-Policy refuses both, with console errors that the test
    above would report."""
    _without_its_options_the_runtime_would_break_the_policy(browser, public)


def _runtime_adds_one_global_and_the_tooltip_shows_the_printed_figure(browser, site):
    visit = Visit(browser)
    plain = visit.open(site / "glossary" / "index.html")
    before = set(plain.evaluate("Object.keys(window)"))
    page = visit.open(site / "luohu-quweiban" / "2023" / "index.html")
    wait_for_charts(page)
    assert set(page.evaluate("Object.keys(window)")) - before == {"vegaEmbed"}
    page.locator("#chart-spending-canvas .mark-rect path").first.hover()
    tip = page.locator("#vg-tooltip-element")
    tip.wait_for(state="visible")
    assert "一般公共服务支出" in tip.inner_text() and "1,454.65" in tip.inner_text()
    assert page.locator("#chart-sangong .chart-key").is_visible()
    assert not visit.problems
    visit.close()


@pytest.mark.browser
def test_runtime_adds_one_global_and_the_tooltip_shows_the_printed_figure(browser, public):
    _runtime_adds_one_global_and_the_tooltip_shows_the_printed_figure(browser, public)


def _without_javascript_every_chart_keeps_its_title_description_and_data(browser, site):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto((site / "luohu-quweiban" / "2023" / "index.html").as_uri())
    figures = page.locator("figure.chart")
    assert figures.count() == 6
    for i in range(figures.count()):
        f = figures.nth(i)
        assert f.locator(".chart-title").inner_text() and f.locator(".chart-desc").inner_text().endswith("。")
        assert f.locator(".chart-canvas svg").count() == 0
        f.locator(".chart-data summary").click()
        assert f.locator(".chart-data table").is_visible()
    assert not page.locator(".chart-key").first.is_visible()  # "浅色宽条为预算数…": a key to no drawing
    table = figures.nth(3).locator("table")
    assert "因公出国（境）费" in table.inner_text() and "7.32" in table.inner_text() and "4.33" in table.inner_text()
    context.close()


@pytest.mark.browser
def test_without_javascript_every_chart_keeps_its_title_description_and_data(browser, public):
    _without_javascript_every_chart_keeps_its_title_description_and_data(browser, public)


STANDARD, LARGE = ("12px", "11px"), ("15px", "13.75px")  # axes and legends; the figures at the bars' ends


def _text_at(drawn: dict, sizes: tuple[str, str]) -> bool:
    """Every text of the chart at one of these sizes, its axes at the first (the project dots print no figures)."""
    return set(drawn["fonts"]) <= set(sizes) and sizes[0] in drawn["fonts"]


def _charts_fit_the_screen(browser, site, width, large=False):
    visit = Visit(browser, width)
    for rel in ("index.html", "luohu-quweiban/2023/index.html"):
        page = visit.open(site / rel)
        drawn = wait_for_charts(page)
        if large:  # 大字, switched on after the charts were drawn: they are drawn again with larger text
            assert all(d["scale"] == "1" and _text_at(d, STANDARD) for d in drawn), drawn
            page.click("#text-size")
            drawn = wait_for_charts(page)
            assert all(d["scale"] == "1.25" and _text_at(d, LARGE) for d in drawn), drawn
        for d in drawn:
            assert 0 < d["width"] <= width, f"{rel} at {width}px: {d['id']} ends at {d['width']}px"
            assert not d["cut"], f"{rel} at {width}px: {d['id']} cuts off the labels {d['cut']}"
            assert d["left"] >= 0 and d["bottom"] <= 0.5, f"{rel} at {width}px: {d['id']} text outside its drawing"
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{rel} scrolls sideways by {overflow}px at {width}px once its charts are drawn"
        if large:  # and switched off again (the choice is remembered for the next page)
            page.click("#text-size")
            assert all(d["scale"] == "1" and _text_at(d, STANDARD) for d in wait_for_charts(page))
    assert not visit.problems
    visit.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
def test_charts_fit_the_screen(browser, public, width):
    """Drawn to their container's width, with room for the figures at the bars' ends: nothing is cut off or
    pokes out of the page at phone width."""
    _charts_fit_the_screen(browser, public, width)


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
def test_charts_text_grows_with_large_text_and_still_fits(browser, public, width):
    """大字 makes the charts' text as much larger as the page's (1.25 times), with room for it."""
    _charts_fit_the_screen(browser, public, width, large=True)


@pytest.mark.browser
def test_large_text_chosen_before_stays_for_the_charts_and_can_be_switched_off(browser, public):
    visit = Visit(browser, 375)
    page = visit.open(public / "luohu-quweiban/2023/index.html")
    wait_for_charts(page)
    page.click("#text-size")
    page.reload()  # the choice is remembered: the charts are drawn large from the start
    assert all(d["scale"] == "1.25" and _text_at(d, LARGE) for d in wait_for_charts(page))
    page.click("#text-size")
    assert all(d["scale"] == "1" and _text_at(d, STANDARD) for d in wait_for_charts(page))
    assert not visit.problems
    visit.close()
