"""Where the department folders are and what they hold: the names every stage that lists them shares."""

from __future__ import annotations

import os
from pathlib import Path

DEPARTMENT_FILE = "部门.yaml"


def department_entries(config) -> list[tuple[str, bool]] | None:
    """What data/departments/ holds (name, is a folder), sorted, hidden names left out; None when it is missing."""
    return folder_entries(config.data_dir / "departments")


def department_folders(entries: list[tuple[str, bool]] | None) -> list[str]:
    """The department folders among department_entries' list, as paths from the site folder."""
    return [f"data/departments/{name}" for name, is_dir in entries or () if is_dir]


def folder_entries(folder: Path) -> list[tuple[str, bool]] | None:
    try:
        with os.scandir(folder) as it:
            return sorted((e.name, e.is_dir()) for e in it if not e.name.startswith("."))
    except OSError:
        return None
