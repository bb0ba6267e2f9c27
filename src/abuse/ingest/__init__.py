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
Nothing is visible downstream until the run commits: a failed run calls ``forget_run`` and
the raw layer is as it was. A file whose bytes were already delivered is skipped (a rejected
file too: a corrected re-delivery has new bytes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb

from abuse.ingest import careful, pii, validate
from abuse.ingest.discover import LandingFile, discover
from abuse.ingest.options import IngestOptions
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
    raw_text,
    readable_path,
)
from abuse.schema import KINDS, TS, Kind


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


RAW_EXTRA = {"_pii": "VARCHAR[]"}  # columns added to raw tables after their first version


def raw_table_ddl(kind: str) -> str:
    cols = ", ".join(f'"{c.name}" {c.type}' for c in KINDS[kind].columns)
    extra = "".join(f"; ALTER TABLE raw_{kind} ADD COLUMN IF NOT EXISTS {c} {t}" for c, t in RAW_EXTRA.items())
    return (
        f"CREATE TABLE IF NOT EXISTS raw_{kind} ({cols}, _row BIGINT, _raw VARCHAR, "
        "_reject VARCHAR, _file VARCHAR, _file_seq BIGINT, _run_id BIGINT, _ingested_at TIMESTAMPTZ)" + extra
    )


def _insert(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    rel: str,
    f: LandingFile,
    seq: int,
    run_id: int,
    ingested_at: datetime,
    opts: IngestOptions,
    clock: datetime | None = None,
) -> None:
    """Validate the records of ``rel`` and append them (typed, or with their reason) to raw.
    ``clock`` is the "now" of the future-timestamp rule (default: ``ingested_at``)."""
    protected = {c: pii.protect_sql(kind.name, c, opts.pii_key) for c in kind.column_names}
    protected = {c: e for c, e in protected.items() if e}
    masked = (
        "SELECT * "
        + ("REPLACE (" + ", ".join(f"{e} AS {_q(c)}" for c, e in protected.items()) + ")" if protected else "")
        + " FROM protected"
    )
    flags = (
        "list_filter(["
        + ", ".join(f"CASE WHEN {_q(c)} IS DISTINCT FROM {_q('_p_' + c)} THEN '{c}' END" for c in protected)
        + "], x -> x IS NOT NULL)"
        if protected
        else "NULL::VARCHAR[]"
    )
    originals = "".join(f", {_q(c)} AS {_q('_p_' + c)}" for c in protected)
    typed_cols = validate.typed_columns(kind)
    out_cols = ", ".join(
        f"{_q(c.name)}" if c.type == "VARCHAR" else f"{validate.typed(c.name)} AS {_q(c.name)}" for c in kind.columns
    )
    reject = validate.reject_expression(kind, opts, clock or ingested_at, from_file=clock is not None)
    shown = _cut(pii.mask_text_sql(raw_text(kind.column_names)))
    con.execute(
        f"""
        INSERT INTO raw_{kind.name} BY NAME
        WITH rel AS ({rel}),
        protected AS (SELECT *{originals} FROM rel),
        masked AS ({masked}),
        flagged AS (SELECT *, {flags} AS _pii FROM masked),
        typed AS (SELECT *{", " + typed_cols if typed_cols else ""} FROM flagged),
        checked AS (SELECT *, {reject} AS _reject FROM typed)
        SELECT {out_cols}, _row, CASE WHEN _reject IS NOT NULL THEN {shown} END AS _raw,
               CASE WHEN _reject IS NOT NULL THEN {pii.mask_text_sql("_reject")} END AS _reject, CASE WHEN len(_pii) > 0 THEN _pii END AS _pii,
               ? AS _file, ? AS _file_seq, ? AS _run_id, ? AS _ingested_at
        FROM checked
        """,
        [f.name, seq, run_id, ingested_at],
    )


