"""Which days a run covers: the default as-of day (the latest day with a plausible volume of
data, never one stray row) and the window of local days ending with it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

EVENT_TIMES = {
    "accounts": "registered_at",
    "orders": "created_at",
    "reviews": "created_at",
    "refunds": "requested_at",
    "coupon_events": "ts",
    "activity": "ts",
}


def latest_day(con: duckdb.DuckDBPyConnection, lookback_days: int = 28, min_share: float = 0.05) -> date | None:
    """The default as-of: the latest day with a plausible volume of events, never one stray row.

    A day is plausible when it has at least ``min_share`` of the median daily count of the
    days with data among the ``lookback_days`` before it; a day with no data before it in that
    span (an order dated years after everything else) is not. When no day qualifies (data of
    a single day), the latest day with at least ``min_share`` of the median of all days is.
    Days are platform-local (the session zone)."""
    parts = [f"SELECT CAST({col} AS DATE) AS d FROM stg_{kind}" for kind, col in EVENT_TIMES.items()]
    row = con.execute(f"""
        WITH daily AS (SELECT d, count(*) AS n FROM ({" UNION ALL ".join(parts)}) WHERE d IS NOT NULL
                       GROUP BY d),
        judged AS (
            SELECT a.d, a.n, median(b.n) AS before
            FROM daily a LEFT JOIN daily b ON b.d < a.d AND b.d >= a.d - {int(lookback_days)}
            GROUP BY a.d, a.n)
        SELECT (SELECT max(d) FROM judged WHERE before IS NOT NULL AND n >= {float(min_share)} * before),
               (SELECT max(d) FROM daily WHERE n >= {float(min_share)} * (SELECT median(n) FROM daily))
    """).fetchall()[0]
    return row[0] or row[1]


def window_bounds(as_of: date, window_days: int, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the window of ``window_days`` local days ending with ``as_of``."""
    zone = ZoneInfo(tz)
    end_day = as_of + timedelta(days=1)
    start_day = end_day - timedelta(days=window_days)
    return (
        datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone),
        datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone),
    )
