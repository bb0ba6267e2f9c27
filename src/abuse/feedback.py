"""Analyst verdicts: recorded in a small database beside the report, read by every run.

The report file is replaced by each run, so verdicts live in ``<report>.feedback.duckdb``,
table ``verdicts``. Analysts add rows with ``abuse verdict`` or a plain INSERT::

    duckdb abuse.feedback.duckdb -c "INSERT INTO verdicts (cluster_id, verdict, note)
                                     VALUES ('ring-3f2a9c01de', 'dismissed', 'wholesale buyer')"

A dismissed case is not raised again unless it grows past the size it had when dismissed;
a dismissed account is not raised again under that pattern (or any, if pattern is NULL).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa

VERDICTS_DDL = """
CREATE TABLE IF NOT EXISTS verdicts (
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    cluster_id   VARCHAR,            -- a case (report.clusters.cluster_id), or NULL
    account_id   VARCHAR,            -- an account, or NULL
    pattern      VARCHAR,            -- optional: the pattern judged
    verdict      VARCHAR NOT NULL CHECK (verdict IN ('confirmed', 'dismissed')),
    analyst      VARCHAR,
    note         VARCHAR,
    n_accounts   INTEGER,            -- case size when judged (NULL: taken from the history)
    CHECK (cluster_id IS NOT NULL OR account_id IS NOT NULL)
)
"""


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The one number a ``SELECT count(*)`` returns."""
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def feedback_path(db: Path) -> Path:
    return db.with_name(f"{db.stem}.feedback{db.suffix or '.duckdb'}")


def record(
    db: Path,
    verdict: str,
    *,
    cluster_id: str | None = None,
    account_id: str | None = None,
    pattern: str | None = None,
    note: str | None = None,
    analyst: str | None = None,
) -> dict:
    """Add one verdict; the case's size and pattern are filled from the latest report."""
    if verdict not in ("confirmed", "dismissed"):
        raise ValueError("verdict must be 'confirmed' or 'dismissed'")
    if not cluster_id and not account_id:
        raise ValueError("name a case (--case) or an account (--account)")
    n_accounts = None
    if cluster_id and db.exists():
        rep = duckdb.connect(str(db), read_only=True)
        try:
            row = rep.execute(
                "SELECT n_accounts, pattern FROM report.clusters_all WHERE cluster_id = ? ORDER BY run_id DESC LIMIT 1",
                [cluster_id],
            ).fetchone()
        finally:
            rep.close()
        if row is None:
            raise KeyError(f"no case {cluster_id!r} in {db}")
        n_accounts, pattern = row[0], pattern or row[1]
    con = duckdb.connect(str(feedback_path(db)))
    try:
        con.execute(VERDICTS_DDL)
        con.execute(
            "INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [datetime.now(timezone.utc), cluster_id, account_id, pattern, verdict, analyst, note, n_accounts],
        )
    finally:
        con.close()
    return {
        "cluster_id": cluster_id,
        "account_id": account_id,
        "pattern": pattern,
        "verdict": verdict,
        "n_accounts": n_accounts,
    }


VERDICT_COLUMNS = "recorded_at, cluster_id, account_id, pattern, verdict, analyst, note, n_accounts"


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def read_verdicts(
    db: Path, wait_s: float = 30.0, sleep: Callable[[float], None] = time.sleep
) -> tuple[pa.Table | None, str | None]:
    """The feedback database's verdicts, read through a short read-only connection.

    An analyst's open read-write session locks the file: retry with backoff for up to
    ``wait_s`` seconds, then give up and return ``(None, note)`` (the run goes on with the
    verdicts it copied before, and says so). The file is created when missing, so that a
    plain INSERT works from the first night on."""
    path = feedback_path(db)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fresh = duckdb.connect(str(path))
            try:
                fresh.execute(VERDICTS_DDL)
            finally:
                fresh.close()
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
    deadline = time.monotonic() + max(wait_s, 0.0)
    delay = 0.2
    while True:
        try:
            fb = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                return None, (
                    f"the feedback database {path.name} stayed locked by another process "
                    f"(an open read-write session) for {wait_s:g} s; this run used the "
                    "verdicts copied by the previous run"
                )
            sleep(min(delay, left))
            delay = min(delay * 2, 5.0)
            continue
        try:
            if not _count(fb, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'verdicts'"):
                return pa.table({}), None
            return fb.execute(f"SELECT {VERDICT_COLUMNS} FROM verdicts").to_arrow_table(), None
        finally:
            fb.close()


def store(con: duckdb.DuckDBPyConnection, verdicts: pa.Table | None) -> int:
    """Replace the run's copy of the verdicts (inside its transaction); ``None`` keeps the
    copy the previous run left."""
    if verdicts is None:
        return _count(con, "SELECT count(*) FROM verdicts")
    con.execute("DELETE FROM verdicts")
    if verdicts.num_columns == 0:
        return 0
    con.register("_verdicts", verdicts)
    try:
        con.execute(f"INSERT INTO verdicts SELECT {VERDICT_COLUMNS} FROM _verdicts")
    finally:
        con.unregister("_verdicts")
    return verdicts.num_rows


def sync(con: duckdb.DuckDBPyConnection, db: Path, wait_s: float = 30.0) -> int:
    """Copy the feedback database's verdicts into the run (inside its transaction)."""
    return store(con, read_verdicts(db, wait_s)[0])


def dismissed_cases(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """cluster_id -> the case size it was dismissed at, for cases whose latest verdict is 'dismissed'."""
    rows = con.execute("""
        WITH latest AS (
            SELECT * FROM verdicts WHERE cluster_id IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY recorded_at DESC) = 1
        )
        SELECT l.cluster_id,
               coalesce(l.n_accounts,
                        (SELECT max(c.n_accounts) FROM clusters c JOIN runs r USING (run_id)
                         WHERE c.cluster_id = l.cluster_id AND r.started_at <= l.recorded_at),
                        (SELECT max(c.n_accounts) FROM clusters c WHERE c.cluster_id = l.cluster_id))
        FROM latest l WHERE l.verdict = 'dismissed'
    """).fetchall()
    return {cid: n for cid, n in rows if n is not None}


def dismissed_accounts(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str | None]]:
    """(account_id, pattern or None) whose latest verdict is 'dismissed'."""
    rows = con.execute("""
        SELECT account_id, pattern FROM verdicts WHERE account_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY account_id, pattern ORDER BY recorded_at DESC) = 1
            AND verdict = 'dismissed'
    """).fetchall()
    return {(a, p) for a, p in rows}
