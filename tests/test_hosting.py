"""Hosting: sitemap, 404, titles and descriptions, the CSP and the links of the whole bundled site, over http."""

from __future__ import annotations

import functools
import http.server
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from browsing import Visit, site_pages
from test_build import parse

BASE = "https://example.org/juesuan/"  # site.toml's base_url


SITEMAPS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_sitemap_lists_every_page_under_the_base_url(public: Path):
    """sitemap.xml is an index of sitemaps (one for the site-level pages, one per department); together they
    list every page once, each sitemap only addresses under its own folder, as the protocol requires."""
    index = ET.fromstring((public / "sitemap.xml").read_bytes())
    assert index.tag == f"{SITEMAPS}sitemapindex"
    listed = [e.text for e in index.iter(f"{SITEMAPS}loc")]
    assert len(listed) == 3 and all(url.startswith(BASE) for url in listed)
    locs = []
    for url in listed:
        sitemap = url.removeprefix(BASE)
        root = ET.fromstring((public / sitemap).read_bytes())
        assert root.tag == f"{SITEMAPS}urlset"
        folder = BASE + sitemap.rsplit("/", 1)[0] + "/" if "/" in sitemap else BASE
        mine = [e.text for e in root.iter(f"{SITEMAPS}loc")]
        assert all(loc.startswith(folder) for loc in mine), sitemap
        locs += mine
    expected = {BASE + p.relative_to(public).as_posix() for p in site_pages(public)}
    assert sorted(locs) == sorted(expected)


def test_titles_and_descriptions_make_sense_in_search_results(public: Path):
    titles = {}
    for page in site_pages(public):
        html = page.read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", html).group(1)
        description = re.search(r'<meta name="description" content="([^"]*)"', html).group(1)
        assert len(title) >= 8 and len(description) >= 15, page
        assert f'<meta property="og:title" content="{title.split(" · 部门决算公开")[0]}' in html
        titles.setdefault(title, []).append(page)
    assert {t: p for t, p in titles.items() if len(p) > 1} == {}  # every page has its own title


def test_whole_site_has_a_strict_csp_no_inline_script_and_no_reference_to_another_host(public: Path):
    for page in site_pages(public):
        html = page.read_text(encoding="utf-8")
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "default-src 'none'" in csp
        links = parse(page)
        for attrs, _ in links.scripts:
            assert attrs.get("src") or attrs.get("type") == "application/json", page
        for url in links.urls:
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//|^/", url), f"{page.relative_to(public)} refers to {url}"
            target, _, fragment = url.partition("#")
            resolved = (page.parent / target.split("?")[0]).resolve() if target else page
            assert resolved.is_file(), f"{page.relative_to(public)}: broken link {url}"
            if fragment and resolved.suffix == ".html":
                assert fragment in parse(resolved).ids, f"{page.relative_to(public)}: broken anchor {url}"
    css = (public / "assets" / "site.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css


class _Host(http.server.SimpleHTTPRequestHandler):
    """A static host serving the site under /juesuan/ and 404.html for anything missing, as hosts do."""

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if not path.startswith("/juesuan/"):
            return "/nonexistent"
        return super().translate_path("/" + path[len("/juesuan/") :])

    def send_error(self, code, message=None, explain=None):
        if code != 404:
            return super().send_error(code, message, explain)
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host(public: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Host, directory=str(public)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/juesuan/"
    server.shutdown()


@pytest.mark.browser
def test_missing_address_gets_a_styled_404_whose_links_work(browser, host: str):
    visit = Visit(browser)
    response = visit.page.goto(host + "no/such/deep/page.html")
    assert response.status == 404
    assert "找不到这个页面" in visit.page.inner_text("h1")
    assert (
        visit.page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    with visit.page.expect_navigation():
        visit.page.get_by_role("link", name="回到首页").click()
    assert visit.page.url == host + "index.html" and "部门决算公开" in visit.page.title()
    # The one error a 404 page has by definition: the missing address itself. Nothing else failed.
    assert visit.problems == [
        "console error: Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    visit.close()


@pytest.mark.browser
def test_every_page_works_over_http_under_a_base_path(browser, public: Path, host: str):
    visit = Visit(browser)
    for path in site_pages(public):
        rel = path.relative_to(public).as_posix()
        response = visit.page.goto(host + rel)
        assert response.status == 200, rel
        assert not visit.problems, f"{rel}: {visit.problems}"
        assert all(u.startswith(host) for u in visit.requests), visit.requests
        visit.requests.clear()
    visit.close()
