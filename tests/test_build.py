"""Building the site: atomic, deterministic, relative links only, text never becomes markup."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DEPT, REPO, YEAR, TinySite

from generator.builder.pipeline import BuildOptions, build
from generator.commands.cli import main
from generator.core.diagnostics import UserError


def tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.urls.append(a[key])
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "script":
            self._script = a

    def handle_data(self, data):
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, ""))
            self._script = None


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture
def built(site: TinySite, tables) -> Path:
    site.write_tables(tables)
    build(site.root)
    return site.root / "public"


def test_build_writes_every_page(built: Path):
    base = built / DEPT / str(YEAR)
    assert (built / "index.html").is_file()
    assert (built / "glossary" / "index.html").is_file()
    for no in range(1, 10):
        assert (base / f"table-{no}.html").is_file()
    assert (built / "assets" / "site.css").is_file() and (built / "assets" / "site.js").is_file()


def test_all_links_are_relative_and_resolve(built: Path):
    """Every href/src is relative (works from file:// and under any base path) and points at a file that exists."""
    for page in built.rglob("*.html"):
        if page.name == "404.html":
            continue  # links from the base path, by design: see tests/test_hosting.py
        links = parse(page)
        for url in links.urls:
            assert not re.match(r"^[a-z]+:|^//|^/", url), f"{page}: {url}"
            target, _, fragment = url.partition("#")
            resolved = (page.parent / target).resolve() if target else page
            assert resolved.is_file(), f"{page.relative_to(built)} links to missing {url}"
            if fragment and resolved.suffix == ".html":
                assert fragment in parse(resolved).ids, f"{page.relative_to(built)} links to missing anchor {url}"


def test_no_inline_script_and_a_strict_csp_on_every_page(built: Path):
    for page in built.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "script-src 'self'" in csp
        for attrs, _body in parse(page).scripts:
            assert attrs.get("src") or attrs.get("type") == "application/json", f"inline script in {page}"
        assert " style=" not in html and " onclick=" not in html


def test_two_builds_are_byte_identical(site: TinySite, tables, tmp_path: Path):
    site.write_tables(tables)
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site.root), "--out", str(out)], cwd=REPO, env=env, check=True, capture_output=True)  # fmt: skip
        outs.append(tree(out))
    assert outs[0] == outs[1] and len(outs[0]) > 20


def test_failed_build_leaves_previous_site_untouched(site: TinySite, tables):
    site.write_tables(tables)
    build(site.root)
    before = tree(site.root / "public")
    tables[3]["合计"]["基本支出"] = "91.00"
    site.write_tables(tables)
    with pytest.raises(UserError):
        build(site.root)
    assert tree(site.root / "public") == before
    assert not [p for p in site.root.iterdir() if p.name.startswith(".public")]


def test_allow_errors_publishes_with_the_failed_check_shown_on_the_table(site: TinySite, tables, capsys):
    tables[3]["合计"]["基本支出"] = "91.00"
    site.write_tables(tables)
    assert main(["build", "--site", str(site.root), "--allow-errors"]) == 1
    assert "--allow-errors" in capsys.readouterr().err
    page = (site.root / "public" / DEPT / str(YEAR) / "table-3.html").read_text(encoding="utf-8")
    assert "本表有核对未通过" in page
    assert re.search(r'<td class="num st-error">91\.00<a class="mark st-error" href="#check-\d+"', page)
    assert "印刷为 91.00" in page
    other = (site.root / "public" / DEPT / str(YEAR) / "table-9.html").read_text(encoding="utf-8")
    assert "本表有核对未通过" not in other and "生成时使用了 --allow-errors" in other


def test_output_folder_that_holds_sources_is_refused(site: TinySite, tables, capsys):
    site.write_tables(tables)
    for out in (site.root, site.root / "data", site.root / "data" / "x"):
        assert main(["build", "--site", str(site.root), "--out", str(out)]) == 1
        assert "会覆盖源文件" in capsys.readouterr().err
    assert (site.root / "data" / "departments").is_dir()


