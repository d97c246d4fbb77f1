"""The search index: every department, table, table row, project, indicator, glossary term and paragraph.

Chinese is segmented with overlapping character bigrams, the scheme of Lucene's CJKAnalyzer and
Elasticsearch's cjk_bigram filter: no dictionary, so names no dictionary has (科目 names, project names) are
found as reliably as common words. Latin letters are whole tokens; digits are indexed where they are codes
(3, 5 and 7 digits for 类/款/项, 15 or more for project codes), not as every printed amount.

It is built to scale to thousands of department-years, and to load as scripts (file:// pages cannot fetch):
- assets/search/site.js: the list of department-years, and the site's own documents (departments, glossary);
- assets/search/u/<department>-<year>.js: one department-year's documents;
- assets/search/t/<00–ff>.js: for each token, the department-years that contain it (their positions, or a
  bitmap where that is shorter), sharded by a hash of the token (16 to 256 shards, by size), so a query loads
  only the shards of its own tokens and then the documents of the first department-years that match
  (templates/static/search.js).
The browser confirms each word against the document's text, so 行政运行 does not match 行政…运行.
"""

from __future__ import annotations

import base64
import bisect
import functools
import itertools
import operator
import re
import unicodedata
from dataclasses import dataclass

import orjson

from generator.core.frozen import quick_init
from generator.model.site import Year
from generator.output.markup import markdown_blocks, plain_text

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
KINDS = {
    "department": "部门",
    "table": "决算表",
    "row": "表格行",
    "project": "项目",
    "indicator": "绩效指标",
    "term": "名词解释",
    "text": "情况说明",
    "overview": "概况",
}


def normalise(text: str) -> str:
    """NFKC, lower case (as search.js normalises a query). Only the stretches between CJK ideographs are
    normalised: an ideograph neither decomposes nor composes with what is next to it, so the result is NFKC of
    the whole text, at a third of the cost (the full-width （，：） of Chinese text make nearly every text need it)."""
    if unicodedata.is_normalized("NFKC", text):
        return text.lower()
    parts = _IDEOGRAPHS.split(text)
    for i in range(0, len(parts), 2):  # the even parts are what lies between runs of ideographs
        if not unicodedata.is_normalized("NFKC", parts[i]):
            parts[i] = unicodedata.normalize("NFKC", parts[i])
    return "".join(parts).lower()


_IDEOGRAPHS = re.compile(r"([\u4e00-\u9fff]+)")


def _is_code(run: str) -> bool:
    return not run.isdigit() or len(run) in (3, 5, 7) or len(run) >= 15


def tokens(text: str) -> set[str]:
    """CJK runs → their overlapping bigrams (a single character stays one token); letters → whole; codes → whole."""
    out: set[str] = set()
    add, update = out.add, out.update
    for run in _TOKEN.findall(normalise(text)):
        if run[0].isascii():
            if _is_code(run):
                add(run)
        elif len(run) == 1:
            add(run)
        else:
            update(map(operator.add, run, run[1:]))  # each character and the next
    return out


def fnv1a(token: str) -> int:
    """FNV-1a over the token's UTF-16 code units, as templates/static/search.js computes it."""
    h = 0x811C9DC5
    data = token.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


@quick_init
@dataclass(frozen=True)
class Doc:
    kind: str
    title: str
    context: str  # where it is: department, year, table
    url: str  # from the site root, with the anchor of the exact place
    text: str  # what is shown as the snippet, and what each word is confirmed against
    keys: str = ""  # what is indexed, when it is not the text itself (a row is found by its code and name)
    place: str = ""  # the last part of where it is, after the context (行12): the context is shared, this is not

    def where(self) -> str:
        return f"{self.context} · {self.place}" if self.place else self.context

    def row(self) -> list[str]:
        return [self.kind, self.title, self.where(), self.url, self.text]

    def tokens(self) -> set[str]:
        return tokens(f"{self.title} {self.keys or self.text}")


def unit_tokens(docs: list[Doc]) -> set[str]:
    """Every token of every document, as the union of each document's tokens would be: the texts joined by a
    space, which no token crosses, and segmented once."""
    return tokens(" ".join(f"{d.title} {d.keys or d.text}" for d in docs))


