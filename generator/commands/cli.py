"""The command line. Parses arguments, calls the pipeline, turns problems into messages and exit codes.

Exit codes: 0 success; 1 the data has errors (or warnings, with --strict); 2 a usage error; 3 an internal
error (a bug: rerun with --verbose for the traceback and report it); 4 a file could not be read or written (a
full disk, no permission: the message names the file).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from generator.commands.progress import Progress
from generator.commands.report import os_error_message, print_diagnostics, summary, waiting_for
from generator.core.diagnostics import UserError, capped

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERNAL, EXIT_IO = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own messages, with a Chinese lead
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"命令有误：{message}\n")


def _only(p: argparse.ArgumentParser, rest: str) -> None:
    p.add_argument(
        "--only",
        nargs="+",
        metavar="部门",
        help=f"只查看这些部门（data/departments/ 下的文件夹名）的文件有无改动，{rest}",
    )


def _only_said(named: list[str] | None, looked: list[str] | None, rest: str, why: str) -> None:
    """What `--only` did: which departments were looked at, or that it could not be used (and why)."""
    if named and looked is None:
        print(f"--only 没有用上：没有上次生成的记录可以沿用（{why}），已查看全部部门。")
    elif named:
        print(f"这次只查看了 {'、'.join(looked)} 的文件（--only）；{rest}")


def _preview_said(rev: str, within: set[str] | None) -> None:
    """What `build --changed-from` made: which departments the preview holds, or why it holds them all."""
    if within is None:
        print(
            f"自 {rev} 以来表格格式、模板、名词解释或 site.toml 等共用的文件有改动，每个部门的页面都可能变了：生成了全部部门。"
        )
    elif within:
        names = sorted(within)
        shown = "、".join(names[:20]) + (f" 等 {len(names)} 个部门" if len(names) > 20 else "")
        print(f"这是预览：只生成了自 {rev} 以来有文件改动的部门（{shown}），首页和各列表页也只列出它们。")
    else:
        print(f"这是预览：自 {rev} 以来没有部门的文件改动，预览中没有部门。")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", type=Path, default=Path("."), help="站点文件夹（含 site.toml），默认为当前文件夹")
    p.add_argument("--verbose", action="store_true", help="出现内部错误时显示完整的 Python 调用栈")


def _jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="同时处理的进程数，默认为本机全部处理器核心")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m generator",
        description="部门决算公开网站生成器：读取 data/ 中的 YAML，核对每一个合计，生成静态网站。",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="命令")

    b = sub.add_parser(
        "build",
        help="核对数据并生成网站到 public/",
        description="核对全部数据；没有错误时生成网站（默认写入 public/，原子替换：失败时保留旧网站）。",
    )
    _common(b)
    b.add_argument("--out", type=Path, help="输出文件夹，默认为站点文件夹下的 public/")
    b.add_argument("--strict", action="store_true", help="有警告也视为失败")
    b.add_argument(
        "--allow-errors", action="store_true", help="即使核对有错误也生成网站，并在相关表格上标明未通过的核对"
    )
    b.add_argument("-q", "--quiet", action="store_true", help="只显示错误")
    b.add_argument("--clean", action="store_true", help="不用上次生成留下的缓存，全部重新生成")
    _only(
        b,
        "其余部门按上次生成时的样子：大的站点上省去查看全部文件的约 1 秒；其余部门的改动由下一次不带 --only 的生成补上",
    )
    b.add_argument(
        "--changed-from",
        metavar="版本",
        help="只生成自这个版本（与当前版本的共同祖先）以来有文件改动的部门，作为合并请求的网站预览；"
        "表格格式、模板、名词解释、site.toml 等共用的文件有改动时生成全部部门",
    )
    _jobs(b)

    v = sub.add_parser(
        "validate",
        help="只核对数据，列出全部问题",
        description="核对全部数据并列出每个问题（文件:行号: 问题、涉及的数字、如何改正）。有错误时退出码为 1。",
    )
    _common(v)
    v.add_argument("--strict", action="store_true", help="有警告也视为失败")
    v.add_argument("--notes", action="store_true", help="同时列出尾数差异等提示")
    v.add_argument(
        "--out",
        type=Path,
        help="网站生成到了别的文件夹时写上它（同 build --out）：沿用那次生成的核对结果，默认为站点文件夹下的 public/",
    )
    _only(v, "并只列出它们的问题（其余部门的只计数，按上次生成时的核对结果）：大的站点上省去查看全部文件的约 1 秒")
    _jobs(v)
    v.add_argument(
        "--format",
        choices=["text", "github"],
        default="text",
        help="text：逐行列出（默认）；github：输出 GitHub Actions 标注，合并请求中每个问题显示在出错的那一行",
    )
    v.add_argument(
        "--changed-from",
        metavar="版本",
        help="与 --format github 一起用：只为自这个版本（与当前版本的共同祖先）以来改动过的文件输出标注，"
        "其他文件中的问题照样列出，但只作为日志中的普通一行（GitHub 每一步最多显示 10 个错误、10 个警告的标注）",
    )

    d = sub.add_parser(
        "diff",
        help="比较两个版本：改动了哪些数字、哪些核对的结果变了",
        description="比较两个版本（两个 git 版本，如 main 与 HEAD，或两个站点文件夹）：列出每一个改动的数字"
        "（部门、年度、表、行、栏、原数 → 新数、差额）和每一项结果改变的核对。不改动工作区的任何文件。",
    )
    _common(d)
    d.add_argument("old", metavar="旧版本", help="git 版本（分支名、标签、提交号）或站点文件夹")
    d.add_argument("new", metavar="新版本", help="git 版本或站点文件夹；. 表示当前文件夹（含未提交的改动）")
    d.add_argument(
        "--format",
        choices=["text", "markdown"],
        default="text",
        help="text（默认）；markdown：用于合并请求的评论或摘要",
    )
    _jobs(d)

    n = sub.add_parser(
        "new",
        help="新建一个部门年度：按格式写好标准行，留空待填",
        description="在 data/departments/部门/年度/ 建立九张决算表、概况、名词解释、情况说明，金额留空、文字写“待填写”："
        "核对时只有“待填写”警告，没有错误。只建立新文件，已有的年度文件夹不会被改动。",
    )
    _common(n)
    n.add_argument("department", metavar="部门", help="部门文件夹名（小写字母、数字和连字符，如 luohu-quweiban）")
    n.add_argument("year", metavar="年度", type=int, help="年度，如 2024（site.toml 的 [formats] 里要有这一年）")
    n.add_argument("--name", help="部门全称（新部门必须写，如 中共深圳市罗湖区委办公室）")
    n.add_argument("--region", help="部门所属地区（新部门可选，如 深圳市罗湖区）")

    sc = sub.add_parser(
        "schema",
        help="重新生成编辑器用的 JSON Schema（schema/ 与 .vscode/settings.json）",
        description="由表格格式和读取程序生成每种数据文件的 JSON Schema，写入 schema/，并在 .vscode/settings.json 中"
        "把它们对应到数据文件：VS Code（装有 YAML 扩展）在输入时补全行名、标出错误。",
    )
    _common(sc)
    sc.add_argument("--check", action="store_true", help="只检查已提交的 schema 是否过时，不写文件（过时则退出码为 1）")

    a = sub.add_parser(
        "archive",
        help="生成网站并打包为可离线浏览的 zip 存档（含每个文件的 SHA-256 清单）",
        description="核对数据、生成网站，再把网站打包为 zip：解压到任何地方都能从 file:// 打开；存档内的 MANIFEST.sha256 列出每个文件的摘要，清单自身的摘要会打印出来，请另行保存。",
    )
    _common(a)
    a.add_argument("--output", type=Path, help="存档文件，默认为站点文件夹下的 site-archive.zip")
    a.add_argument("--out", type=Path, help="网站输出文件夹，默认为站点文件夹下的 public/")

    ver = sub.add_parser(
        "verify",
        help="核对存档：指出被增加、删除或改动过的文件",
        description="按存档中的 MANIFEST.sha256 逐一核对每个文件；任何文件被增加、删除或改动了一个字节都会被指出，此时退出码为 1。",
    )
    ver.add_argument("archive", type=Path, metavar="存档", help="存档的 zip 文件，或解压后的文件夹")
    ver.add_argument("--expect", metavar="SHA256", help="清单 MANIFEST.sha256 自身应有的摘要（生成存档时打印的那一个）")
    ver.add_argument("--verbose", action="store_true", help="出现内部错误时显示完整的 Python 调用栈")

    s = sub.add_parser(
        "serve",
        help="本地预览：生成网站并在本机提供访问，数据或模板改动后自动重新生成",
        description="在 http://127.0.0.1:端口/ 提供网站；源文件有改动就重新生成（改动由操作系统通知；得不到通知时每秒查看一次）。按 Ctrl+C 结束。",
    )
    _common(s)
    s.add_argument("--port", type=int, default=8000, help="端口，默认 8000")
    s.add_argument("--out", type=Path, help="输出文件夹，默认为站点文件夹下的 public/")
    return parser


def annotation_path(root: Path, rel: str) -> str:
    """GitHub wants paths from the repository root: the checkout ($GITHUB_WORKSPACE) when the site is inside it."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        path, top = (root / rel).resolve(), Path(workspace).resolve()
        if top == path or top in path.parents:
            return path.relative_to(top).as_posix()
    return rel


