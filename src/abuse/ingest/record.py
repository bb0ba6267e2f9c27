"""Inside the run's transaction: what ingest read is remembered (``ingest_files``), its rejects
published (``quarantine``); and the once-per-database masking of numbers an earlier version
stored."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from abuse.ingest import pii
from abuse.ingest.options import IngestOptions
from abuse.ingest.readers import _q
from abuse.ingest.results import IngestReport
from abuse.schema import KINDS


def mask_stored_numbers(con: duckdb.DuckDBPyConnection, opts: IngestOptions) -> int:
    """Once per working database: replace raw mobile numbers that an earlier version stored
    (raw tables, their quarantine text, the quarantine). Returns the values changed."""
    con.execute("CREATE TABLE IF NOT EXISTS ingest_upgrades (name VARCHAR PRIMARY KEY, done_at TIMESTAMPTZ)")
    if con.execute("SELECT count(*) FROM ingest_upgrades WHERE name = 'pii_masked'").fetchall()[0][0]:
        return 0
    changed = 0
    for kind in KINDS.values():
        for c in kind.column_names:
            expr = pii.protect_sql(kind.name, c, opts.pii_key)
            if expr:
                changed += con.execute(
                    f"UPDATE raw_{kind.name} SET {_q(c)} = {expr}, "
                    f"_pii = list_append(coalesce(_pii, []), '{c}') WHERE ({expr}) IS DISTINCT FROM {_q(c)}"
                ).fetchall()[0][0]
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
