"""serve: build, serve public/ on localhost, and rebuild whenever a source file changes.

It learns of changes from the operating system (watchdog: inotify on Linux, FSEvents on macOS,
ReadDirectoryChangesW on Windows) and looks again only at what changed: a department's folder when a file in it
changed, the whole site when anything else did, so that an edit on a province (300,000 files) is not followed by
a look at all of them. Every SAFETY_LOOK seconds, and whenever notifications may have been lost (the kernel's
queue overflowed), it still looks at everything; where notifications cannot be had (too many folders for the
system's limit, a file system that sends none), it looks at everything every second.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from generator.builder.scan import scan, scan_again, source_signatures
from generator.commands.preview import PreviewServer
from generator.core.diagnostics import UserError
from generator.sources.folders import department_folders, folder_entries

if TYPE_CHECKING:
    from generator.builder.pipeline import Warm

WATCHED = ("site.toml", "data", "content", "templates")
DEPARTMENTS = "data/departments"
SAFETY_LOOK = 30.0  # seconds between whole looks while notifications arrive
SETTLE = 0.05  # seconds to let the rest of an editor's save (temporary file, rename, attributes) arrive


def _stamp(path: str) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns ^ st.st_size


def _places(root: Path, out: Path | None) -> tuple[list[Path], tuple | None]:
    """Where the sources are (site.toml, data, content, templates, and the templates folder where site.toml puts
    it elsewhere), and the scan's `outputs` (build.page_outputs; None while site.toml is broken)."""
    from generator.builder.pipeline import page_outputs
    from generator.core.config import load_config

    places = [root / name for name in WATCHED]
    try:
        config = load_config(root)
    except UserError:
        return places, None  # a broken site.toml is itself watched: the rebuild after it is fixed says what was wrong
    templates = config.templates_dir
    if not any(templates == p or p in templates.parents for p in places):
        places.append(templates)
    return places, page_outputs(out or root / "public", config)


def snapshot(root: Path, out: Path | None = None, jobs: int = 1) -> dict:
    """What a rebuild is needed for a change of: the modification time and size of every source file outside the
    department folders (site.toml, formats, content, templates, also where site.toml puts them elsewhere), and
    the department folders as the build's own scan sees them (scan.py: stat only, on `jobs` processes), so that
    watching a province costs what its build with nothing changed costs, not a walk of 300,000 paths a second.
    The scan also looks for each department's pages in `out` (public/): one deleted by hand is made again."""
    departments = root / DEPARTMENTS
    places, outputs = _places(root, out)
    state = _others(places, departments)
    entries = folder_entries(departments) or []
    state[DEPARTMENTS + "/"] = (entries, scan(root, department_folders(entries), jobs, outputs))
    return state


def _others(places: list[Path], departments: Path) -> dict:
    """The stamps of every source file outside the department folders."""
    state: dict = {}
    for place in places:
        if place.is_file():
            state[str(place)] = _stamp(str(place))
        for folder, dirs, files in os.walk(place):
            if folder == str(departments):
                dirs.clear()  # scanned on their own
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                state[path] = _stamp(path)
    return state


def refresh(root: Path, out: Path | None, state: dict, changed: set[str] | None, jobs: int = 1) -> dict:
    """The snapshot after the changes a Watcher reported, from `state` (the snapshot before them): the
    departments named in `changed`, and any that came or went, scanned again, the others as they were; with
    `changed` None (something outside the department folders changed, or notifications were lost), a whole
    snapshot. Equal to snapshot(root, out) when every change was reported."""
    if changed is None:
        return snapshot(root, out, jobs)
    entries = folder_entries(root / DEPARTMENTS) or []
    scanned = scan_again(root, entries, state[DEPARTMENTS + "/"][1], changed, _places(root, out)[1])
    return {**state, DEPARTMENTS + "/": (entries, scanned)}


