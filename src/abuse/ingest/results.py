"""What ingest did with each landing file (``FileResult``) and with a delivery (``IngestReport``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from abuse.ingest.discover import LandingFile
from abuse.schema import KINDS


@dataclass
class FileResult:
    file: LandingFile
    file_seq: int
    rows: int = 0
    quarantined: int = 0
    rejected: str | None = None  # reason the whole file was refused
    seconds: float = 0.0
    duplicates: int = 0  # valid records whose key an earlier record of the same file had
    pii_masked: dict[str, int] = field(default_factory=dict)  # column -> values masked
    careful: str | None = None  # why the careful reader read it (DuckDB's error, gzip damage)
    # the "now" of the future-timestamp rule when the file is dated ahead of this machine's clock
    clock: datetime | None = None


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    already_seen: int = 0
    skipped: list[Path | str] = field(default_factory=list)  # a local path, or an object's URL

    def rows_by_kind(self) -> dict[str, int]:
        out = {k: 0 for k in KINDS}
        for f in self.files:
            out[f.file.kind] += f.rows - f.quarantined
        return out

    def quarantined_by_kind(self) -> dict[str, int]:
        out = {k: 0 for k in KINDS}
        for f in self.files:
            out[f.file.kind] += f.quarantined + (1 if f.rejected else 0)
        return out

    def duplicates_by_kind(self) -> dict[str, int]:
        out = {k: 0 for k in KINDS}
        for f in self.files:
            out[f.file.kind] += f.duplicates
        return out

    def pii_masked(self) -> dict[str, int]:
        """``kind.column`` -> raw mobile numbers replaced at ingest (only columns with any)."""
        out: dict[str, int] = {}
        for f in self.files:
            for col, n in f.pii_masked.items():
                if n:
                    key = f"{f.file.kind}.{col}"
                    out[key] = out.get(key, 0) + n
        return dict(sorted(out.items()))
