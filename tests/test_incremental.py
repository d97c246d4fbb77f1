"""Incremental builds give exactly the bytes of a clean build; nothing changed writes nothing; --jobs changes
nothing but speed; a failed build leaves public/ as it was."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import REPO, load_script
from synthetic import make_site

from generator.builder.pipeline import BuildOptions, Warm, build
from generator.core.diagnostics import UserError


def tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_as_clean(site: Path, tmp: Path) -> None:
    """The site's public/ holds exactly the bytes a clean build of it gives (made in tmp/clean)."""
    clean_out = tmp / "clean"
    build(site, clean_out, BuildOptions(jobs=1, clean=True))
    assert tree(site / "public") == tree(clean_out)


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Two departments over two years, with the templates in the site (so a test may change one)."""
    site = make_site(tmp_path_factory.mktemp("base") / "site", departments=2, years=[2022, 2023], seed=11)
    shutil.copytree(REPO / "templates", site / "templates")
    toml = site / "site.toml"
    toml.write_text(
        "\n".join(line for line in toml.read_text(encoding="utf-8").splitlines() if not line.startswith("templates"))
        + "\n",
        encoding="utf-8",
    )
    build(site, options=BuildOptions(jobs=1))  # the state an incremental build starts from, with its cache
    return site


def copy(base: Path, tmp: Path) -> Path:
    site = tmp / "site"
    shutil.copytree(base, site, symlinks=True)
    return site


def edit_figure(site: Path, slug: str = "dept-00001") -> None:
    """Two items of 表6 公用经费 moved by 1.00 in opposite directions: every total still holds."""
    f = site / "data/departments" / slug / "2023/表6-一般公共预算财政拨款基本支出决算明细表.yaml"
    lines = f.read_text(encoding="utf-8").split("\n")
    start = lines.index("公用经费:")
    items = [i for i in range(start, len(lines)) if lines[i].startswith("  302") and lines[i][5:7] != " 商"][:2]
    for i, delta in zip(items, (Decimal("1.00"), Decimal("-1.00")), strict=True):
        key, value = lines[i].split(": ")
        lines[i] = f"{key}: {Decimal(value.replace(',', '')) + delta:,.2f}"
    f.write_text("\n".join(lines), encoding="utf-8")


def add_department(site: Path) -> None:
    extra = make_site(site.parent / "extra", departments=3, years=[2023], seed=99)
    shutil.copytree(extra / "data/departments/dept-00003", site / "data/departments/dept-00003")


def add_department_in_the_middle(site: Path) -> None:
    """A department whose folder sorts between two others: every later department-year moves in the search
    index's bitmaps."""
    extra = make_site(site.parent / "extra", departments=3, years=[2022, 2023], seed=98)
    shutil.copytree(extra / "data/departments/dept-00003", site / "data/departments/dept-00001-b")


def remove_year(site: Path) -> None:
    shutil.rmtree(site / "data/departments/dept-00002/2022")


def change_template(site: Path) -> None:
    f = site / "templates/table.html"
    f.write_text(f.read_text(encoding="utf-8").replace("全部九张表", "本年度全部九张表"), encoding="utf-8")


def change_glossary(site: Path) -> None:
    f = site / "content/glossary/jiben-zhichu.md"
    f.write_text(
        f.read_text(encoding="utf-8").replace("人员支出和公用支出", "人员支出和公用支出（测试改动）"), encoding="utf-8"
    )


EDITS = [edit_figure, add_department, add_department_in_the_middle, remove_year, change_template, change_glossary]
# How many department-years each edit must rebuild: only what depends on it. A template or the glossary is in
# every page; a removed year rebuilds nothing (its files go, the site's summaries are redone).
REBUILT = {edit_figure: 1, add_department: 1, add_department_in_the_middle: 2, remove_year: 0, change_template: 4,
           change_glossary: 4}  # fmt: skip


@pytest.mark.parametrize("edit", EDITS, ids=[e.__name__ for e in EDITS])
def test_incremental_build_equals_clean_build(base: Path, tmp_path: Path, edit):
    site = copy(base, tmp_path)
    edit(site)
    incremental = build(site, options=BuildOptions(jobs=2))
    assert_as_clean(site, tmp_path)
    assert incremental.rebuilt == REBUILT[edit]
    if edit is edit_figure:
        assert 0 < incremental.written < 40  # its own pages and files, and the site's summaries that show it


