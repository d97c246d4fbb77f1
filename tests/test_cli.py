"""The command line: every command explains itself, and `serve` rebuilds when a source file changes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import REPO, TinySite

from generator.cli import main


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


def test_serve_rebuilds_when_a_source_changes(site: TinySite, tables):
    site.write_tables(tables)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--site", str(site.root), "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert "预览地址" in _wait_for_line(proc, "预览地址")
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


def test_serve_sees_every_kind_of_source_change(site: TinySite, tables, tmp_path):
    """What serve compares each second changes with a department's file, a new year, the glossary, and templates
    kept outside the site folder (site.toml's `templates`); it stays the same when nothing changed."""
    from generator.build import build
    from generator.serve import snapshot, sources

    site.write_tables(tables)
    elsewhere = tmp_path / "shared-templates"
    shutil.copytree(REPO / "templates", elsewhere)
    toml = site.root / "site.toml"
    lines = [f'templates = "{elsewhere.as_posix()}"' if line.startswith("templates") else line
             for line in toml.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
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
