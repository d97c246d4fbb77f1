"""serve: build, serve public/ on localhost, and rebuild whenever a source file changes."""

from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
import time
from pathlib import Path

from .diagnostics import UserError
from .scan import folder_entries, scan

WATCHED = ("site.toml", "data", "content", "templates")


def _stamp(path: str) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns ^ st.st_size


def snapshot(root: Path, out: Path | None = None, jobs: int = 1) -> dict:
    """What a rebuild is needed for a change of: the modification time and size of every source file outside the
    department folders (site.toml, formats, content, templates, also where site.toml puts them elsewhere), and
    the department folders as the build's own scan sees them (scan.py: stat only, on `jobs` processes), so that
    watching a province costs what its build with nothing changed costs, not a walk of 300,000 paths a second.
    The scan also looks for each department's pages in `out` (public/): one deleted by hand is made again."""
    from .build import page_outputs
    from .config import load_config

    departments = root / "data" / "departments"
    places = [root / name for name in WATCHED]
    outputs = None
    try:
        config = load_config(root)
        templates = config.templates_dir
        if not any(templates == p or p in templates.parents for p in places):
            places.append(templates)
        outputs = page_outputs(out or root / "public", config)
    except UserError:
        pass  # a broken site.toml is itself watched: the rebuild after it is fixed says what was wrong
    state: dict = {}
    for place in places:
        if place.is_file():
            state[str(place)] = _stamp(str(place))
        for folder, dirs, files in os.walk(place):
            if folder == str(departments):
                dirs.clear()  # scanned below
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                state[path] = _stamp(path)
    entries = folder_entries(departments) or []
    folders = [f"data/departments/{name}" for name, is_dir in entries if is_dir]
    state["data/departments/"] = (entries, scan(root, folders, jobs, outputs))
    return state


def sources(state: dict) -> dict:
    """A snapshot without where the scan found pages: what a rebuild is needed for (pages come and go with it)."""
    entries, scanned = state["data/departments/"]
    return {**state, "data/departments/": (entries, {rel: found[:2] for rel, found in scanned.items()})}


def rebuild(root: Path, out: Path, state: dict | None = None, warm: dict | None = None) -> bool:
    """Build, from the department folders as `state` (a snapshot taken just before) saw them, so they are not
    scanned twice; `warm` carries the build cache's index and what every unit shares from one rebuild to the
    next (build.build)."""
    from .build import build
    from .cli import print_diagnostics, summary

    try:
        report = build(root, out, scanned=state["data/departments/"][1] if state else None, warm=warm)
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
    from .build import default_jobs

    jobs = default_jobs()
    state = snapshot(root, out, jobs)  # before the build: a change made while it runs is seen afterwards
    warm: dict = {}
    rebuild(root, out, state, warm)
    if not out.is_dir():
        out.mkdir(parents=True)
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"预览地址：http://127.0.0.1:{port}/ （按 Ctrl+C 结束）", flush=True)
    pause = 1.0
    try:
        while True:
            time.sleep(pause)
            started = time.monotonic()
            now = snapshot(root, out, jobs)
            # At least once a second; on a province, whose look takes most of a second, a third of the time at
            # most, so that the watching does not slow the editing and the previewing.
            pause = max(1.0, 2 * (time.monotonic() - started))
            if sources(now) != sources(state):
                state = now
                rebuild(root, out, state, warm)
    except KeyboardInterrupt:
        print("已停止预览。")
    finally:
        server.shutdown()
    return 0