def run(args: argparse.Namespace) -> int:
    """The command's function (COMMANDS), whose return value is the exit code."""
    return COMMANDS[args.command](args)


def _run_validate(args: argparse.Namespace) -> int:
    from generator.builder.pipeline import check_site

    root = args.site
    changed = None
    if args.changed_from is not None:
        from generator.commands.git import changed_files

        changed = changed_files(root, args.changed_from)
    progress = Progress("核对")
    report = check_site(root, args.jobs, progress, notes=args.notes, only=args.only, out=args.out)
    progress.close()
    diags = report.diagnostics
    if args.format == "github":
        _annotate(root, diags, args.notes, changed, args.changed_from)
    else:
        print_diagnostics(diags.sorted(), args.notes, sys.stdout)
    print(f"核对完成：{report.units} 个部门年度，{report.check_count} 项算术核对；{summary(diags)}。")
    if (other := report.elsewhere) is not None and (other.count("error") or other.count("warning")):
        print(
            f"其余部门另有 {other.count('error')} 个错误、{other.count('warning')} 个警告，未列出"
            "（不带 --only 运行 validate 可以看到）。"
        )
    _only_said(
        args.only,
        report.only,
        "其余部门按上次生成时的核对结果，它们如有改动，不带 --only 的核对会查出。",
        "还没有生成过网站、加了 --notes，或模板、名词解释等改过",
    )
    failed = diags.has_errors or (args.strict and diags.count("warning") > 0)
    return EXIT_DATA if failed else EXIT_OK


