"""timing_events reads the time of day from one local wall clock per event (a cast, then
naive arithmetic) instead of converting zones in every expression: the figures must be the
ones the zone-aware expressions give, in zones with daylight saving time and half-hour
offsets too, across the night the clocks change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from abuse.sqlfiles import read_sql, set_variables


def _con(tz: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    con.execute("CREATE TABLE stg_activity (account_id VARCHAR, action VARCHAR, ts TIMESTAMPTZ, duration_s DOUBLE)")
    con.execute(
        "CREATE TABLE stg_coupon_events (account_id VARCHAR, campaign_id VARCHAR, action VARCHAR, ts TIMESTAMPTZ)"
    )
    con.execute("CREATE TABLE stg_campaigns (campaign_id VARCHAR, released_at TIMESTAMPTZ)")
    con.execute("CREATE TABLE stg_orders (account_id VARCHAR, created_at TIMESTAMPTZ)")
    con.execute("CREATE TABLE stg_reviews (account_id VARCHAR, action VARCHAR, created_at TIMESTAMPTZ)")
    return con


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Asia/Shanghai"])
def test_local_clock_figures_equal_the_zone_aware_ones(tz: str) -> None:
    con = _con(tz)
    # every 7 min 13 s for 60 days over both of the year's clock changes (and some 1 s apart)
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    n = 60 * 86400 // 433
    con.execute(
        """INSERT INTO stg_activity
                   SELECT 'a' || (i % 7), 'spin', ? + to_seconds(433 * i), 1.5
                   FROM range(?) AS r(i)""",
        [start, n],
    )
    con.execute(
        """INSERT INTO stg_activity
                   SELECT 'a' || (i % 7), 'spin', ? + to_seconds(433 * i + 1), 1.5
                   FROM range(0, ?, 50) AS r(i)""",
        [start, n],
    )
    fall = datetime(2025, 11, 2, 5, 30, tzinfo=timezone.utc)  # New York's repeated 01:xx
    con.execute("INSERT INTO stg_orders SELECT 'b', ? + to_minutes(m) FROM range(0, 120, 5) AS r(m)", [fall])
    con.execute("INSERT INTO stg_campaigns VALUES ('c', ?)", [start + timedelta(days=3, seconds=17)])
    con.executemany(
        "INSERT INTO stg_coupon_events VALUES ('d', 'c', 'claim', ?)",
        [[start + timedelta(days=3, seconds=s)] for s in (0, 30, 400, 2000)],
    )
    n_events = con.execute("SELECT count(DISTINCT (account_id, ts)) FROM stg_activity").fetchone()[0] + 24 + 4
    set_variables(
        con,
        window_start=datetime(2025, 1, 1, tzinfo=timezone.utc),
        window_end=datetime(2026, 1, 1, tzinfo=timezone.utc),
        timing_release_grace_s=600.0,
        timing_release_before_min=3,
    )
    con.execute("CREATE TABLE ev AS " + read_sql("features/timing_events.sql"))
    assert con.execute("SELECT count(*) FROM ev").fetchone()[0] == n_events
    wrong = con.execute("""
        SELECT count(*) FILTER (WHERE sec_of_hour <> extract(minute FROM ts) * 60 + extract(second FROM ts)),
               count(*) FILTER (WHERE sec_of_minute <> extract(second FROM ts)),
               count(*) FILTER (WHERE hour(local) <> hour(ts) OR CAST(local AS DATE) <> CAST(ts AS DATE)
                                OR isodow(local) <> isodow(ts)),
               count(*) FILTER (WHERE at_release <> (date_trunc('minute', ts) IN (
                   SELECT unnest(generate_series(date_trunc('minute', released_at) - INTERVAL 3 MINUTE,
                                                 date_trunc('minute', released_at) + INTERVAL 600 SECOND,
                                                 INTERVAL 1 MINUTE)) FROM stg_campaigns)))
        FROM ev""").fetchone()
    assert wrong == (0, 0, 0, 0)
    assert con.execute("SELECT count(*) FROM ev WHERE at_release").fetchone()[0] >= 3
    # clock hours: as many cells as the zone-aware truncation makes, per account
    cells = con.execute("""
        SELECT count(*) FROM (
            SELECT account_id, count(DISTINCT hour_cell) AS a, count(DISTINCT date_trunc('hour', ts)) AS b
            FROM ev GROUP BY account_id) WHERE a <> b""").fetchone()[0]
    assert cells == 0
