"""Hostile input and faults: settings that would defeat the checks or the links, figures too large to print,
archives damaged or left half-written. Each case: the exit status, a message that names the file (and line)
and what to do, no traceback, and nothing published lost."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import DEPT, YEAR, TinySite, run_command

from generator.commands.cli import main

run = run_command


def set_in_toml(site: TinySite, line: str, section: str | None = None) -> int:
    """Add `line` to site.toml (under `section`, a new table at the end); returns its line number."""
    toml = site.root / "site.toml"
    text = toml.read_text(encoding="utf-8")
    if section is None:  # a top-level key goes before the first table
        head, sep, rest = text.partition("\n[")
        text = f"{head}\n{line}\n{sep.lstrip(chr(10))}{rest}" if sep else f"{text}{line}\n"
        text = text.replace(f"\n{line}\n[", f"\n{line}\n\n[")
    else:
        text = f"{text.rstrip()}\n\n[{section}]\n{line}\n"
    toml.write_text(text, encoding="utf-8")
    return text.splitlines().index(line) + 1


@pytest.mark.parametrize("value", ['"1000000"', '"0"', '"-0.005"', '"NaN"', '"1"'])
def test_a_rounding_bound_that_would_pass_every_sum_is_refused(site: TinySite, tables, capsys, value):
    site.write_tables(tables)
    line = set_in_toml(site, f"rounding = {value}", "checks")
    code, text = run(site, "validate", capsys=capsys)
    assert code == 1
    assert f"site.toml:{line}: 错误：[checks] rounding" in text, text
    assert "应大于 0、不超过 0.5" in text


def test_a_sane_rounding_bound_is_taken(site: TinySite, tables, capsys):
    site.write_tables(tables)
    set_in_toml(site, 'rounding = "0.5"', "checks")
    code, text = run(site, "validate", capsys=capsys)
    assert code == 0, text


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)//", "data:text/html,<script>alert(1)</script>", "//evil.example/", "ftp://x.org/"]
)
def test_a_base_url_that_is_not_a_web_address_is_refused_and_nothing_is_written(site: TinySite, tables, capsys, url):
    site.write_tables(tables)
    toml = site.root / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"https://example.org/"', f'"{url}"'), encoding="utf-8")
    line = next(i for i, t in enumerate(toml.read_text(encoding="utf-8").splitlines(), 1) if t.startswith("base_url"))
    code, text = run(site, "build", capsys=capsys)
    assert code == 1
    assert f"site.toml:{line}: 错误：base_url" in text and "https://" in text, text
    assert not (site.root / "public").exists()


def test_a_figure_too_long_to_be_an_amount_is_named_at_its_line(site: TinySite, tables, capsys):
    tables[1]["收入"]["总计"] = "1" * 27
    site.write_tables(tables)
    code, text = run(site, "build", capsys=capsys)
    rel = site.table_rel(1)
    assert code == 1
    assert f"{rel}:{site.line_of(rel, '1' * 27)}: 错误：" in text and "位数太多" in text, text


def test_the_largest_amount_allowed_still_prints(site: TinySite, tables, capsys):
    """15 whole digits and 2 places: a sum check on it formats its difference without a decimal error."""
    tables[1]["收入"]["总计"] = "999,999,999,999,999.00"
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    assert code == 1  # the total no longer agrees with its parts: an error of the data, reported as one
    assert "999,999,999,999,999.00" in text


# -- archives --------------------------------------------------------------------------------------------------


@pytest.fixture
def archived(site: TinySite, tables, tmp_path, capsys) -> Path:
    site.write_tables(tables)
    target = tmp_path / "site.zip"
    code, text = run(site, "archive", "--output", str(target), capsys=capsys)
    assert code == 0, text
    return target


def corrupt_member(archive: Path, name: str) -> None:
    """Flip a byte in the middle of one member's compressed data, as a bad disk or a broken copy would."""
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo(name)
    data = bytearray(archive.read_bytes())
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    archive.write_bytes(bytes(data))


def test_verify_names_a_corrupt_member_of_the_zip(archived, capsys):
    corrupt_member(archived, "site/index.html")
    code = main(["verify", str(archived)])
    text = capsys.readouterr().out
    assert code == 1
    assert "已改动：site/index.html" in text, text
    assert "核对未通过：1 个文件被改动" in text


