"""What the checks tell a user, and the one exception family for problems a user must fix.

Every message names a file and line, says in Chinese what is wrong with the figures involved, and what to do
(MkDocs' and Jinja's habit). The CLI turns these into exit codes; nothing else does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning", "note"]

LEVEL_WORDS: dict[str, str] = {"error": "错误", "warning": "警告", "note": "提示"}

# Problems found while reading a file (it cannot be parsed, a name or an amount is not one the format knows, a file
# is misnamed or missing, a figure is still blank). They are listed before the checks of sums, cross-table
# identities, names and the narrative, which they often cause: GitHub shows only the first 10 errors of a step, and
# the cause must be among them.
READ_CODES = frozenset(
    {
        "encoding",
        "yaml",
        "duplicate-key",
        "type",
        "unknown-file",
        "file-name",
        "missing-table",
        "unknown-row",
        "unknown-column",
        "unknown-key",
        "duplicate-row",
        "code",
        "not-amount",
        "places",
        "missing",
        "missing-total",
        "blank",
        "unknown-value",
        "slug",
        "year",
        "front-matter",
        "format",
        "config",
        "outside",
    }
)


# Characters a message would print invisibly, so two names that differ only by one look the same: shown by name.
INVISIBLE_NAMES = {
    "\u200b": "零宽空格",
    "\u200c": "零宽不连字",
    "\u200d": "零宽连字",
    "\u2060": "零宽不换行",
    "\ufeff": "零宽不换行空格（BOM）",
    "\u00ad": "软连字符",
    "\u00a0": "不换行空格",
}
_INVISIBLE = re.compile(
    "[\u00a0\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\x00-\x08\x0b-\x1f\x7f]"
)


def _named(match: re.Match) -> str:
    ch = match.group(0)
    name = INVISIBLE_NAMES.get(ch) or ("控制字符" if unicodedata.category(ch) == "Cc" else "不可见字符")
    return f"〔{name} U+{ord(ch):04X}〕"


def visible(text: str) -> str:
    """`text` with each invisible character written out by name and code point, e.g. 〔零宽空格 U+200B〕."""
    return _INVISIBLE.sub(_named, text)


@dataclass(frozen=True, slots=True, order=True)
class Loc:
    """A place in a source file: a path relative to the site folder, and a 1-based line (0: the whole file)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def __reduce__(self):  # the build cache keeps many; the dataclass default for slots is several times slower
        return Loc, (self.path, self.line)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    level: Level
    loc: Loc
    message: str
    code: str  # a stable id for the kind of problem, e.g. "sum", "unknown-key"; shown as the annotation title

    def __reduce__(self):
        return Diagnostic, (self.level, self.loc, self.message, self.code)

    def format(self) -> str:
        where = f"{self.loc}: " if self.loc.path else ""
        return f"{where}{LEVEL_WORDS[self.level]}：{visible(self.message)}"

    def sort_key(self) -> tuple:
        """Errors, then warnings, then notes; within each, read problems (READ_CODES) first; then by place."""
        phase = 0 if self.code in READ_CODES else 1
        return (("error", "warning", "note").index(self.level), phase, self.loc.path, self.loc.line, self.message)

    def annotation(self, path: str) -> str:
        """The problem as a GitHub Actions workflow command, so the pull request shows it at its line:
        `::error file=…,line=…,title=…::message` (docs.github.com, “Workflow commands for GitHub Actions”)."""
        props = [f"file={escape_property(path)}"]
        if self.loc.line:
            props.append(f"line={self.loc.line}")
        props.append(f"title={escape_property(f'{LEVEL_WORDS[self.level]}（{self.code}）')}")
        return f"::{ANNOTATION_COMMANDS[self.level]} {','.join(props)}::{escape_data(visible(self.message))}"


ANNOTATION_COMMANDS: dict[str, str] = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF are written %25, %0D, %0A (as @actions/core escapes them)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as a message, and : and , as %3A and %2C (they separate properties)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Diagnostics:
    """Collects problems as they are found: every check runs, nothing stops at the first error. A problem found
    twice (the same place, message and code) is kept, listed and counted once."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []  # in the order found, each once
        self._kept: set[Diagnostic] = set()
        self.uncounted: dict[str, int] = {}  # problems counted but not kept (a build keeps no rounding notes)

    def _add(self, d: Diagnostic) -> None:
        if d not in self._kept:
            self._kept.add(d)
            self.items.append(d)

    def error(self, loc: Loc, message: str, code: str) -> None:
        self._add(Diagnostic("error", loc, message, code))

    def warning(self, loc: Loc, message: str, code: str) -> None:
        self._add(Diagnostic("warning", loc, message, code))

    def note(self, loc: Loc, message: str, code: str) -> None:
        self._add(Diagnostic("note", loc, message, code))

    def extend(self, other: Diagnostics | list[Diagnostic]) -> None:
        for d in other.items if isinstance(other, Diagnostics) else other:
            self._add(d)

    def count(self, level: Level) -> int:
        return sum(1 for d in self.items if d.level == level) + self.uncounted.get(level, 0)

    @property
    def has_errors(self) -> bool:
        return any(d.level == "error" for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        # Sorted by severity, read problems before the checks they cause, then place.
        return sorted(self.items, key=Diagnostic.sort_key)


PER_FILE = 200  # messages listed for one file; a file with more (a pasted-in column, a broken format) says how many


def capped(diags: list[Diagnostic], per_file: int = PER_FILE) -> list[Diagnostic]:
    """`diags` (sorted) with at most `per_file` of each file's listed, then for each file that had more, one line
    saying how many more of each level it has. The counts in a summary still count every one."""
    seen: dict[str, int] = {}
    more: dict[str, dict[str, int]] = {}
    shown: list[Diagnostic] = []
    for d in diags:
        n = seen[d.loc.path] = seen.get(d.loc.path, 0) + 1
        if n <= per_file:
            shown.append(d)
        else:
            levels = more.setdefault(d.loc.path, {})
            levels[d.level] = levels.get(d.level, 0) + 1
    for path, levels in more.items():
        counts = "、".join(f"{n} 个{LEVEL_WORDS[level]}" for level, n in levels.items())
        worst = next(level for level in ("error", "warning", "note") if level in levels)
        message = f"这个文件还有 {counts}没有列出（每个文件只列出前 {per_file} 条）：改正上面的问题后重新运行，就会列出其余的。"
        shown.append(Diagnostic(worst, Loc(path), message, "more"))
    return shown


class UserError(Exception):
    """A problem in the user's input or command. Carries the diagnostics that explain it."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics or []


class CheckFailed(UserError):
    """The data has errors; the build wrote nothing."""
