"""serve: build, serve public/ on localhost, and rebuild whenever a source file changes."""

from __future__ import annotations

import functools
import http.server
import sys
import threading
import time
from pathlib import Path

from .diagnostics import UserError

WATCHED = ("site.toml", "data", "content", "templates")


def snapshot(root: Path) -> dict[str, int]:
    """Every source file's modification time and size: a change to any of them means rebuild."""
    state: dict[str, int] = {}
    for name in WATCHED:
        path = root / name
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for f in files:
            st = f.stat()
            state[str(f)] = st.st_mtime_ns ^ st.st_size
    return state


def rebuild(root: Path, out: Path) -> bool:
    from .build import build
    from .cli import print_diagnostics, summary

    try:
        report = build(root, out)
    except UserError as exc:
        print_diagnostics(exc.diagnostics, False, sys.stderr)
        print(f"{exc.message}。网页仍显示上一次成功生成的版本；改正后会自动重新生成。", file=sys.stderr)
        return False
    print(f"已重新生成 {report.pages} 个页面。{summary(report.diagnostics)}。", flush=True)
    return True


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


def serve(root: Path, out: Path, port: int) -> int:
    rebuild(root, out)
    if not out.is_dir():
        out.mkdir(parents=True)
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"预览地址：http://127.0.0.1:{port}/ （按 Ctrl+C 结束）", flush=True)
    state = snapshot(root)
    try:
        while True:
            time.sleep(1)
            now = snapshot(root)
            if now != state:
                state = now
                rebuild(root, out)
    except KeyboardInterrupt:
        print("已停止预览。")
    finally:
        server.shutdown()
    return 0
