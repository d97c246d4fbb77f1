"""The files a change touches, for `validate --format github --changed-from REV`.

GitHub shows at most 10 error and 10 warning annotations per step, so problems that were there before a pull
request (the bundled data alone has more than 10 warnings) would hide the ones it brings. With --changed-from only
the files changed since REV are annotated; every other problem is still printed, as a plain line of the log.

"Changed since REV" is what a pull request's "Files changed" shows: the difference between the merge base of REV
and HEAD, and the working tree (so uncommitted and untracked files count too when it is run locally).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from generator import HOME
from generator.core.diagnostics import Diagnostic, Loc, UserError


def _fail(message: str, where: str) -> UserError:
    return UserError("无法确定改动了哪些文件", [Diagnostic("error", Loc(where), message, "changed-from")])


def git(cwd: Path, *args: str, missing: UserError) -> subprocess.CompletedProcess:
    """`git args…` in `cwd`, its output captured; `missing` is raised where there is no git command."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise missing from None


def _git(site: Path, *args: str) -> subprocess.CompletedProcess:
    return git(site, *args, missing=_fail("找不到 git 命令：--changed-from 需要安装 git。", "git"))


def changed_files(site: Path, rev: str) -> set[str]:
    """Paths relative to the site folder (as diagnostics name them) of every file added, changed, removed or renamed
    (both names) since the merge base of `rev` and HEAD."""
    if _git(site, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise _fail(f"站点文件夹 {site} 不在 git 仓库中，无法比较“{rev}”以来改动的文件。", rev)
    if _git(site, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        raise _fail(
            f"“{rev}”不是这个仓库里的版本（分支名、标签或提交号）。请检查拼写，或先 git fetch"
            "（在 GitHub Actions 中 actions/checkout 要写 fetch-depth: 0）。",
            rev,
        )
    base = _git(site, "merge-base", rev, "HEAD")
    if base.returncode != 0:
        raise _fail(f"“{rev}”与当前版本没有共同的历史，无法确定改动了哪些文件。", rev)
    # -z: names as they are (otherwise git writes 表1 as "\350\241\250..."); --relative: from the site folder.
    diff = _git(site, "diff", "--name-only", "--no-renames", "--relative", "-z", base.stdout.decode().strip())
    untracked = _git(site, "ls-files", "--others", "--exclude-standard", "-z")
    names = (diff.stdout + untracked.stdout).decode("utf-8", errors="surrogateescape").split("\0")
    return {name for name in names if name}


def is_changed(path: str, changed: set[str]) -> bool:
    """A diagnostic's place is changed when it is a changed file, or a folder holding one (缺少 表2 … is reported
    on the year folder)."""
    if path in changed:
        return True
    folder = path.rstrip("/") + "/"
    return any(name.startswith(folder) for name in changed)


def changed_departments(site: Path, rev: str) -> set[str] | None:
    """The department folders (their names) with a file changed since `rev` (as changed_files has it), or None
    where a file every department's pages are made from changed: site.toml, data/ outside the departments'
    folders (the formats), content/, the templates, the generator's own code or its pinned versions. A change
    elsewhere (README.md, .github/) changes no page."""
    from generator.core.config import load_config

    config = load_config(site)
    shared = [config.templates_dir, config.data_dir, config.content_dir, HOME]
    shared = [folder.resolve() for folder in shared]
    departments = set()
    for rel in changed_files(site, rev):
        parts = rel.split("/")
        if parts[:2] == ["data", "departments"] and len(parts) > 3:
            departments.add(parts[2])
        elif rel in ("site.toml", "requirements.txt") or any(f in (site / rel).resolve().parents for f in shared):
            return None
    return departments
