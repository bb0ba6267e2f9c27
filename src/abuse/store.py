"""DuckDB files: the working database (raw, staging, run history) and the published report.

The report database is rebuilt from the run history at the end of every successful run into a
temporary file beside it and renamed over the old one. An analyst holding the old file open
keeps reading it undisturbed (the rename does not touch open files), and a new connection
sees the new report. The working state lives in ``<name>.work.duckdb`` next to it.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from abuse.sqlfiles import run_folder, sql_files

HISTORY_TABLES = ("runs", "findings", "clusters", "spikes", "quarantine", "verdicts", "suppressed",
                  "cluster_shops")


def work_path(db: Path) -> Path:
    return db.with_name(f"{db.stem}.work{db.suffix or '.duckdb'}")


def connect_work(db: Path, tz: str) -> duckdb.DuckDBPyConnection:
    """Open the working database with the platform time zone as the session zone."""
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work_path(db)))
    con.execute("SET TimeZone = ?", [tz])
    run_folder(con, "state")
    return con


def _json_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type = 'JSON'"
        " AND database_name = current_database()",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def build_report(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Write the report database to ``target`` from the history tables that ``con`` sees
    (including the uncommitted work of its open transaction)."""
    if target.exists():
        target.unlink()
    out = duckdb.connect(str(target))
    try:
        out.execute("CREATE SCHEMA history")
        for table in HISTORY_TABLES:
            arrow = con.execute(f"SELECT * FROM {table}").to_arrow_table()
            out.register("_src", arrow)
            json_cols = _json_columns(con, table)
            replace = ", ".join(f'CAST("{c}" AS JSON) AS "{c}"' for c in json_cols)
            star = f"* REPLACE ({replace})" if replace else "*"
            out.execute(f"CREATE TABLE history.{table} AS SELECT {star} FROM _src")
            out.unregister("_src")
        for path in sql_files("publish"):
            out.execute(path.read_text(encoding="utf-8"))
        out.execute("CHECKPOINT")
    finally:
        out.close()


def publish(con: duckdb.DuckDBPyConnection, db: Path) -> Path:
    """Build the report beside ``db``; the caller renames it in place with ``swap_in``."""
    tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    build_report(con, tmp)
    return tmp


def swap_in(tmp: Path, db: Path) -> None:
    os.replace(tmp, db)
