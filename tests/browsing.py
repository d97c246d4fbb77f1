"""Driving Debian's Chromium (/usr/bin/chromium) through Playwright, for the browser tests.

Without Chromium the browser tests skip with the reason printed at the end of the run; under CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import in_ci

# Debian's Chromium; CHROMIUM=… points elsewhere (and shows what happens on a machine without it).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip


def launch_browser():
    """A session's Chromium; skips (or fails under CI=true) where there is none."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package (apt-get install chromium fonts-noto-cjk)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is in requirements.txt
        if in_ci():
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip(f"playwright is not installed: {exc}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def site_pages(public: Path) -> list[Path]:
    """Every page a reader opens from file://. 404.html is the host's page for a missing address: it links
    from the site's base path so it works at any depth on the server (tests/test_hosting.py serves it)."""
    return [p for p in sorted(public.rglob("*.html")) if p.name != "404.html"]


class Visit:
    """A page opened from file://, with every console message, page error and request recorded."""

    def __init__(self, browser, width: int = 1280, **options) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, **options)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # A fetch our own next navigation cancels (the favicon, say) is aborted, not failed: only real failures count.
        self.page.on(
            "requestfailed",
            lambda r: (
                None
                if r.failure == "net::ERR_ABORTED"
                else self.problems.append(f"failed request: {r.url} {r.failure}")
            ),
        )
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path: Path):
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()


# A function, not an expression: Playwright polls an expression by evaluating it as a string, which the CSP refuses.
DRAWN = (
    "() => Array.from(document.querySelectorAll('.chart-canvas'))"
    ".every(c => ['drawn', 'failed'].includes(c.dataset.state))"
)


def wait_for_charts(page) -> list[dict]:
    """Once every chart on the page is drawn (or has failed): what each one shows, for the tests to judge."""
    page.wait_for_function(DRAWN, timeout=15000)
    return page.evaluate(
        """Array.from(document.querySelectorAll('figure.chart')).map(f => ({
            id: f.id,
            state: f.querySelector('.chart-canvas').dataset.state,
            svg: f.querySelectorAll('.chart-canvas > svg').length,
            marks: f.querySelectorAll('.chart-canvas svg .role-mark > *').length,
            rows: f.querySelectorAll('.chart-data tbody tr').length,
            spoken: Array.from(f.querySelectorAll('.chart-canvas svg [aria-label]')).map(e => e.getAttribute('aria-label')),
            label: f.querySelector('.chart-canvas').getAttribute('aria-label'),
            desc: f.querySelector('.chart-desc').textContent,
            title: f.querySelector('.chart-title').textContent,
            width: f.querySelector('.chart-canvas svg') ? f.querySelector('.chart-canvas svg').getBoundingClientRect().right : 0,
            left: f.querySelector('.chart-canvas svg') ? Math.min(...Array.from(f.querySelectorAll('.chart-canvas svg text')).map(t => t.getBoundingClientRect().left)) : 0,
            bottom: f.querySelector('.chart-canvas svg') ? Math.max(...Array.from(f.querySelectorAll('.chart-canvas svg text')).map(t => t.getBoundingClientRect().bottom)) - f.querySelector('.chart-canvas svg').getBoundingClientRect().bottom : 0,
            scale: f.querySelector('.chart-canvas').dataset.textScale,
            fonts: Array.from(new Set(Array.from(f.querySelectorAll('.chart-canvas svg text')).map(t => t.getAttribute('font-size')))).sort(),
            cut: Array.from(f.querySelectorAll('.chart-canvas svg .mark-text.role-mark text')).filter(t =>
                t.getBoundingClientRect().right > f.querySelector('.chart-canvas svg').getBoundingClientRect().right + 0.5
            ).map(t => t.textContent),
        }))"""
    )