def _annotate(root: Path, diags, notes: bool, changed: set[str] | None, rev: str | None) -> None:
    """validate --format github: each problem as a GitHub Actions annotation; with --changed-from (`changed`),
    only those in files changed since `rev`, the others as plain lines after them."""
    shown = [d for d in diags.sorted() if d.level != "note" or notes]
    elsewhere = []
    if changed is not None:
        from generator.commands.git import is_changed

        elsewhere = [d for d in shown if not is_changed(d.loc.path, changed)]
        shown = [d for d in shown if is_changed(d.loc.path, changed)]
    for d in capped(shown):
        print(d.annotation(annotation_path(root, d.loc.path)))
    if elsewhere:
        print(f"另有 {len(elsewhere)} 个问题所在的文件自 {rev} 以来没有改动，只列在这里，不标注在合并请求上：")
        print_diagnostics(elsewhere, True, sys.stdout)


def _run_build(args: argparse.Namespace) -> int:
    from generator.builder.pipeline import BuildOptions, build

    root = args.site
    out = args.out or root / "public"
    within = None
    if args.changed_from is not None:
        from generator.commands.git import changed_departments

        within = changed_departments(root, args.changed_from)
    progress = Progress("生成")
    options = BuildOptions(
        allow_errors=args.allow_errors,
        strict=args.strict,
        jobs=args.jobs,
        clean=args.clean,
        progress=progress,
        waiting=waiting_for(out),
        only=args.only,
        within=within,
    )
    try:
        report = build(root, out, options)
    finally:
        progress.close()
    shown = [d for d in report.diagnostics.sorted() if d.level == "error" or not args.quiet]
    print_diagnostics(shown, False, sys.stderr)
    print(
        f"网站共 {report.pages} 个页面（{report.files} 个文件）在 {out}：{report.units} 个部门年度，这次重新生成 {report.rebuilt} 个，写入或删除 {report.written} 个文件，用时 {report.seconds:.1f} 秒。"
    )
    print(f"{summary(report.diagnostics)}。")
    if report.search_bytes:
        print(f"搜索索引：{report.search_docs} 个部门年度，{report.search_bytes / 1024:.0f} KB（assets/search/）。")
    _only_said(
        args.only,
        report.only,
        "其余部门按上次生成时的样子，它们如有改动，下一次不带 --only 的生成会补上。",
        "第一次生成、--clean，或模板、名词解释等改过",
    )
    if args.changed_from is not None:
        _preview_said(args.changed_from, within)
    if report.published_with_errors:
        print("注意：数据有错误，按 --allow-errors 仍然生成了网站；未通过的核对已标在相关表格上。", file=sys.stderr)
        return EXIT_DATA
    return EXIT_OK