@pytest.mark.parametrize("grow", [True, False], ids=["more-shards", "fewer-shards"])
def test_the_search_index_shards_again_when_its_size_crosses_a_step(base: Path, tmp_path: Path, monkeypatch, grow):
    """The number of token shards follows the index's size: when an edit that touches only a few tokens moves
    it across a step (16 to 64 or back), every shard is written again and the ones no longer used go, as a
    clean build would leave them."""
    from generator.output import search

    site = copy(base, tmp_path)
    shards = sorted((site / "public/assets/search/t").glob("*.js"))
    assert len(shards) == 16
    size = sum(len(load_script(p, f'SEARCH_TOKENS["{p.stem}"]=')) for p in shards) * search.TOKEN_BYTES
    # Sixteen shards hold the base's index and not one token more.
    monkeypatch.setattr(search, "SHARD_BYTES", -(-size // 16))
    narrative = site / "data/departments/dept-00001/2023/情况说明.md"
    text = narrative.read_text(encoding="utf-8")
    paragraph = "\n\n本年度完成麒麟山片区档案整理。\n"
    if not grow:  # from the index with the paragraph, in 64 shards, back to 16 without it
        narrative.write_text(text + paragraph, encoding="utf-8")
        build(site, options=BuildOptions(jobs=1, clean=True))
        assert len(list((site / "public/assets/search/t").glob("*.js"))) == 64
    narrative.write_text(text + paragraph if grow else text, encoding="utf-8")
    report = build(site, options=BuildOptions(jobs=1))
    assert report.rebuilt == 1
    assert_as_clean(site, tmp_path)
    assert len(list((site / "public/assets/search/t").glob("*.js"))) == (64 if grow else 16)


def rename_department(site: Path, slug: str) -> None:
    """A department renamed in its 部门.yaml: the title of every page of its years changes (their order on the
    site, by folder, does not)."""
    f = site / "data/departments" / slug / "部门.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("局\n", "局（更名）\n", 1), encoding="utf-8")


@pytest.mark.parametrize("limit", [1, 40])
@pytest.mark.parametrize("slug", ["dept-00001", "dept-00002"])
def test_the_glossarys_lists_of_pages_kept_from_the_last_build_only_where_no_edit_reaches_them(
    base: Path, tmp_path: Path, monkeypatch, limit, slug
):
    """A term's page lists the first APPEARS_LIMIT pages it is on. An edit keeps the last build's list of a term
    whose list filled before the edited department-years, and makes the others again: here the titles of
    pages in those lists change, early in the site's order or late, with lists that fill at once (one page) or
    late."""
    from generator.builder import sitefiles as site_module

    monkeypatch.setattr(site_module, "APPEARS_LIMIT", limit)
    site = copy(base, tmp_path)
    build(site, options=BuildOptions(jobs=1, clean=True))
    before = tree(site / "public")
    rename_department(site, slug)
    read: list[str] = []  # the records the glossary's lists are made from
    appearances = site_module._appearances

    class Reading:
        def __init__(self, cache):
            self.cache = cache

        def record(self, key, fresh=False):
            read.append(key)
            return self.cache.record(key, fresh)

    def reading(work, *rest):
        return appearances(dataclasses.replace(work, cache=Reading(work.cache)), *rest)

    monkeypatch.setattr(site_module, "_appearances", reading)
    assert build(site, options=BuildOptions(jobs=1)).rebuilt == 2
    read_by_the_edit = list(read)
    clean_out = tmp_path / "clean"
    build(site, clean_out, BuildOptions(jobs=1, clean=True))
    after = tree(clean_out)
    assert tree(site / "public") == after
    reached = [p for p in after if p.startswith("glossary/") and p != "glossary/index.html" and after[p] != before[p]]
    if limit == 1 and slug == "dept-00002":  # every list filled on dept-00001's pages: kept, no record read
        assert not reached and read_by_the_edit == []
    else:
        assert reached  # the edit is in lists the build made again


def test_only_looks_at_the_departments_it_names_and_the_next_build_makes_up_the_rest(base: Path, tmp_path: Path):
    """`build --only`: the named department's edit is built, another department's edit is not looked at (its
    pages stay as they were), and the next build without it builds that one and gives a clean build's bytes."""
    site = copy(base, tmp_path)
    before = tree(site / "public")
    edit_figure(site, "dept-00001")
    edit_figure(site, "dept-00002")
    report = build(site, options=BuildOptions(jobs=1, only=["dept-00001"]))
    assert report.only == ["dept-00001"] and report.rebuilt == 1
    now = tree(site / "public")
    assert now["dept-00001/2023/table-6.html"] != before["dept-00001/2023/table-6.html"]
    assert {p: h for p, h in now.items() if p.startswith("dept-00002/")} == {
        p: h for p, h in before.items() if p.startswith("dept-00002/")
    }
    again = build(site, options=BuildOptions(jobs=1))
    assert again.only is None and again.rebuilt == 1
    assert_as_clean(site, tmp_path)


def test_only_with_its_department_unchanged_writes_nothing_but_finds_a_department_that_came(base: Path, tmp_path: Path):
    site = copy(base, tmp_path)
    before = stamps(site / "public")
    report = build(site, options=BuildOptions(jobs=1, only=["dept-00002"]))
    assert report.only == ["dept-00002"] and report.rebuilt == 0 and report.written == 0
    assert stamps(site / "public") == before
    add_department(site)  # not named, but new: there is nothing of it to keep
    assert build(site, options=BuildOptions(jobs=1, only=["dept-00002"])).rebuilt == 1
    assert_as_clean(site, tmp_path)


def test_only_looks_at_everything_where_there_is_no_last_build_to_go_by(base: Path, tmp_path: Path):
    """After a template changed every page is made again, and every department looked at: --only changes
    nothing, and says so (report.only is None)."""
    site = copy(base, tmp_path)
    edit_figure(site, "dept-00002")
    change_template(site)
    report = build(site, options=BuildOptions(jobs=1, only=["dept-00001"]))
    assert report.only is None and report.rebuilt == 4
    assert_as_clean(site, tmp_path)


def test_only_names_a_department_that_is_not_there(base: Path, tmp_path: Path):
    site = copy(base, tmp_path)
    before = stamps(site / "public")
    with pytest.raises(UserError) as raised:
        build(site, options=BuildOptions(jobs=1, only=["dept-00001", "dept-9"]))
    (problem,) = raised.value.diagnostics
    assert (
        problem.loc.path == "data/departments" and "dept-9" in problem.message and "dept-00001，" not in problem.message
    )
    assert stamps(site / "public") == before


def test_build_only_on_the_command_line_says_what_it_looked_at(base: Path, tmp_path: Path, capsys):
    from generator.commands.cli import main

    site = copy(base, tmp_path)
    edit_figure(site, "dept-00001")
    assert main(["build", "--site", str(site), "--jobs", "1", "--only", "dept-00001"]) == 0
    out = capsys.readouterr().out
    assert "这次重新生成 1 个" in out and "这次只查看了 dept-00001 的文件（--only）" in out
    assert main(["build", "--site", str(site), "--jobs", "1", "--clean", "--only", "dept-00001"]) == 0
    assert "--only 没有用上" in capsys.readouterr().out
    assert main(["build", "--site", str(site), "--only", "dept-9"]) == 1
    captured = capsys.readouterr()
    assert "data/departments: 错误：--only 写的 dept-9 不是这里的部门文件夹" in captured.err
    assert "未生成网站：1 个错误" in captured.err and "Traceback" not in captured.err + captured.out


def test_nothing_changed_writes_nothing(base: Path, tmp_path: Path):
    site = copy(base, tmp_path)
    build(site, options=BuildOptions(jobs=1))
    before = stamps(site / "public")
    report = build(site, options=BuildOptions(jobs=2))
    assert report.rebuilt == 0 and report.written == 0
    assert stamps(site / "public") == before


def test_touched_but_unchanged_files_are_not_rebuilt(base: Path, tmp_path: Path):
    site = copy(base, tmp_path)
    build(site, options=BuildOptions(jobs=1))
    for p in (site / "data/departments/dept-00001/2023").rglob("*.yaml"):
        p.touch()
    assert build(site, options=BuildOptions(jobs=1)).rebuilt == 0


def summary_parts(site: Path) -> dict[str, tuple[int, int]]:
    """The build cache's summaries/<nn>.pickle, with their inodes and modification times."""
    (folder,) = [p for p in (site / ".build-cache").iterdir() if (p / "summaries").is_dir()]
    return stamps(folder / "summaries")


def test_an_edit_writes_again_only_its_departments_part_of_the_summaries(base: Path, tmp_path: Path):
    """The cache keeps the department-years' Summaries in parts by department: a build after one department's
    edit writes that part, not the others (on a province, a third of a second saved)."""
    from generator.builder.cache import summary_part

    site = copy(base, tmp_path)
    mine, other = f"{summary_part('dept-00001'):02x}.pickle", f"{summary_part('dept-00002'):02x}.pickle"
    assert mine != other  # else this test could not tell them apart
    before = summary_parts(site)
    edit_figure(site)
    assert build(site, options=BuildOptions(jobs=1)).rebuilt == 1
    after = summary_parts(site)
    assert sorted(after) == sorted(before) and len(after) > 2
    assert [name for name in after if after[name] != before[name]] == [mine]


def test_touched_files_are_remembered_with_their_new_times(base: Path, tmp_path: Path):
    """After a `touch`, the department-year is not rebuilt, and the cache keeps its files' new times: the next
    build does not read them again to compare their bytes."""
    from generator.builder.cache import BuildCache, global_fingerprint
    from generator.builder.scan import unit_signature, unit_stats
    from generator.core.config import load_config

    site = copy(base, tmp_path)
    folder = "data/departments/dept-00001/2023"
    before = unit_signature(unit_stats(site, folder))
    for p in (site / folder).rglob("*.yaml"):
        p.touch()
    assert build(site, options=BuildOptions(jobs=1)).rebuilt == 0
    index = BuildCache(site, site / "public").load(global_fingerprint(site, load_config(site).templates_dir))
    now = unit_signature(unit_stats(site, folder))
    assert now != before and index.summaries["dept-00001-2023"].signature == now


def test_a_build_interrupted_before_its_index_was_written_is_followed_by_a_clean_builds_bytes(
    base: Path, tmp_path: Path, monkeypatch
):
    """A build stopped after it wrote public/ and a part of the summaries, but before index.pickle: the next build
    does not take that part with the old index (the part's token says which index it goes with), and gives a clean
    build's bytes, here after the edit was undone."""
    import os

    import generator.builder.cache
    from generator.core.config import load_config

    site = copy(base, tmp_path)
    overview = site / "data/departments/dept-00001/2023/概况.yaml"
    text = overview.read_text(encoding="utf-8")
    overview.write_text(text.replace("个科室。", "个科室，一个新词：甲乙丙丁戊。", 1), encoding="utf-8")
    replace = os.replace

    def stop_at_the_index(src, dst, *args, **kwargs):
        if str(dst).endswith("index.pickle"):
            raise KeyboardInterrupt
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(generator.builder.cache.os, "replace", stop_at_the_index)
    with pytest.raises(KeyboardInterrupt):
        build(site, options=BuildOptions(jobs=1))
    monkeypatch.setattr(generator.builder.cache.os, "replace", replace)
    fingerprint = generator.builder.cache.global_fingerprint(site, load_config(site).templates_dir)
    assert generator.builder.cache.BuildCache(site, site / "public").load(fingerprint) is None
    overview.write_text(text, encoding="utf-8")
    build(site, options=BuildOptions(jobs=1))
    assert_as_clean(site, tmp_path)


SPOILED = {
    "cut short": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: bytes(range(256)) * 8,
    "of another version": lambda data: data.replace(b"generator.", b"generatox."),  # its classes elsewhere
}


@pytest.mark.parametrize("spoil", list(SPOILED))
def test_a_cache_file_cut_short_garbled_or_of_another_version_is_a_miss(base: Path, tmp_path: Path, spoil):
    """What the cache holds cannot be read (a full disk cut it short, another version of the code wrote it): the
    build takes it for no cache and gives a clean build's bytes; a record or a search part cannot be read: none."""
    from generator.builder.cache import BuildCache, CacheDamaged, summary_part
    from generator.builder.records import Record, load_record

    site = copy(base, tmp_path)
    folder = BuildCache(site, site / "public").folder
    units = len(list((folder / "units").iterdir()))
    for name in ("quick.pickle", "index.pickle", f"summaries/{summary_part('dept-00001'):02x}.pickle"):
        shutil.copytree(base, site, symlinks=True, dirs_exist_ok=True)
        target = folder / name
        target.write_bytes(SPOILED[spoil](target.read_bytes()))
        if name == "quick.pickle":  # nothing changed, and the index still says what to reuse
            assert build(site, options=BuildOptions(jobs=1)).rebuilt == 0
        else:  # one department-year changed: with no cache to go by, every one is made again
            edit_figure(site)
            assert build(site, options=BuildOptions(jobs=1)).rebuilt == units, name
        assert_as_clean(site, tmp_path)
    record = folder / "units" / "dept-00001-2023.pickle"
    assert isinstance(load_record(folder / "units", "dept-00001-2023"), Record)
    record.write_bytes(SPOILED[spoil](record.read_bytes()))
    assert load_record(folder / "units", "dept-00001-2023") is None
    with pytest.raises(CacheDamaged):  # the last build's record of an unchanged department-year: no build from it
        BuildCache(site, site / "public").record("dept-00001-2023")
    edit_figure(site, "dept-00002")  # another department changed: a build reads dept-00001's record
    assert build(site, options=BuildOptions(jobs=1)).rebuilt == units  # ...and makes the site from the sources
    assert_as_clean(site, tmp_path)
    if spoil != "of another version":  # (a search part holds no class of ours: strings and bytes)
        search = next((folder / "search").iterdir())
        search.write_bytes(SPOILED[spoil](search.read_bytes()))
        with pytest.raises(CacheDamaged):  # its words would be missing from the search
            BuildCache(site, site / "public").search_part(int(search.stem, 16))


def test_a_bug_in_the_code_that_uses_what_the_cache_held_is_raised_not_taken_for_a_miss(
    base: Path, tmp_path: Path, monkeypatch
):
    """Only reading a cache file may fail quietly: a TypeError or an AttributeError once it has been read is a
    bug, which the build reports instead of building everything again as if there were no cache."""
    import generator.builder.cache
    from generator.core.config import load_config

    site = copy(base, tmp_path)
    cache = generator.builder.cache.BuildCache(site, site / "public")
    fingerprint = generator.builder.cache.global_fingerprint(site, load_config(site).templates_dir)
    assert cache.load(fingerprint) is not None and cache.load_outputs() is not None

    def bug(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(generator.builder.cache.BuildCache, "_home_is", bug)
    with pytest.raises(TypeError, match="a bug"):
        build(site, options=BuildOptions(jobs=1))
    with pytest.raises(TypeError, match="a bug"):
        generator.builder.cache.BuildCache(site, site / "public").load_outputs()

    def other_bug(self, index):
        raise AttributeError("another bug")

    monkeypatch.setattr(generator.builder.cache.BuildCache, "_describes_output", other_bug)
    with pytest.raises(AttributeError, match="another bug"):
        generator.builder.cache.BuildCache(site, site / "public").load_outputs()


def test_jobs_change_nothing_but_speed(base: Path, tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    build(base, one, BuildOptions(jobs=1, clean=True))
    build(base, two, BuildOptions(jobs=2, clean=True))
    assert tree(one) == tree(two)


def test_failed_incremental_build_leaves_public_as_it_was(base: Path, tmp_path: Path):
    site = copy(base, tmp_path)
    build(site, options=BuildOptions(jobs=1))
    before = tree(site / "public")
    f = site / "data/departments/dept-00001/2023/表1-收入支出决算总表.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("总计:", "总计: 1.00\n  旧总计:", 1), encoding="utf-8")
    with pytest.raises(UserError):
        build(site, options=BuildOptions(jobs=2))
    assert tree(site / "public") == before
    assert not [p for p in site.iterdir() if p.name.startswith(".public")]


def test_deleted_output_is_rebuilt(base: Path, tmp_path: Path):
    site = copy(base, tmp_path)
    build(site, options=BuildOptions(jobs=1))
    shutil.rmtree(site / "public" / "dept-00002")
    build(site, options=BuildOptions(jobs=1))
    assert_as_clean(site, tmp_path)


def test_an_edit_leaves_the_assets_alone_but_puts_back_one_deleted_by_hand(base: Path, tmp_path: Path):
    """The stylesheet, scripts and chart runtime are the last build's whenever there is one (the global
    fingerprint covers them): an edit's build does not write them again, yet one lost from public/ comes back."""
    site = copy(base, tmp_path)
    build(site, options=BuildOptions(jobs=1))
    assets = {p: s for p, s in stamps(site / "public").items() if p.startswith("assets/") and "/search/" not in p}
    assert "assets/vendor/vega-runtime.js" in assets and "assets/site.css" in assets
    edit_figure(site)
    build(site, options=BuildOptions(jobs=1))
    after = stamps(site / "public")
    assert {p: after[p] for p in assets} == assets
    (site / "public" / "assets" / "site.css").unlink()
    edit_figure(site)
    build(site, options=BuildOptions(jobs=1))
    assert_as_clean(site, tmp_path)


@pytest.mark.parametrize("edit", [change_template, change_glossary], ids=["template", "glossary"])
def test_a_change_in_every_page_rewrites_only_the_files_that_came_out_different(base: Path, tmp_path: Path, edit):
    """A template or the glossary shapes every page, so every department-year is made again; but public/ is
    not written anew and the old one deleted: the files that came out the same keep their inode and time, and
    what the build no longer makes (a file put there by hand among them) goes, as from a clean build."""
    site = copy(base, tmp_path)
    before = stamps(site / "public")
    hashes = tree(site / "public")
    (site / "public" / "dept-00001" / "stray.txt").write_text("not made by the build", encoding="utf-8")
    edit(site)
    report = build(site, options=BuildOptions(jobs=2))
    clean_out = tmp_path / "clean"
    build(site, clean_out, BuildOptions(jobs=1, clean=True))
    after, made = stamps(site / "public"), tree(clean_out)
    assert tree(site / "public") == made
    assert report.rebuilt == 4
    same = [p for p in made if hashes.get(p) == made[p]]
    changed = [p for p in made if hashes.get(p) != made[p]]
    assert any(p.endswith(".csv") for p in same) and changed  # the data files stay; the edited pages do not
    assert {p: after[p] for p in same} == {p: before[p] for p in same}
    assert all(after[p] != before.get(p) for p in changed)
    assert report.written == len(changed) + 1  # the stray file removed


def bundled_copy(tmp: Path) -> Path:
    site = tmp / "bundled"
    site.mkdir()
    for name in ("site.toml", "data", "content", "templates"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, site / name)
    return site


def test_nothing_changed_reports_what_the_last_build_found(tmp_path: Path):
    """A build with nothing changed reads only the scan and the cache's small report, yet says the same: every
    warning again, the same counts, and --strict still refuses the warnings."""
    site = bundled_copy(tmp_path)
    first = build(site, options=BuildOptions(jobs=1))
    again = build(site, options=BuildOptions(jobs=1))
    assert again.rebuilt == 0 and again.written == 0
    assert again.diagnostics.sorted() == first.diagnostics.sorted() and again.diagnostics.count("warning") == 16
    assert again.diagnostics.count("note") == first.diagnostics.count("note") > 0
    assert (again.pages, again.files, again.check_count, again.search_bytes) == (
        first.pages,
        first.files,
        first.check_count,
        first.search_bytes,
    )
    with pytest.raises(UserError) as strict:
        build(site, options=BuildOptions(jobs=1, strict=True))
    assert len([d for d in strict.value.diagnostics if d.level == "warning"]) == 16


def test_a_stray_file_among_the_departments_is_reported_after_a_build_with_nothing_changed(tmp_path: Path):
    site = bundled_copy(tmp_path)
    build(site, options=BuildOptions(jobs=1))
    (site / "data/departments/说明.txt").write_text("不是部门", encoding="utf-8")
    with pytest.raises(UserError) as failed:
        build(site, options=BuildOptions(jobs=1))
    assert [str(d.loc) for d in failed.value.diagnostics if d.level == "error"] == ["data/departments/说明.txt"]


def test_a_page_changed_by_hand_is_made_again(base: Path, tmp_path: Path):
    site = copy(base, tmp_path)
    home = site / "public/index.html"
    clean = home.read_bytes()
    home.write_bytes(clean.replace(b"</h1>", b"</h1><p>hand-edited</p>", 1))
    build(site, options=BuildOptions(jobs=1))
    assert home.read_bytes() == clean


def test_a_build_from_serves_scan_equals_clean_build(base: Path, tmp_path: Path):
    """serve hands the build the scan it watched with (the build does not scan again): after an edit, and after
    a department's pages were deleted by hand, the result is still a clean build's, and only the edited
    department-year is processed again."""
    from generator.commands.serve import snapshot

    site = copy(base, tmp_path)
    edit_figure(site)
    shutil.rmtree(site / "public" / "dept-00002")
    report = build(site, options=BuildOptions(jobs=1, scanned=snapshot(site)["data/departments/"][1]))
    assert_as_clean(site, tmp_path)
    assert report.rebuilt == 3  # the edited department-year, and dept-00002's two years whose pages went


def test_serve_rebuilds_from_the_index_it_kept_unless_another_build_wrote_one(base: Path, tmp_path: Path):
    """serve keeps the cache's index and what every unit shares between its rebuilds (BuildOptions.warm); a build
    by another process in between (a `build` in a second terminal) writes a new index.pickle, which is then
    read, not the kept one; a changed glossary is read again. Every rebuild gives a clean build's bytes."""
    from generator.commands.serve import snapshot

    site = copy(base, tmp_path)
    warm = Warm()

    def serve_rebuild():
        return build(site, options=BuildOptions(jobs=1, scanned=snapshot(site)["data/departments/"][1], warm=warm))

    def clean_tree():
        out = tmp_path / "clean"
        shutil.rmtree(out, ignore_errors=True)
        build(site, out, BuildOptions(jobs=1, clean=True))
        return tree(out)

    serve_rebuild()
    kept = warm.index
    add_department(site)
    assert serve_rebuild().rebuilt == 1
    assert tree(site / "public") == clean_tree()
    assert "dept-00003-2023" in warm.index.summaries and warm.index is not kept
    info = site / "data/departments/dept-00001/部门.yaml"
    info.write_text(info.read_text(encoding="utf-8").replace("名称: ", "名称: 改名后的", 1), encoding="utf-8")
    build(
        site, options=BuildOptions(jobs=1)
    )  # another process: dept-00001's new name is in its records and pages, and the new index
    remove_year(site)
    assert serve_rebuild().rebuilt == 0
    assert tree(site / "public") == clean_tree()
    change_glossary(site)  # what every unit shares changed: not taken from the last rebuild
    assert serve_rebuild().rebuilt == 4
    assert tree(site / "public") == clean_tree()


# Another process that holds the lock of `site`'s public/ (as a build writing it does) until its stdin closes.
HOLD_THE_LOCK = """
import sys
from pathlib import Path
from generator.builder.lock import output_lock
site = Path(sys.argv[1])
with output_lock(site / "public", lambda pid: print("waiting for", pid, flush=True)):
    print("held", flush=True)
    sys.stdin.readline()
"""


def hold_the_lock(site: Path, said: str = "held\n") -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(site)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout.readline() == said
    return holder


def lock_is_free(site: Path) -> bool:
    """Could a process that knows nothing of ours lock the file at the lock's path (making it, where it is not)?"""
    probe = "import sys, fcntl; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)"
    lock_file = site / ".public.lock"
    return subprocess.run([sys.executable, "-c", probe, str(lock_file)], capture_output=True).returncode == 0


def test_a_second_build_waits_until_the_first_has_finished_writing(base: Path, tmp_path: Path):
    """Two builds into one public/ at once (a `build` while serve rebuilds, or in a second terminal) would each
    write files and a cache that the other does not know of. The second one says what it waits for, writes
    nothing meanwhile, and when the first has finished gives a clean build's bytes."""
    site = copy(base, tmp_path)
    edit_figure(site)
    before = tree(site / "public")
    holder = hold_the_lock(site)
    try:
        second = subprocess.Popen(
            [sys.executable, "-m", "generator", "build", "--site", str(site), "--jobs", "1", "--quiet"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        said = second.stderr.readline()
        assert said == f"另一个生成（进程 {holder.pid}）正在写入 {site / 'public'}，等它完成后再开始……\n"
        time.sleep(3)  # longer than this build takes when it need not wait
        assert second.poll() is None
        assert tree(site / "public") == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "这次重新生成 1 个" in out
    assert_as_clean(site, tmp_path)


def test_serves_build_looks_again_after_waiting_for_another(base: Path, tmp_path: Path):
    """serve hands its build what it saw just before; when that build had to wait for another one, what it saw
    may be out of date by the time it starts, so it looks again. Here serve's look is from before an edit."""
    from generator.commands.serve import snapshot

    site = copy(base, tmp_path)
    seen = snapshot(site)["data/departments/"][1]
    edit_figure(site)
    holder = hold_the_lock(site)
    waited_for = []

    def waiting(pid):
        waited_for.append(pid)
        holder.stdin.close()  # the other build finishes

    try:
        report = build(site, options=BuildOptions(jobs=1, scanned=seen, waiting=waiting))
    finally:
        if not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=30)
    assert waited_for == [holder.pid]
    assert report.rebuilt == 1
    assert_as_clean(site, tmp_path)


def test_a_process_may_take_its_own_lock_again(base: Path, tmp_path: Path):
    """archive holds the lock across its build and its zip: the build inside takes it again, without waiting
    for itself; the lock is free for another process only once the outermost holder lets go."""
    from generator.builder.lock import output_lock

    site = copy(base, tmp_path)
    seen = []

    def archive_like() -> None:  # in a thread, so that a process waiting for itself fails the test, not hangs it
        with output_lock(site / "public") as waited:
            with output_lock(tmp_path / "site" / ".." / "site" / "public") as again:  # the same folder
                seen.append((waited, again))
            seen.append(build(site, options=BuildOptions(jobs=1)).rebuilt)
            seen.append(lock_is_free(site))

    worker = threading.Thread(target=archive_like, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the process waited for its own lock"
    assert seen == [(False, False), 0, False]
    assert lock_is_free(site)


def test_whoever_waited_holds_the_lock_though_its_file_was_removed_and_made_again(base: Path, tmp_path: Path):
    """The lock's file goes when it is let go. A process that was waiting then holds a file no longer at its
    path: it must lock the one there now, or a third process would lock that one and build alongside it."""
    site = copy(base, tmp_path)
    first = hold_the_lock(site)
    second = hold_the_lock(site, said=f"waiting for {first.pid}\n")
    try:
        first.stdin.close()
        first.wait(timeout=30)
        assert second.stdout.readline() == "held\n"
        assert not lock_is_free(site)
    finally:
        second.stdin.close()
        second.wait(timeout=30)
    assert lock_is_free(site)


def test_what_killed_builds_left_beside_public_and_its_cache_is_removed(base: Path, tmp_path: Path):
    """A build killed (power cut, kill -9) leaves its staging folder, or the old public/ it was deleting, beside
    the output and the cache: on a province, gigabytes each time. The next build, which holds the lock and so
    knows no other build is using them, removes them, even when nothing else changed."""
    from generator.builder.cache import BuildCache

    site = copy(base, tmp_path)
    cache = BuildCache(site, site / "public")
    key = cache.folder.name
    leftovers = [site / ".public.stage-4194301", site / ".public.old-17",
                 cache.folder.parent / f".{key}.stage-99", cache.folder.parent / f".{key}.old-3"]  # fmt: skip
    others = [site / ".public.stage-notes", site / ".publication.stage-1", cache.folder.parent / f".{key}.stage-"]
    for folder in leftovers + others:
        (folder / "dept-00001").mkdir(parents=True)
        (folder / "dept-00001" / "index.html").write_text("<html>", encoding="utf-8")
    assert build(site, options=BuildOptions(jobs=1)).written == 0
    assert [f for f in leftovers if f.exists()] == []
    assert all(f.exists() for f in others)  # not what a build names its folders


def break_a_sum(site: Path) -> None:
    """表1's 总计 of dept-00002 in 2022 one yuan off: an error, with a line number, that validate must report."""
    f = site / "data/departments/dept-00002/2022/表1-收入支出决算总表.yaml"
    lines = f.read_text(encoding="utf-8").split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith("  总计: "))
    key, value = lines[i].split(": ")
    lines[i] = f"{key}: {Decimal(value.replace(',', '')) + 1:,.2f}"
    f.write_text("\n".join(lines), encoding="utf-8")


def validate_output(site: Path, capsys, *options: str) -> tuple[int, str]:
    from generator.commands.cli import main

    capsys.readouterr()
    code = main(["validate", "--site", str(site), "--jobs", "1", *options])
    return code, capsys.readouterr().out


def test_validate_takes_what_the_last_build_checked_and_says_the_same(base: Path, tmp_path: Path, capsys,
                                                                      monkeypatch):  # fmt: skip
    """After a build, validate checks again only the department-years whose files changed (on a province, one
    instead of 10,000), and prints exactly what it prints with no build cache at all: the errors with their
    lines, the warnings, the number of checks and of rounding notes. --notes lists every note, so it checks all."""
    from generator.builder import units

    site = copy(base, tmp_path)
    break_a_sum(site)
    build(site, options=BuildOptions(jobs=1, allow_errors=True))  # the cache now holds an error as well
    edit_figure(site)  # dept-00001's 2023
    checked = []
    check_unit = units.check_unit
    monkeypatch.setattr(units, "check_unit", lambda shared, unit, diags, *more: checked.append(unit.key)
                        or check_unit(shared, unit, diags, *more))  # fmt: skip
    incremental = validate_output(site, capsys)
    assert checked == ["dept-00001-2023"]
    uncached = tmp_path / "uncached"
    shutil.copytree(site, uncached, ignore=shutil.ignore_patterns(".build-cache", "public"))
    checked.clear()
    assert validate_output(uncached, capsys) == incremental
    assert len(checked) == 4
    code, out = incremental
    assert code == 1 and "表1-收入支出决算总表.yaml:" in out and "错误" in out
    checked.clear()
    assert validate_output(site, capsys, "--notes") == validate_output(uncached, capsys, "--notes")
    assert len(checked) == 8  # every department-year, twice


def test_validate_out_takes_what_a_build_into_that_folder_checked(base: Path, tmp_path: Path, capsys, monkeypatch):
    """A site built into another folder (`build --out`): `validate --out` that folder takes its build's checks,
    as validate does public/'s; without it, there is no build of public/ to go by and it checks everything."""
    from generator.builder import units

    site = tmp_path / "site"
    shutil.copytree(base, site, ignore=shutil.ignore_patterns(".build-cache", "public"))
    out = tmp_path / "preview"
    build(site, out, BuildOptions(jobs=1))
    edit_figure(site)
    checked = []
    check_unit = units.check_unit
    monkeypatch.setattr(units, "check_unit", lambda shared, unit, diags, *more: checked.append(unit.key)
                        or check_unit(shared, unit, diags, *more))  # fmt: skip
    taken = validate_output(site, capsys, "--out", str(out))
    assert checked == ["dept-00001-2023"]
    checked.clear()
    assert validate_output(site, capsys) == taken and len(checked) == 4
    assert not (site / "public").exists()  # validate writes nothing


def test_validate_only_checks_the_named_departments_and_takes_the_rest_from_the_last_build(
    base: Path, tmp_path: Path, capsys, monkeypatch
):
    """`validate --only`: the named department's files are looked at and its edited year checked again, the
    others taken as the last build checked them; it lists the named department's problems and counts the
    others'. With a cache or without one (when it checks everything), it says the same."""
    from generator.builder import units
    from generator.commands.cli import main

    site = copy(base, tmp_path)
    break_a_sum(site)  # dept-00002's 2022
    build(site, options=BuildOptions(jobs=1, allow_errors=True))  # the cache holds that error
    edit_figure(site, "dept-00001")
    checked = []
    check_unit = units.check_unit
    monkeypatch.setattr(units, "check_unit", lambda shared, unit, diags, *more: checked.append(unit.key)
                        or check_unit(shared, unit, diags, *more))  # fmt: skip
    code, out = validate_output(site, capsys, "--only", "dept-00001")
    assert code == 0 and checked == ["dept-00001-2023"]
    said, last = out.rstrip("\n").rsplit("\n", 1)
    assert last.startswith("这次只查看了 dept-00001 的文件（--only）；其余部门按上次生成时的核对结果")
    assert "dept-00002/" not in said and "核对完成：2 个部门年度，" in said
    assert said.endswith("其余部门另有 3 个错误、0 个警告，未列出（不带 --only 运行 validate 可以看到）。")
    uncached = tmp_path / "uncached"
    shutil.copytree(site, uncached, ignore=shutil.ignore_patterns(".build-cache", "public"))
    checked.clear()
    code, out = validate_output(uncached, capsys, "--only", "dept-00001")
    assert len(checked) == 4 and code == 0 and out.startswith(said + "\n--only 没有用上")
    code, out = validate_output(site, capsys, "--only", "dept-00002")
    assert code == 1 and "data/departments/dept-00002/2022/表1-收入支出决算总表.yaml:" in out
    assert "其余部门另有" not in out and "核对完成：2 个部门年度，" in out
    edit_figure(site, "dept-00002")  # its 2023, not named: as the last build checked it
    checked.clear()
    assert validate_output(site, capsys, "--only", "dept-00001")[0] == 0 and checked == ["dept-00001-2023"]
    checked.clear()
    code, out = validate_output(site, capsys)
    assert code == 1 and "dept-00002/2022/表1-收入支出决算总表.yaml:" in out and "核对完成：4 个部门年度，" in out
    assert sorted(checked) == ["dept-00001-2023", "dept-00002-2023"]
    code, out = validate_output(site, capsys, "--notes", "--only", "dept-00001")
    assert code == 0 and out.rstrip().endswith(
        "--only 没有用上：没有上次生成的记录可以沿用（还没有生成过网站、加了 --notes，或模板、名词解释等改过），已查看全部部门。"
    )
    assert main(["validate", "--site", str(uncached), "--only", "dept-9"]) == 1
    err = capsys.readouterr().err
    assert "data/departments: 错误：--only 写的 dept-9 不是这里的部门文件夹" in err and "未核对：1 个错误" in err


def test_a_site_gets_its_own_glossary_even_where_a_freed_sites_memory_is_reused(monkeypatch):
    """A process building one site after another (the tests, serve) has the glossary's page list of each: it is
    kept by the Shared it is of (Shared.terms). It was once kept per process by id(): CPython gives a new object
    the address of one just freed, so a site loaded right after another, with another glossary, could get that
    one's terms (the one failure seen of the shards test above, right after the change_glossary edit, fits this).
    Here every id() is the same, as in such a reuse."""
    import builtins

    from generator.builder import units
    from generator.sources.records import GlossaryEntry

    def shared(term: str):
        return units.Shared(None, {}, {"x": GlossaryEntry("x", term, (), f"{term}的解释", "content/glossary/x.md")}, {})

    monkeypatch.setattr(builtins, "id", lambda obj: 1)
    first, second = shared("基本支出"), shared("项目支出")
    assert [t.term for t in first.terms] == ["基本支出"]
    assert [t.term for t in second.terms] == ["项目支出"]
    assert [t.term for t in first.terms] == ["基本支出"]
