"""Incremental staging: merging each night's raw files gives the tables a full rebuild gives."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from helpers import order, rows_apart, state_db, write_landing

from abuse import ingest, staging
from abuse.schema import KINDS
from abuse.sqlfiles import run_folder

TZ = "Asia/Shanghai"


def _account(i: int, **kw):
    row = {
        "account_id": f"00{i}",
        "registered_at": f"2026-05-0{1 + i % 9}T10:00:00+08:00",
        "device_id": f"d{i}",
        "channel": "APP",
    }
    row.update(kw)
    return row


def _review(i: int, **kw):
    row = {
        "review_id": f"r{i}",
        "order_id": f"o_{i:04d}",
        "account_id": f"00{i % 7}",
        "shop_id": f"s_{i % 3}",
        "rating": 1 + i % 5,
        "created_at": f"2026-06-1{i % 9}T21:00:00+08:00",
    }
    row.update(kw)
    return row


def _deliveries(landing: Path):
    """Five nights of files; later ones re-deliver keys (with new values), add bad rows, and
    re-send a file already read."""
    yield [
        write_landing(landing, "accounts", "a1.csv", [_account(i) for i in range(5)]),
        write_landing(landing, "orders", "o1.csv", [order(i) for i in range(20)]),
        write_landing(landing, "reviews", "r1.jsonl", [_review(i) for i in range(6)]),
    ]
    yield [
        write_landing(
            landing, "orders", "o2.parquet", [order(i, status="REFUNDED", amount="99.00") for i in range(15, 30)]
        ),
        write_landing(landing, "accounts", "a2.csv", [_account(3, channel="Web"), _account(7)]),
        write_landing(landing, "reviews", "r2.csv", [_review(2, action="amended", rating=5), _review(4, rating=3)]),
    ]
    yield []  # a night without new files
    o3 = [
        order(5, status="cancelled"),
        order(31, amount="-1"),
        order(16, created_at="nope"),
        order(40),
        order(40, status="completed"),
    ]
    yield [
        write_landing(landing, "orders", "o3.csv", o3),
        write_landing(landing, "orders", "o3_copy.csv", o3),  # the same bytes again: a no-op
        write_landing(
            landing,
            "refunds",
            "f1.jsonl",
            [
                {
                    "refund_id": "f1",
                    "account_id": "001",
                    "shop_id": "s_1",
                    "amount": "5",
                    "requested_at": "2026-06-15T10:00:00+08:00",
                }
            ],
        ),
    ]
    yield [
        write_landing(landing, "orders", "o4.csv", [order(i, status="completed") for i in range(0, 40, 3)]),
        write_landing(
            landing,
            "refunds",
            "f2.csv",
            [
                {
                    "refund_id": "f1",
                    "account_id": "001",
                    "shop_id": "s_1",
                    "amount": "7",
                    "requested_at": "2026-06-15T10:00:00+08:00",
                    "kind": "Compensation",
                }
            ],
        ),
    ]


def _night(con: duckdb.DuckDBPyConnection, landing: Path, run_id: int) -> staging.Maintained:
    now = datetime.now(timezone.utc)
    report = ingest.load_new_files(con, landing, run_id, now)
    ingest.record_files(con, report, run_id, now)
    return staging.maintain(con)


def _differences(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows that differ (either way) between each stg_* table and a full rebuild from raw."""
    out = {}
    for kind in KINDS:
        t = f"stg_{kind}"
        full = f"(SELECT * FROM {t}_rows(0, 9223372036854775807))"
        out[t] = sum(rows_apart(con, t, full))
    return out


@pytest.fixture
def con(tmp_path: Path):
    with state_db(tmp_path / "work.duckdb", TZ) as c:
        yield c


def test_incremental_nights_equal_a_full_rebuild(con, landing: Path) -> None:
    done = []
    for run_id, _files in enumerate(_deliveries(landing), start=1):
        done.append(_night(con, landing, run_id))
        assert _differences(con) == {f"stg_{k}": 0 for k in KINDS}, f"night {run_id}"
    assert set(done[0].rebuilt) == {f"stg_{k}" for k in KINDS}  # first night: built from raw
    assert done[1].merged == {"stg_orders": 15, "stg_accounts": 2, "stg_reviews": 2} and not done[1].rebuilt
    assert not done[2].merged and not done[2].rebuilt
    assert done[3].merged["stg_orders"] == 2  # o_0005 again, o_0040 once (its later row); 2 quarantined
    assert done[4].merged == {"stg_orders": 14, "stg_refunds": 1}
    # latest delivery wins, as in a full rebuild
    assert con.execute("SELECT status, amount FROM stg_orders WHERE order_id = 'o_0005'").fetchone() == (
        "cancelled",
        15.5,
    )
    assert con.execute("SELECT status FROM stg_orders WHERE order_id = 'o_0040'").fetchone() == ("completed",)
    assert con.execute("SELECT amount, kind FROM stg_refunds").fetchall() == [(7, "compensation")]
    assert (
        con.execute("SELECT count(*) FROM stg_orders").fetchone()[0] == 35
    )  # o_0000..o_0029, o_0040, o_0030..o_0039 by 3
    assert con.execute("SELECT channel FROM stg_accounts WHERE account_id = '003'").fetchone() == ("web",)
    assert con.execute("SELECT count(*) FROM stg_reviews").fetchone()[0] == 7  # amended is a new action


def test_forgotten_run_and_changed_sql_rebuild_instead_of_merging(con, landing: Path) -> None:
    nights = _deliveries(landing)
    next(nights)
    _night(con, landing, 1)
    next(nights)
    now = datetime.now(timezone.utc)
    ingest.load_new_files(con, landing, 2, now)
    assert staging.maintain(con).merged  # staged, then the run is abandoned: its raw rows go
    ingest.forget_run(con, 2)
    again = staging.maintain(con)
    assert again.rebuilt == {
        "stg_orders": "staged rows of a forgotten run",
        "stg_accounts": "staged rows of a forgotten run",
        "stg_reviews": "staged rows of a forgotten run",
    }
    assert _differences(con) == {f"stg_{k}": 0 for k in KINDS}
    assert con.execute("SELECT count(*) FROM stg_orders").fetchone()[0] == 20
    # a table built with other SQL than today's (a schema change) is rebuilt, not merged into
    con.execute("UPDATE staging_versions SET sql_sha256 = 'old' WHERE table_name = 'stg_orders'")
    assert staging.maintain(con).rebuilt == {"stg_orders": "its SQL changed"}
    # the failed-run undo (pipeline.fail) rebuilds everything with run_folder; merging goes on after it
    run_folder(con, "staging")
    next(nights)
    next(nights)
    later = _night(con, landing, 3)  # night 2's files again (never recorded) and night 4's
    assert set(later.merged) == {"stg_orders", "stg_accounts", "stg_reviews", "stg_refunds"}
    assert not later.rebuilt
    assert _differences(con) == {f"stg_{k}": 0 for k in KINDS}


def test_merging_inside_the_callers_transaction_is_undone_with_it(con, landing: Path) -> None:
    nights = _deliveries(landing)
    next(nights)
    _night(con, landing, 1)
    next(nights)
    con.execute("BEGIN TRANSACTION")
    assert _night(con, landing, 2).merged["stg_orders"] == 15
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM stg_orders").fetchone()[0] == 20
    assert _differences(con) == {f"stg_{k}": 0 for k in KINDS}
    assert _night(con, landing, 3).merged["stg_orders"] == 15  # the files are new again
