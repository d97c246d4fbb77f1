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

    root = getattr(args, "site", Path("."))
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
        print(f"搜索索引：{report.search_docs} 条，{report.search_bytes / 1024:.0f} KB（assets/search-index.js）。")
        if report.published_with_errors:
            print("注意：数据有错误，按 --allow-errors 仍然生成了网站；未通过的核对已标在相关表格上。", file=sys.stderr)
            return EXIT_DATA
        return EXIT_OK
    if args.command == "archive":
        from .archive import make_archive

        out = args.out or root / "public"
        report = pipeline.build(root, out)
        target = args.output or root / "site-archive.zip"
        digest = make_archive(out, target)
        print(
            f"已写出存档 {target}（网站 {report.files} 个文件，{target.stat().st_size / 1024 / 1024:.1f} MB）。{summary(report.diagnostics)}。"
        )
        print(f"清单 MANIFEST.sha256 的 SHA-256 摘要：{digest}")
        print("请把这个摘要另行保存或公布：日后用 python -m generator verify 存档 --expect 摘要 即可证明存档未被改动。")
        return EXIT_OK
    if args.command == "verify":
        from .archive import verify

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
