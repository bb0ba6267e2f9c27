"""Reading one landing file into its raw table: DuckDB's reader over the whole file, or the
careful reader record by record when DuckDB refuses it. Never raises for a bad file."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Callable

import duckdb

from abuse.ingest import careful, pii
from abuse.ingest.discover import LandingFile
from abuse.ingest.options import IngestOptions
from abuse.ingest.raw import insert_records
from abuse.ingest.readers import (
    FileRejected,
    _check_required,
    _q,
    csv_checked_header,
    csv_relation,
    empty_relation,
    jsonl_keys,
    jsonl_relation,
    parquet_relation,
    readable_path,
)
from abuse.ingest.results import FileResult
from abuse.schema import KINDS, Kind


def load_one(
    con: duckdb.DuckDBPyConnection,
    f: LandingFile,
    seq: int,
    run_id: int,
    ingested_at: datetime,
    opts: IngestOptions | None = None,
    clock: datetime | None = None,
) -> FileResult:
    """Read one file into raw. Fast path: DuckDB's reader over the whole file. When DuckDB
    refuses the file, or a ``.gz`` stream turns out damaged, the careful reader reads it
    record by record instead. Never raises for a bad file: it is rejected with its reason.

    ``clock`` is the "now" of the future-timestamp rule when the delivery is dated ahead of this
    machine's clock (``delivery_clock``); by default the run's start.
    """
    opts = opts or IngestOptions()
    kind = KINDS[f.kind]
    result = FileResult(f, seq)
    start = time.perf_counter()
    try:
        result.clock = clock
        _read_into_raw(con, kind, f, seq, run_id, ingested_at, opts, result, clock)
        _count(con, kind, result)
    except FileRejected as exc:
        con.execute(f"DELETE FROM raw_{f.kind} WHERE _file_seq = ?", [seq])
        result.rejected = str(exc)
    except Exception as exc:  # noqa: BLE001 - one unreadable file never stops the run
        con.execute(f"DELETE FROM raw_{f.kind} WHERE _file_seq = ?", [seq])
        result.rejected = "cannot read the file: " + _brief(exc)
    # messages may quote a record (DuckDB's errors do): no raw number in them either
    result.rejected, result.careful = pii.mask_text(result.rejected), pii.mask_text(result.careful)
    result.seconds = time.perf_counter() - start
    return result


def _read_into_raw(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    f: LandingFile,
    seq: int,
    run_id: int,
    ingested_at: datetime,
    opts: IngestOptions,
    result: FileResult,
    clock: datetime | None,
) -> None:
    """The fast path, and the careful reader when DuckDB refuses the file (sets
    ``result.careful``). Raises ``FileRejected`` or the reader's error for a file refused whole."""

    def insert(rel: str) -> None:
        insert_records(con, kind, rel, f, seq, run_id, ingested_at, opts, clock)

    check: careful.GzipCheck | None = None
    try:
        with readable_path(f) as path:
            is_csv = f.format in (".csv", ".csv.gz")
            header = csv_checked_header(kind, f) if is_csv else None
            keys = _checked_keys(kind, f)
            if f.format.endswith(".gz"):
                check = careful.GzipCheck(f)
            try:
                insert(_relation(con, kind, f, path, header, keys))
            except (duckdb.Error, UnicodeDecodeError) as exc:
                # (DuckDB's message quotes the bad line; cut inside a character, the message
                # itself fails to decode and arrives as UnicodeDecodeError)
                if f.format == ".parquet":
                    raise
                result.careful = _brief(exc)
            damage = check.result() if check else None
            if damage:  # the precise cause (DuckDB only sees the cut record, if anything)
                result.careful = damage
            if result.careful:
                con.execute(f"DELETE FROM raw_{f.kind} WHERE _file_seq = ?", [seq])
                _read_carefully(con, kind, f, path, header, opts, seq, insert)
    finally:
        if check:
            check.result()


def _checked_keys(kind: Kind, f: LandingFile) -> list[str] | None:
    """A JSONL file's keys, checked for the required columns (None: a file with no records);
    ``[]`` for the other formats (their header is checked by their reader)."""
    if f.format not in (".jsonl", ".jsonl.gz"):
        return []
    keys = jsonl_keys(f, want=kind.required)
    if keys is not None:
        _check_required(kind, keys)
    return keys


def _relation(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    f: LandingFile,
    path: str,
    header: list[str] | None,
    keys: list[str] | None,
) -> str:
    """The fast path's relation: DuckDB's reader over the whole file."""
    if f.format in (".csv", ".csv.gz"):
        assert header is not None, "a CSV file is read with its header"
        return csv_relation(kind, f, path, header)
    if keys is None:
        return empty_relation(kind)
    if f.format == ".parquet":
        return parquet_relation(con, kind, path)
    return jsonl_relation(kind, path)


def _read_carefully(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    f: LandingFile,
    path: str,
    header: list[str] | None,
    opts: IngestOptions,
    seq: int,
    insert: Callable[[str], None],
) -> None:
    """The careful reader: the file record by record in batches, each inserted as its own relation."""
    is_csv = f.format in (".csv", ".csv.gz")
    csv_header: list[str] = []
    if is_csv:
        assert header is not None, "a CSV file is read with its header"
        csv_header = header
        batches = careful.csv_batches(f, csv_header, kind.column_names, opts.max_field_bytes)
    else:
        batches = careful.jsonl_batches(f)
    for n, table in enumerate(batches):
        name = f"_careful_{seq}_{n}"
        con.register(name, table)
        try:
            insert(csv_relation(kind, f, path, csv_header, name) if is_csv else jsonl_relation(kind, path, name))
        finally:
            con.unregister(name)


def _brief(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return (" ".join(lines[:3]) or type(exc).__name__)[:400]


def _count(con: duckdb.DuckDBPyConnection, kind: Kind, result: FileResult) -> None:
    """Rows, rejects, repeated keys and masked values of the file just loaded."""
    cols = [c for c in kind.column_names if pii.PII_COLUMNS.get((kind.name, c))]
    key = ", ".join(_q(k) for k in kind.key)
    key = f"({key})" if len(kind.key) > 1 else key
    masks = "".join(f", count(*) FILTER (WHERE list_contains(_pii, '{c}'))" for c in cols)
    row = con.execute(
        f"""SELECT count(*), count(_reject),
                   count(*) FILTER (WHERE _reject IS NULL)
                   - count(DISTINCT {key}) FILTER (WHERE _reject IS NULL){masks}
            FROM raw_{kind.name} WHERE _file_seq = ?""",
        [result.file_seq],
    ).fetchall()[0]
    result.rows, result.quarantined, result.duplicates = row[0], row[1], row[2]
    result.pii_masked = {c: n for c, n in zip(cols, row[3:]) if n}