def unit_docs(y: Year) -> list[Doc]:
    where = f"{y.department.name} · {y.year} 年度"
    base = y.url.rsplit("/", 1)[0] + "/"
    docs = [
        Doc("department", f"{y.department.name} {y.year} 年度部门决算", y.department.region, y.url, y.department.name)
    ]
    for table in y.tables:
        headers = "、".join(dict.fromkeys(c.full_label for p in table.parts for c in p.part.columns))
        docs.append(Doc("table", table.name, where, table.url, f"{table.name} {headers}"))
        for part in table.parts:
            if len(part.rows) == 1 and not part.rows[0].label:  # 表9: one unnamed row, the columns are the items
                row = part.rows[0]
                for col, cell in zip(part.part.columns, row.cells, strict=True):
                    docs.append(
                        Doc(
                            "row",
                            col.full_label,
                            f"{where} · {table.name}",
                            f"{table.url}#{row.anchor}",
                            f"{col.full_label} {cell.text}",
                            col.full_label,
                        )
                    )
                continue
            for row in part.rows:
                if row.filler or not row.label:
                    continue
                figures = "，".join(
                    f"{col.full_label} {cell.text}"
                    for col, cell in zip(part.part.columns, row.cells, strict=True)
                    if cell.text not in ("", "0.00")
                )
                title = f"{row.code} {row.label}".strip() if row.code and not row.no else row.label
                context = f"{where} · {table.name}" + (f"（{part.key}）" if part.key else "")
                docs.append(
                    Doc(
                        "row",
                        title,
                        context,
                        f"{table.url}#{row.anchor}",
                        f"{row.code} {row.label} {figures}".strip(),
                        f"{row.code} {row.label}",
                        f"行{row.no}" if row.no else "",
                    )
                )
    if y.overview:
        for d in y.overview.duties:
            for i, item in enumerate(d.items, start=1):
                docs.append(Doc("overview", f"{d.unit}主要职责 {i}", where, f"{y.url}#overview", item))
    if y.narrative:
        for i, (heading, paragraph) in enumerate(markdown_blocks(y.narrative.text), start=1):
            docs.append(
                Doc(
                    "text",
                    heading or "情况说明",
                    f"{where} · 第三部分 情况说明",
                    f"{base}narrative.html#p-{i}",
                    paragraph,
                )
            )
    # The department's own wording of a term (第四部分); terms it only names are the site glossary's documents.
    for i, use in enumerate(y.terms or (), start=1):
        if use.definition:
            docs.append(
                Doc("term", use.term, f"{where} · 第四部分 名词解释", f"{base}terms.html#term-{i}", use.definition)
            )
    for p in y.projects:
        s = p.source
        score = f"自评得分 {p.score}" if p.score is not None else ""
        docs.append(
            Doc(
                "project",
                s.name,
                f"{where} · 项目支出绩效自评",
                p.url,
                f"{s.code} {s.name} {score} {s.goal} {s.achieved}",
            )
        )
        for i, ind in enumerate(s.indicators, start=1):
            name = ind.name or ind.level2
            text = " ".join(x for x in (ind.level1, ind.level2, ind.name, ind.target, ind.actual, ind.deviation) if x)
            docs.append(Doc("indicator", name, f"{s.name} · {ind.level1} · {ind.level2}", f"{p.url}#ind-{i}", text))
    return docs


def unit_key(slug: str, year: int) -> str:
    return f"{slug}-{year}"


def unit_file(key: str, docs: list[Doc]) -> tuple[str, bytes]:
    """A department-year's documents, as a script that files them under its key. What repeats from document to
    document is written once (a phone loads up to 20 of these for one query): `where` lists each context, which a
    document names by its index, with its own place after it; its address is from `base`, the department-year's
    folder (one outside it would start with "/"). templates/static/search.js makes the documents whole again:
    [kind, title, where[i] + (place ? " · " + place : ""), base + path, text]."""
    base = docs[0].url.rsplit("/", 1)[0] + "/"  # the department's own document, the first, is at its index.html
    contexts: dict[str, int] = {}
    rows = []
    for d in docs:
        at = contexts.setdefault(d.context, len(contexts))
        path = d.url[len(base) :] if d.url.startswith(base) else "/" + d.url
        rows.append([d.kind, d.title, at, path, d.text, d.place] if d.place else [d.kind, d.title, at, path, d.text])
    data = {"base": base, "where": list(contexts), "docs": rows}
    text = orjson.dumps(data).replace(b"</", b"<\\/")
    return f"assets/search/u/{key}.js", b"SEARCH_UNITS[" + orjson.dumps(key) + b"]=" + text + b";\n"


