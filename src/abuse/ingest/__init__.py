"""Ingest: landing files -> raw tables, with provenance and a quarantine for bad records.

``load_new_files`` reads every new file straight into ``raw_<kind>`` in one pass through
DuckDB's own readers: every column is read as declared text, checked against the contract's
rules, and stored with the contract's type; a record that breaks a rule keeps its reason and
its original text for the quarantine. (Naive timestamps are read in the platform zone in force
when the file is ingested.)
Nothing is visible downstream until the run commits: a failed run calls ``forget_run`` and
the raw layer is as it was. A file whose bytes were already delivered is skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb

from abuse.ingest.discover import LandingFile, discover
from abuse.ingest.readers import FileRejected, raw_text, relation_sql
from abuse.ingest.validate import reject_expression
from abuse.schema import KINDS


@dataclass
class FileResult:
    file: LandingFile
    file_seq: int
    rows: int = 0
    quarantined: int = 0
    rejected: str | None = None  # reason the whole file was refused
    seconds: float = 0.0


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    already_seen: int = 0
    skipped: list[Path] = field(default_factory=list)

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


def raw_table_ddl(kind: str) -> str:
    cols = ", ".join(f'"{c.name}" {c.type}' for c in KINDS[kind].columns)
    return (
        f"CREATE TABLE IF NOT EXISTS raw_{kind} ({cols}, _row BIGINT, _raw VARCHAR, "
        "_reject VARCHAR, _file VARCHAR, _file_seq BIGINT, _run_id BIGINT, _ingested_at TIMESTAMPTZ)"
    )


def _load_one(con: duckdb.DuckDBPyConnection, f: LandingFile, seq: int, run_id: int,
              ingested_at: datetime) -> FileResult:
    kind = KINDS[f.kind]
    result = FileResult(f, seq)
    start = time.perf_counter()
    try:
        rel = relation_sql(con, kind, f)
        cols = ", ".join(f'"{c.name}"' if c.type == "VARCHAR" else f'TRY_CAST("{c.name}" AS {c.type})'
                         for c in kind.columns)
        reject = reject_expression(kind)
        con.execute(
            f"""
            INSERT INTO raw_{f.kind}
            WITH rel AS ({rel}),
            checked AS (SELECT *, {reject} AS _reject FROM rel)
            SELECT {cols}, _row, CASE WHEN _reject IS NOT NULL THEN {raw_text(kind.column_names)} END,
                   _reject,
                   ?, ?, ?, ?
            FROM checked
            """,
            [f.name, seq, run_id, ingested_at],
        )
        result.rows, result.quarantined = con.execute(
            f"SELECT count(*), count(_reject) FROM raw_{f.kind} WHERE _file_seq = ?", [seq]
        ).fetchone()
    except FileRejected as exc:
        result.rejected = str(exc)
    except duckdb.Error as exc:  # unreadable: bad quoting, bad gzip, not parquet, bad UTF-8
        con.execute(f"DELETE FROM raw_{f.kind} WHERE _file_seq = ?", [seq])
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        result.rejected = "cannot read the file: " + " ".join(lines[:3])[:400]
    result.seconds = time.perf_counter() - start
    return result


def load_new_files(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    run_id: int,
    ingested_at: datetime,
    progress: Callable[[FileResult], None] | None = None,
) -> IngestReport:
    """Read every file under ``landing`` whose bytes are new into the raw tables."""
    for kind in KINDS:
        con.execute(raw_table_ddl(kind))
    files, skipped = discover(landing)
    seen = {r[0] for r in con.execute("SELECT sha256 FROM ingest_files").fetchall()}
    next_seq = con.execute("SELECT coalesce(max(file_seq), 0) + 1 FROM ingest_files").fetchone()[0]
    report = IngestReport(skipped=skipped)
    for f in files:
        if f.sha256 in seen:
            report.already_seen += 1
            continue
        seen.add(f.sha256)  # the same bytes twice in one delivery count once
        result = _load_one(con, f, next_seq, run_id, ingested_at)
        next_seq += 1
        report.files.append(result)
        if progress:
            progress(result)
    return report


def record_files(con: duckdb.DuckDBPyConnection, report: IngestReport, run_id: int,
                 ingested_at: datetime) -> None:
    """Inside the run's transaction: remember the files and publish their rejects."""
    for r in report.files:
        f = r.file
        con.execute(
            "INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, to_timestamp(?), ?, ?, ?, ?, ?)",
            [r.file_seq, f.name, f.sha256, f.kind, f.format, f.size, f.mtime, run_id, ingested_at,
             r.rows, r.quarantined, r.rejected],
        )
        if r.rejected:
            con.execute(
                "INSERT INTO quarantine VALUES (?, ?, NULL, ?, NULL, ?)",
                [run_id, f.name, f"file rejected: {r.rejected}", ingested_at],
            )
        elif r.quarantined:
            con.execute(
                f"""INSERT INTO quarantine
                    SELECT _run_id, _file, _row, _reject, _raw, _ingested_at
                    FROM raw_{f.kind} WHERE _file_seq = ? AND _reject IS NOT NULL ORDER BY _row""",
                [r.file_seq],
            )


def forget_run(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Remove every raw record a run loaded (a failed or abandoned run)."""
    for kind in KINDS:
        con.execute(raw_table_ddl(kind))
        con.execute(f"DELETE FROM raw_{kind} WHERE _run_id = ?", [run_id])
