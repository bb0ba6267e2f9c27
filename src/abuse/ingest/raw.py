"""The raw tables: their DDL, one validated insert of a relation's records, and forgetting a
run's records. A record is stored with the contract's type, or with its reject reason and its
(masked, cut) text for the quarantine."""

from __future__ import annotations

from datetime import datetime

import duckdb

from abuse.ingest import careful, pii, validate
from abuse.ingest.discover import LandingFile
from abuse.ingest.options import IngestOptions
from abuse.ingest.readers import _q, raw_text
from abuse.schema import KINDS, Kind

RAW_EXTRA = {"_pii": "VARCHAR[]"}  # columns added to raw tables after their first version


def raw_table_ddl(kind: str) -> str:
    cols = ", ".join(f'"{c.name}" {c.type}' for c in KINDS[kind].columns)
    extra = "".join(f"; ALTER TABLE raw_{kind} ADD COLUMN IF NOT EXISTS {c} {t}" for c, t in RAW_EXTRA.items())
    return (
        f"CREATE TABLE IF NOT EXISTS raw_{kind} ({cols}, _row BIGINT, _raw VARCHAR, "
        "_reject VARCHAR, _file VARCHAR, _file_seq BIGINT, _run_id BIGINT, _ingested_at TIMESTAMPTZ)" + extra
    )


def insert_records(
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


def _cut(text: str, keep: int = careful.SHOW) -> str:
    """SQL: a quarantined record's text, cut to its first ``keep`` characters (evaluated for
    rejected records only)."""
    return (
        f"CASE WHEN length({text}) > {keep} THEN left({text}, {keep}) || '... (' || "
        f"format('{{:,}}', length({text})) || ' characters in all)' ELSE {text} END"
    )


def forget_run(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Remove every raw record a run loaded (a failed or abandoned run)."""
    for kind in KINDS:
        con.execute(raw_table_ddl(kind))
        con.execute(f"DELETE FROM raw_{kind} WHERE _run_id = ?", [run_id])