def _run_archive(args: argparse.Namespace) -> int:
    from generator.builder.lock import output_lock
    from generator.builder.pipeline import build
    from generator.commands.archive import make_archive

    root = args.site
    out = args.out or root / "public"
    target = args.output or root / "site-archive.zip"
    # The site zipped as this build left it: another build waits until the archive is written.
    with output_lock(out, waiting_for(out)):
        report = build(root, out)
        digest = make_archive(out, target)
    print(
        f"已写出存档 {target}（网站 {report.files} 个文件，{target.stat().st_size / 1024 / 1024:.1f} MB）。{summary(report.diagnostics)}。"
    )
    print(f"清单 MANIFEST.sha256 的 SHA-256 摘要：{digest}")
    print("请把这个摘要另行保存或公布：日后用 python -m generator verify 存档 --expect 摘要 即可证明存档未被改动。")
    return EXIT_OK


def _run_verify(args: argparse.Namespace) -> int:
    from generator.commands.archive import verify

    result = verify(args.archive)
    for label, names in (("已改动", result.changed), ("缺少", result.missing), ("多出", result.added)):
        for name in names:
            print(f"{label}：{name}")
    if args.expect and args.expect.strip().lower() != result.manifest_digest:
        print(
            f"清单摘要不符：应为 {args.expect.strip().lower()}，实为 {result.manifest_digest}。清单本身可能被改动过。"
        )
        return EXIT_DATA
    if not result.intact:
        print(
            f"核对未通过：{len(result.changed)} 个文件被改动，{len(result.missing)} 个文件缺少，{len(result.added)} 个文件多出。"
        )
        return EXIT_DATA
    print(f"核对通过：{result.checked} 个文件都与清单一致。清单摘要：{result.manifest_digest}")
    return EXIT_OK


def _run_serve(args: argparse.Namespace) -> int:
    from generator.commands.serve import serve

    return serve(args.site, args.out or args.site / "public", args.port)


def _run_diff(args: argparse.Namespace) -> int:
    from generator.commands.diff import compare, render_markdown, render_text

    result = compare(args.old, args.new, args.site, args.jobs)
    sys.stdout.write(render_markdown(result) if args.format == "markdown" else render_text(result))
    return EXIT_OK


def _run_new(args: argparse.Namespace) -> int:
    from generator.commands.new import create

    created = create(args.site, args.department, args.year, args.name, args.region)
    print(f"已建立 {len(created)} 个文件：")
    for rel in created:
        print(f"  {rel}")
    print(
        "下一步：照公开文件把各文件中空着的金额和“待填写”逐项填好，运行 python -m generator validate，"
        "按提示改正，直到没有错误和“待填写”警告。"
    )
    return EXIT_OK


def _run_schema(args: argparse.Namespace) -> int:
    from generator.commands.schema import generate, stale, write
    from generator.core.config import load_config

    config = load_config(args.site)
    files = generate(config)
    if args.check:
        outdated = stale(config, files)
        for rel in outdated:
            print(f"{rel}: 错误：与表格格式或读取程序不一致。请运行 python -m generator schema 重新生成并提交。")
        print(f"schema 检查完成：{len(outdated)} 个文件过时。")
        return EXIT_DATA if outdated else EXIT_OK
    touched = write(config, files)
    for rel in touched:
        print(f"已更新 {rel}")
    print(f"schema 已是最新：共 {len(files)} 个文件，这次更新了 {len(touched)} 个。")
    return EXIT_OK


COMMANDS = {
    "validate": _run_validate,
    "build": _run_build,
    "archive": _run_archive,
    "verify": _run_verify,
    "serve": _run_serve,
    "diff": _run_diff,
    "new": _run_new,
    "schema": _run_schema,
}


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command == "validate" and args.changed_from is not None and args.format != "github":
        parser.error("--changed-from 只能与 --format github 一起用（它决定哪些问题标注在合并请求上）")
    try:
        return run(args)
    except UserError as exc:
        if not exc.diagnostics:  # the message is all there is to say
            print(f"错误：{exc.message}", file=sys.stderr)
            return EXIT_DATA
        print_diagnostics(exc.diagnostics, False, sys.stderr)
        errors = sum(1 for d in exc.diagnostics if d.level == "error")
        print(f"{exc.message}：{errors} 个错误。改正后重新运行。", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (validate | head): not our error. Quiet the flush at exit, as Python's docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_DATA
    except OSError as exc:
        if args.verbose:
            traceback.print_exc()
        print(os_error_message(exc), file=sys.stderr)
        return EXIT_IO
    except Exception:
        if args.verbose:
            traceback.print_exc()
        else:
            print(
                "内部错误：生成器自身出了问题（不是您的数据的问题）。请加上 --verbose 重新运行，并把输出报告给维护者。",
                file=sys.stderr,
            )
        return EXIT_INTERNAL
