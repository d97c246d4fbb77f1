"""Synthetic departments for benchmarks and tests: never published content.

`make_site(folder, departments, years, seed)` writes a complete site folder (site.toml, the real formats and
glossary, N departments × Y years) whose data passes every check, shaped like real disclosures: the nine
tables with real 类/款/项 codes and economic classes, 10–20 projects with indicators, a narrative whose
figures link to the tables, the glossary part. The same seed gives the same files, byte for byte.

Amounts are drawn in 分 (integer cents) and every total is derived from them exactly; each figure is then
printed rounded to 0.01 万元 line by line, which is how the real forms get their 0.01 differences. So every
identity holds within the rounding bound by construction, and the checker sees realistic rounding notes.
"""

from __future__ import annotations

import argparse
import random
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Real 2023 支出功能分类科目 (类 → 款 → 项). Names must match data/formats/functional-2023.yaml where listed there.
FUNCTIONAL = {
    ("201", "一般公共服务支出"): {
        ("20101", "人大事务"): [("2010101", "行政运行"), ("2010102", "一般行政管理事务"), ("2010104", "人大会议")],
        ("20103", "政府办公厅（室）及相关机构事务"): [("2010301", "行政运行"), ("2010302", "一般行政管理事务"), ("2010350", "事业运行")],
        ("20106", "财政事务"): [("2010601", "行政运行"), ("2010607", "信息化建设")],
        ("20126", "档案事务"): [("2012604", "档案馆")],
        ("20132", "组织事务"): [("2013299", "其他组织事务支出")],
    },
    ("205", "教育支出"): {
        ("20501", "教育管理事务"): [("2050101", "行政运行")],
        ("20502", "普通教育"): [("2050201", "学前教育"), ("2050202", "小学教育"), ("2050203", "初中教育")],
    },
    ("206", "科学技术支出"): {("20699", "其他科学技术支出"): [("2069999", "其他科学技术支出")]},
    ("207", "文化旅游体育与传媒支出"): {("20701", "文化和旅游"): [("2070101", "行政运行"), ("2070109", "群众文化")]},
    ("208", "社会保障和就业支出"): {
        ("20805", "行政事业单位养老支出"): [("2080501", "行政单位离退休"), ("2080505", "机关事业单位基本养老保险缴费支出"), ("2080506", "机关事业单位职业年金缴费支出")],
    },
    ("210", "卫生健康支出"): {
        ("21004", "公共卫生"): [("2100410", "突发公共卫生事件应急处理")],
        ("21011", "行政事业单位医疗"): [("2101101", "行政单位医疗"), ("2101102", "事业单位医疗")],
    },
    ("212", "城乡社区支出"): {
        ("21201", "城乡社区管理事务"): [("2120101", "行政运行"), ("2120104", "城管执法")],
        ("21208", "国有土地使用权出让收入安排的支出"): [("2120801", "征地和拆迁补偿支出")],
    },
    ("221", "住房保障支出"): {("22102", "住房改革支出"): [("2210201", "住房公积金"), ("2210203", "购房补贴")]},
}  # fmt: skip
ALWAYS = ["201", "208", "210", "221"]  # every unit pays salaries, pensions, health insurance, housing funds
PERSONNEL = ["30101 基本工资", "30102 津贴补贴", "30103 奖金", "30107 绩效工资", "30108 机关事业单位基本养老保险缴费",
             "30109 职业年金缴费", "30110 职工基本医疗保险缴费", "30113 住房公积金", "30199 其他工资福利支出"]  # fmt: skip
WELFARE = ["30302 退休费", "30304 抚恤金", "30305 生活补助"]
GOODS = ["30201 办公费", "30202 印刷费", "30207 邮电费", "30211 差旅费", "30213 维修（护）费", "30216 培训费",
         "30227 委托业务费", "30228 工会经费", "30229 福利费", "30231 公务用车运行维护费", "30239 其他交通费用", "30299 其他商品和服务支出"]  # fmt: skip
