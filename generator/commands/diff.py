"""diff: what a change does to the published figures and to the checks — the summary a reviewer reads first.

A department-year that only the new side has (a year just added with `new`, hundreds of figures still 待填写) is
summarised, one line per table or project with how many figures are filled and how many are not, and only the
checks it fails are listed; every figure and check of a year both sides have is listed in full.

Each side is a site folder or a git revision. Before anything is read, each side's files are listed with their
git blob ids (`git ls-tree` for a revision; for a folder, its files' bytes hashed the way git hashes them), and
only the departments whose files differ are read and compared: a department the same on both sides has the same
figures and checks on both. Where something every department is checked against differs (site.toml, the formats,
content/), every department is compared. So a pull request that changes one department of a province (10,000
department-years, 1.6 GB of YAML) reads that department twice, not the whole site twice; the whole site's
problems are validate's to list. A revision's files are exported with `git archive`, only the ones compared, into
a temporary folder that is removed afterwards, so the user's working copy is never touched.

The departments compared are read by the project's own loader and checked by the same checks as `validate`, one
department at a time, on every core, so memory does not grow with their number; then every figure (tables in 万元,
projects in 元) is compared cell by cell with Decimal arithmetic, and every check result by its rule.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import tarfile
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from generator.builder.pool import in_workers
from generator.checks.tables import CheckResult, consistent_names, explain
from generator.core.config import SiteConfig, load_config
from generator.core.diagnostics import Diagnostic, Diagnostics, Loc, UserError
from generator.core.money import format_plain
from generator.sources.folders import folder_entries
from generator.sources.formats import Part
from generator.sources.load import DEPARTMENTS, FUND_COLUMNS, department_names, read_department
from generator.sources.records import Cell, ProjectSource, SiteSource, TableSource

STATUS_WORDS = {
    "ok": "通过",
    "rounding": "尾数差异（允许）",
    "unknown": "无法核对（数值未知）",
    "source": "原件如此",
    "error": "未通过",
}
ABSENT_CHECK = "（无此核对）"
# Diagnostics that restate a CheckResult (compared as checks); every other error is compared as a message.
CHECK_CODES = {"sum", "sum-in-source", "unknown-sum", "rounding"}
READ = ("site.toml", "data", "content")  # what the loader reads, from the site folder
IN_DEPARTMENTS = f"data/{DEPARTMENTS}/"
LISTED_MOST = 2000  # paths passed to git archive; past this many, it exports everything read


@dataclass
class Side:
    """One department as one of the two versions has it: what the loader and the checks made of it."""

    label: str
    config: SiteConfig
    source: SiteSource  # the versions' formats, glossary and pages, with this department alone (if it has it)
    checks: list[CheckResult]
    diagnostics: Diagnostics
    named: list[tuple[str, str, Loc]] = field(default_factory=list)  # codes for the site-wide name check


@dataclass
class Version:
    """One of the two versions as the report states it: its name, and the problems of what was compared."""

    label: str
    diagnostics: Diagnostics


@dataclass(frozen=True)
class Figure:
    """One figure as a reviewer names it, and its value: a number, a text (待填写, #####, 无), or absent."""

    order: tuple
    where: str  # 表1 收入支出决算总表 | 项目 440303…（名称）
    row: str
    column: str
    unit: str
    value: Decimal | None
    text: str  # how it is shown: 4,272.71 | 待填写 | （未列出）
    zero_if_absent: bool = False  # a table row the data leaves out is zero by the format's convention


@dataclass(frozen=True)
class FigureChange:
    department: str
    year: int
    where: str
    row: str
    column: str
    unit: str
    old: str
    new: str
    difference: str  # +1.00 / -1.00, or — when either side is not a number


@dataclass(frozen=True)
class CheckChange:
    department: str
    year: int
    rule: str
    old: str
    new: str
    detail: str  # the new side's message, when it has something to say


@dataclass(frozen=True)
class FileCount:
    """How far one table or project of a new department-year is filled."""

    where: str
    filled: int
    blank: int  # 待填写
    other: int  # a text instead of a figure: #####, 有关内容涉密, 无


@dataclass
class NewYear:
    """A department-year only the new side has: summarised, not listed figure by figure."""

    department: str
    year: int
    files: list[FileCount]
    checks: dict[str, int]  # status → how many of its checks have it
    failing: list[CheckChange]  # its checks that fail, listed in full


@dataclass
class Comparison:
    old: Version
    new: Version
    figures: list[FigureChange] = field(default_factory=list)
    checks: list[CheckChange] = field(default_factory=list)
    new_passing: int = 0  # checks only the new side has, all passing: counted, not listed
    new_years: list[NewYear] = field(default_factory=list)
    errors_new: list[Diagnostic] = field(default_factory=list)  # other errors (narrative figures, names, …)
    errors_gone: list[Diagnostic] = field(default_factory=list)
    compared: int = 0  # departments whose files differ: read and compared
    same: int = 0  # departments whose files are the same on both sides: not read


# ------------------------------------------------------------------------------------------ the two sides


def _fail(message: str, where: str) -> UserError:
    return UserError("无法比较", [Diagnostic("error", Loc(where), message, "diff")])


_NO_GIT = "找不到 git 命令：按版本比较需要安装 git。也可以比较两个文件夹。"


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    from generator.commands.git import git

    return git(cwd, *args, missing=_fail(_NO_GIT, "git"))


@dataclass
class Tree:
    """One side as listed before anything is read: each file the loader may read (path from the site folder →
    its git blob id), the department folders, and where the files are (a revision's, once exported)."""

    spec: str
    label: str
    files: dict[str, str]
    departments: set[str]
    root: Path | None = None  # a folder side; a revision's export
    commit: str = ""
    top: Path | None = None  # a revision's repository
    prefix: str = ""  # the site folder in it

    @functools.cached_property
    def parts(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """Its files: (those every department shares, each department's), hidden department folders left out
        (the loader does not read them)."""
        shared: dict[str, str] = {}
        each: dict[str, dict[str, str]] = {name: {} for name in self.departments if not name.startswith(".")}
        for path, blob in self.files.items():
            name = _department_of(path)
            if name is None:
                shared[path] = blob
            elif not name.startswith("."):
                each[name][path] = blob
        return shared, each


def _department_of(path: str) -> str | None:
    """The department folder a file is in (data/departments/<name>/…), or None for a file every one shares."""
    if not path.startswith(IN_DEPARTMENTS):
        return None
    name, inside, _ = path[len(IN_DEPARTMENTS) :].partition("/")
    return name if inside else None


def _blob_id(path: Path) -> str:
    """The id git gives a file's bytes, so a folder's files compare with a revision's. A symbolic link is, as in
    git, the text of where it points: what it points to is never read."""
    data = os.readlink(path).encode("utf-8", "surrogateescape") if path.is_symlink() else path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _folder_tree(spec: str, folder: Path) -> Tree:
    files = {}
    for name in READ:
        path = folder / name
        if path.is_file():
            files[name] = _blob_id(path)
        for here, subfolders, names in os.walk(path):
            subfolders.sort()
            rel = Path(here).relative_to(folder).as_posix()
            for file in sorted(names):
                files[f"{rel}/{file}"] = _blob_id(Path(here, file))
    names = {name for name, is_dir in folder_entries(folder / "data" / DEPARTMENTS) or () if is_dir}
    return Tree(spec, f"文件夹 {spec}", files, names, root=folder)


def _revision_tree(spec: str, site: Path) -> Tree:
    if _git(site, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise _fail(f"“{spec}”不是文件夹；站点文件夹 {site} 也不在 git 仓库中，无法按版本比较。", spec)
    found = _git(site, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    if found.returncode != 0:
        raise _fail(
            f"“{spec}”既不是文件夹，也不是这个仓库里的版本（分支名、标签或提交号）。请检查拼写，或先 git fetch。", spec
        )
    commit = found.stdout.decode().strip()
    top = Path(_git(site, "rev-parse", "--show-toplevel").stdout.decode().strip())
    prefix = _git(site, "rev-parse", "--show-prefix").stdout.decode().strip()
    listed = _git(top, "ls-tree", "-r", "-z", commit, "--", *(f":(literal){prefix}{name}" for name in READ))
    if listed.returncode != 0:
        raise _fail(f"无法列出版本“{spec}”的文件：{listed.stderr.decode(errors='replace').strip()}", spec)
    files = {}
    for entry in listed.stdout.split(b"\0"):
        info, _, path = entry.partition(b"\t")
        kind = info.split(b" ")
        if len(kind) == 3 and kind[1] == b"blob":
            files[path.decode("utf-8", "surrogateescape").removeprefix(prefix)] = kind[2].decode()
    names = {name for name in map(_department_of, files) if name is not None}
    return Tree(spec, f"{spec}（{commit[:7]}）", files, names, commit=commit, top=top, prefix=prefix)


def list_side(spec: str, site: Path) -> Tree:
    """A folder (a site folder) or a git revision (branch, tag, commit) of the repository holding `site`."""
    folder = Path(spec)
    return _folder_tree(spec, folder) if folder.is_dir() else _revision_tree(spec, site)


def to_compare(old: Tree, new: Tree) -> tuple[list[str], int]:
    """(the departments to read and compare, in the loader's order; how many are the same on both sides)."""
    old_shared, old_each = old.parts
    new_shared, new_each = new.parts
    names = sorted(old_each.keys() | new_each.keys())
    if old_shared != new_shared:
        return names, 0
    differ = [name for name in names if old_each.get(name) != new_each.get(name)]
    return differ, len(names) - len(differ)


def _export(tree: Tree, departments: list[str], stack: ExitStack) -> Path:
    """A revision's files that these departments' comparison reads, in a temporary folder: the site folder there."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="juesuan-diff-")))
    shared, each = tree.parts
    paths = [*shared, *(f"{IN_DEPARTMENTS}{name}" for name in departments if name in each)]
    if len(paths) > LISTED_MOST:
        paths = [name for name in READ if name in tree.files or any(p.startswith(f"{name}/") for p in tree.files)]
    if paths:
        specs = [f":(literal){tree.prefix}{p}" for p in paths]
        try:
            git = subprocess.Popen(
                ["git", "archive", "--format=tar", tree.commit, "--", *specs],
                cwd=tree.top,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError:
            raise _fail(_NO_GIT, "git") from None
        try:  # read as git writes it: a province's tree is never held in memory
            with tarfile.open(fileobj=git.stdout, mode="r|") as tar:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(tmp, filter="data")
                else:  # pragma: no cover - Python 3.11 before 3.11.4
                    tar.extractall(tmp)  # our own repository's tree, from git archive
        except tarfile.ReadError:
            pass  # git said why, below
        finally:
            git.stdout.close()
            problem = git.stderr.read().decode(errors="replace").strip()
            code = git.wait()
        if code != 0:
            raise _fail(f"无法取出版本“{tree.spec}”的文件：{problem}", tree.spec)
    if each:  # the revision has departments, though none of them may have been exported
        (tmp / tree.prefix / IN_DEPARTMENTS).mkdir(parents=True, exist_ok=True)
    return tmp / tree.prefix


def _open_version(label: str, root: Path, diags: Diagnostics | None = None) -> tuple:
    from generator.builder.units import load_shared

    try:
        config = load_config(root)
    except UserError as exc:
        raise UserError(f"{label} 无法读取", exc.diagnostics) from None
    return label, config, load_shared(config, diags if diags is not None else Diagnostics())


def _open_versions(versions: list[tuple[str, Path]]) -> list[tuple]:
    """What every department's comparison needs of each version (its settings, formats, glossary, content
    pages): (label, config, shared) for the old version, then the new. Made once in each worker."""
    return [_open_version(label, root) for label, root in versions]


def _department_side(version: tuple, name: str) -> Side:
    """One department as a version has it, read and checked (as validate checks it), or absent."""
    from generator.checks.year import check_loaded

    label, config, shared = version
    diags = Diagnostics()
    folder = config.data_dir / DEPARTMENTS / name
    dept = read_department(folder, config.root, config, shared.formats, diags) if folder.is_dir() else None
    source = SiteSource(shared.formats, {dept.slug: dept} if dept else {}, shared.glossary, shared.pages)
    side = Side(label, config, source, [], diags)
    for ys in dept.years.values() if dept else ():
        checks, _, named = check_loaded(config, source, dept, ys, diags)
        side.checks += checks
        side.named += named
    return side


@dataclass
class DepartmentChanges:
    """What one department's comparison sends back: its part of the report, and of each version's problems."""

    figures: list[FigureChange]
    checks: list[CheckChange]
    new_passing: int
    new_years: list[NewYear]
    problems: tuple[list[Diagnostic], list[Diagnostic]]  # each version's errors and warnings (not its notes)
    named: tuple[list, list]


def compare_department(opened: list[tuple], name: str) -> DepartmentChanges:
    """One department compared between the two versions `opened` (_open_versions)."""
    old, new = (_department_side(version, name) for version in opened)
    added = _years(new.source) - _years(old.source)
    checks, passing = compare_checks(old, new, added)
    problems = tuple([d for d in side.diagnostics.items if d.level != "note"] for side in (old, new))
    return DepartmentChanges(
        compare_figures(old.source, new.source, added), checks, passing, new_years(old, new), problems,
        (old.named, new.named),
    )  # fmt: skip


def _compared(opened: list[tuple], versions: list[tuple[str, Path]], names: list[str], jobs: int):
    """compare_department for each department, in order; on `jobs` processes (each opening `versions` itself)
    where there are several, else with `opened`, the versions as this process opened them."""
    if jobs <= 1 or len(names) < 2:
        yield from (compare_department(opened, name) for name in names)
        return
    chunk = max(1, min(16, len(names) // (jobs * 8)))
    yield from in_workers(compare_department, names, jobs, _open_versions, (versions,), in_order=True, chunk=chunk)


# ------------------------------------------------------------------------------------------ figures


def figures(source: SiteSource) -> dict[tuple, tuple[str, int, Figure]]:
    """Every figure of a site: key → (department name, year, figure)."""
    out: dict[tuple, tuple[str, int, Figure]] = {}
    for slug, dept in source.departments.items():
        for year, ys in dept.years.items():
            unit = ys.fmt.unit if ys.fmt else "万元"  # the format's unit for its tables (万元, DOMAIN.md §2)
            form = ys.fmt.project_form if ys.fmt else None
            for table in ys.tables.values():
                for key, fig in _table_figures(table, unit).items():
                    out[(slug, year, *key)] = (dept.name, year, fig)
            for p in ys.projects:
                for key, fig in _project_figures(p, form.unit if form else "元").items():
                    out[(slug, year, *key)] = (dept.name, year, fig)
    return out


def _shown(cell: Cell | None) -> tuple[Decimal | None, str]:
    if cell is None:
        return None, "（未列出）"
    if cell.value is None:
        return None, cell.text or "待填写"
    return cell.value, format_plain(cell.value)


def _table_figures(table: TableSource, unit: str) -> dict[tuple, Figure]:
    fmt = table.fmt
    out = {}
    for p_index, part in enumerate(fmt.parts):
        for r_index, row_key, row_label in _rows(table, part):
            for c_index, col in enumerate(part.columns):
                value, text = _shown(table.cells.get((part.key, row_key, col.key)))
                absent = (part.key, row_key, col.key) not in table.cells
                out[("表", fmt.no, part.key, row_key, col.key)] = Figure(
                    order=(0, fmt.no, p_index, r_index, c_index),
                    where=fmt.name,
                    row=(f"「{part.key}」" if part.key else "") + row_label,
                    column=col.full_label,
                    unit=unit,
                    value=value,
                    text=text,
                    zero_if_absent=absent,
                )
    return out


def _rows(table: TableSource, part: Part) -> list[tuple[tuple, str, str]]:
    """(order, row key, how the row is named) for the rows a table part prints or lists."""
    if part.classified:
        names = {r.code: r.name for r in table.class_rows}
        rows = [((0, ""), "合计", "「合计」")]
        rows += [((1, code), code, f"「{code} {name}」".replace(" 」", "」")) for code, name in sorted(names.items())]
        return rows
    if len(part.rows) == 1:
        return [((0, ""), part.rows[0].key, "")]
    return [((i, ""), row.key, row.display) for i, row in enumerate(part.rows) if not row.filler]


def _project_figures(p: ProjectSource, unit: str) -> dict[tuple, Figure]:
    where = f"项目 {p.code}（{p.name}）"
    out: dict[tuple, Figure] = {}

    def add(key: tuple, order: tuple, row: str, column: str, unit: str, cell: Cell | None) -> None:
        if cell is None:
            return
        value, text = _shown(cell)
        out[("项目", p.code, *key)] = Figure((1, p.code, *order), where, row, column, unit, value, text)

    for f_index, fund in enumerate(p.funds):
        for c_index, (column, cell) in enumerate(
            zip(FUND_COLUMNS, (fund.initial, fund.budget, fund.executed), strict=True)
        ):
            add(("资金", fund.name, column), (0, f_index, c_index), f"资金使用情况「{fund.name}」", column, unit, cell)
    for c_index, (column, measure, cell) in enumerate(
        [("分值", "分", p.fund_weight), ("执行率", "%", p.rate), ("得分", "分", p.fund_score)]
    ):
        add(("资金", column), (1, 0, c_index), "资金使用情况", column, measure, cell)
    seen: dict[tuple, int] = {}
    for i_index, ind in enumerate(p.indicators):
        name = (ind.level1, ind.level2, ind.name)
        n = seen[name] = seen.get(name, 0) + 1
        label = f"年度绩效指标「{ind.name or ind.level2}」" + (f"（第 {n} 个）" if n > 1 else "")
        for c_index, (column, cell) in enumerate([("分值", ind.weight), ("得分", ind.score)]):
            add(("指标", *name, n, column), (2, i_index, c_index), label, column, "分", cell)
    for c_index, (column, cell) in enumerate([("分值", p.total_weight), ("得分", p.total_score)]):
        add(("总分", column), (3, 0, c_index), "总分", column, "分", cell)
    return out


def _number(fig: Figure | None) -> Decimal | None:
    if fig is None:
        return None
    if fig.value is None and fig.zero_if_absent:
        return Decimal(0)
    return fig.value


def _published_tables(source: SiteSource) -> set[tuple]:
    return {
        (slug, year, "表", no)
        for slug, d in source.departments.items()
        for year, ys in d.years.items()
        for no in ys.tables
    }


def _missing(key: tuple, tables: set[tuple], other: Figure) -> Figure | None:
    """A figure one side does not have: a row left out of a table that side publishes is zero (the format's
    convention), so it compares as 0; a table, project or year that side does not have is no figure at all."""
    if key[:4] in tables:
        return replace(other, value=None, text="（未列出）", zero_if_absent=True)
    return None


def compare_figures(old: SiteSource, new: SiteSource, skip: set[tuple[str, int]] = frozenset()) -> list[FigureChange]:
    """Every figure that differs, except those of the department-years in `skip` (summarised instead)."""
    before, after = figures(old), figures(new)
    old_tables, new_tables = _published_tables(old), _published_tables(new)
    changes = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], k[1], (after.get(k) or before[k])[2].order)):
        if key[:2] in skip:
            continue
        o, n = before.get(key), after.get(key)
        of = o[2] if o else _missing(key, old_tables, n[2])
        nf = n[2] if n else _missing(key, new_tables, o[2])
        a, b = _number(of), _number(nf)
        if a is not None and b is not None:
            if a == b:
                continue
            difference = format_plain(b - a)
            difference = difference if difference.startswith("-") else "+" + difference
        else:
            if of is not None and nf is not None and (of.value, of.text) == (nf.value, nf.text):
                continue
            difference = "—"
        name, year, fig = n or o
        changes.append(
            FigureChange(
                department=name,
                year=year,
                where=fig.where,
                row=fig.row,
                column=fig.column,
                unit=fig.unit,
                old=of.text if of else "（无）",
                new=nf.text if nf else "（无）",
                difference=difference,
            )
        )
    return changes


# ------------------------------------------------------------------------------------------ checks


def _keyed(checks: list[CheckResult]) -> dict[tuple, CheckResult]:
    out: dict[tuple, CheckResult] = {}
    for r in checks:
        key = (r.department, r.year, r.project or "", r.rule)
        n = 1
        while (*key, n) in out:
            n += 1
        out[(*key, n)] = r
    return out


def _detail(result: CheckResult) -> str:
    """What the new side says about a check that is not simply passing, without repeating its rule."""
    if result.status == "ok" or result.diff is None:
        return ""
    return explain(result).removeprefix(f"{result.rule}。")


def compare_checks(old: Side, new: Side, skip: set[tuple[str, int]] = frozenset()) -> tuple[list[CheckChange], int]:
    before, after = _keyed(old.checks), _keyed(new.checks)
    names = {**_names(old.source), **_names(new.source)}
    changes, passing = [], 0
    # In the order the checks run (table by table, then across tables, then projects), as a reviewer reads them.
    for key in [*after, *(k for k in before if k not in after)]:
        if key[:2] in skip:
            continue
        o, n = before.get(key), after.get(key)
        if o is not None and n is not None and o.status == n.status:
            continue
        if o is None and n is not None and n.status == "ok":
            passing += 1
            continue
        if n is None and o is not None and o.status == "ok":
            continue  # a passing check that no longer applies (its table or year was removed): the figures show it
        r = n or o
        changes.append(
            CheckChange(
                department=names.get(r.department, r.department),
                year=r.year,
                rule=r.rule,
                old=STATUS_WORDS[o.status] if o else ABSENT_CHECK,
                new=STATUS_WORDS[n.status] if n else ABSENT_CHECK,
                detail=_detail(n) if n else "",
            )
        )
    return changes, passing


def _names(source: SiteSource) -> dict[str, str]:
    return {slug: d.name for slug, d in source.departments.items()}


def _years(source: SiteSource) -> set[tuple[str, int]]:
    return {(slug, year) for slug, d in source.departments.items() for year in d.years}


def new_years(old: Side, new: Side) -> list[NewYear]:
    """The department-years only the new side has, each summarised by table or project and by check status."""
    added = _years(new.source) - _years(old.source)
    figs = figures(new.source)
    out = []
    for slug, year in sorted(added):
        counts: dict[str, list[int]] = {}  # where → [filled, blank, other], in the order of the tables and projects
        for _, _, fig in sorted((v for k, v in figs.items() if k[:2] == (slug, year)), key=lambda v: v[2].order):
            tally = counts.setdefault(fig.where, [0, 0, 0])
            if fig.value is not None:
                tally[0] += 1
            elif fig.zero_if_absent:
                continue  # a row the file leaves out: zero, not a figure written or still to write
            elif fig.text == "待填写":
                tally[1] += 1
            else:
                tally[2] += 1
        results = [r for r in new.checks if (r.department, r.year) == (slug, year)]
        statuses: dict[str, int] = {}
        for r in results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        failing = [
            CheckChange(
                new.source.departments[slug].name, year, r.rule, ABSENT_CHECK, STATUS_WORDS[r.status], _detail(r)
            )
            for r in results
            if r.status == "error"
        ]
        files = [FileCount(where, *tally) for where, tally in counts.items()]
        out.append(NewYear(new.source.departments[slug].name, year, files, statuses, failing))
    return out


def compare(old_spec: str, new_spec: str, site: Path, jobs: int | None = None) -> Comparison:
    from generator.builder.pipeline import default_jobs

    with ExitStack() as stack:
        trees = [list_side(spec, site) for spec in (old_spec, new_spec)]
        names, same = to_compare(*trees)
        roots = [tree.root or _export(tree, names, stack) for tree in trees]
        versions = [Version(tree.label, Diagnostics()) for tree in trees]
        result = Comparison(*versions, compared=len(names), same=same)
        named: tuple[list, list] = ([], [])
        # Each version's own problems (formats, glossary, content pages, what data/departments/ holds) are
        # read here: where they differ, every department is compared.
        opened = [_open_version(v.label, root, v.diagnostics) for v, root in zip(versions, roots, strict=True)]
        for version, (_, config, _) in zip(versions, opened, strict=True):
            department_names(config, version.diagnostics)
        labelled = [(v.label, root) for v, root in zip(versions, roots, strict=True)]
        for part in _compared(opened, labelled, names, jobs or default_jobs()):
            result.figures += part.figures
            result.checks += part.checks
            result.new_passing += part.new_passing
            result.new_years += part.new_years
            for version, problems, codes, found in zip(versions, part.problems, named, part.named, strict=True):
                version.diagnostics.extend(problems)
                codes += found
    for version, codes in zip(versions, named, strict=True):
        consistent_names(codes, version.diagnostics)  # across the departments compared, in the loader's order
    result.errors_new, result.errors_gone = compare_errors(versions[0].diagnostics, versions[1].diagnostics)
    return result


def compare_errors(old: Diagnostics, new: Diagnostics) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Errors other than failed sums that one side has and the other has not (lines may move: not compared)."""

    def errors(diags: Diagnostics) -> dict[tuple, Diagnostic]:
        return {(d.loc.path, d.message): d for d in diags.sorted() if d.level == "error" and d.code not in CHECK_CODES}

    before, after = errors(old), errors(new)
    return [d for k, d in after.items() if k not in before], [d for k, d in before.items() if k not in after]


# ------------------------------------------------------------------------------------------ reports


def _counts(diags: Diagnostics) -> str:
    return f"{diags.count('error')} 个错误，{diags.count('warning')} 个警告"


def _groups(c: Comparison) -> list[tuple[str, int, list[FigureChange], list[CheckChange]]]:
    keys = sorted({(f.department, f.year) for f in c.figures} | {(k.department, k.year) for k in c.checks})
    return [
        (
            dept,
            year,
            [f for f in c.figures if (f.department, f.year) == (dept, year)],
            [k for k in c.checks if (k.department, k.year) == (dept, year)],
        )
        for dept, year in keys
    ]


STATUS_ORDER = ["ok", "rounding", "unknown", "source", "error"]


def _filled(f: FileCount) -> str:
    text = f"已填 {f.filled} 个，待填写 {f.blank} 个"
    return text + (f"，写作文字的 {f.other} 个（#####、涉密等）" if f.other else "")


def _statuses(y: NewYear) -> str:
    total = sum(y.checks.values())
    parts = [f"{STATUS_WORDS[s]} {y.checks[s]} 项" for s in STATUS_ORDER if y.checks.get(s)]
    return f"核对 {total} 项" + (f"：{'，'.join(parts)}" if parts else "")


def _headline(c: Comparison) -> list[str]:
    lines = [f"改动的数字 {len(c.figures)} 处；结果改变的核对 {len(c.checks)} 项。"]
    if c.new_years:
        filled = sum(f.filled for y in c.new_years for f in y.files)
        blank = sum(f.blank for y in c.new_years for f in y.files)
        lines.append(
            f"新增的部门年度 {len(c.new_years)} 个：已填 {filled} 个数字，待填写 {blank} 个（按表汇总，不逐项列出）。"
        )
    if c.errors_new or c.errors_gone:
        lines.append(f"其他错误：新出现 {len(c.errors_new)} 个，已改正 {len(c.errors_gone)} 个。")
    if c.new_passing:
        lines.append(f"另有 {c.new_passing} 项新增的核对全部通过。")
    counts = f"新版本核对：{_counts(c.new.diagnostics)}（旧版本：{_counts(c.old.diagnostics)}）。"
    if c.same and c.compared:
        counts = (
            f"比较了文件有改动的 {c.compared} 个部门，{counts.removesuffix('。')}；其余 {c.same} 个部门"
            "两个版本的文件完全相同，没有再读（全站的问题见 validate）。"
        )
    elif c.same:
        counts = f"全部 {c.same} 个部门两个版本的文件完全相同，没有再读（全站的问题见 validate）；{counts}"
    lines.append(counts)
    return lines


def figure_line(f: FigureChange) -> str:
    diff = f"；差额 {f.difference}" if f.difference != "—" else ""
    return f"{f.where}{f.row}「{f.column}」：{f.old} → {f.new}（单位：{f.unit}{diff}）"


def check_line(k: CheckChange) -> str:
    return f"{k.rule}：{k.old} → {k.new}"


def _same(c: Comparison) -> bool:
    return not c.figures and not c.checks and not c.errors_new and not c.errors_gone and not c.new_years


def _sections(c: Comparison) -> list[tuple[str, int, NewYear | None, list[FigureChange], list[CheckChange]]]:
    """Each department-year to report, in order: a new one with its summary, a changed one with its changes."""
    out = [(dept, year, None, figs, checks) for dept, year, figs, checks in _groups(c)]
    out += [(y.department, y.year, y, [], []) for y in c.new_years]
    return sorted(out, key=lambda s: (s[0], s[1]))


def render_text(c: Comparison) -> str:
    lines = [f"比较 旧版本 {c.old.label} → 新版本 {c.new.label}", *_headline(c)]
    if _same(c):
        lines.append("两个版本的数字和核对结果完全相同。")
    for dept, year, added, figs, checks in _sections(c):
        if added is not None:
            lines += ["", f"■ {dept} {year} 年度（新增）", "  各表和项目的数字："]
            lines += [f"    {f.where}：{_filled(f)}" for f in added.files]
            lines.append(f"  {_statuses(added)}。")
            if added.failing:
                lines.append("  未通过的核对：")
                for k in added.failing:
                    lines.append(f"    {k.rule}")
                    if k.detail:
                        lines.append(f"      {k.detail}")
            continue
        lines += ["", f"■ {dept} {year} 年度"]
        if figs:
            lines.append("  改动的数字：")
            lines += [f"    {figure_line(f)}" for f in figs]
        if checks:
            lines.append("  结果改变的核对：")
            for k in checks:
                lines.append(f"    {check_line(k)}")
                if k.detail:
                    lines.append(f"      {k.detail}")
    if c.errors_new:
        lines += ["", "■ 新出现的其他错误（新版本）："] + [f"  {d.format()}" for d in c.errors_new]
    if c.errors_gone:
        lines += ["", "■ 已改正的错误（旧版本中有）："] + [f"  {d.format()}" for d in c.errors_gone]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(c: Comparison) -> str:
    lines = [
        "## 决算数据改动摘要",
        "",
        f"比较 旧版本 {_cell(c.old.label)} → 新版本 {_cell(c.new.label)}。" + "".join(_headline(c)),
    ]
    if _same(c):
        lines += ["", "两个版本的数字和核对结果完全相同。"]
    for dept, year, added, figs, checks in _sections(c):
        if added is not None:
            lines += [
                "",
                f"### {_cell(dept)} {year} 年度（新增）",
                "",
                "| 表或项目 | 已填 | 待填写 | 写作文字（#####、涉密等） |",
                "| --- | ---: | ---: | ---: |",
            ]
            lines += [f"| {_cell(f.where)} | {f.filled} | {f.blank} | {f.other} |" for f in added.files]
            lines += ["", f"{_statuses(added)}。"]
            if added.failing:
                lines += ["", "| 未通过的核对 | 说明 |", "| --- | --- |"]
                lines += [f"| {_cell(k.rule)} | {_cell(k.detail)} |" for k in added.failing]
            continue
        lines += ["", f"### {_cell(dept)} {year} 年度"]
        if figs:
            lines += [
                "",
                "| 表或项目 | 行 | 栏 | 原数 | 新数 | 差额 | 单位 |",
                "| --- | --- | --- | ---: | ---: | ---: | --- |",
            ]
            lines += [
                f"| {_cell(f.where)} | {_cell(f.row)} | {_cell(f.column)} | {_cell(f.old)} | {_cell(f.new)} "
                f"| {_cell(f.difference)} | {f.unit} |"
                for f in figs
            ]
        if checks:
            lines += ["", "| 结果改变的核对 | 原结果 | 新结果 |", "| --- | --- | --- |"]
            lines += [f"| {_cell(k.rule)} | {k.old} | {k.new} |" for k in checks]
            details = [k for k in checks if k.detail]
            if details:
                lines += [""] + [f"- {_cell(k.rule)}：{_cell(k.detail)}" for k in details]
    for title, diags in (("新出现的其他错误（新版本）", c.errors_new), ("已改正的错误（旧版本中有）", c.errors_gone)):
        if diags:
            lines += ["", f"### {title}", ""] + [f"- `{d.loc}`：{_cell(d.message)}" for d in diags]
    return "\n".join(lines) + "\n"
