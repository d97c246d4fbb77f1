"""Search: one box on every page; Chinese queries find what a reader means; works from file:// by keyboard."""

from __future__ import annotations

import base64
import itertools
import json
import random
import unicodedata
from pathlib import Path

import pytest
from browsing import Visit, site_pages
from conftest import DEPT, YEAR, TinySite, load_script, to_yaml

from generator.builder.pipeline import BuildOptions, build
from generator.output.search import Doc, TokenMatrix, encode, tokens, unit_tokens


def test_chinese_is_indexed_as_overlapping_bigrams_and_codes_as_whole_tokens():
    assert tokens("行政运行") == {"行政", "政运", "运行"}
    assert tokens("“三公”经费") == {"三公", "经费"}
    assert tokens("档") == {"档"}
    assert tokens("2010301 行政运行") == {"2010301", "行政", "政运", "运行"}
    assert tokens("ＡＢＣ１２３") == {"abc123"}  # full-width letters and digits are the same token


def test_normalising_between_ideographs_is_nfkc_of_the_whole_text():
    """normalise() leaves runs of ideographs out of NFKC; the texts it is tried on mix them with what NFKC does
    change (full-width forms, compatibility ideographs, circled numbers, Kangxi radicals), with combining marks
    and Hangul jamo that compose with their neighbours, in every order."""
    import random

    from generator.output.search import normalise

    ranges = [(0x20, 0x250), (0x300, 0x370), (0x1100, 0x1200), (0x2460, 0x2500), (0x2F00, 0x2FD6), (0x3000, 0x3100),
              (0x3200, 0x3400), (0x4E00, 0x4E40), (0x9FF0, 0xA000), (0xAC00, 0xAC40), (0xF900, 0xF940), (0xFF00, 0xFF70)]  # fmt: skip
    pool = [chr(c) for a, b in ranges for c in range(a, b)] + ["\u0301", "\u0308", "\u3099", "\u309a", "\u1161"]
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 12)))
        assert normalise(text) == unicodedata.normalize("NFKC", text).lower(), ascii(text)
    assert normalise("（一）一般公共服务支出：２０１") == "(一)一般公共服务支出:201"


def load_index(public: Path) -> tuple[dict, list[list[str]]]:
    """The site entry point, and every document of every department-year, as the browser would load them."""
    site = load_script(
        public / "assets" / "search" / "site.js", "window.SEARCH_UNITS={};window.SEARCH_TOKENS={};window.SEARCH_SITE="
    )
    docs = list(site["docs"])
    for key in site["units"]:
        docs += whole(load_script(public / "assets/search/u" / f"{key}.js", f'SEARCH_UNITS["{key}"]='))
    return site, docs


def whole(unit: dict) -> list[list[str]]:
    """A department-year's documents as templates/static/search.js makes them whole from its file."""
    base, where = unit["base"], unit["where"]
    return [
        [
            r[0],
            r[1],
            where[r[2]] + (f" · {r[5]}" if len(r) > 5 else ""),
            r[3][1:] if r[3][0] == "/" else base + r[3],
            r[4],
        ]
        for r in unit["docs"]
    ]


def test_index_covers_every_kind_of_place(public: Path):
    site, docs = load_index(public)
    assert site["units"] == ["luohu-quweiban-2023", "luohu-zhengshuju-2023"]
    kinds = {doc[0] for doc in docs}
    assert kinds == {"department", "table", "row", "project", "indicator", "term", "text", "overview"}
    for url in {doc[3] for doc in docs}:  # every result links to a page that exists, at an anchor that exists
        path, _, anchor = url.partition("#")
        html = (public / path).read_text(encoding="utf-8")
        assert not anchor or f'id="{anchor}"' in html, url


def positions(row, units: int) -> list[int]:
    """A token's row in a shard as templates/static/search.js reads it: a base64 bitmap, or gaps between
    positions."""
    if isinstance(row, str):
        bits = base64.b64decode(row)
        return [i for i in range(units) if bits[i >> 3] & (1 << (i & 7))]
    return list(itertools.accumulate(row))


