"""Open data: every table and every project as CSV (UTF-8 with BOM) and JSON, linked from its page, and one index."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from browsing import Visit
from test_fidelity import FIGURE, section


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path} has no byte-order mark: Excel would garble its Chinese"
    assert b"\r\n" in raw
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))


def test_every_table_and_project_page_links_its_data(public: Path):
    pages = [p for p in public.rglob("table-*.html")] + [p for p in public.rglob("projects/4403*.html")]
    assert len(pages) == 9 + 25
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for ext in (".csv", ".json"):
            target = page.with_suffix(ext)
            assert target.is_file()
            assert f'href="{target.name}" download' in html or f'/{target.name}" download' in html, (page, ext)


def test_table_csv_holds_the_printed_figures(public: Path):
    rows = read_csv(public / "luohu-quweiban" / "2023" / "table-3.csv")
    assert rows[0] == [
        "行次",
        "科目编码",
        "项目",
        "本年支出合计",
        "基本支出",
        "项目支出",
        "上缴上级支出",
        "经营支出",
        "对附属单位补助支出",
    ]
    by_code = {r[1] or r[2]: r[3:] for r in rows[1:]}
    # The expected figures come from the seed text, not from our data.
    for line in section("支出决算表", "注：本表反映部门本年度各项支出"):
        key = line[0] if line[0].isdigit() else line[1]
        figures = [v for v in line[2:] if FIGURE.match(v)]
        if key in by_code and figures:
            assert by_code[key] == [f.replace(",", "") for f in figures], key


def test_two_part_table_csv_keeps_each_part_under_its_own_columns(public: Path):
    rows = read_csv(public / "luohu-quweiban" / "2023" / "table-4.csv")
    head = rows[0]
    income = next(r for r in rows if r[1] == "1")
    spending = next(r for r in rows if r[1] == "33")
    assert income[head.index("金额")] == "4272.71" and income[head.index("合计")] == ""
    assert spending[head.index("金额")] == "" and spending[head.index("合计")] == "2659.76"


def test_json_gives_amounts_as_exact_strings_and_unknowns_as_printed(public: Path):
    table = json.loads((public / "luohu-quweiban" / "2023" / "table-1.json").read_text(encoding="utf-8"))
    total = next(r for r in table["rows"] if r["line"] == 30)
    assert total["values"] == {"决算数": "4285.39"} and total["label"] == "总计"
    project = json.loads(
        (public / "luohu-zhengshuju" / "2023" / "projects" / "440303210301500002808.json").read_text(encoding="utf-8")
    )
    assert project["total"]["score"] == {"value": None, "printed": "####", "status": "unknown"}
    assert all(
        i["score"]["value"] is None and i["score"]["printed"] == "#####"
        for i in project["indicators"]
        if i["weight"]["value"] != "0"
    )
    assert project["score"] is None and project["grade"] is None
    secret = json.loads(
        (public / "luohu-quweiban" / "2023" / "projects" / "440303210301500004470.json").read_text(encoding="utf-8")
    )
    assert secret["indicators"][0]["name"] == "有关内容涉密" and secret["score"] == "99.82"
    first = json.loads(
        (public / "luohu-quweiban" / "2023" / "projects" / "440303210301500004385.json").read_text(encoding="utf-8")
    )
    parsed = next(i for i in first["indicators"] if i["target"] == "≥3篇")
    assert parsed["target_parsed"] == {"comparator": "≥", "number": "3", "unit": "篇"}


def test_project_csv_and_funds(public: Path):
    base = public / "luohu-quweiban" / "2023" / "projects"
    rows = read_csv(base / "440303221040200000000.csv")
    assert (
        rows[0][:3] == ["一级指标", "二级指标", "三级指标"]
        and rows[1][2] == "完成资金支付比例"
        and rows[1][6] == "14.8"
    )
    funds = read_csv(base / "440303221040200000000-funds.csv")
    assert funds[1] == ["年度资金总额", "0.00", "747788.47", "746793.23"]
    summary = read_csv(base / "projects.csv")
    assert len(summary) == 19 and summary[1][1] == "440303221040200000000"


def test_dataset_index_lists_every_data_file(public: Path):
    """datasets.json lists the departments and where each one's own index is; those list every data file."""
    catalogue = json.loads((public / "datasets.json").read_text(encoding="utf-8"))
    assert [d["department_id"] for d in catalogue["departments"]] == ["luohu-quweiban", "luohu-zhengshuju"]
    index = {"datasets": []}
    for d in catalogue["departments"]:
        mine = json.loads((public / d["index"]).read_text(encoding="utf-8"))
        assert mine["department_id"] == d["department_id"] and len(mine["datasets"]) == d["datasets"]
        assert {e["year"] for e in mine["datasets"]} == set(d["years"]) == {2023}
        index["datasets"] += mine["datasets"]
    assert catalogue["datasets"] == len(index["datasets"])
    listed = {f for d in index["datasets"] for f in d["files"]}
    on_disk = {
        p.relative_to(public).as_posix()
        for p in public.rglob("*")
        if p.suffix in (".csv", ".json") and p.name != "datasets.json"
    }
    assert listed == on_disk
    kinds = [d["kind"] for d in index["datasets"]]
    assert kinds.count("table") == 9 and kinds.count("project") == 25 and kinds.count("projects") == 2
    for d in index["datasets"]:
        assert (public / d["page"]).is_file()
    page = (public / "datasets.html").read_text(encoding="utf-8")
    assert 'href="datasets.json"' in page and len(re.findall(r"\.csv\" download", page)) == len(
        [f for f in listed if f.endswith(".csv")]
    )


