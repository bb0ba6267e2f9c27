"""The spikes detector's per-day counts, ``feat_spikes_counts`` (sql/features/spikes_counts.sql):
distinct accounts per scope and local minute, and per wide bin, of every staged day, kept like
staging (``abuse.features``): a night recomputes only the local days whose staged events
changed, so the detector reads 58 days of counts instead of regrouping 58 days of events.

What stays whole-window (exact, recomputed every night from these counts): the dense grid,
its smoothing, the same-minute medians over the baseline days, the day-of-week factors and
uplifts (medians do not add up day by day), and the events of the window (``spikes_events``)
that describe, explain and hand over the spikes found."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pyarrow as pa

from abuse import features
from abuse.sqlfiles import read_sql, set_variables, temp_table
from abuse.staging import _atomic as atomic

TABLE = "feat_spikes_counts"
KINDS = ("accounts", "orders", "reviews", "refunds", "coupon_events", "activity")


def define_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(read_sql("features/spikes_event_rows.sql"))


def version(con: duckdb.DuckDBPyConnection, wide_min: int) -> str:
    tz = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
    return features.version_of(
        read_sql("features/spikes_event_rows.sql"), read_sql("features/spikes_counts.sql"), wide_min, tz
    )


def maintain(con: duckdb.DuckDBPyConnection, wide_min: int) -> str:
    """Bring ``feat_spikes_counts`` up to date; says what it did."""
    ver = version(con, wide_min)
    days, seq, why = features.dirty_days(con, TABLE, ver, KINDS)
    if days == []:
        features.record(con, TABLE, ver, seq)
        return f"{TABLE} unchanged"
    define_rows(con)
    set_variables(con, spikes_wide_min=wide_min)
    select = read_sql("features/spikes_counts.sql")
    if days is None:
        set_variables(con, feat_all_days=True)
        con.execute("SET VARIABLE feat_from = CAST('-infinity' AS TIMESTAMPTZ)")
        con.execute("SET VARIABLE feat_to = CAST('infinity' AS TIMESTAMPTZ)")
    else:
        set_variables(con, feat_all_days=False)
        # the instants of the days' local midnights (a day more either side: any zone's offset)
        lo, hi = min(days) - timedelta(days=1), max(days) + timedelta(days=2)
        con.execute(f"SET VARIABLE feat_from = CAST(TIMESTAMP '{lo} 00:00:00' AS TIMESTAMPTZ)")
        con.execute(f"SET VARIABLE feat_to = CAST(TIMESTAMP '{hi} 00:00:00' AS TIMESTAMPTZ)")
    with atomic(con), temp_table(con, "feat_days", pa.table({"day": pa.array(days or [], pa.date32())})):
        if days is None:
            con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {select}")
        else:
            con.execute(f"DELETE FROM {TABLE} WHERE day IN (SELECT day FROM feat_days)")
            con.execute(f"INSERT INTO {TABLE} {select}")
        features.record(con, TABLE, ver, seq)
    n = "all days" if days is None else f"{len(days)} day(s)"
    return f"{TABLE}: {n} ({why})"


def up_to_date(con: duckdb.DuckDBPyConnection, wide_min: int) -> bool:
    days, _, _ = features.dirty_days(con, TABLE, version(con, wide_min), KINDS)
    return days == []


def ensure(con: duckdb.DuckDBPyConnection, wide_min: int) -> None:
    """The counts up to date for the detector: maintained by the stage; a connection that
    skipped it (a test, a profile) maintains them here, and a read-only one that finds them
    missing or stale builds them as a TEMP table of the same name (which shadows the stale one)."""
    define_rows(con)
    try:
        if not up_to_date(con, wide_min):
            maintain(con, wide_min)
    except (duckdb.InvalidInputException, duckdb.TransactionException):  # attached read-only
        set_variables(con, spikes_wide_min=wide_min, feat_all_days=True)
        con.execute("SET VARIABLE feat_from = CAST('-infinity' AS TIMESTAMPTZ)")
        con.execute("SET VARIABLE feat_to = CAST('infinity' AS TIMESTAMPTZ)")
        with temp_table(con, "feat_days", pa.table({"day": pa.array([], pa.date32())})):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS " + read_sql("features/spikes_counts.sql"))