class Watcher:
    """What changed under the source folders since the last `wait`, as the operating system reports it: the
    names of departments whose folders changed, or None for "look at everything" (a change outside the
    department folders, or notifications lost). Reading a file is not a change; public/ and .build-cache/ are
    not watched, so a rebuild does not wake it."""

    def __init__(self, root: Path, places: list[Path]) -> None:
        from watchdog import events
        from watchdog.observers import Observer

        self.root = os.path.abspath(root)
        self._departments = os.path.join(self.root, *DEPARTMENTS.split("/")) + os.sep
        self._lock = threading.Lock()
        self._changed: set[str] | None = set()
        self._woken = threading.Event()
        watcher = self

        class Handler(events.FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                watcher._note(os.fsdecode(event.src_path))
                if event.dest_path:
                    watcher._note(os.fsdecode(event.dest_path))

        self._overflow = _Overflow(self)
        self.observer = Observer()
        handler = Handler()
        # Changes only: the kernel is not asked for opening and reading (IN_OPEN, IN_CLOSE_NOWRITE), so a build
        # reading 300,000 files, or a whole look opening 22,000 folders, does not flood its queue.
        changes = ("Created", "Deleted", "Modified", "Moved", "Attrib")
        kinds = [getattr(events, f"{what}{kind}Event") for what in ("File", "Dir") for kind in changes]
        kinds.append(events.FileClosedEvent)
        # site.toml and the folders themselves being made or removed, then each folder that exists, whole.
        self.observer.schedule(handler, self.root, recursive=False, event_filter=kinds)
        for place in places:
            if place.is_dir():
                self.observer.schedule(handler, os.path.abspath(place), recursive=True, event_filter=kinds)
        logging.getLogger("watchdog").addHandler(self._overflow)
        try:
            self.observer.start()
        except BaseException:
            self.close()
            raise

    def _note(self, path: str) -> None:
        with self._lock:
            if path.startswith(self._departments):
                if self._changed is not None:
                    self._changed.add(path[len(self._departments) :].split(os.sep, 1)[0])
            elif path + os.sep == self._departments:
                pass  # a department came or went: refresh lists the folder again in any case
            elif path == self.root:
                return  # the site folder's own entries changed: those that matter are reported on their own
            elif os.path.dirname(path) != self.root or os.path.basename(path) in WATCHED:
                self._changed = None  # anything else under the watched places, or site.toml, data/ …
            else:
                return  # another file beside site.toml (public/, .build-cache/, .git/, an editor's backup …)
        self._woken.set()

    def lost(self) -> None:
        with self._lock:
            self._changed = None
        self._woken.set()

    def wait(self, timeout: float) -> tuple[bool, set[str] | None]:
        """(whether anything was reported within `timeout` seconds, what changed): once something arrives, the
        rest of the same save is waited for a moment and taken with it."""
        if not self._woken.wait(timeout):
            return False, set()
        time.sleep(SETTLE)
        with self._lock:
            changed, self._changed = self._changed, set()
            self._woken.clear()
        return True, changed

    @property
    def alive(self) -> bool:
        return self.observer.is_alive()

    def close(self) -> None:
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=5)
        logging.getLogger("watchdog").removeHandler(self._overflow)


class _Overflow(logging.Handler):
    """watchdog reports a full kernel queue only in its log: events were dropped, so look at everything."""

    def __init__(self, watcher: Watcher) -> None:
        super().__init__(logging.WARNING)
        self.watcher = watcher

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.watcher.lost()


def start_watcher(root: Path) -> tuple[Watcher | None, str]:
    """A Watcher, or None and why not (watchdog missing, the system's limit on watched folders reached …)."""
    try:
        return Watcher(root, _places(root, None)[0]), ""
    except ImportError:
        return None, "没有安装 watchdog"
    except OSError as exc:
        return None, f"系统拒绝监视文件夹（{exc.strerror or exc}；Linux 上可调大 fs.inotify.max_user_watches）"


