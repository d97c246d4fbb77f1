"""The package's folders are its pipeline: each stage imports only from the stages below it, and no two modules
import each other, however indirectly. Read from the code with `ast`, lazy imports inside functions included."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "generator"

# Lowest first. A module may import from its own stage and the stages before it in this list.
STAGES = ["core", "sources", "checks", "model", "output", "builder", "commands"]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every generator module that `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("generator"):
            for alias in node.names:  # `from generator.output import charts` imports a module, not a name
                sub = f"{node.module}.{alias.name}"
                found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() else node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; write `from generator.… import …`")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("generator")}
    return found - {"generator"}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def stage(module: str) -> int | None:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) >= 2 and parts[1] in STAGES else None


def test_every_module_is_in_a_stage():
    loose = [m for m in graph() if stage(m) is None and m not in ("generator", "generator.__main__")]
    assert not loose, f"modules outside the stage folders {STAGES}: {loose}"


def test_no_module_imports_from_a_stage_above_its_own():
    upward = [
        f"{m} ({STAGES[stage(m)]}) imports {t} ({STAGES[stage(t)]})"
        for m, targets in graph().items()
        for t in sorted(targets)
        if stage(m) is not None and stage(t) is not None and stage(t) > stage(m)
    ]
    assert not upward, "\n".join(upward)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of two or more modules (Tarjan), or one that imports itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges.get(v, ()):
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    edges = graph()
    found = cycles(edges)
    described = [
        " ↔ ".join(group) + ": " + "; ".join(f"{a} → {b}" for a in group for b in sorted(edges[a]) if b in group)
        for group in found
    ]
    assert not found, "\n".join(described)


def test_the_checks_find_what_they_look_for():
    """The cycle finder and the stage rule on a made-up graph, so a test above cannot pass by finding nothing."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert stage("generator.output.render") > stage("generator.model.site") > stage("generator.core.money")
    assert "generator.core.money" in graph()["generator.output.charts"]


NOTHING_CHANGED = """
import sys
from pathlib import Path
from generator.commands.cli import main
code = main(["build", "--site", sys.argv[1], "-q"])
print("exit", code)
print("loaded", *sorted(m for m in sys.modules if m.startswith("generator")))
"""

# What a build with nothing changed may import: the command line, the settings, the scan and the build cache's
# quick check. Checks, models, pages, charts, search and their libraries stay unloaded.
NOTHING_CHANGED_NEEDS = {
    "generator",
    "generator.builder",
    "generator.builder.cache",
    "generator.builder.lock",
    "generator.builder.pipeline",
    "generator.builder.pool",
    "generator.builder.scan",
    "generator.builder.stage",
    "generator.commands",
    "generator.commands.cli",
    "generator.commands.progress",
    "generator.commands.report",
    "generator.core",
    "generator.core.config",
    "generator.core.diagnostics",
    "generator.core.files",
    "generator.sources",
    "generator.sources.folders",
}


def test_a_build_with_nothing_changed_imports_only_what_it_needs(tmp_path):
    site = tmp_path / "site"
    for part in ("data", "content", "templates"):
        shutil.copytree(PACKAGE.parent / part, site / part)
    shutil.copy(PACKAGE.parent / "site.toml", site / "site.toml")
    first = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--site", str(site), "-q"], cwd=PACKAGE.parent, check=False
    )
    assert first.returncode == 0
    run = subprocess.run(
        [sys.executable, "-c", NOTHING_CHANGED, str(site)],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    said = dict(line.split(" ", 1) for line in run.stdout.splitlines() if line.startswith(("exit ", "loaded ")))
    assert said["exit"] == "0"
    loaded = said["loaded"].split()
    extra = set(loaded) - NOTHING_CHANGED_NEEDS
    assert not extra, f"a build with nothing changed imported {sorted(extra)}"
    assert "generator.builder.pipeline" in loaded  # the probe really ran a build


def test_every_stage_of_the_code_is_in_the_build_fingerprint(tmp_path):
    """A change to any module, in any stage's folder, makes every page again: the build cache's fingerprint
    covers the whole package, not only the folder the cache code is in."""
    from generator.builder.cache import global_fingerprint

    package = tmp_path / "generator"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    site = PACKAGE.parent
    before = global_fingerprint(site, site / "templates", package)
    assert global_fingerprint(site, site / "templates") == global_fingerprint(site, site / "templates", PACKAGE)
    for stage in STAGES:
        module = sorted((package / stage).glob("*.py"))[-1]
        original = module.read_bytes()
        module.write_bytes(original + b"\n# changed\n")
        assert global_fingerprint(site, site / "templates", package) != before, f"a change to {module.name} in {stage}/"
        module.write_bytes(original)
    assert global_fingerprint(site, site / "templates", package) == before


def test_a_pull_request_that_changes_any_stage_of_the_code_previews_every_department(monkeypatch):
    from generator.commands import git

    for stage in STAGES:
        module = sorted((PACKAGE / stage).glob("*.py"))[-1].relative_to(PACKAGE.parent).as_posix()
        monkeypatch.setattr(git, "changed_files", lambda site, rev, module=module: {module})
        assert git.changed_departments(PACKAGE.parent, "main") is None, module
    monkeypatch.setattr(git, "changed_files", lambda site, rev: {"README.md"})
    assert git.changed_departments(PACKAGE.parent, "main") == set()
