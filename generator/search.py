"""The search index: every department, table row, project, indicator, glossary term and narrative paragraph.

Chinese is segmented with overlapping character bigrams, the scheme of Lucene's CJKAnalyzer and
Elasticsearch's cjk_bigram filter: no dictionary, so names the dictionary never saw (科目 names, project
names) are found as reliably as common words. Runs of Latin letters and digits are whole tokens, matched by
prefix, so 20103 finds 2010301. The browser tokenises queries the same way (templates/static/search.js) and
confirms a multi-character match against the text itself, so 行政运行 does not match 行政…运行.

The index is a script that assigns one global (window.SEARCH_INDEX): file:// pages cannot fetch files.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from .markup import markdown_blocks, plain_text
from .model import Site, Year

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
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> set[str]:
    """CJK runs → their overlapping bigrams (a single character stays one token); Latin/digit runs → whole."""
    out: set[str] = set()
    for m in _TOKEN.finditer(normalise(text)):
        run = m.group(0)
        if run[0].isascii() or len(run) == 1:
            out.add(run)
        else:
            out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Doc:
    kind: str
    title: str
    context: str  # where it is: department, year, table
    url: str  # from the site root, with the anchor of the exact place
    text: str  # what is searched and shown as the snippet


def _year_docs(y: Year) -> list[Doc]:
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
                context = (
                    f"{where} · {table.name}"
                    + (f"（{part.key}）" if part.key else "")
                    + (f" · 行{row.no}" if row.no else "")
                )
                docs.append(
                    Doc("row", title, context, f"{table.url}#{row.anchor}", f"{row.code} {row.label} {figures}".strip())
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


def build_index(site: Site) -> tuple[bytes, int]:
    """The index as JavaScript, and how many documents it holds."""
    docs = [Doc("department", d.name, d.region, d.url, f"{d.name} {d.region}") for d in site.departments]
    for y in site.all_years():
        docs += _year_docs(y)
    docs += [
        Doc("term", t.term, "名词解释", t.url, f"{t.term} {' '.join(t.entry.aliases)} {plain_text(t.entry.body)}")
        for t in site.glossary
    ]
    postings: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        for tok in sorted(tokens(f"{doc.title} {doc.text}")):
            postings.setdefault(tok, []).append(i)
    data = {
        "kinds": KINDS,
        "docs": [[d.kind, d.title, d.context, d.url, d.text] for d in docs],
        "index": dict(sorted(postings.items())),
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # A script, not JSON: file:// pages may load scripts but not fetch data. "</" cannot end a script here.
    script = "window.SEARCH_INDEX=" + text.replace("</", "<\\/") + ";\n"
    return script.encode("utf-8"), len(docs)
