"""The command line. Parses arguments, calls the pipeline, turns problems into messages and exit codes.

Exit codes: 0 success; 1 the data has errors (or warnings, with --strict); 2 a usage error; 3 an internal
error (a bug: rerun with --verbose for the traceback and report it).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from .diagnostics import Diagnostic, Diagnostics, UserError

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own messages, with a Chinese lead
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"命令有误：{message}\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", type=Path, default=Path("."), help="站点文件夹（含 site.toml），默认为当前文件夹")
    p.add_argument("--verbose", action="store_true", help="出现内部错误时显示完整的 Python 调用栈")


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

    v = sub.add_parser(
        "validate",
        help="只核对数据，列出全部问题",
        description="核对全部数据并列出每个问题（文件:行号: 问题、涉及的数字、如何改正）。有错误时退出码为 1。",
    )
    _common(v)
    v.add_argument("--strict", action="store_true", help="有警告也视为失败")
    v.add_argument("--notes", action="store_true", help="同时列出尾数差异等提示")

    s = sub.add_parser(
        "serve",
        help="本地预览：生成网站并在本机提供访问，数据或模板改动后自动重新生成",
        description="在 http://127.0.0.1:端口/ 提供网站；每秒检查一次源文件，有改动就重新生成。按 Ctrl+C 结束。",
    )
    _common(s)
    s.add_argument("--port", type=int, default=8000, help="端口，默认 8000")
    s.add_argument("--out", type=Path, help="输出文件夹，默认为站点文件夹下的 public/")
    return parser


def print_diagnostics(diags: list[Diagnostic], notes: bool, stream) -> None:
    for d in diags:
        if d.level != "note" or notes:
            print(d.format(), file=stream)


def summary(diags: Diagnostics) -> str:
    return (
        f"{diags.count('error')} 个错误，{diags.count('warning')} 个警告，"
        f"{diags.count('note')} 处尾数差异（在允许范围内，页面上已标明）"
    )


def run(args: argparse.Namespace) -> int:
    from . import build as pipeline

    root = args.site
    if args.command == "validate":
        report = pipeline.validate(root)
        diags = report.diagnostics
        print_diagnostics(diags.sorted(), args.notes, sys.stdout)
        print(f"核对完成：{len(report.checks)} 项算术核对；{summary(diags)}。")
        failed = diags.has_errors or (args.strict and diags.count("warning") > 0)
        return EXIT_DATA if failed else EXIT_OK
    if args.command == "build":
        out = args.out or root / "public"
        report = pipeline.build(root, out, allow_errors=args.allow_errors, strict=args.strict)
        shown = [d for d in report.diagnostics.sorted() if d.level == "error" or not args.quiet]
        print_diagnostics(shown, False, sys.stderr)
        print(f"已生成 {report.pages} 个页面（共 {report.files} 个文件）到 {out}。{summary(report.diagnostics)}。")
        if report.published_with_errors:
            print("注意：数据有错误，按 --allow-errors 仍然生成了网站；未通过的核对已标在相关表格上。", file=sys.stderr)
            return EXIT_DATA
        return EXIT_OK
    if args.command == "serve":
        from .serve import serve

        return serve(root, args.out or root / "public", args.port)
    return EXIT_USAGE  # pragma: no cover - argparse requires a command


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return run(args)
    except UserError as exc:
        print_diagnostics(exc.diagnostics, False, sys.stderr)
        if not exc.diagnostics:
            print(f"错误：{exc.message}", file=sys.stderr)
        errors = sum(1 for d in exc.diagnostics if d.level == "error")
        print(f"{exc.message}：{errors} 个错误。改正后重新运行。", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        return 130
    except Exception:
        if args.verbose:
            traceback.print_exc()
        else:
            print(
                "内部错误：生成器自身出了问题（不是您的数据的问题）。请加上 --verbose 重新运行，并把输出报告给维护者。",
                file=sys.stderr,
            )
        return EXIT_INTERNAL