def _load_one(
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
    machine's clock (``_delivery_clock``); by default the run's start.
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
    check: careful.GzipCheck | None = None
    try:
        with readable_path(f) as path:
            is_csv = f.format in (".csv", ".csv.gz")
            header = csv_checked_header(kind, f) if is_csv else None
            if f.format in (".jsonl", ".jsonl.gz"):
                keys = jsonl_keys(f, want=kind.required)
                if keys is not None:
                    _check_required(kind, keys)
            else:
                keys = []
            if f.format.endswith(".gz"):
                check = careful.GzipCheck(f.path)
            if is_csv:
                rel = csv_relation(kind, f, path, header)
            elif keys is None:
                rel = empty_relation(kind)
            elif f.format == ".parquet":
                rel = parquet_relation(con, kind, path)
            else:
                rel = jsonl_relation(kind, path)
            try:
                _insert(con, kind, rel, f, seq, run_id, ingested_at, opts, clock)
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
                batches = (
                    careful.csv_batches(f, header, kind.column_names, opts.max_field_bytes)
                    if is_csv
                    else careful.jsonl_batches(f)
                )
                for n, table in enumerate(batches):
                    name = f"_careful_{seq}_{n}"
                    con.register(name, table)
                    try:
                        rel = csv_relation(kind, f, path, header, name) if is_csv else jsonl_relation(kind, path, name)
                        _insert(con, kind, rel, f, seq, run_id, ingested_at, opts, clock)
                    finally:
                        con.unregister(name)
    finally:
        if check:
            check.result()


MIN_RECORDS_FOR_CLOCK = 50  # a delivery smaller than this never moves the future rule's "now"


def _delivery_clock(
    con: duckdb.DuckDBPyConnection, results: list[FileResult], ingested_at: datetime, opts: IngestOptions
) -> datetime | None:
    """The delivery's own 99th-percentile timestamp when most of its records (at least
    ``MIN_RECORDS_FOR_CLOCK``) were quarantined as later than the run's start plus
    ``future_tolerance``: the data set describes days after this machine's clock (another team's
    generator, a clock set wrong). None for a delivery dated normally (the usual case: one count
    per kind). A stray row years ahead stays in the future of the delivery's own percentile."""
    seqs = [r.file_seq for r in results if not r.rejected]
    if not seqs:
        return None
    total = ahead = 0
    parts = []
    for name, kind in KINDS.items():
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE _reject LIKE 'timestamp in the future%') "
            f"FROM raw_{name} WHERE list_contains(?, _file_seq)",
            [seqs],
        ).fetchone()
        total, ahead = total + row[0], ahead + row[1]
        parts += [
            f"SELECT {_q(c.name)} AS t FROM raw_{name} WHERE list_contains($seqs, _file_seq)"
            for c in kind.columns
            if c.type == TS
        ]
    if total < MIN_RECORDS_FOR_CLOCK or ahead * 2 <= total:
        return None
    top = con.execute(f"SELECT quantile_disc(t, 0.99) FROM ({' UNION ALL '.join(parts)})", {"seqs": seqs}).fetchone()[0]
    return top if top is not None and top > ingested_at + opts.future_tolerance else None


def _cut(text: str, keep: int = careful.SHOW) -> str:
    """SQL: a quarantined record's text, cut to its first ``keep`` characters (evaluated for
    rejected records only)."""
    return (
        f"CASE WHEN length({text}) > {keep} THEN left({text}, {keep}) || '... (' || "
        f"format('{{:,}}', length({text})) || ' characters in all)' ELSE {text} END"
    )


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
    ).fetchone()
    result.rows, result.quarantined, result.duplicates = row[0], row[1], row[2]
    result.pii_masked = {c: n for c, n in zip(cols, row[3:]) if n}


