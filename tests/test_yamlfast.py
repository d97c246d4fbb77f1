"""The fast reader of plain YAML gives exactly what PyYAML gives, or gives up and lets PyYAML read the file.

Compared on every bundled YAML file, a synthetic site and thousands of generated variants of them (characters
YAML gives meaning to, indentation changed, lines repeated, cut or dropped): values, which are quoted, and the
line of every value, name and list item, since every message names a line.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from synthetic import make_site

from generator.core.diagnostics import UserError
from generator.sources import yamlfast
from generator.sources.yamlnodes import Map, Scalar, Seq
from generator.sources.yamlsrc import parse, parse_pyyaml

REPO = Path(__file__).resolve().parent.parent
ERROR = "error"


def shape(value):
    """Everything parse() gives that a reader of it can see: types, texts, quoting and lines."""
    if isinstance(value, Map):
        return ("map", value.line, [(k, value.key_lines[k], shape(v)) for k, v in value.items()])
    if isinstance(value, Seq):
        return ("seq", value.line, list(value.item_lines), [shape(v) for v in value])
    if isinstance(value, Scalar):
        return ("text", str(value), value.line, value.quoted)
    assert value is None
    return None


def by_pyyaml(text: str):
    try:
        return shape(parse_pyyaml(text, "x.yaml"))
    except UserError:
        return ERROR


def bundled() -> list[Path]:
    return sorted(p for folder in ("data", "content", "tests") for p in (REPO / folder).rglob("*.yaml"))


@pytest.fixture(scope="module")
def synthetic_files(tmp_path_factory) -> list[Path]:
    site = make_site(tmp_path_factory.mktemp("yaml") / "site", departments=2, years=[2022, 2023], seed=11)
    return sorted((site / "data" / "departments").rglob("*.yaml"))


def test_every_bundled_and_synthetic_file_reads_the_same(synthetic_files):
    files = bundled() + synthetic_files
    assert len(files) > 100
    fast = []
    for path in files:
        text = path.read_bytes().decode("utf-8-sig")
        value = yamlfast.read(text)
        if value is not yamlfast.GAVE_UP:
            assert shape(value) == by_pyyaml(text), path
            fast.append(path)
    # Department files, `|-` texts included, are what the fast reader is for: each of them is read by it.
    departments = [p for p in files if "departments" in p.parts]
    assert any(": |-" in p.read_text(encoding="utf-8-sig") for p in departments)
    assert [p for p in departments if p not in fast] == []


TOKENS = [":", ": ", " ", "#", " #", '"', "'", "-", "- ", "\t", "[", "]", "{", "}", "|", " |", " |-", "|+", ">",
          " >-", "&", "*", "!", "%", "@", "`", "?", ",", "\\", "~", "null", "''", '""', "---", "...", "：", "a: b",
          "<<", "\n", "\n  ", "\n- ", "\n\n", "  \n", ":\n", "\r\n", "\u3000", "\x85", "\u2028", "\ufeff", "\x07"]  # fmt: skip


def variants(texts: list[str], count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        lines = rng.choice(texts).split("\n")
        for _ in range(rng.randint(1, 3)):
            k, op = rng.randrange(len(lines)), rng.random()
            if op < 0.5:
                at = rng.randint(0, len(lines[k]))
                lines[k] = lines[k][:at] + rng.choice(TOKENS) + lines[k][at:]
            elif op < 0.65:
                lines.insert(k, lines[rng.randrange(len(lines))])
            elif op < 0.8:
                lines[k] = " " * rng.randint(0, 6) + lines[k].lstrip(" ")
            elif op < 0.9:
                del lines[k]
            else:
                lines[k] = lines[k][: rng.randint(0, len(lines[k]))]
        yield ("\r\n" if rng.random() < 0.3 else "\n").join(lines)  # some as saved on Windows


def test_generated_variants_read_the_same_or_are_left_to_pyyaml(synthetic_files):
    texts = [p.read_bytes().decode("utf-8-sig") for p in bundled() + synthetic_files[:40]]
    read_fast = 0
    for text in variants(texts, 6000, seed=2026):
        value = yamlfast.read(text)
        if value is yamlfast.GAVE_UP:
            continue
        read_fast += 1
        assert shape(value) == by_pyyaml(text), text  # never a value where PyYAML finds an error
    assert read_fast > 1000  # the comparison covered many texts, not only the ones given up on


@pytest.mark.parametrize(
    "text",
    [
        "a: 1  # 行1\nb: '2'\nc: \"3 # not a comment\"\nd:\ne: ~\n",
        "# 注释\n\n收入:\n  一般公共预算财政拨款收入: 4,272.71  # 行1\n  本年收入合计: 4,272.71\n",
        "列表:\n  - 一\n  - 二: 2\n    三: 3\n  -   四: 4\n",
        "说明: |-\n  第一行\n\n  # 不是注释\n    缩进\n下一项: x\n",
        "说明: |\n  一\n  二\n\n\n尾: x",
        "a:b: c\nd: e:f\ng: h#i\n",
        "名称：值: x\n",
        "收入:\r\n  合计: 1  # 行1\r\n说明: |-\r\n  一\r\n\r\n  二\r\n",  # saved on Windows
    ],
)
def test_plain_yaml_is_read_fast_and_the_same(text):
    value = yamlfast.read(text)
    assert value is not yamlfast.GAVE_UP
    assert shape(value) == by_pyyaml(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # a duplicate name: PyYAML's path reports it
        "a: [1, 2]\n",
        "a: >-\n  folded\n",
        'a: "x\\ny"\n',
        "a: 第一行\n  接着写\n",  # a value running onto the next line
        "a:\n- 1\n",  # a list not indented under its name
        "a: &x 1\nb: *x\n",
        "a:\tb\n",
        "a: b: c\n",
        "  a: 1\nb: 2\n",
    ],
)
def test_anything_else_is_left_to_pyyaml(text):
    assert yamlfast.read(text) is yamlfast.GAVE_UP


def test_a_duplicate_name_is_still_reported_with_its_lines():
    with pytest.raises(UserError) as caught:
        parse("收入:\n  合计: 1\n  合计: 2\n", "表1.yaml")
    (problem,) = caught.value.diagnostics
    assert problem.loc.line == 3 and "第 2 行已有" in problem.message