def test_html_in_yaml_and_markdown_is_shown_as_text(site: TinySite, tables):
    site.write_tables(tables)
    site.write(f"data/departments/{DEPT}/部门.yaml", '名称: "<script>alert(1)</script>测试部门"\n')
    site.write(
        f"data/departments/{DEPT}/{YEAR}/情况说明.md",
        "正文<script>alert(2)</script><img src=x onerror=alert(3)> [点我](javascript:alert(4))\n\n<b onmouseover=alert(5)>粗</b>\n",
    )
    build(site.root)
    for page in (site.root / "public").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img" not in html and "javascript:" not in html
        assert "<b onmouseover" not in html
    narrative = (site.root / "public" / DEPT / str(YEAR) / "narrative.html").read_text(encoding="utf-8")
    # Shown as text, not removed silently: a reader sees exactly what the file says.
    assert "&lt;script&gt;alert(2)&lt;/script&gt;&lt;img src=x onerror=alert(3)&gt;" in narrative
    assert "&lt;b onmouseover=alert(5)&gt;粗&lt;/b&gt;" in narrative
    home = (site.root / "public" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;测试部门" in home


def test_a_build_reads_each_data_file_of_a_department_year_once(site: TinySite, tables, monkeypatch):
    """Its bytes are digested for the build cache and parsed: the same bytes, read once."""
    import builtins
    import collections
    import io

    site.write_tables(tables)
    site.write(f"data/departments/{DEPT}/{YEAR}/情况说明.md", "本年度收入合计 100.00 万元。\n")
    reads: collections.Counter = collections.Counter()
    original = io.open

    def counting(file, mode="r", *args, **kwargs):
        if "r" in mode and f"{DEPT}/{YEAR}/" in str(file).replace(os.sep, "/"):
            reads[Path(file).name] += 1
        return original(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting)
    monkeypatch.setattr(builtins, "open", counting)
    build(site.root, options=BuildOptions(jobs=1))
    assert len(reads) >= 10 and "情况说明.md" in reads  # the nine tables and the narrative, at least
    assert set(reads.values()) == {1}, reads


def test_the_pages_escaper_gives_markupsafes_bytes_for_every_kind_of_value():
    from decimal import Decimal

    import markupsafe

    from generator.output.render import escape

    class Html:
        def __html__(self):
            return "<b>已是 HTML</b>"

    values = ['<script>"a" & \'b\'</script>', "", "行政运行", markupsafe.Markup("<i>安全</i>"), 0, -12, 10**30,
              True, None, 1.5, Decimal("-4,272.71".replace(",", "")), Decimal("0E-2"), Decimal("1E+3"),
              Decimal("NaN"), Decimal("-Infinity"), Html()]  # fmt: skip
    for value in values:
        made = escape(value)
        assert type(made) is markupsafe.Markup and made == markupsafe.escape(value), value


def test_the_pages_escaper_is_given_to_the_sites_templates_and_jinja_is_left_as_it_was(built: Path):
    """Autoescape in the site's templates calls render.escape, set in each template's own namespace: after a
    build (`built`) jinja2 and markupsafe are as they were for anything else in the process."""
    import jinja2
    import jinja2.runtime
    import markupsafe

    from generator.output import render

    assert jinja2.runtime.escape is markupsafe.escape
    template = render.environment(REPO / "templates").from_string("{{ x }}{{ y }}")
    assert template.root_render_func.__globals__["escape"] is render.escape
    assert template.render(x="<b>&", y=markupsafe.Markup("<i>")) == "&lt;b&gt;&amp;<i>"
    other = jinja2.Environment(autoescape=True).from_string("{{ x }}")
    assert other.root_render_func.__globals__["escape"] is markupsafe.escape


def test_glossary_terms_link_from_tables_and_list_where_they_appear(built: Path):
    table3 = (built / DEPT / str(YEAR) / "table-3.html").read_text(encoding="utf-8")
    assert '<a class="term" href="../../glossary/jiben-zhichu.html" data-term="jiben-zhichu">基本支出</a>' in table3
    data = re.search(r'<script type="application/json" id="term-data">(.*?)</script>', table3).group(1)
    assert '"jiben-zhichu":{"def":"指为保障机构正常运转' in data
    term = (built / "glossary" / "jiben-zhichu.html").read_text(encoding="utf-8")
    assert f'href="../{DEPT}/{YEAR}/table-3.html"' in term


def test_glossary_index_is_in_pinyin_order(built: Path):
    """The site's glossary is an index a reader looks terms up in, ordered as Chinese reference works are: by
    汉语拼音 (not by code point, which put “三公”经费 first for its quotation mark and 上级 before 事业 by chance).
    A department's own 第四部分 keeps its printed order on its terms page."""
    index = (built / "glossary" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<dt><a href="[^"]*">([^<]+)</a></dt>', index)
    assert listed == [
        "财政拨款收入", "附属单位上缴收入", "基本支出", "结余分配", "机关运行经费", "经营收入", "经营支出",
        "年初结转和结余", "年末结转和结余", "其他收入", "“三公”经费", "上级补助收入", "事业收入",
        "使用非财政拨款结余（含专用结余）", "项目支出",
    ]  # fmt: skip


def test_bundled_site_builds_and_shows_empty_tables_and_its_parts(tmp_path: Path):
    out = tmp_path / "public"
    build(REPO, out)
    base = out / "luohu-quweiban" / "2023"
    for no in (7, 8):
        assert "注：本表反映部门本年度" in (base / f"table-{no}.html").read_text(encoding="utf-8")
        assert "本表本年度无发生额" in (base / f"table-{no}.html").read_text(encoding="utf-8")
    overview = (base / "index.html").read_text(encoding="utf-8")
    for text in (
        "第一部分 中共深圳市罗湖区委办公室概况",
        "深圳市罗湖区政务公开中心的主要职责是",
        "秘书科、督查科",
        "纳入本单位 2023 年度部门决算编报范围的单位共 2 个",
    ):
        assert text in overview
    assert "第三部分" in (base / "narrative.html").read_text(encoding="utf-8")
    terms = (base / "terms.html").read_text(encoding="utf-8")
    assert terms.count("<dt") == 15
    other = (out / "luohu-zhengshuju" / "2023" / "index.html").read_text(encoding="utf-8")
    assert "第二部分 部门决算表（九张表）" in other and "不代表相关数字为零" in other


def test_markdown_texts_converted_one_after_another_share_nothing():
    """One converter serves every text of a kind (generator/markup.py): what one text defines (a reference link,
    its blocks, the terms it linked) must not reach the next."""
    from generator.output.markup import Glossary, TermLinker, markdown_blocks, render_markdown

    first = render_markdown("见[附表][a]。\n\n[a]: https://example.org/a\n\n第二段。")
    assert 'href="https://example.org/a"' in first and 'id="p-2"' in first
    second = render_markdown("见[附表][a]。")
    assert "href" not in second and "[附表][a]" in second  # no definition here: the reference stays text
    assert markdown_blocks("只有一段。") == [("", "只有一段。")]
    glossary = Glossary({"行政运行": "xingzheng-yunxing"})
    nowhere = lambda href, text: None  # noqa: E731 - a narrative's figure links, none of which resolve here
    linker, other = TermLinker(glossary, ""), TermLinker(glossary, "../")
    assert 'href="glossary/xingzheng-yunxing.html"' in render_markdown("行政运行的支出。", linker, nowhere)
    assert 'href="../glossary/xingzheng-yunxing.html"' in render_markdown("又是行政运行。", other, nowhere)
    third = TermLinker(glossary, "")
    render_markdown("没有名词。", third, nowhere)
    assert linker.used == other.used == {"xingzheng-yunxing"} and not third.used


def test_a_department_year_leaves_nothing_for_the_garbage_collector():
    """Each department-year's model is freed as soon as it is written (by reference counting): garbage the
    collector has to find piles up over a province's units, and a worker goes through it every few of them."""
    import gc

    from generator.builder import units
    from generator.core.config import load_config
    from generator.core.diagnostics import Diagnostics

    shared = units.load_shared(load_config(REPO), Diagnostics())
    found = units.discover(shared.config, shared, Diagnostics())
    machinery = units.Machinery.make(shared.config.templates_dir)
    assert len(found.units) == 2
    for u in found.units:  # caches filled, templates compiled
        units.process(shared, u, units.Task(u, True), {}, machinery)
    gc.collect()
    gc.disable()
    try:
        for u in found.units:
            units.process(shared, u, units.Task(u, True), {}, machinery)
            assert gc.collect() < 1000, u.key  # 12,062 objects for luohu-quweiban-2023 while the model was a cycle
    finally:
        gc.enable()


def test_the_collector_is_frozen_until_the_outermost_freeze_is_thawed():
    """A build freezes what it holds and its pool of workers freezes again inside it (cache.GcFreeze): the
    inner thaw must leave the build's freeze in place, the outer one undo it."""
    import gc

    from generator.builder.cache import GcFreeze

    freezer, held = GcFreeze(), [object() for _ in range(10)]
    freezer.freeze()
    try:
        with freezer.frozen():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0 and freezer.depth == 1
    finally:
        freezer.thaw()
    assert gc.get_freeze_count() == 0 and freezer.depth == 0 and held


def _plus(state: int, item: int) -> tuple[int, int]:
    return os.getpid(), state + item


def test_workers_run_each_item_with_the_state_their_set_up_made():
    """pool.in_workers: `setup` runs once in each worker, and each item is worked on with what it returned."""
    from generator.builder.pool import in_workers

    done = list(in_workers(_plus, list(range(20)), 2, int, ("100",)))
    assert sorted(n for _, n in done) == list(range(100, 120))
    assert os.getpid() not in {pid for pid, _ in done}


def test_a_long_year_list_is_grouped_by_region_with_an_index_of_the_regions(tmp_path: Path, monkeypatch):
    """Past INLINE_LIMIT department-years in a year (a province's 2,000), its list page is headed by region, with
    the regions at the top, each linking to its own heading: every department once, under its own region."""
    from synthetic import make_site

    from generator.builder.pipeline import BuildOptions, build

    site = make_site(tmp_path / "site", departments=4, years=[2023], seed=5)
    regions = {}  # slug → region, as each department's 部门.yaml says
    for dept in sorted((site / "data" / "departments").iterdir()):
        text = (dept / "部门.yaml").read_text(encoding="utf-8")
        regions[dept.name] = re.search(r"^地区: (.+)$", text, re.M).group(1)
    build(site, options=BuildOptions(jobs=1))
    short = (site / "public" / "years" / "2023.html").read_text(encoding="utf-8")
    assert 'class="regions"' not in short and short.count('class="dept-name"') == 4  # a short list: as it was
    assert all(f"<span>{r}</span>" in short for r in regions.values())

    monkeypatch.setattr("generator.builder.sitefiles.INLINE_LIMIT", 3)
    build(site, tmp_path / "grouped", BuildOptions(jobs=1))
    html = (tmp_path / "grouped" / "years" / "2023.html").read_text(encoding="utf-8")
    assert "共 4 个部门，分属 4 个地区" in html
    index = re.search(r'<nav class="regions" aria-labelledby="regions-h">(.*?)</nav>', html, re.S).group(1)
    listed = re.findall(r'<a href="#(region-\d+)">([^<]+)</a> <span class="count">(\d+) 个部门</span>', index)
    assert [name for _, name, _ in listed] == sorted(set(regions.values()))  # the site's order: region, then name
    found = {}
    for anchor, name, count in listed:
        section = re.search(rf'<section class="region" aria-labelledby="{anchor}">(.*?)</section>', html, re.S).group(1)
        assert f'<h2 id="{anchor}">{name} <span class="count">{count} 个部门</span></h2>' in section
        slugs = re.findall(r'class="dept-name" href="\.\./([^/]+)/2023/index\.html"', section)
        assert len(slugs) == int(count) and '<a href="#regions-h">回到地区列表 ↑</a>' in section
        assert f"<span>{name}</span>" not in section  # the heading says it: not again on every line
        found.update(dict.fromkeys(slugs, name))
    assert found == regions
    datasets = (tmp_path / "grouped" / "datasets.html").read_text(encoding="utf-8")  # the departments' data, alike
    assert re.search(r'<nav class="regions" aria-labelledby="regions-h">(.*?)</nav>', datasets, re.S).group(1) == index
    for anchor, name, count in listed:
        section = re.search(rf'<section class="region" aria-labelledby="{anchor}">(.*?)</section>', datasets, re.S)
        slugs = re.findall(r'<a class="dataset-page" href="([^/]+)/index\.html">', section.group(1))
        assert [found[slug] for slug in slugs] == [name] * int(count)
    # A department moved to another region: the incremental build gives the clean build's bytes.
    yaml = site / "data" / "departments" / "dept-00001" / "部门.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(regions["dept-00001"], regions["dept-00002"]), "utf-8")
    build(site, tmp_path / "grouped", BuildOptions(jobs=1))
    build(site, tmp_path / "clean", BuildOptions(jobs=1, clean=True))
    moved = (tmp_path / "grouped" / "years" / "2023.html").read_text(encoding="utf-8")
    assert "共 4 个部门，分属 3 个地区" in moved
    assert tree(tmp_path / "grouped") == tree(tmp_path / "clean")


def test_a_count_of_a_thousand_and_more_has_thousands_separators(tmp_path: Path):
    """A province's open-data page says 全站 250,802 个数据集, not 250802 (a long year list, 共 2,000 个部门)."""
    from synthetic import make_site

    site = make_site(tmp_path / "site", departments=45, years=[2023], seed=5)
    build(site, options=BuildOptions(jobs=2))
    datasets = (site / "public" / "datasets.html").read_text(encoding="utf-8")
    total = int(re.search(r"全站 ([\d,]+) 个数据集", datasets).group(1).replace(",", ""))
    assert total >= 1000 and f"全站 {total:,} 个数据集" in datasets
