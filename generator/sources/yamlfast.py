"""A fast reader for the plain YAML that data files are written in, giving exactly what yamlsrc.parse gives.

Even with libyaml, PyYAML builds two Python objects and calls back into Python for every value: about a
fifth of a department-year's build went into parsing its 27 files. Nearly every data file is the simplest
block YAML (`名称: 值` lines, nested by indentation, `- ` lists, `# 行1` comments, `|` texts), which can be
read line by line several times faster. This module reads that and nothing else: at the first thing it is
not certain of (a flow `[…]` or `{…}`, a folded `>` text, an anchor, a tag, a value running onto the next
line, a quoted text with an escape, a tab, a duplicate name, any syntax error) it gives up and yamlsrc uses
PyYAML, so errors are always reported the one way. tests/test_yamlfast.py compares the two on every bundled
file, the synthetic data and many generated variants: values, types, quoting and every line number.
"""

from __future__ import annotations

import re

from generator.sources.yamlnodes import NULLS, Map, Scalar, Seq

# Characters outside YAML's printable set, and those libyaml treats as line breaks or marks: left to PyYAML.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# A key or a value may not start with these (YAML indicators) in what this module reads.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_LITERAL = re.compile(r"\|-?(?: +#.*)? *$")  # `|` or `|-`, perhaps with a comment: a literal text on the lines below
GAVE_UP = object()  # what read() returns when PyYAML must read the text


class _GiveUp(Exception):
    pass


def read(text: str):
    """The value of `text` as yamlsrc.parse would give it (None for an empty document), or GAVE_UP."""
    if "\r" in text:  # saved on Windows: YAML reads "\r\n" as a line break, as "\n"; a lone "\r" is unusual
        text = text.replace("\r\n", "\n")
    if _UNUSUAL.search(text):
        return GAVE_UP
    raw = text.split("\n")
    lines = []  # (line number, indentation, the rest of the line), content lines only
    for number, line in enumerate(raw, start=1):
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            continue
        if line.startswith(("---", "...", "%")):
            return GAVE_UP
        lines.append((number, len(line) - len(body), body))
    if not lines:
        return None
    try:
        value, end = _block(lines, raw, 0, lines[0][1])
    except (_GiveUp, RecursionError):  # nested deeper than Python's stack: PyYAML's path says where
        return GAVE_UP
    return value if end == len(lines) else GAVE_UP


def _block(lines: list, raw: list, i: int, indent: int):
    body = lines[i][2]
    if body == "-" or body.startswith("- "):
        return _sequence(lines, raw, i, indent)
    return _mapping(lines, raw, i, indent)


def _key(body: str) -> tuple[str, str] | None:
    """(key, what follows its colon) of a `名称: 值` line, or None when the line is no such entry."""
    if body[0] in _INDICATORS:
        raise _GiveUp
    colon = body.find(": ")
    if colon < 0:
        if body[-1] != ":":
            return None
        colon = len(body) - 1
    key = body[:colon].rstrip(" ")
    if not key or " #" in key or len(key) > 1000:
        raise _GiveUp
    return key.strip(), body[colon + 1 :].lstrip(" ")


def _scalar(rest: str, number: int):
    """A value written on its line: plain, or quoted without escapes, then perhaps a comment."""
    first = rest[0]
    if first == '"' or first == "'":
        close = rest.find(first, 1)
        if close < 0:
            raise _GiveUp
        inner, tail = rest[1:close], rest[close + 1 :]
        if (first == '"' and "\\" in inner) or (tail and not _comment_only(tail)):
            raise _GiveUp
        return Scalar(inner, number, True)
    if first in _INDICATORS:
        raise _GiveUp
    comment = rest.find(" #")
    value = (rest if comment < 0 else rest[:comment]).rstrip(" ")
    if ": " in value or value[-1] == ":":
        raise _GiveUp
    return None if value in NULLS else Scalar(value, number)


def _comment_only(tail: str) -> bool:
    stripped = tail.lstrip(" ")
    return not stripped or (stripped[0] == "#" and len(stripped) < len(tail))


def _literal(raw: list, number: int, indent: int, strip: bool) -> tuple:
    """A `|` or `|-` text on the lines after line `number` (of a name at `indent`): (its value, the number of
    its last line). Leading blank lines, and blank lines holding more spaces than the text's indentation, are
    left to PyYAML."""
    parts: list[str] = []
    block = kept = 0
    end = number  # index in raw of the next line to look at
    while end < len(raw):
        line = raw[end]
        body = line.lstrip(" ")
        if not body:
            if not block or len(line) > block:
                raise _GiveUp
            parts.append("")
        else:
            at = len(line) - len(body)
            if not block:
                if at <= indent:
                    raise _GiveUp
                block = at
            elif at < block:
                break
            parts.append(line[block:])
            kept = len(parts)
        end += 1
    if not block:
        raise _GiveUp
    value = "\n".join(parts[:kept]) + ("" if strip else "\n")
    return (None if value in NULLS else Scalar(value, number)), end


def _mapping(lines: list, raw: list, i: int, indent: int):
    mapping = Map()
    mapping.line = lines[i][0]
    mapping.key_lines = key_lines = {}
    count = len(lines)
    while i < count and lines[i][1] == indent:
        number, _, body = lines[i]
        entry = _key(body)
        if entry is None:
            raise _GiveUp
        key, rest = entry
        if key in key_lines:
            raise _GiveUp  # PyYAML's path reports it
        i += 1
        if not rest or rest[0] == "#":
            if i < count and lines[i][1] > indent:
                value, i = _block(lines, raw, i, lines[i][1])
            else:
                value = None
        elif rest[0] == "|" and _LITERAL.match(rest):
            value, last = _literal(raw, number, indent, rest[1:2] == "-")
            while i < count and lines[i][0] <= last:
                i += 1
        else:
            value = _scalar(rest, number)
            if i < count and lines[i][1] > indent:
                raise _GiveUp  # a value running onto the next line, or a mistake
        key_lines[key] = number
        mapping[key] = value
    return mapping, i


def _sequence(lines: list, raw: list, i: int, indent: int):
    seq = Seq()
    seq.line = lines[i][0]
    seq.item_lines = item_lines = []
    count = len(lines)
    while i < count and lines[i][1] == indent:
        number, _, body = lines[i]
        if body[:2] != "- ":
            raise _GiveUp  # a name among the items, or a "-" with nothing after it
        content = body[2:].lstrip(" ")
        if not content or content[0] == "#" or content[0] == "-":
            raise _GiveUp
        if content[0] not in "\"'" and _key(content) is not None:
            lines[i] = (number, indent + len(body) - len(content), content)
            item, i = _mapping(lines, raw, i, lines[i][1])
        else:
            item = _scalar(content, number)
            i += 1
            if i < count and lines[i][1] > indent:
                raise _GiveUp
        seq.append(item)
        item_lines.append(number)
    return seq, i


__all__ = ["GAVE_UP", "read"]
