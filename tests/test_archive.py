"""The offline archive: a zip that works unzipped anywhere, with a manifest that catches any change."""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from browsing import Visit, site_pages, wait_for_charts
from conftest import REPO

from generator.commands.cli import main


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("archive")
    target = folder / "site.zip"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["archive", "--site", str(REPO), "--out", str(folder / "public"), "--output", str(target)]) == 0
    digest = re.search(r"SHA-256 摘要：([0-9a-f]{64})", out.getvalue()).group(1)
    return target, digest


def unzip(archive: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive) as z:
        z.extractall(into)
    return into


def verify(*args: str, capsys) -> tuple[int, str]:
    code = main(["verify", *args])
    return code, capsys.readouterr().out


def test_archive_holds_the_site_a_manifest_and_a_readme(archive):
    target, digest = archive
    with zipfile.ZipFile(target) as z:
        names = z.namelist()
        manifest = z.read("MANIFEST.sha256")
    assert names == sorted(names)
    assert "site/index.html" in names and "README.txt" in names and "site/assets/search/site.js" in names
    assert hashlib.sha256(manifest).hexdigest() == digest
    listed = {line.split("  ", 1)[1] for line in manifest.decode().splitlines()}
    assert listed == set(names) - {"MANIFEST.sha256"}


def test_intact_archive_verifies(archive, capsys):
    target, digest = archive
    code, out = verify(str(target), "--expect", digest, capsys=capsys)
    assert code == 0 and out.startswith("核对通过：") and digest in out


def test_unzipped_copy_verifies_with_this_program_and_with_sha256sum(archive, tmp_path, capsys):
    folder = unzip(archive[0], tmp_path / "copy")
    assert verify(str(folder), capsys=capsys)[0] == 0
    if shutil.which("sha256sum"):  # what an archivist has without this program
        subprocess.run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=folder, check=True)


def test_any_change_is_reported(archive, tmp_path, capsys):
    folder = unzip(archive[0], tmp_path / "copy")
    page = folder / "site" / "luohu-quweiban" / "2023" / "table-1.html"
    data = bytearray(page.read_bytes())
    data[data.index(b"4,285.39")] ^= 0x01  # one byte: 4 → 5
    page.write_bytes(bytes(data))
    (folder / "site" / "about.html").unlink()
    (folder / "site" / "extra.html").write_text("added", encoding="utf-8")
    code, out = verify(str(folder), capsys=capsys)
    assert code == 1
    assert out.splitlines()[:3] == [
        "已改动：site/luohu-quweiban/2023/table-1.html",
        "缺少：site/about.html",
        "多出：site/extra.html",
    ]
    assert "核对未通过：1 个文件被改动，1 个文件缺少，1 个文件多出。" in out


def test_a_changed_manifest_is_caught_by_its_published_digest(archive, tmp_path, capsys):
    folder = unzip(archive[0], tmp_path / "copy")
    page = folder / "site" / "index.html"
    page.write_text(page.read_text(encoding="utf-8") + "<!-- -->", encoding="utf-8")
    manifest = folder / "MANIFEST.sha256"
    lines = [
        f"{hashlib.sha256(page.read_bytes()).hexdigest()}  site/index.html"
        if line.endswith("  site/index.html")
        else line
        for line in manifest.read_text(encoding="utf-8").splitlines()
    ]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")  # a forger updates the manifest too
    assert verify(str(folder), capsys=capsys)[0] == 0  # consistent with itself…
    code, out = verify(str(folder), "--expect", archive[1], capsys=capsys)
    assert code == 1 and "清单摘要不符" in out  # …but not with the digest published when it was made


def test_not_an_archive(tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert main(["verify", str(bad)]) == 1
    assert "不是有效的 zip 文件" in capsys.readouterr().err


def test_archive_is_byte_identical_across_builds(archive, tmp_path, capsys):
    again = tmp_path / "again.zip"
    assert main(["archive", "--site", str(REPO), "--out", str(tmp_path / "public"), "--output", str(again)]) == 0
    capsys.readouterr()
    assert again.read_bytes() == archive[0].read_bytes()


@pytest.mark.browser
def test_unzipped_archive_works_from_file_with_the_network_blocked(browser, archive, tmp_path):
    site = unzip(archive[0], tmp_path / "unzipped") / "site"
    visit = Visit(browser, offline=True)
    visit.context.route(re.compile(r"^(?!file:).*"), lambda route: route.abort())
    pages = site_pages(site)
    assert len(pages) > 50
    charts = 0
    for path in pages:
        page = visit.open(path)
        if page.locator("figure.chart").count():  # every chart drawn from the archive's own runtime
            for d in wait_for_charts(page):
                assert d["state"] == "drawn" and d["svg"] == 1 and d["marks"] >= d["rows"] > 0, f"{path}: {d}"
                charts += 1
        assert not visit.problems, f"{path.relative_to(site)}: {visit.problems}"
        assert all(u.startswith(site.as_uri() + "/") for u in visit.requests), visit.requests
        visit.requests.clear()
    # home's 3 and 2023's list's 3; the office's 6 and 2; the bureau's 2 and 2 (test_charts.BUNDLED_CHARTS)
    assert charts == 18
    page = visit.open(site / "index.html")
    page.fill("#site-q", "档案")
    page.press("#site-q", "Enter")
    page.wait_for_selector("#search-results li")
    assert "档案管理事务" in page.inner_text("#search-results")
    table = visit.open(site / "luohu-quweiban" / "2023" / "table-3.html")
    href = table.locator("p.downloads a", has_text="CSV").get_attribute("href")
    assert (site / "luohu-quweiban" / "2023" / href).resolve().is_file()
    visit.close()
