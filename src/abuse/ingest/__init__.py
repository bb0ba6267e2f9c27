"""Ingest: landing files -> raw tables, with provenance and a quarantine for bad records.

``load_new_files`` reads every new file straight into ``raw_<kind>`` in one pass through
DuckDB's own readers: every column is read as declared text, raw mobile numbers are replaced
(``pii``), each record is checked against the contract's rules (``validate``: types never
coerced, timestamps within plausible bounds, fields within ``max_field_bytes``) and stored with
the contract's type; a record that breaks a rule keeps its reason and its (masked) text for the
quarantine. A file DuckDB refuses (a short or long row, bytes that are not UTF-8, an
unterminated quote) or whose gzip stream is damaged is read again by the careful reader
(``careful``), record by record, so only the records that cannot be read are set apart. A file
is refused whole only when it cannot be read at all or lacks a required column; nothing about a
bad file raises. (Naive timestamps are read in the platform zone in force when the file is
ingested.)
A landing on object storage (``s3://bucket/prefix``: ``objstore``) is listed instead of walked,
each object known by its ETag and size instead of the sha256 of its bytes, and read in place.
Nothing is visible downstream until the run commits: a failed run calls ``forget_run`` and
the raw layer is as it was. A file whose bytes were already delivered is skipped (a rejected
file too: a corrected re-delivery has new bytes).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb

from abuse.ingest.clock import MIN_RECORDS_FOR_CLOCK, delivery_clock
from abuse.ingest.discover import discover
from abuse.ingest.load import load_one
from abuse.ingest.objstore import LandingError, ObjectStore, is_url, landing_location
from abuse.ingest.options import IngestOptions
from abuse.ingest.raw import RAW_EXTRA, forget_run, raw_table_ddl
from abuse.ingest.record import mask_stored_numbers, record_files
from abuse.ingest.results import FileResult, IngestReport
from abuse.schema import KINDS

__all__ = [
    "MIN_RECORDS_FOR_CLOCK",
    "RAW_EXTRA",
    "FileResult",
    "IngestOptions",
    "IngestReport",
    "LandingError",
    "forget_run",
    "is_url",
    "landing_location",
    "load_new_files",
    "mask_stored_numbers",
    "raw_table_ddl",
    "record_files",
]


def load_new_files(
    con: duckdb.DuckDBPyConnection,
    landing: Path | str,
    run_id: int,
    ingested_at: datetime,
    progress: Callable[[FileResult], None] | None = None,
    options: IngestOptions | None = None,
) -> IngestReport:
    """Read every file under ``landing`` (a directory, or an object-storage URL such as
    ``s3://bucket/prefix``) whose bytes are new into the raw tables (``options``: the limits of
    ``IngestOptions``, from the settings)."""
    options = options or IngestOptions()
    where = landing_location(landing)
    if isinstance(where, str):
        store = ObjectStore(where, options.endpoint_url)
        registered = store.register(con)  # DuckDB's readers open the objects in place
        try:
            return _load(con, store, run_id, ingested_at, progress, options)
        finally:
            if registered:
                store.unregister(con)
    return _load(con, where, run_id, ingested_at, progress, options)


def _load(
    con: duckdb.DuckDBPyConnection,
    landing: Path | ObjectStore,
    run_id: int,
    ingested_at: datetime,
    progress: Callable[[FileResult], None] | None,
    options: IngestOptions,
) -> IngestReport:
    for kind in KINDS:
        con.execute(raw_table_ddl(kind))
    mask_stored_numbers(con, options)
    files, skipped = discover(landing)
    seen = {r[0] for r in con.execute("SELECT sha256 FROM ingest_files").fetchall()}
    next_seq = con.execute("SELECT coalesce(max(file_seq), 0) + 1 FROM ingest_files").fetchall()[0][0]
    report = IngestReport(skipped=skipped)
    for f in files:
        if f.sha256 in seen:
            report.already_seen += 1
            continue
        seen.add(f.sha256)  # the same bytes twice in one delivery count once
        result = load_one(con, f, next_seq, run_id, ingested_at, options)
        next_seq += 1
        report.files.append(result)
        if progress:
            progress(result)
    clock = delivery_clock(con, report.files, ingested_at, options)
    if clock is not None:  # the data set is dated ahead of this machine: read it again against its own time
        again = []
        for r in report.files:
            con.execute(f"DELETE FROM raw_{r.file.kind} WHERE _file_seq = ?", [r.file_seq])
            again.append(load_one(con, r.file, r.file_seq, run_id, ingested_at, options, clock))
        report.files = again
    return report