CAPITAL = ["31002 办公设备购置", "31007 信息网络及软件购置更新"]
DISTRICTS = ["罗湖区", "福田区", "南山区", "宝安区", "龙岗区", "盐田区", "龙华区", "坪山区", "光明区"]
OFFICES = ["教育局", "卫生健康局", "财政局", "民政局", "司法局", "文化广电旅游体育局", "城市管理和综合执法局", "住房和建设局",
           "发展和改革局", "统计局", "审计局", "档案馆", "科技创新局", "人力资源局", "水务局", "应急管理局", "退役军人事务局",
           "政务服务数据管理局", "区委办公室", "区委组织部", "区委宣传部", "区委统战部", "机关事务管理局"]  # fmt: skip
PROJECT_NAMES = ["办公设备维护", "信息化系统运维", "档案数字化加工", "政务公开业务", "业务培训", "课题研究", "宣传活动",
                 "法律顾问服务", "安全生产检查", "数据平台建设", "辅助性人员经费", "公共服务购买", "设施设备更新",
                 "应急物资储备", "志愿服务", "党建活动", "考核评估", "网站运营维护", "会议保障", "后勤保障服务"]  # fmt: skip
TERMS = ["财政拨款收入", "上级补助收入", "事业收入", "经营收入", "附属单位上缴收入", "其他收入", "使用非财政拨款结余（含专用结余）",
         "年初结转和结余", "结余分配", "年末结转和结余", "基本支出", "项目支出", "经营支出", "“三公”经费", "机关运行经费"]  # fmt: skip
CENTS_PER_WAN = 1_000_000
HEAD = "# 合成数据（基准测试与测试用，不是真实公开内容）· 单位：万元\n"


def wan(cents: int) -> str:
    """分 → the printed 万元 figure, rounded half up to two decimals, with thousands separators."""
    value = (Decimal(cents) / CENTS_PER_WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:,.2f}"