def test_verify_refuses_a_corrupt_manifest_by_name(archived, capsys):
    corrupt_member(archived, "MANIFEST.sha256")
    code = main(["verify", str(archived)])
    out = capsys.readouterr()
    assert code == 1
    assert "MANIFEST.sha256 已损坏" in out.err, out


def test_a_killed_archives_half_written_zip_is_removed_by_the_next(site: TinySite, tables, tmp_path, capsys):
    site.write_tables(tables)
    target = tmp_path / "site.zip"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".site.zip.tmp-{int(gone.stdout)}"  # its process has ended: nothing is writing it
    dead.write_bytes(b"PK\x03\x04 half a zip")
    running = tmp_path / f".site.zip.tmp-{os.getppid()}"  # a live process's: it may still be writing
    running.write_bytes(b"PK\x03\x04 being written")
    code, text = run(site, "archive", "--output", str(target), capsys=capsys)
    assert code == 0, text
    assert not dead.exists()
    assert running.exists()
    assert zipfile.ZipFile(target).testzip() is None


# -- a build killed at any step of changing public/ --------------------------------------------------------------

KILLER = """
import os, sys
from generator.builder import stage
from generator.commands.cli import main

step, stop = [0], int(sys.argv[1])

def counted(real):
    def call(*args, **kwargs):
        step[0] += 1
        if step[0] == stop:
            os._exit(9)  # as kill -9 would: no finally, no clean-up
        return real(*args, **kwargs)
    return call

os.replace, os.rename = counted(os.replace), counted(os.rename)
stage._exchange = counted(stage._exchange)
code = main(sys.argv[2:])
print("steps", step[0])
sys.exit(code)
"""


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def killed_build(site: TinySite, stop: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(stop), "build", "--site", str(site.root), "-q", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )


def build_quietly(site: TinySite, *args: str) -> int:
    run = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--site", str(site.root), "-q", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode


@pytest.mark.parametrize("how", ["incremental", "clean"])
def test_a_build_killed_at_any_step_leaves_the_old_site_or_the_new_one(site: TinySite, tables, tmp_path, how):
    """Killed at each rename of its commit in turn, then followed by the same build, by the old data again, or by
    data with an error: public/ is always one whole build, and the one the data says once a build succeeds."""
    public = site.root / "public"
    old_tables = tables
    new_tables = copy.deepcopy(tables)
    new_tables[9]["决算数"].update({"公务接待费": "2.50", "合计": "8.50"})  # 表9 of tiny_year: 2.00 and 8.00
    site.write_tables(old_tables)
    assert build_quietly(site) == 0
    old = tree(public)
    saved = tmp_path / "saved"  # the old site and its cache, put back before each kill
    for name in ("public", ".build-cache"):
        shutil.copytree(site.root / name, saved / name, symlinks=True)
    site.write_tables(new_tables)
    expected = tmp_path / "expected"
    assert build_quietly(site, "--out", str(expected)) == 0
    new = tree(expected)
    assert new != old
    extra = ("--clean",) if how == "clean" else ()
    stop, finished = 1, False
    while not finished:
        for then in ("again", "old data", "an error"):
            for name in ("public", ".build-cache"):
                shutil.rmtree(site.root / name, ignore_errors=True)
                shutil.copytree(saved / name, site.root / name, symlinks=True)
            site.write_tables(new_tables)
            run = killed_build(site, stop, *extra)
            finished = run.returncode == 0
            if finished:
                assert tree(public) == new
                break
            assert run.returncode == 9, run.stderr
            if then == "again":
                assert build_quietly(site) == 0
                assert tree(public) == new, f"killed at step {stop}, then built again"
            elif then == "old data":
                site.write_tables(old_tables)
                assert build_quietly(site) == 0
                assert tree(public) == old, f"killed at step {stop}, then built with the old data"
            else:
                broken = {**new_tables, 1: {**new_tables[1], "收入": {**new_tables[1]["收入"], "总计": "999.00"}}}
                site.write_tables(broken)
                assert build_quietly(site) == 1
                assert tree(public) in (old, new), f"killed at step {stop}, then a build that failed its checks"
            leftovers = [p.name for p in site.root.iterdir() if p.name.startswith(".public.")]
            assert leftovers == [], f"killed at step {stop}: {leftovers} left beside public/"
        stop += 1
    assert stop > 3  # the build was really killed at several steps before it got through


# -- messages ----------------------------------------------------------------------------------------------------


