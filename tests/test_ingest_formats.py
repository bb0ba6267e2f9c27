"""Every contract format lands the same records with the same types."""

from pathlib import Path

import pytest

from conftest import nightly, order, work, write_landing

FORMATS = [".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet"]


@pytest.mark.parametrize("ext", FORMATS)
def test_each_format_stages_typed_orders(tmp_path: Path, landing: Path, ext: str) -> None:
    rows = [order(i) for i in range(1, 6)]
    write_landing(landing, "orders", f"orders{ext}", rows)
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 5
    staged = work(tmp_path, "SELECT order_id, account_id, amount, typeof(amount), "
                            "typeof(created_at) FROM stg_orders ORDER BY order_id")
    assert [r[0] for r in staged] == [r["order_id"] for r in rows]
    assert staged[0][1] == "001"  # zero-padded ids stay text
    assert float(staged[0][2]) == 11.5
    assert staged[0][3].startswith("DECIMAL") and staged[0][4] == "TIMESTAMP WITH TIME ZONE"


def test_all_formats_agree(tmp_path: Path, landing: Path) -> None:
    rows = [order(i) for i in range(1, 26)]
    for n, ext in enumerate(FORMATS):
        write_landing(landing, "orders", f"part{ext}", rows[n * 5:(n + 1) * 5])
    nightly(tmp_path, landing)
    staged = work(tmp_path, "SELECT order_id, account_id, shop_id, amount, "
                            "strftime(created_at, '%Y-%m-%d %H:%M:%S') FROM stg_orders ORDER BY 1")
    want = [(r["order_id"], r["account_id"], r["shop_id"], r["amount"],
             r["created_at"][:19].replace("T", " ")) for r in rows]
    assert [(a, b, c, f"{d:.2f}", e) for a, b, c, d, e in staged] == want


def test_missing_folder_and_unknown_columns_are_fine(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "o.csv", [order(1, note="extra, ignored")])
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 1 and out["ingested"]["reviews"] == 0


def test_all_seven_kinds(tmp_path: Path, landing: Path) -> None:
    t = "2026-06-18T20:00:01+08:00"
    write_landing(landing, "accounts", "a.csv", [{"account_id": "a1", "registered_at": t, "phone_prefix": "1703321"}])
    write_landing(landing, "orders", "o.jsonl", [order(1, account_id="a1", coupon_id="c1", discount="20")])
    write_landing(landing, "reviews", "r.parquet", [{"review_id": "r1", "account_id": "a1", "shop_id": "s",
                                                     "rating": 1, "created_at": t, "text": "差评, \"假货\" 😡"}])
    write_landing(landing, "refunds", "f.csv.gz", [{"refund_id": "f1", "account_id": "a1", "shop_id": "s",
                                                    "amount": "5", "requested_at": t, "kind": "compensation"}])
    write_landing(landing, "campaigns", "c.csv", [{"campaign_id": "cp", "released_at": t, "face_value": "20",
                                                   "threshold": "100"}])
    write_landing(landing, "coupon_events", "e.jsonl.gz", [{"event_id": "e1", "campaign_id": "cp", "coupon_id": "c1",
                                                            "account_id": "a1", "action": "claim", "ts": t}])
    write_landing(landing, "activity", "v.csv", [{"event_id": "v1", "account_id": "a1", "ts": t,
                                                  "action": "lottery_spin", "duration_s": "1.2"}])
    out = nightly(tmp_path, landing)
    assert all(out["ingested"][k] == 1 for k in out["ingested"]), out["ingested"]
    assert work(tmp_path, "SELECT text FROM stg_reviews") == [("差评, \"假货\" 😡",)]
    assert work(tmp_path, "SELECT kind FROM stg_refunds") == [("compensation",)]