def sources(state: dict) -> dict:
    """A snapshot without where the scan found pages: what a rebuild is needed for (pages come and go with it)."""
    entries, scanned = state[DEPARTMENTS + "/"]
    return {**state, DEPARTMENTS + "/": (entries, source_signatures(scanned))}


def rebuild(root: Path, out: Path, state: dict | None = None, warm: Warm | None = None) -> bool:
    """Build, from the department folders as `state` (a snapshot taken just before) saw them, so they are not
    scanned twice; `warm` carries the build cache's index and what every unit shares from one rebuild to the
    next (pipeline.Warm)."""
    from generator.builder.pipeline import BuildOptions, build
    from generator.commands.report import os_error_message, print_diagnostics, summary, waiting_for

    try:
        scanned = state[DEPARTMENTS + "/"][1] if state else None
        report = build(root, out, BuildOptions(waiting=waiting_for(out), scanned=scanned, warm=warm))
    except UserError as exc:
        print_diagnostics(exc.diagnostics, False, sys.stderr)
        print(f"{exc.message}。网页仍显示上一次成功生成的版本；改正后会自动重新生成。", file=sys.stderr)
        return False
    except OSError as exc:  # a full disk: serve goes on, and builds again at the next change
        print(f"{os_error_message(exc)}网页仍显示上一次成功生成的版本。", file=sys.stderr)
        return False
    print(f"已重新生成 {report.pages} 个页面。{summary(report.diagnostics)}。", flush=True)
    return True


def serve(root: Path, out: Path, port: int) -> int:
    from generator.builder.pipeline import Warm, default_jobs

    jobs = default_jobs()
    # Watching starts before the first look, and the look before the build: a change made meanwhile is seen.
    watcher, why = start_watcher(root)
    state = snapshot(root, out, jobs)
    warm = Warm()
    rebuild(root, out, state, warm)
    if not out.is_dir():
        out.mkdir(parents=True)
    server = PreviewServer(out, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"预览地址：http://127.0.0.1:{port}/ （按 Ctrl+C 结束）", flush=True)
    try:
        if watcher is None:
            print(f"注意：{why}，改为每秒查看一次全部文件。", flush=True)
            _poll(root, out, jobs, state, warm)
        else:
            _watch(root, out, jobs, state, warm, watcher)
    except KeyboardInterrupt:
        print("已停止预览。")
    finally:
        server.shutdown()
        if watcher is not None:
            watcher.close()
    return 0


def _watch(root: Path, out: Path, jobs: int, state: dict, warm: Warm, watcher: Watcher) -> None:
    """Rebuild on each change the operating system reports, looking again only at what it names; everything
    every SAFETY_LOOK seconds all the same (a page deleted from public/ by hand, a file system that missed one)."""
    last_whole = time.monotonic()
    while True:
        woken, changed = watcher.wait(max(0.0, last_whole + SAFETY_LOOK - time.monotonic()))
        if not watcher.alive:
            print("注意：文件改动通知已停止，改为每秒查看一次全部文件。", flush=True)
            _poll(root, out, jobs, state, warm)
            return
        if woken:
            now = refresh(root, out, state, changed, jobs)
        else:
            now, last_whole = snapshot(root, out, jobs), time.monotonic()
        if sources(now) != sources(state):
            state = now
            rebuild(root, out, state, warm)


def _poll(root: Path, out: Path, jobs: int, state: dict, warm: Warm) -> None:
    """Look at everything about once a second (where no notifications are to be had)."""
    pause = 1.0
    while True:
        time.sleep(pause)
        started = time.monotonic()
        now = snapshot(root, out, jobs)
        # At least once a second, and looking a third of the time at most (a province's look is long), so that
        # the watching does not slow the editing and the previewing.
        pause = max(1.0, 2 * (time.monotonic() - started))
        if sources(now) != sources(state):
            state = now
            rebuild(root, out, state, warm)
