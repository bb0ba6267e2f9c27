"""Helpers for tests and benchmarks: a staged in-memory database from a landing directory."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from abuse import ingest
from abuse.pipeline import latest_day, window_bounds
from abuse.schema import KINDS
from abuse.sqlfiles import load_seeds, run_folder, set_variables


def staged(
    landing: Path, tz: str = "Asia/Shanghai", as_of: date | None = None, window_days: int = 30
) -> tuple[duckdb.DuckDBPyConnection, datetime, datetime]:
    """(connection with stg_* and seed_* tables, window_start, window_end) for ``landing``."""
    con = duckdb.connect()
    con.execute("SET TimeZone = ?", [tz])
    run_folder(con, "state")
    report = ingest.load_new_files(con, Path(landing), 1, datetime.now(timezone.utc))
    ingest.record_files(con, report, 1, datetime.now(timezone.utc))
    run_folder(con, "staging")
    load_seeds(con)
    last = as_of or latest_day(con) or date.today()
    window_start, window_end = window_bounds(last, window_days, tz)
    set_variables(con, window_start=window_start, window_end=window_end)
    return con, window_start, window_end


def empty_staged(tz: str = "Asia/Shanghai", seeds: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with every stg_* table of the contract, empty (for hand-made
    test data), and the seed tables unless ``seeds`` is false."""
    con = duckdb.connect()
    con.execute("SET TimeZone = ?", [tz])
    for kind in KINDS.values():
        cols = ", ".join(f'"{c.name}" {c.type}' for c in kind.columns)
        con.execute(f"CREATE TABLE stg_{kind.name} ({cols})")
    if seeds:
        load_seeds(con)
    return con
