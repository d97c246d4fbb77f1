"""Fidelity: every figure printed in seed 000's nine tables reaches the right table, row and column of the site.

The expected figures are read from the seed text (tests/seeds/, the PDF's extracted text) by this test's own
parser, never from our YAML; the actual figures are read from the built HTML as a reader's browser sees it:
the table's rows, their 行次 / 科目编码, and the 栏次 row of the header.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, SEEDS

from generator.builder.pipeline import build

SEED = (SEEDS / "000_c223c4face9ba8c5.txt").read_text(encoding="utf-8").splitlines()
FIGURE = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d{2}$")


def section(title: str, end: str) -> list[list[str]]:
    start = next(i for i, line in enumerate(SEED) if line.strip() == title)
    stop = next(i for i in range(start + 1, len(SEED)) if SEED[i].startswith(end))
    return [[c.strip() for c in line.split("\t")] for line in SEED[start:stop] if "\t" in line]


def squash(text: str) -> str:
    """Names compared without the extraction's line-break spaces and numbering: 自然资源海洋气象 等支出."""
    return re.sub(r"\s+", "", re.sub(r"^[一二三四五六七八九十]+、", "", text))


class FormTables(HTMLParser):
    """The printed tables of a page: for each, its 栏次 and its body rows as {no, code, label, nums}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.cell: dict | None = None
        self.row: list | None = None
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "table" and "form" in cls.split():
            self.tables.append({"colnos": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = {"class": cls.split(), "text": ""}
        elif tag == "a" and "mark" in cls.split():
            self.skip += 1  # a check mark (≈, ✗) is not part of the printed figure

    def handle_endtag(self, tag):
        if tag == "a" and self.skip:
            self.skip -= 1
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            cells, self.row = self.row, None
            if cells and all("colno" in c["class"] for c in cells):
                self.tables[-1]["colnos"] = [c["text"].strip() for c in cells]
            elif any("num" in c["class"] for c in cells):
                pick = lambda k: next((c["text"].strip() for c in cells if k in c["class"]), "")  # noqa: E731
                nums = [c["text"].strip() for c in cells if "num" in c["class"]]
                self.tables[-1]["rows"].append(
                    {"no": pick("no"), "code": pick("code"), "label": pick("label"), "nums": nums}
                )

    def handle_data(self, data):
        if self.cell is not None and not self.skip:
            self.cell["text"] += data


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fidelity") / "public"
    build(REPO, out)
    return out / "luohu-quweiban" / "2023"


def page(site: Path, no: int) -> list[dict]:
    p = FormTables()
    p.feed((site / f"table-{no}.html").read_text(encoding="utf-8"))
    return p.tables


def by(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows if r[key]}


def column(table: dict, number: str, row: dict) -> str:
    """The figure in the column whose 栏次 is `number` (the 栏次 row ends with the amount columns)."""
    amounts = table["colnos"][-len(row["nums"]) :] if table["colnos"] else [str(i + 1) for i in range(len(row["nums"]))]
    return row["nums"][amounts.index(number)]


SEEN: dict[int, int] = {}


def expect(no: int, actual: str, printed: str, where: str) -> None:
    assert actual == printed, f"表{no} {where}: site shows {actual!r}, the seed prints {printed!r}"
    SEEN[no] = SEEN.get(no, 0) + 1


def count_figures(rows: list[list[str]]) -> int:
    return sum(1 for r in rows for c in r if FIGURE.match(c))


def check_two_sided(site, no, title, end, right_columns):
    rows = section(title, end)
    left, right = page(site, no)
    left_rows, right_rows = by(left["rows"], "no"), by(right["rows"], "no")
    for r in rows:
        r = r + [""] * (9 - len(r))
        if r[1].isdigit() and FIGURE.match(r[2]):
            row = left_rows[r[1]]
            assert squash(row["label"]) == squash(r[0]), (row["label"], r[0])
            expect(no, column(left, left["colnos"][-1], row), r[2], f"收入 行{r[1]}")
        if r[4].isdigit() and any(FIGURE.match(v) for v in r[5 : 5 + right_columns]):
            row = right_rows[r[4]]
            for i, value in enumerate(r[5 : 5 + right_columns]):
                if FIGURE.match(value):
                    assert squash(row["label"]) == squash(r[3]), (row["label"], r[3])
                    expect(no, row["nums"][i], value, f"支出 行{r[4]} 第{i + 1}栏")
    return count_figures(rows)


def check_classified(site, no, title, end):
    rows = section(title, end)
    (table,) = page(site, no)
    html_rows = {(r["code"] or r["label"]): r for r in table["rows"]}
    for r in rows:
        key = r[0] if r[0].isdigit() else r[1]
        if key not in html_rows and key != "合计":
            continue  # header lines: 项目, 功能分类科目编码, 栏次
        row = html_rows[key]
        if r[0].isdigit():
            assert squash(row["label"]) == squash(r[1])
        figures = [v for v in r[2:] if v]
        for i, value in enumerate(figures):
            expect(no, column(table, str(i + 1), row), value, f"{key} 栏次{i + 1}")
    return count_figures(rows)


def test_table_1(site):
    assert check_two_sided(site, 1, "收入支出决算总表", "注：1.", 1) == SEEN[1] == 42  # 12 收入 + 30 支出


def test_table_4(site):
    assert (
        check_two_sided(site, 4, "财政拨款收入支出决算总表", "注：本表反映部门本年度一般公共预算财政拨款、", 4)
        == SEEN[4]
    )


@pytest.mark.parametrize(
    "no,title,end",
    [
        (2, "收入决算表", "注：本表反映部门本年度取得"),
        (3, "支出决算表", "注：本表反映部门本年度各项支出"),
        (5, "一般公共预算财政拨款支出决算表", "注：本表反映部门本年度一般公共预算财政拨款实际"),
        (7, "政府性基金预算财政拨款收入支出决算表", "注：本表反映部门本年度政府性基金"),
        (8, "国有资本经营预算财政拨款支出决算表", "注：本表反映部门本年度国有资本"),
    ],
)
def test_classified_tables(site, no, title, end):
    assert check_classified(site, no, title, end) == SEEN[no]


def test_table_6(site):
    rows = section("一般公共预算财政拨款基本支出决算明细表", "注：本表反映部门本年度一般公共预算财政拨款基本支出")
    left, right = page(site, 6)
    for side, offset in ((left, 0), (right, 3)):
        html_rows = {(r["code"] or r["label"]): r for r in side["rows"]}
        for r in rows:
            r = r + [""] * (6 - len(r))
            code, name, value = r[offset], r[offset + 1], r[offset + 2]
            if not FIGURE.match(value):
                continue
            row = html_rows[code or name]
            assert squash(row["label"]) == squash(name)
            expect(6, row["nums"][0], value, f"{code} {name}")
    assert count_figures(rows) == SEEN[6] == 85  # 28 人员经费 + 57 公用经费


def test_table_9(site):
    rows = section("财政拨款“三公”经费支出决算表", "注：本表反映部门本年度“三公”")
    figures = rows[-1]
    (table,) = page(site, 9)
    assert table["colnos"] == [str(i) for i in range(1, 13)]
    for i, value in enumerate(figures):
        expect(9, column(table, str(i + 1), table["rows"][0]), value, f"栏次{i + 1}")
    assert count_figures(rows) == SEEN[9] == 12


def test_every_printed_figure_was_compared(site):
    total = sum(SEEN.values())
    assert set(SEEN) == set(range(1, 10)), SEEN
    assert total > 600, SEEN
