"""Pictures of the pages a reviewer looks at, for a person to look at: the department pages and the home page with
their charts, two printed tables (表3 with its 类/款/项, 表4 with its two halves), the project list and one project
page, the year's list with its comparisons, at a phone's width (375 px) and a desktop's (1280 px), after every chart has drawn.

    .venv/bin/python tools/screenshots.py /tmp/shots            # builds the bundled site into a temporary folder
    .venv/bin/python tools/screenshots.py /tmp/shots public     # or uses a site already built

Uses Debian's Chromium (/usr/bin/chromium, or CHROMIUM=…) through Playwright. Prints each file it writes and
anything the page said on its console (a healthy page says nothing).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generator.builder.pipeline import build  # noqa: E402

PAGES = [
    "luohu-quweiban/2023/index.html",
    "index.html",
    "luohu-zhengshuju/2023/index.html",
    "luohu-quweiban/2023/table-3.html",
    "luohu-quweiban/2023/table-4.html",
    "luohu-quweiban/2023/projects/index.html",
    "luohu-quweiban/2023/projects/440303221040200000000.html",  # 深圳市罗湖区智慧档案馆项目
    "datasets.html",
    "years/2023.html",
]
WIDTHS = [375, 1280]
DRAWN = (
    "Array.from(document.querySelectorAll('.chart-canvas')).every(c => ['drawn', 'failed'].includes(c.dataset.state))"
)


def shoot(site: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"]
        )
        for rel in PAGES:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("console", lambda m, rel=rel: print(f"  {rel}: console {m.type}: {m.text}"))
                page.goto((site / rel).as_uri())
                page.wait_for_function(DRAWN, timeout=15000)
                name = out / f"{rel.replace('/', '_').removesuffix('.html')}-{width}.png"
                page.screenshot(path=name, full_page=True)
                for i in range(page.locator("figure.chart").count()):  # each chart alone, at full size
                    page.locator("figure.chart").nth(i).screenshot(path=name.with_name(f"{name.stem}-chart{i + 1}.png"))
                print(name)
                page.close()
        browser.close()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    out = Path(argv[0])
    if len(argv) > 1:
        shoot(Path(argv[1]).resolve(), out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(REPO, Path(tmp) / "public")
        shoot(Path(tmp) / "public", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
