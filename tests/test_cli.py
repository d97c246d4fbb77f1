"""The command line: every command explains itself, and `serve` rebuilds when a source file changes."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, TinySite

from generator.commands.cli import main


@pytest.mark.parametrize(
    "command,says",
    [
        ("build", "核对全部数据；没有错误时生成网站"),
        ("validate", "核对全部数据并列出每个问题"),
        ("serve", "有改动就重新生成"),
    ],
)
def test_every_command_has_help(command, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert says in capsys.readouterr().out


def test_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "build" in out and "validate" in out and "serve" in out and "部门决算公开网站生成器" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


# serve as a user starts it, and as it runs where watchdog cannot be imported (it then looks every second).
WITHOUT_WATCHDOG = (
    "import sys; sys.modules['watchdog'] = None; from generator.commands.cli import main; sys.exit(main())"
)


@pytest.mark.parametrize("notified", [True, False], ids=["notifications", "polling"])
def test_serve_rebuilds_when_a_source_changes(site: TinySite, tables, notified: bool):
    site.write_tables(tables)
    port = _free_port()
    start = ["-m", "generator"] if notified else ["-c", WITHOUT_WATCHDOG]
    proc = subprocess.Popen(
        [sys.executable, *start, "serve", "--site", str(site.root), "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        if notified:
            assert "改为每秒查看一次" not in _wait_for_line(proc, "预览地址")
        else:
            assert "注意：没有安装 watchdog，改为每秒查看一次全部文件" in _wait_for_line(proc, "改为每秒查看一次")
        assert "<title>测试站：" in _get(f"http://127.0.0.1:{port}/index.html")
        toml = site.root / "site.toml"
        toml.write_text(
            toml.read_text(encoding="utf-8").replace('title = "测试站"', 'title = "改过的站"'), encoding="utf-8"
        )
        _wait_for_line(proc, "已重新生成")
        assert "<title>改过的站：" in _get(f"http://127.0.0.1:{port}/index.html")
        # A mistake keeps the last good site and says what is wrong.
        tables[1]["收入"]["总计"] = "1.00"
        site.write_tables(tables)
        assert "仍显示上一次成功生成的版本" in _wait_for_line(proc, "仍显示上一次成功生成的版本")
        assert "<title>改过的站：" in _get(f"http://127.0.0.1:{port}/index.html")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for_line(proc: subprocess.Popen, needle: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"serve never said {needle!r}; it said: {''.join(seen)}")


def _templates_elsewhere(site: TinySite, tmp_path) -> Path:
    """A copy of the templates outside the site folder, named by site.toml's `templates`."""
    elsewhere = tmp_path / "shared-templates"
    shutil.copytree(REPO / "templates", elsewhere)
    toml = site.root / "site.toml"
    lines = [f'templates = "{elsewhere.as_posix()}"' if line.startswith("templates") else line
             for line in toml.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return elsewhere


def test_serve_sees_every_kind_of_source_change(site: TinySite, tables, tmp_path):
    """What serve compares each second changes with a department's file, a new year, the glossary, and templates
    kept outside the site folder (site.toml's `templates`); it stays the same when nothing changed."""
    from generator.builder.pipeline import build
    from generator.commands.serve import snapshot, sources

    site.write_tables(tables)
    elsewhere = _templates_elsewhere(site, tmp_path)
    state = snapshot(site.root)
    assert snapshot(site.root, jobs=2) == state
    build(site.root)
    assert sources(snapshot(site.root)) == sources(state)  # pages came: no source changed
    edits = [
        lambda: (site.year_dir() / "概况.yaml").write_text("单位职责: 改过\n", encoding="utf-8"),
        lambda: site.year_dir(year=2022),  # made by year_dir
        lambda: next((site.root / "content" / "glossary").glob("*.md")).write_text("改过\n", encoding="utf-8"),
        lambda: (elsewhere / "404.html").write_text("<html>改过</html>", encoding="utf-8"),
    ]
    for edit in edits:
        edit()
        now = snapshot(site.root)
        assert sources(now) != sources(state), edit
        state = now


def test_serve_notified_looks_again_only_at_what_changed(site: TinySite, tables, tmp_path):
    """After each kind of change, what serve knows from the operating system's notifications (a department's
    folder scanned again, or everything) equals a whole new look; a department's edit names only that
    department, so a province is not looked at whole for it. Building (reading data/, writing public/ and
    .build-cache/) is not a change."""
    from generator.builder.pipeline import build
    from generator.commands.serve import refresh, snapshot, start_watcher

    site.write_tables(tables)
    site.write("data/departments/other/部门.yaml", "名称: 另一个部门\n地区: 测试区\n")
    elsewhere = _templates_elsewhere(site, tmp_path)
    toml = site.root / "site.toml"
    watcher, why = start_watcher(site.root)
    assert watcher is not None, why
    try:
        state = snapshot(site.root)
        build(site.root)
        assert snapshot(site.root, jobs=2) == snapshot(site.root)  # folders opened, files stat'ed
        assert watcher.wait(1.0) == (False, set())
        year = site.year_dir()
        edits = [
            ("a figure", lambda: (year / "概况.yaml").write_text("单位职责: 改过\n", encoding="utf-8"), {"test-dept"}),
            ("an editor's save", lambda: _save_like_an_editor(year / "概况.yaml", "单位职责: 再改\n"), {"test-dept"}),
            ("a new year", lambda: site.write("data/departments/other/2023/概况.yaml", "单位职责: 新\n"), {"other"}),
            ("a touched file", lambda: os.utime(year / "概况.yaml", ns=(1, 1)), {"test-dept"}),
            ("a renamed file", lambda: (year / "概况.yaml").rename(year / "概况2.yaml"), {"test-dept"}),
            ("a new department", lambda: site.write("data/departments/new/部门.yaml", "名称: 新部门\n"), {"new"}),
            ("a removed year", lambda: shutil.rmtree(site.root / "data/departments/other/2023"), {"other"}),
            ("a removed department", lambda: shutil.rmtree(site.root / "data/departments/new"), {"new"}),
            ("the glossary", lambda: next((site.root / "content/glossary").glob("*.md")).write_text("改\n"), None),
            ("templates elsewhere", lambda: (elsewhere / "404.html").write_text("<html>改过</html>"), None),
            ("site.toml", lambda: toml.write_text(toml.read_text(encoding="utf-8") + "\n", encoding="utf-8"), None),
        ]
        for what, edit, named in edits:
            edit()
            woken, changed = _all_of_it(watcher)
            assert woken, what
            assert changed == named, what
            now = refresh(site.root, None, state, changed)
            assert now == snapshot(site.root), what
            assert now != state, what
            state = now
    finally:
        watcher.close()


def _save_like_an_editor(path, text: str) -> None:
    """A temporary file beside it, renamed over it (as vim, VS Code and most editors save)."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _all_of_it(watcher, seconds: float = 10.0):
    """What the watcher reports of one change, waiting out the stragglers of it (a slow machine may deliver a
    rename's second half after the first wait)."""
    woken, changed = watcher.wait(seconds)
    while woken:
        more, later = watcher.wait(0.3)
        if not more:
            break
        changed = None if changed is None or later is None else changed | later
    return woken, changed


def test_serve_looks_at_everything_when_notifications_were_lost(site: TinySite, tables):
    """watchdog says the kernel's queue overflowed (events dropped) only in its log: serve then looks at
    everything, whatever it had been told before."""
    from generator.commands.serve import start_watcher

    site.write_tables(tables)
    watcher, why = start_watcher(site.root)
    assert watcher is not None, why
    try:
        (site.year_dir() / "概况.yaml").write_text("单位职责: 改过\n", encoding="utf-8")
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost"
        )
        assert _all_of_it(watcher) == (True, None)
    finally:
        watcher.close()


def test_serve_keeps_showing_the_last_site_when_a_file_cannot_be_written(site: TinySite, tables, monkeypatch, capsys):
    """A full disk while serve rebuilds: it says so, keeps serving the last site, and builds again later."""
    import errno

    from generator.commands.serve import rebuild
    from generator.core import files

    site.write_tables(tables)
    out = site.root / "public"
    assert rebuild(site.root, out)
    home = (out / "index.html").read_bytes()
    toml = site.root / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("测试站", "改名的站"), encoding="utf-8")
    real = files._write_all

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "_write_all", full)
    capsys.readouterr()
    assert rebuild(site.root, out) is False
    err = capsys.readouterr().err
    assert "时出错：磁盘空间不足。" in err and err.rstrip().endswith("网页仍显示上一次成功生成的版本。")
    assert (out / "index.html").read_bytes() == home
    monkeypatch.setattr(files, "_write_all", real)
    assert rebuild(site.root, out)
    assert "改名的站" in (out / "index.html").read_text(encoding="utf-8")


def test_a_refusal_with_nothing_more_to_say_is_printed_once(monkeypatch, capsys):
    """A UserError that carries no diagnostics: its message once, not again as a count of no errors."""
    from generator.commands import cli
    from generator.core.diagnostics import UserError

    def refuse(args):
        raise UserError("输出文件夹正被另一个程序使用")

    monkeypatch.setattr(cli, "run", refuse)
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert err == "错误：输出文件夹正被另一个程序使用\n"