def site_docs(departments: list, glossary: list) -> list[Doc]:
    """The documents of the site itself: departments (summaries with name, region, url) and glossary terms."""
    docs = [Doc("department", d.name, d.region, d.url, f"{d.name} {d.region}") for d in departments]
    docs += [
        Doc("term", t.term, "名词解释", t.url, f"{t.term} {' '.join(t.entry.aliases)} {plain_text(t.entry.body)}")
        for t in glossary
    ]
    return docs


PARTS = 256  # the index is kept (build cache) in 256 parts by token hash; every shard count divides it


@functools.cache  # a pure memo, so kept for the process: a province's tokens repeat in every department-year
def _part_of(token: str) -> int:
    return fnv1a(token) % PARTS


def parts_of(tokens) -> dict[int, tuple[str, ...]]:
    """Tokens grouped by the part of the index that holds them (done in the workers, where it runs in parallel,
    so the build's own process only sets bits)."""
    grouped: dict[int, list[str]] = {}
    part_of = _part_of
    for t in tokens:
        grouped.setdefault(part_of(t), []).append(t)
    return {i: tuple(toks) for i, toks in grouped.items()}


class TokenMatrix:
    """For every token, the department-years (by position in the site's sorted list) that contain it.

    A row is kept in one of two forms, whichever is smaller: a sorted list of positions (most tokens of a
    province are in one or a few department-years: a project's name, a code) or a bitmap, bit i of byte i // 8
    for position i, once it is in many. The form is only how it is kept: what the shards say is made from the
    positions alone (encode), so a row made by edits and the same row made in one go are written the same.

    The build cache keeps it in PARTS parts by token hash, so an edit to one department-year reads and writes
    only the parts (and shards) of the tokens that changed. `parts` holds the loaded ones; `load(part)` is
    called for the others when they are needed.
    """

    def __init__(self, units: int, load=None, token_count: int = 0) -> None:
        self.units = units
        self.parts: dict[int, dict[str, list[int] | bytearray]] = {}
        self._load = load
        self.token_count = token_count  # across every part, loaded or not
        self.dirty: set[int] = set()  # parts changed since loaded

    def part(self, i: int) -> dict[str, list[int] | bytearray]:
        found = self.parts.get(i)
        if found is None:
            found = self.parts[i] = self._load(i) if self._load else {}
        return found

    def load_all(self) -> None:
        for i in range(PARTS):
            self.part(i)

    def add(self, unit: int, by_part: dict[int, tuple[str, ...]]) -> None:
        """Set `unit` for each token, given grouped by part (by_part, made by the worker: see parts_of)."""
        size = (self.units + 7) // 8
        byte, bit = unit >> 3, 1 << (unit & 7)
        for i, toks in by_part.items():
            rows = self.part(i)
            self.dirty.add(i)
            for t in toks:
                row = rows.get(t)
                if row is None:
                    rows[t] = [unit]
                    self.token_count += 1
                elif type(row) is list:
                    if row[-1] < unit:
                        row.append(unit)
                    else:
                        at = bisect.bisect_left(row, unit)
                        if at == len(row) or row[at] != unit:
                            row.insert(at, unit)
                    if len(row) * LIST_BYTES > size:  # a bitmap is smaller from here on
                        rows[t] = _bitmap(row, size)
                else:
                    row[byte] |= bit

    def remove(self, unit: int, by_part: dict[int, tuple[str, ...]]) -> None:
        byte, mask = unit >> 3, ~(1 << (unit & 7)) & 0xFF
        for i, toks in by_part.items():
            rows = self.part(i)
            self.dirty.add(i)
            for t in toks:
                row = rows.get(t)
                if row is None:
                    continue
                if type(row) is list:
                    at = bisect.bisect_left(row, unit)
                    if at < len(row) and row[at] == unit:
                        del row[at]
                    empty = not row
                else:
                    row[byte] &= mask
                    empty = not any(row)
                if empty:
                    del rows[t]
                    self.token_count -= 1

    def remap(self, moves: list[tuple[int, int, int]], units: int) -> None:
        """Positions change (department-years added or removed): each (old start, new start, length) run of
        kept positions moves; the others are dropped; the bitmaps grow or shrink to `units`. Every part."""
        self.load_all()
        size = (units + 7) // 8
        starts = [start for start, _, _ in moves]
        for i, rows in self.parts.items():
            for t in list(rows):
                row = rows[t]
                if type(row) is list:
                    new = []
                    for p in row:
                        at = bisect.bisect_right(starts, p) - 1
                        if at >= 0 and p < moves[at][0] + moves[at][2]:
                            new.append(moves[at][1] + p - moves[at][0])
                    new.sort()
                    kept: list[int] | bytearray | None = new or None
                else:
                    old = int.from_bytes(row, "little")
                    bits = 0
                    for start, to, length in moves:
                        bits |= ((old >> start) & ((1 << length) - 1)) << to
                    kept = bytearray(bits.to_bytes(size, "little")) if bits else None
                if kept is None:
                    del rows[t]
                    self.token_count -= 1
                else:
                    rows[t] = kept
            self.dirty.add(i)
        self.units = units

    @staticmethod
    def shard_count(tokens: int) -> int:
        """16, 64 or 256 shards, by the index's size (about TOKEN_BYTES a token written), so that each is about
        SHARD_BYTES or less: a small site is a few files, a province 256."""
        size = tokens * TOKEN_BYTES
        return next((n for n in (16, 64) if size <= n * SHARD_BYTES), 256)

    @property
    def shards(self) -> int:
        return self.shard_count(self.token_count)

    def shard_file(self, shard: int) -> tuple[str, bytes]:
        count = self.shards
        rows: dict[str, str | list[int]] = {}
        for i in range(shard, PARTS, count):
            for t, row in self.part(i).items():
                rows[t] = encode(row, self.units)
        text = orjson.dumps(dict(sorted(rows.items())))
        return f"assets/search/t/{shard:02x}.js", f'SEARCH_TOKENS["{shard:02x}"]='.encode() + text + b";\n"

    def shard_files(self, shards=None) -> dict[str, bytes]:
        """The shards as scripts: all of them, or those numbered in `shards`."""
        return dict(self.shard_file(i) for i in sorted(range(self.shards) if shards is None else shards))

    def shards_of(self, parts) -> set[int]:
        return {i % self.shards for i in parts}