@pytest.mark.browser
@pytest.mark.parametrize("large", [False, True], ids=["standard-text", "large-text"])
@pytest.mark.parametrize("width", [375, 1280])
def test_dataset_page_sets_file_names_apart_from_page_names_and_never_breaks_them(browser, public, width, large):
    """datasets.html: each dataset's page link on its own line, its files below it as distinct, unbroken names
    (table-1.json, never table-1. / json); the list may wrap between names, not inside one."""
    visit = Visit(browser, width)
    page = visit.open(public / "datasets.html")
    if large:
        page.locator("#text-size").click()
    items = page.locator(".dataset-list > li").evaluate_all(
        """lis => lis.map(li => {
            const name = li.querySelector('a:not([download])'), files = Array.from(li.querySelectorAll('a[download]'));
            const style = a => { const s = getComputedStyle(a); return [s.textDecorationLine, s.borderTopStyle].join(' '); };
            return {
                name: name.textContent, nameBottom: name.getBoundingClientRect().bottom, nameStyle: style(name),
                files: files.map(a => ({
                    text: a.textContent, lines: a.getClientRects().length, top: a.getBoundingClientRect().top,
                    right: a.getBoundingClientRect().right, style: style(a),
                })),
            };
        })"""
    )
    assert len(items) == 36
    for item in items:
        assert item["files"], item
        for f in item["files"]:
            assert f["lines"] == 1 and f["right"] <= width, (item["name"], f)  # whole, and on the screen
            assert f["top"] >= item["nameBottom"] - 1, (item["name"], f)  # under the page's name, not run into it
            assert f["style"] != item["nameStyle"], (item["name"], f)  # and drawn differently from it
    assert "另存为" in page.inner_text("main")  # Chromium opens JSON from file:// in the tab: how to save it
    assert not visit.problems
    visit.close()


def test_a_large_site_lists_each_department_once_on_the_datasets_page(tmp_path: Path, monkeypatch):
    """Past INLINE_LIMIT department-years the page lists each department with its years and how many datasets
    each has, linking to the department's own index, instead of every file (a province has millions)."""
    from synthetic import make_site

    from generator.builder.pipeline import BuildOptions, build

    monkeypatch.setattr("generator.builder.sitefiles.INLINE_LIMIT", 1)
    site = make_site(tmp_path / "site", departments=2, years=[2022, 2023], seed=5)
    build(site, options=BuildOptions(jobs=1))
    public = site / "public"
    page = (public / "datasets.html").read_text(encoding="utf-8")
    items = re.findall(r'<li><a class="dataset-page" href="([^"]+)/index.html">(.*?)</li>', page, re.S)
    assert sorted(slug for slug, _ in items) == ["dept-00001", "dept-00002"]
    for slug, item in items:
        mine = json.loads((public / slug / "datasets.json").read_text(encoding="utf-8"))["datasets"]
        listed = re.findall(rf'href="{slug}/(\d{{4}})/index.html">\1 年度 (\d+) 个数据集</a>', item)
        assert listed == [(str(y), str(sum(1 for d in mine if d["year"] == y))) for y in (2023, 2022)]
        assert f'href="{slug}/datasets.json"' in item
        assert "·" not in item  # spaced by the stylesheet: a wrapped line on a phone ends with no stray dot
    assert "download>" not in page  # no file is listed one by one


def test_json_files_are_written_as_the_standard_library_would_write_them():
    """Open data, search and chart JSON are written by orjson (many times faster); for what they hold, strings
    of any characters, integers, None, booleans, lists and objects, its bytes are the standard library's
    compact UTF-8, so the files read the same whichever wrote them."""
    from generator.output.opendata import _json

    text = "".join(chr(i) for i in range(0x3000)) + "\U0001f600\u2028\u2029\ufeff</script><!--"
    data = {"中文": [text, None, True, False, 0, -12, 2**63 - 1], "b": {"é": [], "a": {}}, "a": "4,272.71"}
    assert _json(data) == (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
