"""Issue 7's yardstick, measured now: Debian's `hugo` rendering pages of a 40-row table, timed in the same
minutes as our own build (this machine's speed moves by up to half from one hour to the next, so a Hugo figure
from another day says little). Run it from the repository (`apt-get install hugo` first):

    .venv/bin/python bench/hugo.py               # 2,000 pages, three times
    .venv/bin/python bench/hugo.py --pages 20000 --times 1

Each page is what the issue names: a title, a paragraph of Markdown, and a table of 40 rows (code, name and four
amounts) that Hugo's template builds from the page's front matter, inside a shared header, navigation and footer.
It prints each run's wall seconds and the median's milliseconds per page (Hugo uses every core). bench/run.py
prints the same figure beside its own when `hugo` is installed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 40

CONFIG = """baseURL = "https://example.org/"
languageCode = "zh-cn"
title = "决算公开（对照）"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
"""

BASEOF = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ .Title }} · {{ .Site.Title }}</title><link rel="stylesheet" href="/assets/site.css"></head>
<body><header><a href="/">{{ .Site.Title }}</a><nav><a href="/">首页</a> <a href="/glossary/">名词解释</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main><footer>数据来自各部门公开的决算。</footer></body></html>
"""

SINGLE = """{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}
<table><thead><tr><th>科目编码</th><th>科目名称</th><th>年初结转</th><th>本年收入</th><th>本年支出</th><th>年末结转</th></tr></thead>
<tbody>{{ range .Params.rows }}<tr><td>{{ .code }}</td><td>{{ .name }}</td><td>{{ .a }}</td><td>{{ .b }}</td><td>{{ .c }}</td><td>{{ .d }}</td></tr>
{{ end }}</tbody></table>{{ end }}
"""

LIST = """{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}
"""

NAMES = [
    "一般公共服务支出",
    "行政运行",
    "一般行政管理事务",
    "机关服务",
    "教育支出",
    "社会保障和就业支出",
    "卫生健康支出",
    "住房公积金",
]


def _money(rng: random.Random) -> str:
    return f"{rng.randrange(0, 10**7) / 100:,.2f}"


def make_site(folder: Path, pages: int, seed: int = 7) -> None:
    """A Hugo site of `pages` pages of a 40-row table, the same for the same seed."""
    rng = random.Random(seed)
    (folder / "layouts" / "_default").mkdir(parents=True)
    (folder / "content" / "p").mkdir(parents=True)
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
    for name, text in (("baseof.html", BASEOF), ("single.html", SINGLE), ("list.html", LIST)):
        (folder / "layouts" / "_default" / name).write_text(text, encoding="utf-8")
    for i in range(pages):
        rows = "\n".join(
            f'  - {{code: "{2010000 + r}", name: "{rng.choice(NAMES)}", a: "{_money(rng)}", b: "{_money(rng)}",'
            f' c: "{_money(rng)}", d: "{_money(rng)}"}}'
            for r in range(ROWS)
        )
        body = f"第 {i} 个部门的**财政拨款收入支出决算表**，单位：万元。\n"
        page = f'---\ntitle: "部门 {i:05d}"\nrows:\n{rows}\n---\n{body}'
        (folder / "content" / "p" / f"{i:05d}.md").write_text(page, encoding="utf-8")


def hugo() -> str | None:
    return shutil.which("hugo")


def measure(pages: int = 2000, times: int = 3, keep: Path | None = None) -> tuple[list[float], int]:
    """Wall seconds of each of `times` Hugo builds of a `pages`-page site from nothing, and the pages written.
    With `keep` (a folder), the site and its outputs are left in it, for the caller to delete once it has
    measured everything else: a deletion slows the disk's next minutes of writes (bench/run.py clear_output)."""
    program = hugo()
    if program is None:
        raise SystemExit("没有找到 hugo：先 apt-get install -y hugo")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return _measure(program, Path(tempfile.mkdtemp(prefix="hugo-bench-", dir=keep)), pages, times)
    with tempfile.TemporaryDirectory(prefix="hugo-bench-") as tmp:
        return _measure(program, Path(tmp), pages, times)


def _measure(program: str, folder: Path, pages: int, times: int) -> tuple[list[float], int]:
    site = folder / "site"
    make_site(site, pages)
    walls = []
    for n in range(times):
        # A new folder each time, the old ones kept until the end: a deletion slows the writes after it.
        out = folder / f"out-{n}"
        started = time.perf_counter()
        done = subprocess.run(
            [program, "--quiet", "--source", str(site), "--destination", str(out)], capture_output=True, text=True
        )
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"hugo 失败：\n{done.stdout}\n{done.stderr}")
    return walls, sum(1 for _ in out.rglob("*.html"))


def main() -> None:
    parser = argparse.ArgumentParser(description="同一时段测 Hugo 生成 40 行表格页面的用时（议题 7 的对照）。")
    parser.add_argument("--pages", type=int, default=2000, help="页数，默认 2,000")
    parser.add_argument("--times", type=int, default=3, help="测几次，默认 3 次")
    args = parser.parse_args()
    walls, written = measure(args.pages, args.times)
    for wall in walls:
        print(f"hugo {written:,} 页 {wall:.2f} 秒")
    median = statistics.median(walls)
    print(f"中位数 {median:.2f} 秒，{median * 1000 / written:.2f} 毫秒/页")


if __name__ == "__main__":
    sys.exit(main())