def test_token_rows_say_which_department_years_have_each_token(public: Path):
    from generator.output.search import fnv1a, tokens

    site, _ = load_index(public)
    shards = site["shards"]

    def units_with(token: str) -> list[str]:
        shard = load_script(
            public / "assets" / "search" / "t" / f"{fnv1a(token) % shards:02x}.js",
            f'SEARCH_TOKENS["{fnv1a(token) % shards:02x}"]=',
        )
        row = shard.get(token)
        return [site["units"][i] for i in positions(row, len(site["units"]))] if row is not None else []

    assert tokens("行政运行") == {"行政", "政运", "运行"}
    assert units_with("政运") == ["luohu-quweiban-2023"]  # 行政运行 is a 科目 of the office's tables only
    assert units_with("党政") == ["luohu-quweiban-2023", "luohu-zhengshuju-2023"]  # both have a 党政事务 project
    assert units_with("2010301") == ["luohu-quweiban-2023"]
    assert units_with("4272") == []  # amounts are not indexed as tokens; 2010301 (a code) is


def test_a_token_row_is_written_from_its_positions_alone_in_the_shorter_form():
    """Rows kept as lists or as bitmaps (whichever is smaller), after any mix of adds, removes and moves, are
    written exactly as a row made in one go from the same positions would be: an incremental build's shards
    must be a clean build's. Each is the shorter of the two forms, and reads back as its positions."""
    rng = random.Random(11)
    for units in (1, 7, 40, 300, 3000):
        matrix, truth = TokenMatrix(units), {}
        for _ in range(2000):
            unit, token = rng.randrange(units), f"t{int(rng.expovariate(0.4))}"  # some common, most rare
            if rng.random() < 0.7:
                matrix.add(unit, {0: (token,)})
                truth.setdefault(token, set()).add(unit)
            else:
                matrix.remove(unit, {0: (token,)})
                truth.get(token, set()).discard(unit)
            if rng.random() < 0.002:  # department-years added or removed: the kept ones move
                grown = units + rng.randrange(-min(units - 1, 5), 6)
                cut, shift = rng.randrange(units), rng.randrange(grown - units + 1) if grown > units else 0
                moves = [(0, 0, min(cut, grown)), (cut, cut + shift, min(units, grown - shift) - cut)]
                moves = [m for m in moves if m[2] > 0]
                matrix.remap(moves, grown)
                moved = {p: to + p - start for start, to, length in moves for p in range(start, start + length)}
                truth = {t: {moved[p] for p in ps if p in moved} for t, ps in truth.items()}
                units = grown
        truth = {t: ps for t, ps in truth.items() if ps}
        rows = matrix.part(0)
        assert set(rows) == set(truth) and matrix.token_count == len(truth)
        kinds = set()
        for token, ps in truth.items():
            ordered = sorted(ps)
            written = encode(rows[token], units)
            assert written == encode(ordered, units)  # as if made in one go
            assert positions(written, units) == ordered
            bitmap = 4 * -(-((units + 7) // 8) // 3) + 2  # base64 and its quotes
            gaps = [ordered[0]] + [b - a for a, b in itertools.pairwise(ordered)]
            listed = len(json.dumps(gaps, separators=(",", ":")))
            assert len(json.dumps(written, separators=(",", ":"))) == (listed if listed < bitmap else bitmap)
            kinds.add(type(written))
        if units >= 300:
            assert kinds == {str, list}  # the common tokens as bitmaps, the rare ones as positions


def test_a_department_years_tokens_are_the_union_of_its_documents_tokens():
    """unit_tokens segments the joined texts once; no token may cross from one document into the next."""
    docs = [
        Doc("row", "2010301 行政运行", "表3", "a", "行政运行 1,215.99", "2010301 行政运行"),
        Doc("text", "情况说明", "第三部分", "b", "支出１２３万元，其中公务用车"),  # full-width digits become 123
        Doc("row", "12", "表3", "c", "345 经费"),  # 12 and 345 must not join into 12345
        Doc("term", "ＡＢＣ", "名词", "d", "档"),  # a lone character
        Doc("indicator", "运行", "项目", "e", "维护Ｘ"),
    ]
    union = set().union(*(d.tokens() for d in docs))
    assert unit_tokens(docs) == union
    assert "12345" not in union and "123" in union and "档" in union and "档运" not in union


def test_a_departments_own_definition_of_a_term_is_found_where_it_is_written(site: TinySite, tables):
    """名词解释 in a department's own words (not the site glossary's) is a document of its own: the term, the
    department-year, and the place on its 名词解释 page; terms it only names are left to the site glossary."""
    site.write_tables(tables)
    own = "本部门所称的专项业务经费，指用于档案数字化的支出。"
    site.write(
        f"data/departments/{DEPT}/{YEAR}/名词解释.yaml",
        to_yaml({"名词": ["基本支出", {"名词": "专项业务经费", "解释": own}]}) + "\n",
    )
    build(site.root)
    public = site.root / "public"
    _, docs = load_index(public)
    mine = [d for d in docs if d[0] == "term" and d[3].startswith(f"{DEPT}/")]
    assert mine == [
        ["term", "专项业务经费", f"测试部门 · {YEAR} 年度 · 第四部分 名词解释", f"{DEPT}/{YEAR}/terms.html#term-2", own]
    ]
    html = (public / DEPT / str(YEAR) / "terms.html").read_text(encoding="utf-8")
    assert 'id="term-2"' in html and "专项业务经费" in html.split('id="term-2"')[1].split("</dt>")[0]
    assert {"数字", "字化"} <= unit_tokens([Doc(*d) for d in mine])  # found by the words of the definition


def test_the_build_reports_the_size_of_the_whole_index(tmp_path: Path):
    """The size the build prints is every file under assets/search/: the site's list, the token shards and each
    department-year's documents (these used to be left out)."""
    from conftest import REPO

    out = tmp_path / "public"
    report = build(REPO, out, BuildOptions(jobs=1))
    files = [p for p in (out / "assets/search").rglob("*") if p.is_file()]
    assert {p.parent.name for p in files} == {"search", "t", "u"}
    assert report.search_bytes == sum(p.stat().st_size for p in files)


def test_every_page_has_the_search_box(public: Path):
    for page in site_pages(public):
        html = page.read_text(encoding="utf-8")
        assert 'role="search"' in html and 'name="q"' in html, page


QUERIES = [
    # (query, a result that must be among the first five: kind tag, title)
    ("行政运行", "表格行", "行政运行"),
    ("三公", "名词解释", "“三公”经费"),
    ("公务用车", "表格行", "公务用车运行维护费"),
    ("公务用车购置费", "表格行", "决算数·公务用车购置及运行维护费·公务用车购置费"),
    ("档案", "项目", "档案管理事务"),
    ("2010301", "表格行", "行政运行"),
    # one character: documents are indexed by bigrams, so 档 and 车 are found inside 档案, 公务用车
    ("档", "项目", "档案管理事务"),
    ("档", "表格行", "20126 档案事务"),
    ("车", "表格行", "公务用车运行维护费"),
]


@pytest.mark.browser
@pytest.mark.parametrize("query,kind,title", QUERIES)
def test_queries_find_what_a_reader_means(browser, public: Path, query, kind, title):
    visit = Visit(browser)
    page = visit.open(public / "index.html")
    page.fill("#site-q", query)
    page.press("#site-q", "Enter")
    page.wait_for_load_state("load")
    page.wait_for_selector("#search-results li")
    results = page.locator("#search-results li")
    top = [results.nth(i).inner_text() for i in range(min(5, results.count()))]
    assert any(r.startswith(kind) and title in r for r in top), top
    assert "找到" in page.inner_text("#search-status")
    assert not visit.problems
    visit.close()


@pytest.mark.browser
def test_a_result_leads_to_the_exact_place_by_keyboard_alone(browser, public: Path):
    visit = Visit(browser)
    page = visit.open(public / "luohu-quweiban" / "2023" / "table-1.html")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # site title
    page.keyboard.press("Tab")  # the search box
    assert page.evaluate("document.activeElement.id") == "site-q"
    page.keyboard.type("2010301")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#search-results li a")
    first = page.locator("#search-results li a").first.get_attribute("href")
    stops = []  # Tab through the page, as a keyboard user does, until a result has focus
    while len(stops) < 20 and not page.evaluate("!!document.activeElement.closest('#search-results')"):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert page.evaluate("document.activeElement.closest('#search-results li a') !== null"), stops
    assert page.evaluate("document.activeElement.getAttribute('href')") == first, stops  # the first result first
    assert "search-page-q" in stops  # past the page's own search box, then straight to the results
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/luohu-quweiban/2023/table-" in page.url and page.url.endswith("#code-2010301")
    assert "行政运行" in page.locator("#code-2010301").inner_text()
    visit.close()


@pytest.mark.browser
def test_after_a_search_one_tab_from_the_result_count_reaches_the_first_result(browser, public: Path):
    visit = Visit(browser)
    page = visit.open(public / "search.html")
    page.wait_for_function("() => document.getElementById('search-status').textContent.startsWith('请输入')")  # ready
    page.focus("#search-page-q")
    page.keyboard.type("档案管理")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'search-status'")  # the count is read out first
    assert page.inner_text("#search-status").startswith("找到 ")
    page.keyboard.press("Tab")
    assert page.locator("#search-results li a").first.evaluate("a => a === document.activeElement")
    assert page.evaluate("document.activeElement.textContent") == "档案管理事务"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/luohu-quweiban/2023/projects/440303210301500001753.html")
    assert not visit.problems
    visit.close()


@pytest.mark.browser
def test_search_text_is_never_markup(browser, public: Path):
    visit = Visit(browser)
    page = visit.open(public / "search.html")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.fill("#search-page-q", "<img src=x onerror=alert(1)>行政")
    page.press("#search-page-q", "Enter")
    page.wait_for_timeout(200)
    assert not dialogs and page.locator("#search-results img").count() == 0
    assert "<img src=x onerror=alert(1)>行政" in page.inner_text("#search-status")
    visit.close()


@pytest.mark.browser
def test_highlight_marks_exactly_the_words_searched(browser, public: Path):
    visit = Visit(browser)
    page = visit.open(public / "search.html")
    page.fill("#search-page-q", "公务用车")
    page.press("#search-page-q", "Enter")
    page.wait_for_selector("#search-results li")
    marks = set(page.locator("#search-results mark").all_inner_texts())
    assert marks == {"公务用车"}, marks
    visit.close()


def search(visit: Visit, public: Path, query: str):
    """The search page for a query, once the first batch of department-years has been looked through."""
    page = visit.open(public / "search.html")
    page.fill("#search-page-q", query)
    page.press("#search-page-q", "Enter")
    page.wait_for_function("() => document.activeElement.id === 'search-status'")  # focused once the results are shown
    return page


@pytest.mark.browser
@pytest.mark.parametrize("char", ["档", "车"])
def test_one_character_finds_every_place_that_has_it(browser, public: Path, char: str):
    """Every document whose text has the character, found although no index token is the character alone."""
    _, docs = load_index(public)
    expected = sorted(doc[3] for doc in docs if char in unicodedata.normalize("NFKC", doc[1] + " " + doc[4]))
    assert len(expected) > 10
    visit = Visit(browser)
    page = search(visit, public, char)
    found = sorted(page.locator("#search-results li > a").evaluate_all("as => as.map(a => a.getAttribute('href'))"))
    assert found == expected
    assert page.inner_text("#search-status") == f"找到 {len(expected)} 条与“{char}”相关的结果。"
    assert not visit.problems
    visit.close()


@pytest.mark.browser
def test_one_character_looks_through_department_years_a_batch_at_a_time(browser, site: TinySite, tables):
    """A single character cannot narrow the department-years by the index: the first 20 are loaded, not all."""
    for i in range(25):
        slug = f"dept-{i:02d}"
        site.write(f"data/departments/{slug}/部门.yaml", f"名称: 测试部门{i:02d}\n地区: 测试区\n")
        site.write_tables(tables, slug)
    for slug in ("dept-07", "dept-19"):
        site.write(f"data/departments/{slug}/{YEAR}/情况说明.md", "本年度完成麒麟山片区档案整理。\n")
    build(site.root)
    public = site.root / "public"
    visit = Visit(browser)
    page = search(visit, public, "政")  # 行政运行 in every department-year's tables
    loaded = [u for u in visit.requests if "/assets/search/u/" in u]
    assert len(loaded) == 20
    assert "已查 20 / 25 个部门年度" in page.inner_text("#search-status")
    assert page.inner_text("#search-more") == "继续查找其余 5 个部门年度"
    before = page.locator("#search-results li").count()
    page.click("#search-more")
    page.wait_for_function("() => document.getElementById('search-more').hidden")
    assert len([u for u in visit.requests if "/assets/search/u/" in u]) == 25
    assert page.locator("#search-results li").count() > before
    # The index narrows by both forms of a token's row: 运行 is in all 25 (a bitmap), 麒麟 in two (the first
    # position, then the gap to the second).
    site_index, _ = load_index(public)
    written = {}
    for shard in (public / "assets/search/t").glob("*.js"):
        written.update(load_script(shard, f'SEARCH_TOKENS["{shard.stem}"]='))
    first, second = (site_index["units"].index(f"{slug}-{YEAR}") for slug in ("dept-07", "dept-19"))
    assert isinstance(written["运行"], str) and written["麒麟"] == [first, second - first]
    page = search(visit, public, "行政运行")
    assert "已查 20 / 25 个部门年度" in page.inner_text("#search-status")
    visit.requests.clear()
    page = search(visit, public, "麒麟")
    assert page.inner_text("#search-status") == "找到 2 条与“麒麟”相关的结果。"
    hrefs = [a.get_attribute("href") for a in page.locator("#search-results li a").all()]
    assert [h.split("/")[-3:] for h in hrefs] == [[s, str(YEAR), "narrative.html#p-1"] for s in ("dept-07", "dept-19")]
    loaded = sorted(u.rsplit("/", 1)[1] for u in visit.requests if "/assets/search/u/" in u)
    assert loaded == [f"dept-07-{YEAR}.js", f"dept-19-{YEAR}.js"]
    assert not visit.problems
    visit.close()


@pytest.mark.browser
def test_rows_with_figures_rank_above_rows_whose_figures_are_all_zero(browser, public: Path):
    """公务用车: the 表9 figures a reader wants (7.95, 4.78) come before 表6's 31013 公务用车购置, all zero."""
    visit = Visit(browser)
    page = search(visit, public, "公务用车")
    rows = page.locator("#search-results li").evaluate_all(
        """lis => lis.filter(li => li.querySelector('.tag').textContent === '表格行').map(li => ({
            title: li.querySelector('a').textContent,
            where: li.querySelector('.result-where').textContent,
            figures: li.querySelector('.result-text').textContent.match(/[0-9][0-9,]*[.][0-9]+/g) || [],
        }))"""
    )
    zero = [not any(float(f.replace(",", "")) for f in r["figures"]) for r in rows]
    assert True in zero and False in zero, rows
    assert zero == sorted(zero), [(r["title"], r["figures"]) for r in rows]  # every row with figures first
    titles = [r["title"] for r in rows]
    first_9 = next(i for i, r in enumerate(rows) if "表9" in r["where"] and r["figures"] != ["0.00"])
    assert first_9 < titles.index("31013 公务用车购置")
    assert not visit.problems
    visit.close()


def test_a_department_years_file_writes_each_context_once_and_addresses_from_its_folder(public: Path):
    """What repeats from document to document is written once: the rows of a table share their context, and the
    addresses are from the department-year's folder. Made whole again, they are the documents themselves."""
    from generator.output.search import Doc, unit_file

    site, _ = load_index(public)
    key = site["units"][0]
    unit = load_script(public / "assets/search/u" / f"{key}.js", f'SEARCH_UNITS["{key}"]=')
    assert unit["base"] == "luohu-quweiban/2023/"
    assert len(unit["where"]) == len(set(unit["where"])) < len(unit["docs"]) / 3
    assert not [r for r in unit["docs"] if r[3].startswith("luohu-quweiban/")]
    rows = whole(unit)
    assert any(r[2].endswith(" · 行1") and r[3].endswith("table-1.html#row-1") for r in rows)
    # A document outside the folder keeps its whole address, and one without a place has no " · " added.
    docs = [Doc("department", "甲", "某区", "d/2023/index.html", "甲"), Doc("term", "乙", "名词解释", "glossary/x.html", "乙"),
            Doc("row", "丙", "甲 · 表1", "d/2023/table-1.html#row-2", "丙", place="行2")]  # fmt: skip
    _, script = unit_file("d-2023", docs)
    text = script.decode("utf-8")
    again = whole(json.loads(text[text.index("=") + 1 : text.rindex(";")]))
    assert again == [d.row() for d in docs]
