"""Helpers for tests and benchmarks: a staged in-memory database from a landing directory."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from abuse import ingest
from abuse.pipeline import _latest_day
from abuse.sqlfiles import load_seeds, run_folder, set_variables


def staged(landing: Path, tz: str = "Asia/Shanghai", as_of: date | None = None,
           window_days: int = 30) -> tuple[duckdb.DuckDBPyConnection, datetime, datetime]:
    """(connection with stg_* and seed_* tables, window_start, window_end) for ``landing``."""
    con = duckdb.connect()
    con.execute("SET TimeZone = ?", [tz])
    run_folder(con, "state")
    report = ingest.load_new_files(con, Path(landing), 1, datetime.now(timezone.utc))
    ingest.record_files(con, report, 1, datetime.now(timezone.utc))
    run_folder(con, "staging")
    load_seeds(con)
    zone = ZoneInfo(tz)
    last = as_of or _latest_day(con) or date.today()
    end_day = last + timedelta(days=1)
    window_end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone)
    start_day = end_day - timedelta(days=window_days)
    window_start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone)
    set_variables(con, window_start=window_start, window_end=window_end)
    return con, window_start, window_end
