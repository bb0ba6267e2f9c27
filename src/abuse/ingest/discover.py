"""Finding the files of a delivery: which are new, and in which order they count."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from abuse.schema import KINDS, file_format


@dataclass(frozen=True)
class LandingFile:
    kind: str
    path: Path
    format: str  # one of schema.FORMATS
    size: int
    mtime: float
    sha256: str

    @property
    def name(self) -> str:
        return str(self.path)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def folder_kind(name: str) -> str | None:
    """The kind a landing folder holds: its contract name, also spelled in another case or with
    hyphens or spaces (``Orders``, ``coupon-events``); None for any other folder."""
    kind = name.strip().lower().replace("-", "_").replace(" ", "_")
    return kind if kind in KINDS else None


def discover(landing: Path) -> tuple[list[LandingFile], list[Path]]:
    """Every landing file of a known kind and format, ordered as the contract says
    (modification time, then path), and the files that were passed over (unknown format)."""
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist")
    found: list[LandingFile] = []
    skipped: list[Path] = []
    root = landing.resolve()
    folders: list[tuple[str, Path]] = []
    for entry in sorted(landing.iterdir()):
        kind = folder_kind(entry.name)
        if kind and entry.is_dir():
            folders.append((kind, entry))
        elif not entry.name.startswith("."):
            skipped.append(entry)  # a folder of no contract kind, or a file outside the folders: named
    # (a missing folder means "no records of that kind in this delivery")
    for kind, folder in sorted(folders, key=lambda kf: (list(KINDS).index(kf[0]), kf[1].name)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            fmt = file_format(path.name)
            if fmt is None or path.name.startswith(".") or not path.resolve().is_relative_to(root):
                # (a symlink to a file outside the landing dir is passed over, and named)
                skipped.append(path)
                continue
            st = path.stat()
            found.append(LandingFile(kind, path, fmt, st.st_size, st.st_mtime, sha256_of(path)))
    found.sort(key=lambda f: (f.mtime, str(f.path)))
    return found, skipped
