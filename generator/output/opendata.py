"""Open data: every table and every project as CSV and JSON, and an index of all datasets. No I/O.

CSV is UTF-8 with a byte-order mark, so Excel opens it with its Chinese intact; figures are plain numbers
without thousands separators so spreadsheets read them as numbers. JSON gives amounts as decimal strings
("4272.71"): exactly what was printed, never a binary float. Values that are not numbers (#####, 有关内容涉密,
待填写) are given as printed, with a status, never as a number.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import orjson

from generator.checks.projects import is_not_scored, is_withheld
from generator.model.projects import ProjectView
from generator.model.site import TableView, Year
from generator.sources.records import Cell

LICENCE_NOTE = "数据录自各部门公开的部门决算原件；金额为字符串，保持印刷的精度。"


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _json(data) -> bytes:
    # orjson writes the same compact UTF-8 as json.dumps(ensure_ascii=False, separators=(",", ":")) for these
    # strings, numbers and lists, and much faster: every department-year's tables and projects are written so.
    return orjson.dumps(data) + b"\n"


def _figure(text: str) -> str:
    """A table cell as a spreadsheet should read it: 4,272.71 → 4272.71; ##### and 待填写 as printed."""
    return text.replace(",", "")


def _cell(cell: Cell | None) -> dict | None:
    if cell is None:
        return None
    if cell.value is not None:
        return {"value": str(cell.value), "printed": cell.text}
    status = (
        "withheld"
        if is_withheld(cell)
        else "not-scored"
        if is_not_scored(cell)
        else "unknown"
        if cell.text
        else "blank"
    )
    return {"value": None, "printed": cell.text, "status": status}


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def table_files(y: Year, table: TableView) -> dict[str, bytes]:
    stem = table.url[: -len(".html")]
    two = len(table.parts) > 1
    head = (["部分"] if two else []) + ["行次", "科目编码", "项目"]
    # Parts printed side by side may have different columns (表4: 金额 | 合计, 一般公共预算…): each has its own.
    labels = list(dict.fromkeys(c.full_label for p in table.parts for c in p.part.columns))
    rows = [head + labels]
    records = []
    for part in table.parts:
        cols = part.part.columns
        for row in part.rows:
            if row.filler:
                continue
            figures = [""] * len(labels)
            for c, cell in zip(cols, row.cells, strict=True):
                figures[labels.index(c.full_label)] = _figure(cell.text)
            rows.append(([part.key] if two else []) + [row.no, row.code, row.label] + figures)
            records.append(
                {
                    "part": part.key or None,
                    "line": int(row.no) if row.no else None,
                    "code": row.code or None,
                    "label": row.label,
                    "anchor": row.anchor,
                    "values": {
                        c.key: (None if cell.kind == "unknown" else _figure(cell.text))
                        for c, cell in zip(cols, row.cells, strict=True)
                    },
                    **(
                        {
                            "printed": {
                                c.key: cell.text
                                for c, cell in zip(cols, row.cells, strict=True)
                                if cell.kind == "unknown"
                            }
                        }
                        if any(cell.kind == "unknown" for cell in row.cells)
                        else {}
                    ),
                }
            )
    data = {
        "department": y.department.name,
        "department_id": y.department.slug,
        "year": y.year,
        "table": table.no,
        "title": table.title,
        "unit": "万元",
        "note": LICENCE_NOTE,
        "columns": [
            {"part": p.key or None, "key": c.key, "label": c.full_label, "column_no": c.no}
            for p in table.parts
            for c in p.part.columns
        ],
        "rows": records,
        "empty": table.empty,
        "checks": [{"status": c.status, "rule": c.rule, "message": c.message} for c in table.checks],
        "source_file": table.source,
        "page": table.url,
    }
    return {f"{stem}.csv": _csv(rows), f"{stem}.json": _json(data)}