def test_an_invisible_character_in_a_name_is_shown_by_name(site: TinySite, tables, capsys):
    """A zero-width space pasted into a row name: the message must not print two names that look the same."""
    tables[1]["收入"]["一般公共预算财政\u200b拨款收入"] = tables[1]["收入"].pop("一般公共预算财政拨款收入")
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    assert code == 1
    assert "“一般公共预算财政〔零宽空格 U+200B〕拨款收入”" in text, text
    assert "\u200b" not in text


@pytest.mark.parametrize("folder", ["0023", "２０２３", "9999"])
def test_a_year_folder_that_is_not_a_year_is_named_as_written(site: TinySite, tables, capsys, folder):
    site.write_tables(tables)
    (site.dept_dir("test-dept") / folder).mkdir()
    code, text = run(site, "validate", capsys=capsys)
    assert code == 1
    assert f"年度文件夹“{folder}”不是一个年份：请用四位半角数字的年份命名，如 2023。" in text, text
    assert " 23 年度" not in text


def test_a_message_without_a_file_has_no_empty_location(tmp_path, capsys):
    code = main(["verify", str(tmp_path / "没有这个存档.zip")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[0].startswith("错误：找不到存档 "), err


def test_an_unknown_format_is_one_message_not_one_per_table_file(site: TinySite, tables, capsys):
    site.write_tables(tables)
    toml = site.root / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"shenzhen-2023"', '"shenzhen-2032"'), encoding="utf-8")
    code, text = run(site, "validate", capsys=capsys)
    errors = [line for line in text.splitlines() if "错误：" in line]
    assert code == 1
    assert len(errors) == 1, text
    assert "格式“shenzhen-2032”不存在：没有文件 data/formats/shenzhen-2032.yaml" in errors[0]


# -- YAML made to exhaust memory or the stack ----------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    "text,line,says",
    [
        (BOMB, 6, "展开别名"),  # nine levels of nine aliases: 387 million values if expanded
        ("收入: " + "[" * 100_000 + "]" * 100_000 + "\n", 1, "层次太深"),  # crashed libyaml's composer
        ("".join("  " * i + f"k{i}:\n" for i in range(3000)) + "  " * 3000 + "v: 1\n", 65, "层次太深"),
    ],
    ids=["alias-bomb", "deep-brackets", "deep-keys"],
)
def test_yaml_made_to_exhaust_memory_or_the_stack_is_refused_at_its_line(
    site: TinySite, tables, capsys, text, line, says
):
    site.write_tables(tables)
    rel = site.table_rel(1)
    site.write(rel, text)
    code, out = run(site, "validate", capsys=capsys)
    assert code == 1
    assert any(x.startswith(f"{rel}:{line}: 错误：") and says in x for x in out.splitlines()), out


# -- symbolic links out of the site ------------------------------------------------------------------------------

SECRET = "SECRET-0d1f"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder beside the site with a file no build may read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(f"{SECRET}\n收入: {SECRET}\n", encoding="utf-8")
    return folder


def built(site: TinySite, tables, capsys) -> dict[str, bytes]:
    """The tiny year built: public/ as it is before the link is made."""
    site.write_tables(tables)
    code, text = run(site, "build", capsys=capsys)
    assert code == 0, text
    return tree(site.root / "public")


def assert_refused(site: TinySite, rel: str, capsys, before: dict[str, bytes]) -> None:
    """validate and build both name the link and stop; nothing of the outside file is printed or published, and
    the site built before is still there, byte for byte."""
    for command in ("validate", "build"):
        code, text = run(site, command, capsys=capsys)
        assert code == 1, text
        assert f"{rel}: 错误：{rel} 是指向站点文件夹以外" in text, text
        assert SECRET not in text
    assert tree(site.root / "public") == before


def test_a_narrative_linked_out_of_the_site_is_refused(site: TinySite, tables, outside, capsys):
    before = built(site, tables, capsys)
    rel = f"data/departments/{DEPT}/{YEAR}/情况说明.md"
    (site.root / rel).symlink_to(outside / "secret.txt")
    assert_refused(site, rel, capsys, before)


def test_the_processes_environment_is_never_published(site: TinySite, tables, capsys, monkeypatch):
    monkeypatch.setenv("JUESUAN_PROBE", SECRET)
    before = built(site, tables, capsys)
    rel = f"data/departments/{DEPT}/{YEAR}/情况说明.md"
    (site.root / rel).symlink_to("/proc/self/environ")
    assert_refused(site, rel, capsys, before)


def test_a_table_linked_out_of_the_site_is_refused_without_quoting_it(site: TinySite, tables, outside, capsys):
    before = built(site, tables, capsys)
    rel = site.table_rel(1)
    (site.root / rel).unlink()
    (site.root / rel).symlink_to(outside / "secret.txt")
    assert_refused(site, rel, capsys, before)


@pytest.mark.parametrize("what", ["department", "year", "projects"])
def test_a_folder_linked_out_of_the_site_is_refused(site: TinySite, tables, outside, capsys, what):
    before = built(site, tables, capsys)
    year = site.year_dir()
    if what == "department":
        shutil.copytree(site.dept_dir(DEPT), outside / "dept")
        link = site.root / "data/departments/linked-dept"
        link.symlink_to(outside / "dept")
    elif what == "year":
        shutil.move(year, outside / "year")
        link = year
        link.symlink_to(outside / "year")
    else:
        (outside / "projects").mkdir()
        (outside / "projects" / "secret.yaml").write_text(f"项目名称: {SECRET}\n", encoding="utf-8")
        link = year / "项目"
        link.symlink_to(outside / "projects")
    assert_refused(site, link.relative_to(site.root).as_posix(), capsys, before)


def test_a_link_that_stays_inside_the_site_is_read(site: TinySite, tables, capsys):
    site.write_tables(tables)
    rel = site.table_rel(1)
    shared = site.root / "data" / "shared-table1.yaml"
    shutil.move(site.root / rel, shared)
    (site.root / rel).symlink_to(shared)
    code, text = run(site, "build", capsys=capsys)
    assert code == 0, text


# -- serve's HTTP side -----------------------------------------------------------------------------------------


@pytest.fixture
def preview(tmp_path):
    import threading

    from generator.commands.preview import PreviewServer

    folder = tmp_path / "public"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>首页</title>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    server = PreviewServer(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, path: str) -> tuple[int, dict, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


@pytest.mark.parametrize("path", ["/%00", "/index.html%00.txt", "/%ff%fe", "/..%5csecret.txt", "/%5c..%5csecret.txt"])
def test_serve_answers_a_bad_request_with_400_and_prints_nothing(preview, capfd, path):
    status, headers, body = get(preview, path)
    assert status == 400
    assert SECRET.encode() not in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and err == ""


def test_serve_sends_the_pages_policy_and_nosniff_as_headers(preview, site: TinySite, tables, capsys):
    from generator.commands.preview import CONTENT_SECURITY_POLICY

    status, headers, body = get(preview, "/index.html")
    assert status == 200 and "首页" in body.decode("utf-8")
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert get(preview, "/../secret.txt")[0] == 404  # the folder's files only
    site.write_tables(tables)
    code, _ = run(site, "build", capsys=capsys)
    assert code == 0
    page = (site.root / "public" / "index.html").read_text(encoding="utf-8")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">' in page


def test_a_file_with_thousands_of_problems_lists_the_first_and_counts_the_rest(site: TinySite, tables, capsys):
    tables[1]["收入"].update({f"不存在的行{i}": "1.00" for i in range(1000)})
    site.write_tables(tables)
    code, text = run(site, "validate", capsys=capsys)
    rel = site.table_rel(1)
    listed = [line for line in text.splitlines() if line.startswith(f"{rel}:") and "不存在的行" in line]
    assert code == 1
    assert len(listed) == 200
    more = [line for line in text.splitlines() if line.startswith(f"{rel}: 错误：这个文件还有 ")]
    assert more == [
        f"{rel}: 错误：这个文件还有 800 个错误没有列出（每个文件只列出前 200 条）：改正上面的问题后重新运行，就会列出其余的。"
    ]
    assert "1000 个错误" in text.splitlines()[-1]  # the count is of every one


@pytest.mark.parametrize("linked", ["static/leak.txt", "page.html"])
def test_a_template_linked_out_of_the_templates_is_refused(site: TinySite, tables, outside, capsys, linked):
    templates = site.root / "templates"
    shutil.copytree(Path(__file__).resolve().parent.parent / "templates", templates)
    toml = site.root / "site.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("templates")) + "\n", encoding="utf-8"
    )
    if linked == "page.html":  # a template Jinja would read: the page template itself
        (templates / "page.html").unlink()
    (templates / linked).symlink_to(outside / "secret.txt")
    site.write_tables(tables)
    code, out = run(site, "build", capsys=capsys)
    assert code == 1
    assert f"templates/{linked} 是指向站点文件夹以外" in out, out
    assert not (site.root / "public").exists()


def test_diff_names_a_link_out_of_the_site_and_never_reads_it(tmp_path, outside, capsys, monkeypatch):
    """A reviewer's diff of a change that adds such a link: the new error is listed; the linked file is not read,
    not even to hash it (a folder's files are hashed as git hashes them: a link as the text of its target)."""
    repo = Path(__file__).resolve().parent.parent
    old, new = tmp_path / "old", tmp_path / "new"
    for site in (old, new):
        for part in ("data", "content"):
            shutil.copytree(repo / part, site / part)
        shutil.copy(repo / "site.toml", site / "site.toml")
    rel = "data/departments/luohu-quweiban/2023/情况说明.md"
    (new / rel).unlink()
    (new / rel).symlink_to(outside / "secret.txt")
    opened = []
    real_open = open

    def watching(file, *args, **kwargs):
        opened.append(os.path.realpath(file) if isinstance(file, str | os.PathLike) else file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watching)
    monkeypatch.setattr("io.open", watching)
    code = main(["diff", str(old), str(new), "--site", str(old), "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{rel}: 错误：{rel} 是指向站点文件夹以外" in out, out
    assert str(outside / "secret.txt") not in [str(p) for p in opened]
    assert SECRET not in out


@pytest.mark.parametrize("damaged", ["search", "units"])
def test_a_damaged_cache_file_the_index_counts_on_means_a_build_from_the_sources(
    site: TinySite, tables, capsys, damaged
):
    """One flipped byte in a search part or an unchanged department-year's record: the next build is neither an
    internal error nor a site with words missing from its search; it is the site a clean build makes."""
    site.write_tables(tables)
    other = "other-dept"
    site.write(f"data/departments/{other}/部门.yaml", "名称: 另一个部门\n地区: 测试区\n")
    site.write_tables(tables, other)
    assert run(site, "build", capsys=capsys)[0] == 0
    cache = next(p for p in (site.root / ".build-cache").iterdir() if (p / "index.pickle").exists())
    # Every search part (the edit below touches some of them), or the unchanged department-year's record.
    victims = (
        sorted((cache / "search").glob("*.pickle"))
        if damaged == "search"
        else [cache / "units" / f"{other}-{YEAR}.pickle"]
    )
    for victim in victims:
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    site.write(f"data/departments/{DEPT}/部门.yaml", "名称: 测试部门（改名）\n地区: 测试区\n")  # the other is unchanged
    code, text = run(site, "build", capsys=capsys)
    assert code == 0, text
    expected = site.root.parent / "expected"
    assert run(site, "build", "--clean", "--out", str(expected), capsys=capsys)[0] == 0
    assert tree(site.root / "public") == tree(expected)
    assert "测试部门（改名）" in (site.root / "public" / "index.html").read_text(encoding="utf-8")


def test_validate_after_a_damaged_record_checks_everything_again(site: TinySite, tables, capsys):
    """validate reads an unchanged department-year's record where its codes' names clash with another's: that
    record damaged, everything is checked again, with the same result, instead of an internal error."""
    other = "other-dept"
    site.write(f"data/departments/{other}/部门.yaml", "名称: 另一个部门\n地区: 测试区\n")
    for slug, name in ((DEPT, "测试科目"), (other, "另一个名字")):  # a code the catalogue lacks, named two ways
        text = json.dumps(tables, ensure_ascii=False).replace("2120801 征地和拆迁补偿支出", f"2120899 {name}")
        site.write_tables({int(no): body for no, body in json.loads(text).items()}, slug)
    assert run(site, "build", "--allow-errors", capsys=capsys)[0] == 1  # published, its cache kept
    code, clean = run(site, "validate", capsys=capsys)
    assert code == 1 and "2120899" in clean, clean
    cache = next(p for p in (site.root / ".build-cache").iterdir() if (p / "index.pickle").exists())
    for record in (cache / "units").glob("*.pickle"):
        record.write_bytes(b"")
    site.write(f"data/departments/{DEPT}/部门.yaml", "名称: 测试部门\n地区: 测试区\n\n")  # a change, same meaning
    code, text = run(site, "validate", capsys=capsys)
    assert code == 1
    assert text.splitlines()[-1] == clean.splitlines()[-1]
    assert [x for x in text.splitlines() if "2120899" in x] == [x for x in clean.splitlines() if "2120899" in x]