# About what a position costs in a row kept as a list (its slot and its int): a row that would cost more than its
# bitmap is kept as the bitmap.
LIST_BYTES = 32

# What a token costs in a shard, on average: the token and its quotes, its positions (most are in one or a few
# department-years) and its share of the bitmaps of the common ones. Measured on the synthetic sites of 1,000 and
# 10,000 department-years: 42 and 45 bytes.
TOKEN_BYTES = 44
SHARD_BYTES = 64 * 1024  # aim for token shards about this size: a query loads only the few it needs


def _bitmap(positions, size: int) -> bytearray:
    row = bytearray(size)
    for p in positions:
        row[p >> 3] |= 1 << (p & 7)
    return row


def _positions(row: bytearray) -> list[int]:
    bits, out = int.from_bytes(row, "little"), []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def encode(row: list[int] | bytearray, units: int) -> str | list[int]:
    """A row as a shard writes it, made from its positions alone: the bitmap in base64 (a string), or the
    positions as gaps, each from the one before (a list: [3, 2] is 3 and 5), whichever is shorter (the bitmap
    when they are as long). templates/static/search.js reads both."""
    size = (units + 7) // 8
    dense = 4 * -(-size // 3)  # base64's length
    listed = type(row) is list
    # A bitmap with more positions than half its base64's length is shorter: a gap takes at least two characters.
    if listed or int.from_bytes(row, "little").bit_count() * 2 <= dense:
        positions = row if listed else _positions(row)
        gaps = [positions[0]] + [b - a for a, b in itertools.pairwise(positions)]
        if len(orjson.dumps(gaps)) < dense + 2:  # the bitmap's quotes
            return gaps
    return base64.b64encode(bytes(_bitmap(row, size) if listed else row)).decode("ascii")


def site_file(keys: list[str], docs: list[Doc], shards: int) -> bytes:
    """The entry point: the department-years' keys in the index's order (a department-year's documents are at
    assets/search/u/<key>.js), the site's own documents."""
    data = {"kinds": KINDS, "shards": shards, "units": keys, "docs": [d.row() for d in docs]}
    text = orjson.dumps(data).replace(b"</", b"<\\/")
    return b"window.SEARCH_UNITS={};window.SEARCH_TOKENS={};window.SEARCH_SITE=" + text + b";\n"