def mask_stored_numbers(con: duckdb.DuckDBPyConnection, opts: IngestOptions) -> int:
    """Once per working database: replace raw mobile numbers that an earlier version stored
    (raw tables, their quarantine text, the quarantine). Returns the values changed."""
    con.execute("CREATE TABLE IF NOT EXISTS ingest_upgrades (name VARCHAR PRIMARY KEY, done_at TIMESTAMPTZ)")
    if con.execute("SELECT count(*) FROM ingest_upgrades WHERE name = 'pii_masked'").fetchone()[0]:
        return 0
    changed = 0
    for kind in KINDS.values():
        for c in kind.column_names:
            expr = pii.protect_sql(kind.name, c, opts.pii_key)
            if expr:
                changed += con.execute(
                    f"UPDATE raw_{kind.name} SET {_q(c)} = {expr}, "
                    f"_pii = list_append(coalesce(_pii, []), '{c}') WHERE ({expr}) IS DISTINCT FROM {_q(c)}"
                ).fetchone()[0]
        for c in ("_raw", "_reject"):
            con.execute(
                f"UPDATE raw_{kind.name} SET {c} = {pii.mask_text_sql(c)} "
                f"WHERE {c} IS NOT NULL AND {pii.mask_text_sql(c)} <> {c}"
            )
    for c in ("raw", "reason"):
        con.execute(
            f"UPDATE quarantine SET {c} = {pii.mask_text_sql(c)} "
            f"WHERE {c} IS NOT NULL AND {pii.mask_text_sql(c)} <> {c}"
        )
    con.execute("INSERT INTO ingest_upgrades VALUES ('pii_masked', now())")
    return changed


def load_new_files(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    run_id: int,
    ingested_at: datetime,
    progress: Callable[[FileResult], None] | None = None,
    options: IngestOptions | None = None,
) -> IngestReport:
    """Read every file under ``landing`` whose bytes are new into the raw tables
    (``options``: the limits of ``IngestOptions``, from the settings)."""
    for kind in KINDS:
        con.execute(raw_table_ddl(kind))
    mask_stored_numbers(con, options or IngestOptions())
    files, skipped = discover(landing)
    seen = {r[0] for r in con.execute("SELECT sha256 FROM ingest_files").fetchall()}
    next_seq = con.execute("SELECT coalesce(max(file_seq), 0) + 1 FROM ingest_files").fetchone()[0]
    report = IngestReport(skipped=skipped)
    for f in files:
        if f.sha256 in seen:
            report.already_seen += 1
            continue
        seen.add(f.sha256)  # the same bytes twice in one delivery count once
        result = _load_one(con, f, next_seq, run_id, ingested_at, options)
        next_seq += 1
        report.files.append(result)
        if progress:
            progress(result)
    clock = _delivery_clock(con, report.files, ingested_at, options or IngestOptions())
    if clock is not None:  # the data set is dated ahead of this machine: read it again against its own time
        again = []
        for r in report.files:
            con.execute(f"DELETE FROM raw_{r.file.kind} WHERE _file_seq = ?", [r.file_seq])
            again.append(_load_one(con, r.file, r.file_seq, run_id, ingested_at, options, clock))
        report.files = again
    return report


def record_files(con: duckdb.DuckDBPyConnection, report: IngestReport, run_id: int, ingested_at: datetime) -> None:
    """Inside the run's transaction: remember the files and publish their rejects."""
    con.execute(
        "UPDATE runs SET duplicate_keys = ?, pii_masked = ? WHERE run_id = ?",
        [json.dumps(report.duplicates_by_kind()), json.dumps(report.pii_masked()), run_id],
    )
    for r in report.files:
        f = r.file
        con.execute(
            """INSERT INTO ingest_files (file_seq, path, sha256, kind, format, size_bytes, modified_at,
                   run_id, ingested_at, rows, quarantined, rejected, duplicate_keys, pii_masked,
                   read_carefully, future_clock)
               VALUES (?, ?, ?, ?, ?, ?, to_timestamp(?), ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                r.file_seq,
                f.name,
                f.sha256,
                f.kind,
                f.format,
                f.size,
                f.mtime,
                run_id,
                ingested_at,
                r.rows,
                r.quarantined,
                r.rejected,
                r.duplicates,
                json.dumps(r.pii_masked),
                r.careful,
                r.clock,
            ],
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