def project_files(y: Year, p: ProjectView) -> dict[str, bytes]:
    s = p.source
    stem = p.url[: -len(".html")]
    rows = [["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]]
    indicators = []
    for r in p.rows:
        i = r.indicator
        rows.append(
            [
                i.level1,
                i.level2,
                i.name,
                i.target,
                i.actual,
                i.weight.text if i.weight else "",
                i.score.text if i.score else "",
                i.deviation,
            ]
        )
        indicators.append(
            {
                "level1": i.level1,
                "level2": i.level2,
                "name": i.name,
                "target": i.target,
                "target_parsed": _measure(r.target),
                "actual": i.actual,
                "actual_parsed": _measure(r.actual),
                "attainment": r.attainment,
                "weight": _cell(i.weight),
                "score": _cell(i.score),
                "deviation": i.deviation,
            }
        )
    funds = [["项目资金（元）", "年初预算数", "全年预算数", "全年执行数"]]
    funds += [[f.name, *(c.text if c else "" for c in (f.initial, f.budget, f.executed))] for f in s.funds]
    data = {
        "department": y.department.name,
        "department_id": y.department.slug,
        "year": y.year,
        "code": s.code,
        "name": s.name,
        "evaluation_year": s.year,
        "implementer": s.implementer,
        "budget_unit": s.budget_unit,
        "unit": "元",
        "note": LICENCE_NOTE,
        "funds": [
            {"name": f.name, "initial": _cell(f.initial), "budget": _cell(f.budget), "executed": _cell(f.executed)}
            for f in s.funds
        ],
        "fund_weight": _cell(s.fund_weight),
        "execution_rate_percent": _cell(s.rate),
        "fund_score": _cell(s.fund_score),
        "goal": s.goal,
        "achieved": s.achieved,
        "indicators": indicators,
        "total": {"weight": _cell(s.total_weight), "score": _cell(s.total_score)}
        if (s.total_weight or s.total_score)
        else None,
        "score": _decimal(p.score),
        "score_printed": p.score_printed,
        "grade": p.grade,
        "source_notes": list(s.notes),
        "source_discrepancies": list(s.acknowledged),
        "checks": [{"status": c.status, "rule": c.rule, "message": c.message} for c in p.checks],
        "source_file": s.rel,
        "page": p.url,
    }
    return {f"{stem}.csv": _csv(rows), f"{stem}-funds.csv": _csv(funds), f"{stem}.json": _json(data)}


def _measure(m) -> dict | None:
    return None if m is None else {"comparator": m.comparator, "number": str(m.number), "unit": m.unit}


def projects_summary(y: Year) -> dict[str, bytes]:
    base = y.url.rsplit("/", 1)[0] + "/projects/"
    rows = [
        [
            "序号",
            "项目编码",
            "项目名称",
            "实施单位",
            "全年预算数（元）",
            "全年执行数（元）",
            "执行率（%）",
            "自评得分",
            "等级",
        ]
    ]
    for i, p in enumerate(y.projects, start=1):
        s = p.source
        score = "" if p.score is None else str(p.score)
        rows.append(
            [
                str(s.order or i),
                s.code,
                s.name,
                s.implementer,
                _decimal(p.budget) or "",
                _decimal(p.executed) or "",
                s.rate.text if s.rate else "",
                score,
                p.grade or "",
            ]
        )
    return {f"{base}projects.csv": _csv(rows)}


def year_files(y: Year) -> tuple[dict[str, bytes], list[tuple]]:
    """A department-year's data files, and its entries for the dataset index: (kind, title, unit, page, files, extra)."""
    files: dict[str, bytes] = {}
    entries: list[tuple] = []
    for t in y.tables:
        made = table_files(y, t)
        files.update(made)
        entries.append(("table", t.name, "万元", t.url, tuple(sorted(made)), (("table", t.no),)))
    if y.projects:
        made = projects_summary(y)
        files.update(made)
        page = y.projects[0].url.rsplit("/", 1)[0] + "/index.html"
        entries.append(("projects", "项目支出绩效自评一览", "元", page, tuple(sorted(made)), ()))
    for p in y.projects:
        made = project_files(y, p)
        files.update(made)
        entries.append(("project", p.name, "元", p.url, tuple(sorted(made)), (("code", p.code),)))
    return files, entries


def dataset_entries(summary, datasets: list[tuple]) -> list[dict]:
    """A department-year's entries in the dataset index, from its (kind, title, unit, page, files, extra)."""
    out = []
    for kind, name, unit, page, files, extra in datasets:
        entry = {"department": summary.name, "department_id": summary.slug, "year": summary.year, "kind": kind}
        entry.update(dict(extra))
        entry.update({"title": name, "unit": unit, "page": page, "files": list(files)})
        out.append(entry)
    return out


def department_index(title: str, dept, entries: list[dict]) -> tuple[str, bytes]:
    """<department>/datasets.json: every dataset of one department, all its years."""
    data = {
        "site": title,
        "department": dept.name,
        "department_id": dept.slug,
        "region": dept.region,
        "note": LICENCE_NOTE,
        "datasets": entries,
    }
    return f"{dept.slug}/datasets.json", _json(data)


def catalogue(title: str, departments: list) -> bytes:
    """datasets.json, the machine-readable index of the site's data: each department, its years, how many
    datasets it has and where its own index is (department_index). Two levels, so a province's catalogue stays
    small and an edit to one department rewrites only that department's index."""
    listed = []
    for d in departments:
        count = sum(y.dataset_count for y in d.years)
        if count:
            years = sorted({y.year for y in d.years if y.dataset_count}, reverse=True)
            listed.append(
                {
                    "department": d.name,
                    "department_id": d.slug,
                    "region": d.region,
                    "years": years,
                    "datasets": count,
                    "index": f"{d.slug}/datasets.json",
                }
            )
    total = sum(d["datasets"] for d in listed)
    return _json({"site": title, "note": LICENCE_NOTE, "datasets": total, "departments": listed})


def downloads(url: str) -> dict[str, str]:
    """The data files that belong to a table or project page."""
    stem = url[: -len(".html")]
    out = {"CSV": f"{stem}.csv", "JSON": f"{stem}.json"}
    if "/projects/" in url:
        out["资金 CSV"] = f"{stem}-funds.csv"
    return out
