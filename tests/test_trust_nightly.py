"""`abuse nightly` over a delivery nobody here wrote: every kind in another writer's style, a few
bad rows and files among them, one optional kind missing. The run succeeds, report.runs counts
exactly the valid records, report.quarantine names every bad record (file, row, reason) or file
(null row), the window ends on the data's last day (not on a stray row), and a later night's
corrections (older file dates, other formats) win while a replayed file is a no-op."""

from __future__ import annotations

import gzip
from pathlib import Path
from zoneinfo import ZoneInfo

from helpers import nightly, report, work
from test_trust_deliveries import WRITERS, deliver, records

STYLE = {  # kind -> writer: each kind in another style
    "accounts": "excel_csv",
    "orders": "sql_dump_csv",
    "reviews": "jsonl",
    "refunds": "parquet",
    "campaigns": "parquet_local",
    "coupon_events": "jsonl_gz",
}
ORDERS_HEAD = "order_id,account_id,shop_id,amount,created_at\n"


def test_a_foreign_delivery_with_a_few_bad_rows_gets_a_full_report(tmp_path: Path) -> None:
    recs = records(seed=5, n=20)
    landing = tmp_path / "landing"
    files = {kind: WRITERS[STYLE[kind]](kind, recs[kind]) for kind in STYLE}  # no activity: optional
    bad = (
        ORDERS_HEAD
        + "x1,a,s,1,2999-01-01T00:00:00+08:00\n"  # a stray row centuries ahead
        + "x2,a,s,1,2026-06-18 20:00:00 CST\n"  # ambiguous zone
        + "NULL,a,s,1,2026-06-18T20:00:00\n"  # key spelled NULL
        + "x4,a,s,1,1781784003\n"  # epoch seconds
    )
    files["orders"] += [
        ("late/bad rows.csv", bad.encode()),
        ("no_amount.csv", b"order_id,account_id,shop_id,created_at\nx5,a,s,2026-06-18T20:00:00\n"),
        ("cut.csv.gz", gzip.compress((ORDERS_HEAD + "x6,a,s,1,2026-06-18T20:00:00\n").encode())[:-12]),
    ]
    deliver(landing, files)
    out = nightly(tmp_path, landing, dossiers_top=0)
    want = {kind: len(rows) for kind, rows in recs.items() if kind in STYLE}
    assert {k: v for k, v in out["ingested"].items() if k in STYLE} == want and out["ingested"]["activity"] == 0
    last_day = max(r["created_at"] for r in recs["orders"]).astimezone(ZoneInfo("Asia/Shanghai"))
    runs = report(
        tmp_path,
        "SELECT status, as_of, rows_orders, rows_reviews, rows_activity, rows_quarantined FROM report.runs",
    )
    assert runs[0][:5] == ("succeeded", runs[0][1], 20, 20, 0)
    assert runs[0][1] >= last_day.date() and runs[0][1].year == 2026  # the 2999 row moved nothing
    q = report(tmp_path, "SELECT file, row_number, reason FROM report.quarantine ORDER BY file, row_number")
    shown = sorted((Path(f).name, n or 0, r.split(":")[0]) for f, n, r in q)
    assert shown == [
        ("bad rows.csv", 1, "timestamp in the future in created_at"),
        ("bad rows.csv", 2, "time zone abbreviation in created_at"),
        ("bad rows.csv", 3, "missing key"),
        ("bad rows.csv", 4, "unparseable timestamp in created_at"),
        ("cut.csv.gz", 1, "the compressed stream is cut short (it ends before its end-of-stream marker)"),
        ("no_amount.csv", 0, "file rejected"),
    ]
    assert [r for f, n, r in q if n is None] == ["file rejected: missing required column 'amount'"]
    assert work(tmp_path, "SELECT count(*) FROM stg_orders") == [(20,)]


def test_a_later_night_corrects_records_and_a_replayed_file_changes_nothing(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    first = ORDERS_HEAD + "o1,a1,s1,10.00,2026-06-18T20:00:00+08:00\no2,a2,s1,20.00,2026-06-18T21:00:00+08:00\n"
    deliver(landing, {"orders": [("day1.csv", first.encode())]}, mtime=1_780_100_000)
    nightly(tmp_path, landing, dossiers_top=0)
    # the correction is dated earlier than day1.csv, in another format, with another spelling of
    # the same instant: a later run is later, whatever the file's date
    correction = (
        b'{"order_id":"o2","account_id":"a2","shop_id":"s1","amount":"25.5","created_at":"2026-06-18T13:00:00Z"}\n'
    )
    deliver(
        landing,
        {"orders": [("fix/o2.jsonl", correction), ("copy of day1.CSV", first.encode())]},
        mtime=1_780_000_000,
    )
    out = nightly(tmp_path, landing, init=False, dossiers_top=0)
    assert out["ingested"]["orders"] == 1  # the copy is the same bytes: a no-op
    assert work(
        tmp_path, "SELECT order_id, amount::VARCHAR, strftime(created_at, '%H:%M') FROM stg_orders ORDER BY 1"
    ) == [
        ("o1", "10.00", "20:00"),
        ("o2", "25.50", "21:00"),
    ]
    assert report(tmp_path, "SELECT count(*) FROM report.runs WHERE status = 'succeeded'") == [(2,)]
    assert report(tmp_path, "SELECT count(*) FROM report.quarantine") == [(0,)]
