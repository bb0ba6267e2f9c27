"""Reading the truth files ``abuse generate`` (and the held-out generators) write."""

from __future__ import annotations

import csv
from pathlib import Path


def read_truth(path: Path) -> list[dict[str, str]]:
    """The rows of one truth CSV (none when the file is absent: not every generator writes it)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def truth_dir(path: Path) -> Path:
    """The folder holding the truth CSVs: ``path/truth`` when there is one, else ``path``."""
    return path / "truth" if (path / "truth").is_dir() else path
