"""Re-delivery: the same bytes are a no-op; a later record with the same key wins."""

import shutil
from pathlib import Path

from helpers import nightly, order, report, work, write_landing


def test_same_file_under_another_name_is_a_noop(tmp_path: Path, landing: Path) -> None:
    path = write_landing(landing, "orders", "a.csv", [order(1), order(2)])
    first = nightly(tmp_path, landing)
    shutil.copy(path, landing / "orders" / "a_copy.csv")
    second = nightly(tmp_path, landing)
    assert first["ingested"]["orders"] == 2 and second["ingested"]["orders"] == 0
    assert work(tmp_path, "SELECT count(*) FROM raw_orders") == [(2,)]


def test_rerun_over_same_landing_changes_nothing(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "a.csv", [order(1), order(2, amount="-5")])
    nightly(tmp_path, landing)
    snapshot = work(tmp_path, "SELECT * EXCLUDE (_file_seq) FROM stg_orders ORDER BY order_id")
    nightly(tmp_path, landing)
    assert work(tmp_path, "SELECT * EXCLUDE (_file_seq) FROM stg_orders ORDER BY order_id") == snapshot
    # the bad row is quarantined once, by the run that read it
    assert report(tmp_path, "SELECT run_id, count(*) FROM report.quarantine GROUP BY 1") == [(1, 1)]


def test_later_delivery_wins_within_and_across_runs(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "z_first.csv", [order(1, amount="10"), order(2, amount="20")])
    write_landing(landing, "orders", "a_second.csv", [order(1, amount="11")])  # newer mtime, earlier name
    nightly(tmp_path, landing)
    assert work(tmp_path, "SELECT order_id, amount::VARCHAR FROM stg_orders ORDER BY 1") == [
        ("o_0001", "11.00"),
        ("o_0002", "20.00"),
    ]
    write_landing(landing, "orders", "third.csv", [order(2, amount="22")])
    nightly(tmp_path, landing)
    assert work(tmp_path, "SELECT order_id, amount::VARCHAR FROM stg_orders ORDER BY 1") == [
        ("o_0001", "11.00"),
        ("o_0002", "22.00"),
    ]


def test_same_key_twice_in_one_file_keeps_the_last(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "a.csv", [order(1, amount="1"), order(1, amount="2")])
    nightly(tmp_path, landing)
    assert work(tmp_path, "SELECT amount::VARCHAR FROM stg_orders") == [("2.00",)]


def test_review_actions_are_kept_apart(tmp_path: Path, landing: Path) -> None:
    base = {"review_id": "r1", "account_id": "a", "shop_id": "s"}
    write_landing(
        landing,
        "reviews",
        "r.csv",
        [
            {**base, "rating": "1", "created_at": "2026-06-01T10:00:00+08:00", "action": "posted"},
            {**base, "rating": "5", "created_at": "2026-06-05T10:00:00+08:00", "action": "amended"},
            {**base, "rating": "", "created_at": "2026-06-06T10:00:00+08:00", "action": "withdrawn"},
        ],
    )
    nightly(tmp_path, landing)
    assert work(tmp_path, "SELECT action, rating FROM stg_reviews ORDER BY created_at") == [
        ("posted", 1),
        ("amended", 5),
        ("withdrawn", None),
    ]
