"""Per-day features kept like staging: nights that recompute only their changed days give the
table a full build gives (spikes' per-minute and wide-bin counts, abuse.detect.spikes.daily)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from helpers import order, rows_apart, state_db, write_landing
from test_staging_incremental import TZ, _deliveries, _night

from abuse import features, staging
from abuse.detect.spikes import daily

WIDE = 5


def _cold(con: duckdb.DuckDBPyConnection) -> str:
    """The counts built from scratch, as the TEMP table cold_counts."""
    con.execute("DELETE FROM feature_versions WHERE table_name = ?", [daily.TABLE])
    con.execute(f"ALTER TABLE {daily.TABLE} RENAME TO kept_counts")
    assert "all days (first build)" in daily.maintain(con, WIDE)
    con.execute(f"CREATE OR REPLACE TEMP TABLE cold_counts AS FROM {daily.TABLE}")
    con.execute(f"DROP TABLE {daily.TABLE}")
    con.execute(f"ALTER TABLE kept_counts RENAME TO {daily.TABLE}")
    return "cold_counts"


def _differences(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    cold = _cold(con)
    kept = daily.TABLE
    return rows_apart(con, kept, cold)


@pytest.fixture
def con(tmp_path: Path):
    with state_db(tmp_path / "work.duckdb", TZ) as c:
        yield c


def test_nights_merged_equal_a_full_build(con, landing: Path) -> None:
    said = []
    for run_id, _files in enumerate(_deliveries(landing), start=1):
        _night(con, landing, run_id)
        said.append(daily.maintain(con, WIDE))
        assert _differences(con) == (0, 0), f"night {run_id}"
    assert "first build" in said[0]
    assert "day(s) (merged)" in said[1] and said[2].endswith("unchanged")
    # a redelivery that moves an order to another day: both days are recomputed
    moved = order(2, created_at="2026-06-20T23:59:30+08:00")
    write_landing(landing, "orders", "o_moved.csv", [moved])
    _night(con, landing, 9)
    days, _, why = features.dirty_days(con, daily.TABLE, daily.version(con, WIDE), daily.KINDS)
    assert why == "merged" and days is not None and len(days) >= 2
    before = con.execute(f"SELECT count(*) FROM {daily.TABLE} WHERE day = DATE '2026-06-20'").fetchone()[0]
    daily.maintain(con, WIDE)
    after = con.execute(f"SELECT count(*) FROM {daily.TABLE} WHERE day = DATE '2026-06-20'").fetchone()[0]
    assert after > before
    assert _differences(con) == (0, 0)
    # a night's counts hold the new day's rows only where they changed: nothing else was rewritten
    assert daily.maintain(con, WIDE).endswith("unchanged")


def test_rebuilt_staging_and_changed_parameters_rebuild_the_counts(con, landing: Path) -> None:
    nights = _deliveries(landing)
    next(nights)
    _night(con, landing, 1)
    daily.maintain(con, WIDE)
    staging.rebuild(con)  # the failed-run undo: every kind rebuilt from raw
    assert daily.maintain(con, WIDE).endswith("(staging rebuilt)")
    assert "(its SQL or parameters changed)" in daily.maintain(con, 10)
    assert (
        con.execute(f"SELECT count(*) FROM {daily.TABLE} WHERE grain = 'wide' AND minute(minute) % 10 <> 0").fetchone()[
            0
        ]
        == 0
    )
