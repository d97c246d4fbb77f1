"""The values read from YAML: str, dict and list that remember the line they were written on."""

from __future__ import annotations


class Scalar(str):
    """The text of a YAML scalar, with the line it is on. `quoted` is True for '…' and "…" scalars."""

    line: int
    quoted: bool

    def __new__(cls, text: str, line: int, quoted: bool = False) -> Scalar:
        obj = super().__new__(cls, text)
        obj.line = line
        obj.quoted = quoted
        return obj


class Map(dict):
    """A mapping from key text to value, remembering the line of every key and of the mapping itself."""

    line: int
    key_lines: dict[str, int]


class Seq(list):
    """A sequence, remembering the line of every item and of the sequence itself."""

    line: int
    item_lines: list[int]


NULLS = {"", "~", "null", "Null", "NULL"}