def split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` 分 in `parts` positive-or-zero pieces that add up exactly."""
    if parts <= 1:
        return [total]
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


class Department:
    """One synthetic department-year, drawn from its own random stream."""

    def __init__(self, rng: random.Random, name: str) -> None:
        self.rng, self.name = rng, name
        classes = ALWAYS + rng.sample([c for c, _ in FUNCTIONAL if c not in ALWAYS], rng.randint(1, 3))
        self.items: dict[tuple[str, str, str], dict[str, int]] = {}  # (类, 款, 项) → 分 per kind of money
        self.names: dict[str, str] = {}
        for (cls, cls_name), kuan in FUNCTIONAL.items():
            if cls not in classes:
                continue
            self.names[cls] = cls_name
            for (k, k_name), xiang in rng.sample(sorted(kuan.items()), rng.randint(1, len(kuan))):
                self.names[k] = k_name
                for x, x_name in rng.sample(xiang, rng.randint(1, len(xiang))):
                    self.names[x] = x_name
                    basic = rng.randint(20, 900) * 10_000 * 100 + rng.randint(0, 999_999)
                    project = rng.choice([0, rng.randint(5, 400) * 10_000 * 100 + rng.randint(0, 999_999)])
                    fund = (
                        rng.randint(10, 200) * 1_000_000 + rng.randint(0, 999_999)
                        if cls == "212" and k == "21208"
                        else 0
                    )
                    self.items[(cls, k, x)] = {
                        "basic": basic if fund == 0 else 0,
                        "project": project if fund == 0 else 0,
                        "fund": fund,
                    }
        self.carry = rng.randint(0, 50) * 10_000 + rng.randint(0, 9_999)

    # -- sums in 分 over the items ---------------------------------------------------------------------------

    def total(self, code: str = "", kinds=("basic", "project", "fund")) -> int:
        """The 分 of the given kinds of money under a 类, 款 or 项 code (all items when no code)."""
        return sum(money[k] for key, money in self.items.items() if not code or code in key for k in kinds)

    def codes(self) -> list[str]:
        return sorted({c for key in self.items for c in key})

    def table_rows(self, columns: dict[str, tuple[str, ...]], only=None) -> dict[str, dict[str, str]]:
        """合计 and every code, each column the 分 of the kinds it adds up, printed in 万元."""
        rows = {"合计": {col: wan(self.total("", kinds)) for col, kinds in columns.items()}}
        for code in self.codes():
            amounts = {col: self.total(code, kinds) for col, kinds in columns.items()}
            if only and not self.total(code, only):
                continue
            rows[f"{code} {self.names[code]}"] = {col: wan(v) for col, v in amounts.items()}
        return rows


def nine_tables(d: Department, rng: random.Random) -> dict[int, dict]:
    general = d.total("", ("basic", "project"))
    fund = d.total("", ("fund",))
    spend = general + fund
    basic = d.total("", ("basic",))
    classes = [c for c in d.codes() if len(c) == 3]
    t1_spend = {d.names[c]: wan(d.total(c)) for c in classes}
    t1 = {
        "收入": {"一般公共预算财政拨款收入": wan(general), "政府性基金预算财政拨款收入": wan(fund), "本年收入合计": wan(spend),
                 "年初结转和结余": wan(d.carry), "总计": wan(spend + d.carry)},
        "支出": {**t1_spend, "本年支出合计": wan(spend), "年末结转和结余": wan(d.carry), "总计": wan(spend + d.carry)},
    }  # fmt: skip
    all_money = ("basic", "project", "fund")
    t2 = d.table_rows({"本年收入合计": all_money, "财政拨款收入": all_money})
    t3 = d.table_rows({"本年支出合计": all_money, "基本支出": ("basic",), "项目支出": ("project", "fund")})
    t4_spend = {
        d.names[c]: {"合计": wan(d.total(c)), "一般公共预算财政拨款": wan(d.total(c, ("basic", "project"))),
                      "政府性基金预算财政拨款": wan(d.total(c, ("fund",)))}
        for c in classes
    }  # fmt: skip
    t4 = {
        "收入": {"一般公共预算财政拨款": wan(general), "政府性基金预算财政拨款": wan(fund), "本年收入合计": wan(spend),
                 "年初财政拨款结转和结余": wan(d.carry), "年初一般公共预算财政拨款": wan(d.carry), "总计": wan(spend + d.carry)},
        "支出": {**t4_spend,
                 "本年支出合计": {"合计": wan(spend), "一般公共预算财政拨款": wan(general), "政府性基金预算财政拨款": wan(fund)},
                 "年末财政拨款结转和结余": {"合计": wan(d.carry), "一般公共预算财政拨款": wan(d.carry)},
                 "总计": {"合计": wan(spend + d.carry), "一般公共预算财政拨款": wan(general + d.carry), "政府性基金预算财政拨款": wan(fund)}},
    }  # fmt: skip
    t5 = d.table_rows(
        {"本年支出合计": ("basic", "project"), "基本支出": ("basic",), "项目支出": ("project",)},
        only=("basic", "project"),
    )
    # 表6: the basic expenditure, in 人员经费 (wages, pensions) and 公用经费 (running costs), by economic class.
    personnel = basic * rng.randint(70, 85) // 100
    wages, welfare = split(rng, personnel, 2)
    running = basic - personnel
    goods, capital = running - running // 10, running // 10
    t6_people = _economic("301 工资福利支出", rng.sample(PERSONNEL, 6), wages, rng)
    t6_people.update(_economic("303 对个人和家庭的补助", rng.sample(WELFARE, 2), welfare, rng))
    t6_people["人员经费合计"] = wan(personnel)
    t6_running = _economic("302 商品和服务支出", rng.sample(GOODS, 8), goods, rng)
    t6_running.update(_economic("310 资本性支出", CAPITAL, capital, rng))
    t6_running["公用经费合计"] = wan(running)
    fund_rows = d.table_rows(
        {
            "年初结转和结余": (),
            "本年收入": ("fund",),
            "本年支出/小计": ("fund",),
            "本年支出/基本支出": (),
            "本年支出/项目支出": ("fund",),
            "年末结转和结余": (),
        },
        only=("fund",),
    )
    t7 = {row: _nest(cols) for row, cols in fund_rows.items()}
    t8 = {"合计": {"本年支出": {"小计": "0.00", "基本支出": "0.00", "项目支出": "0.00"}}}
    t9 = {}
    for side in ("预算数", "决算数"):
        abroad, buy, run, host = (rng.randint(0, 80_000) * 100 for _ in range(4))
        t9[side] = {"合计": wan(abroad + buy + run + host), "因公出国（境）费": wan(abroad),
                    "公务用车购置及运行维护费": {"小计": wan(buy + run), "公务用车购置费": wan(buy), "公务用车运行维护费": wan(run)},
                    "公务接待费": wan(host)}  # fmt: skip
    return {1: t1, 2: t2, 3: t3, 4: t4, 5: t5, 6: {"人员经费": t6_people, "公用经费": t6_running}, 7: t7, 8: t8, 9: t9}


def _nest(columns: dict[str, str]) -> dict:
    out: dict = {}
    for path, value in columns.items():
        node = out
        *groups, leaf = path.split("/")
        for g in groups:
            node = node.setdefault(g, {})
        node[leaf] = value
    return out


def _economic(head: str, items: list[str], total: int, rng: random.Random) -> dict[str, str]:
    rows = {head: wan(total)}
    rows.update({item: wan(part) for item, part in zip(sorted(items), split(rng, total, len(items)), strict=True)})
    return rows


# -- projects ----------------------------------------------------------------------------------------------------


def project(rng: random.Random, code: str, name: str, unit: str, order: int, year: int) -> dict:
    budget = rng.randint(20_000, 5_000_000) * 100
    executed = budget * rng.randint(600, 1000) // 1000
    rate = (Decimal(executed) / Decimal(budget) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    fund_score = min(Decimal(10), (Decimal(10) * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    rows, scores = [], []
    for level1, groups in (("产出指标", {"数量指标": 15, "质量指标": 15, "时效指标": 10, "成本指标": 10}),
                           ("效益指标", {"社会效益指标": 30}), ("满意度指标", {"服务对象满意度指标": 10})):  # fmt: skip
        for level2, weight in groups.items():
            count = rng.randint(1, 3)
            weights = _weights(weight, count)
            for i, w in enumerate(weights, start=1):
                lost = Decimal(rng.choice([0, 0, 0, 1, 5])) / 10 if w >= 1 else Decimal(0)
                score = Decimal(w) - lost
                scores.append(score)
                target_n = rng.randint(2, 50)
                actual_n = target_n if not lost else max(1, target_n - rng.randint(1, 3))
                rows.append({"一级指标": level1, "二级指标": level2, "三级指标": f"{level2[:2]}指标{i}", "年度指标值": f"≥{target_n}次",
                             "实际完成值": f"{actual_n}次", "分值": _num(Decimal(w)), "得分": _num(score),
                             **({"偏差原因分析及改进措施": "偏差原因：实际完成少于年初计划。改进措施：结合实际编制目标。"} if lost else {})})  # fmt: skip
    for level1, level2 in (
        ("效益指标", "经济效益指标"),
        ("效益指标", "生态效益指标"),
        ("效益指标", "可持续影响指标"),
        ("满意度指标", "其他满意度指标"),
    ):
        rows.append({"一级指标": level1, "二级指标": level2, "实际完成值": "不适用", "分值": "0", "得分": "0"})
    total = fund_score + sum(scores, Decimal(0))
    return {
        "序号": str(order), "项目编码": f'"{code}"', "项目名称": name, "绩效自评年度": str(year), "实施单位": f"{unit}（本级）",
        "一级预算单位": f"{unit}（本级）",
        "资金使用情况": {
            "年度资金总额": {"年初预算数": _yuan(budget), "全年预算数": _yuan(budget), "全年执行数": _yuan(executed)},
            "当年财政拨款": {"年初预算数": _yuan(budget), "全年预算数": _yuan(budget), "全年执行数": _yuan(executed)},
            "上年结转资金": {"年初预算数": "0.00", "全年预算数": "0.00", "全年执行数": "0.00"},
            "其他资金": {"年初预算数": "0.00", "全年预算数": "0.00", "全年执行数": "0.00"},
            "分值": "10", "执行率": str(rate), "得分": str(fund_score),
        },
        "年度总体目标": {"预期目标": f"完成{name}年度工作任务。", "实际完成情况": f"已完成{name}年度工作任务，执行率 {rate}%。"},
        "年度绩效指标": rows,
        "总分": {"分值": "100", "得分": str(total)},
    }  # fmt: skip


def _weights(total: int, count: int) -> list[Decimal]:
    """`total` points in `count` rows, in halves, adding up exactly (7.5 + 7.5, 5 + 5 + 5)."""
    halves = total * 2
    base = [halves // count] * count
    base[0] += halves - sum(base)
    return [Decimal(h) / 2 for h in base]


def _num(value: Decimal) -> str:
    return str(value.normalize()) if value != value.to_integral() else str(int(value))


def _yuan(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


# -- files -------------------------------------------------------------------------------------------------------


def yaml_text(value, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        return "\n".join(
            f"{pad}{k}:\n{yaml_text(v, indent + 1)}" if isinstance(v, dict | list) else f"{pad}{k}: {v}"
            for k, v in value.items()
        )
    return "\n".join(
        f"{pad}- {yaml_text(i, indent + 1).lstrip()}" if isinstance(i, dict) else f"{pad}- {i}" for i in value
    )


def narrative(d: Department, tables: dict, projects: list[dict]) -> str:
    t1 = tables[1]
    lines = [
        "## 一、收入支出决算总体情况说明", "",
        f"本部门总收入[{t1['收入']['总计']}](表1/收入/总计)万元，其中本年收入 [{t1['收入']['本年收入合计']}](表1/收入/本年收入合计) 万元。", "",
        f"本年支出 [{t1['支出']['本年支出合计']}](表1/支出/本年支出合计) 万元，其中基本支出 [{tables[3]['合计']['基本支出']}](表3/合计/基本支出) 万元，"
        f"项目支出 [{tables[3]['合计']['项目支出']}](表3/合计/项目支出) 万元。", "",
        "## 二、“三公”经费支出决算情况说明", "",
        f"“三公”经费财政拨款支出决算为 [{tables[9]['决算数']['合计']}](表9/决算数/合计) 万元，全年预算 [{tables[9]['预算数']['合计']}](表9/预算数/合计) 万元。", "",
        "## 三、绩效评价情况说明", "",
    ]  # fmt: skip
    for p in projects:
        code = p["项目编码"].strip('"')
        funds = p["资金使用情况"]["年度资金总额"]
        budget = (Decimal(funds["全年预算数"]) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        done = (Decimal(funds["全年执行数"]) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        lines += [
            f"{p['项目名称']}项目：全年预算数为 [{budget}](项目/{code}/全年预算数) 万元，执行数为 [{done}](项目/{code}/全年执行数) 万元。",
            "",
        ]
    return "\n".join(lines)


def write_department_year(folder: Path, rng: random.Random, name: str, year: int, number: int) -> None:
    d = Department(rng, name)
    tables = nine_tables(d, rng)
    files = {
        "表1-收入支出决算总表.yaml": tables[1], "表2-收入决算表.yaml": tables[2], "表3-支出决算表.yaml": tables[3],
        "表4-财政拨款收入支出决算总表.yaml": tables[4], "表5-一般公共预算财政拨款支出决算表.yaml": tables[5],
        "表6-一般公共预算财政拨款基本支出决算明细表.yaml": tables[6], "表7-政府性基金预算财政拨款收入支出决算表.yaml": tables[7],
        "表8-国有资本经营预算财政拨款支出决算表.yaml": tables[8], "表9-财政拨款三公经费支出决算表.yaml": tables[9],
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for file, body in files.items():
        (folder / file).write_text(HEAD + yaml_text(body) + "\n", encoding="utf-8")
    projects = []
    names = rng.sample(PROJECT_NAMES, rng.randint(10, 20))
    for i, pname in enumerate(names, start=1):
        code = f"4403{number % 100:02d}{year % 100:02d}{number:06d}{i:03d}0000"
        projects.append(project(rng, code, pname, name, i, year))
    (folder / "项目").mkdir(exist_ok=True)
    for p in projects:
        (folder / "项目" / f"{p['项目编码'].strip(chr(34))}.yaml").write_text(yaml_text(p) + "\n", encoding="utf-8")
    overview = {
        "主要职责": [
            {
                "单位": name,
                "引言": f"{name}的主要职责是：",
                "职责": [f"负责本领域第{k}项工作。" for k in range(1, rng.randint(4, 9))],
            }
        ],
        "机构设置": f"{name}（本级）内设办公室、业务科等 {rng.randint(3, 12)} 个科室。",
        "决算单位构成": {"说明": f"纳入本部门 {year} 年度部门决算编报范围的单位共 1 个。", "单位": [f"{name}（本级）"]},
    }
    (folder / "概况.yaml").write_text(yaml_text(overview) + "\n", encoding="utf-8")
    (folder / "名词解释.yaml").write_text(yaml_text({"名词": TERMS}) + "\n", encoding="utf-8")
    (folder / "情况说明.md").write_text(narrative(d, tables, projects) + "\n", encoding="utf-8")


def make_site(target: Path, departments: int, years: list[int], seed: int = 2023) -> Path:
    """A complete site folder with `departments` × `years` synthetic department-years."""
    target.mkdir(parents=True, exist_ok=True)
    formats = target / "data" / "formats"
    formats.mkdir(parents=True, exist_ok=True)
    for f in (REPO / "data" / "formats").glob("*.yaml"):
        shutil.copy(f, formats / f.name)
    glossary = target / "content" / "glossary"
    glossary.mkdir(parents=True, exist_ok=True)
    for f in (REPO / "content" / "glossary").glob("*.md"):
        shutil.copy(f, glossary / f.name)
    year_lines = "".join(f'{y} = "shenzhen-2023"\n' for y in sorted(years))
    (target / "site.toml").write_text(
        f'title = "合成数据站"\ndescription = "基准测试用的合成数据，不是真实公开内容。"\nbase_url = "https://example.org/synthetic/"\n'
        f'templates = "{(REPO / "templates").as_posix()}"\n\n[formats]\n{year_lines}',
        encoding="utf-8",
    )
    for n in range(1, departments + 1):
        name = f"深圳市{DISTRICTS[n % len(DISTRICTS)]}{OFFICES[n % len(OFFICES)]}" + (
            f"（样本{n}）" if n > len(DISTRICTS) * len(OFFICES) else ""
        )
        slug = f"dept-{n:05d}"
        dept = target / "data" / "departments" / slug
        dept.mkdir(parents=True, exist_ok=True)
        (dept / "部门.yaml").write_text(
            f"名称: {name}\n地区: 深圳市{DISTRICTS[n % len(DISTRICTS)]}\n", encoding="utf-8"
        )
        for year in years:
            write_department_year(dept / str(year), random.Random(f"{seed}-{n}-{year}"), name, year, n)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description="写出一个合成数据站点（基准测试用，不是真实公开内容）。")
    parser.add_argument("target", type=Path, help="站点文件夹（会新建）")
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--years", type=int, default=1, help="年度数，从 2023 年往前")
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    make_site(args.target, args.departments, [2023 - i for i in range(args.years)], args.seed)
    print(f"已写出 {args.departments} 个部门 × {args.years} 个年度到 {args.target}")


if __name__ == "__main__":
    main()
