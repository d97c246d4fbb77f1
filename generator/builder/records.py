"""What the build keeps of each department-year: the Summary the site-level pages use, and the Record of its
files, pages and search words that the next build compares with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from generator.checks.tables import STATUS_RANK, Status
from generator.core.diagnostics import Diagnostic, Loc
from generator.core.files import dump_pickle, load_pickle


@dataclass(frozen=True)
class ProjectPoint:
    name: str
    score: Decimal | None
    grade: str | None


class Projects:
    """A unit's projects as the site-level pages use them. The build cache's index keeps them as one string
    (with their counts) and they are unpacked only when a page goes through them: a province's index holds some
    150,000 projects, and the home page draws a few hundred."""

    __slots__ = ("_packed", "_points", "count", "scored")

    def __init__(self, points=()) -> None:
        self._points: tuple[ProjectPoint, ...] | None = tuple(points)
        self._packed: str | None = None
        self.count = len(self._points)
        self.scored = sum(1 for p in self._points if p.score is not None)  # with a known 自评得分

    @classmethod
    def unpack(cls, packed: str, count: int, scored: int) -> Projects:
        obj = cls.__new__(cls)
        obj._points, obj._packed, obj.count, obj.scored = None, packed, count, scored
        return obj

    @property
    def points(self) -> tuple[ProjectPoint, ...]:
        if self._points is None:
            self._points = tuple(
                ProjectPoint(name, None if score is None else Decimal(score), grade)
                for name, score, grade in json.loads(self._packed)
            )
        return self._points

    def __reduce__(self):
        if self._packed is None:
            rows = [[p.name, None if p.score is None else str(p.score), p.grade] for p in self._points]
            self._packed = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        return Projects.unpack, (self._packed, self.count, self.scored)

    def __iter__(self):
        return iter(self.points)

    def __len__(self) -> int:
        return self.count

    def __eq__(self, other) -> bool:
        return isinstance(other, Projects) and self.points == other.points


@dataclass
class Summary:
    """What the site-level pages and checks need from a unit. Small: the build cache's index keeps one per
    department-year and reads them all on every build, so nothing here grows with the unit's pages."""

    slug: str
    name: str
    region: str
    year: int
    url: str
    has_tables: bool = False
    has_overview: bool = False
    has_narrative: bool = False
    has_terms: bool = False
    published: bool = False  # rendered (its checks passed, or the build publishes despite errors)
    projects: Projects = field(default_factory=Projects)
    spending: Decimal | None = None  # 表1 本年支出合计, for the home page's comparison
    sangong: tuple[Decimal | None, Decimal | None] | None = None  # 表9 预算数 and 决算数 合计
    counts: dict[Status, int] = field(default_factory=dict)  # check results by status
    named: dict[str, str] = field(default_factory=dict)  # codes outside the catalogue → first name (consistent_names)
    mixed: frozenset[str] = frozenset()  # of those, the codes this unit itself gives more than one name
    diagnostics: list[Diagnostic] = field(default_factory=list)  # errors and warnings (notes only when kept)
    notes: int = 0  # notes (rounding) not kept in `diagnostics`
    page_count: int = 0
    file_count: int = 0
    dataset_count: int = 0
    term_counts: dict[str, int] = field(default_factory=dict)  # glossary slug → pages of this unit it is on
    search_bytes: int = 0
    signature: str = ""  # of the files it was made from (scan.unit_signature), set by the build

    @property
    def errors(self) -> bool:
        return any(d.level == "error" for d in self.diagnostics)

    @property
    def checks(self) -> int:
        return sum(self.counts.values())

    @property
    def project_count(self) -> int:
        return self.projects.count

    @property
    def worst(self) -> Status:
        return max(self.counts, key=STATUS_RANK.__getitem__, default="ok")


@dataclass
class Record:
    """The rest of what the build cache keeps of a unit, one file per unit, read only when the unit changed or a
    site-level file that lists its pages (sitemap, dataset index, glossary) has to be made again."""

    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # source file → (size, mtime_ns)
    digests: dict[str, str] = field(default_factory=dict)  # source file → digest of its bytes
    files: dict[str, str] = field(default_factory=dict)  # every file the unit wrote → its sha256
    tokens: frozenset[str] = frozenset()  # its words in the search index
    pages: list[tuple[str, str]] = field(default_factory=list)  # (url, title) of every page
    terms: dict[str, tuple[int, ...]] = field(default_factory=dict)  # glossary slug → indexes into pages
    datasets: list[tuple] = field(default_factory=list)  # (kind, title, unit, page, files, extra)
    named: list[tuple[str, str, Loc]] = field(default_factory=list)  # codes outside the catalogue, every use


def save_record(folder: Path, key: str, record: Record) -> None:
    dump_pickle(folder / f"{key}.pickle", record)


def load_record(folder: Path, key: str) -> Record | None:
    """The unit's Record kept in `folder`, or None where there is none or it cannot be read (files.load_pickle)."""
    found = load_pickle(folder / f"{key}.pickle")
    return found if isinstance(found, Record) else None
