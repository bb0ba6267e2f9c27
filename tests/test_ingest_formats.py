"""Every contract format lands the same records with the same types."""

from pathlib import Path

import pytest
from helpers import nightly, order, work, write_landing

FORMATS = [".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet"]


@pytest.mark.parametrize("ext", FORMATS)
def test_each_format_stages_typed_orders(tmp_path: Path, landing: Path, ext: str) -> None:
    rows = [order(i) for i in range(1, 6)]
    write_landing(landing, "orders", f"orders{ext}", rows)
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 5
    staged = work(
        tmp_path,
        "SELECT order_id, account_id, amount, typeof(amount), typeof(created_at) FROM stg_orders ORDER BY order_id",
    )
    assert [r[0] for r in staged] == [r["order_id"] for r in rows]
    assert staged[0][1] == "001"  # zero-padded ids stay text
    assert float(staged[0][2]) == 11.5
    assert staged[0][3].startswith("DECIMAL") and staged[0][4] == "TIMESTAMP WITH TIME ZONE"


def test_all_formats_agree(tmp_path: Path, landing: Path) -> None:
    rows = [order(i) for i in range(1, 26)]
    for n, ext in enumerate(FORMATS):
        write_landing(landing, "orders", f"part{ext}", rows[n * 5 : (n + 1) * 5])
    nightly(tmp_path, landing)
    staged = work(
        tmp_path,
        "SELECT order_id, account_id, shop_id, amount, "
        "strftime(created_at, '%Y-%m-%d %H:%M:%S') FROM stg_orders ORDER BY 1",
    )
    want = [
        (r["order_id"], r["account_id"], r["shop_id"], r["amount"], r["created_at"][:19].replace("T", " "))
        for r in rows
    ]
    assert [(a, b, c, f"{d:.2f}", e) for a, b, c, d, e in staged] == want


def test_missing_folder_and_unknown_columns_are_fine(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "o.csv", [order(1, note="extra, ignored")])
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 1 and out["ingested"]["reviews"] == 0


def test_all_seven_kinds(tmp_path: Path, landing: Path) -> None:
    t = "2026-06-18T20:00:01+08:00"
    write_landing(landing, "accounts", "a.csv", [{"account_id": "a1", "registered_at": t, "phone_prefix": "1703321"}])
    write_landing(landing, "orders", "o.jsonl", [order(1, account_id="a1", coupon_id="c1", discount="20")])
    write_landing(
        landing,
        "reviews",
        "r.parquet",
        [
            {
                "review_id": "r1",
                "account_id": "a1",
                "shop_id": "s",
                "rating": 1,
                "created_at": t,
                "text": '差评, "假货" 😡',
            }
        ],
    )
    write_landing(
        landing,
        "refunds",
        "f.csv.gz",
        [
            {
                "refund_id": "f1",
                "account_id": "a1",
                "shop_id": "s",
                "amount": "5",
                "requested_at": t,
                "kind": "compensation",
            }
        ],
    )
    write_landing(
        landing, "campaigns", "c.csv", [{"campaign_id": "cp", "released_at": t, "face_value": "20", "threshold": "100"}]
    )
    write_landing(
        landing,
        "coupon_events",
        "e.jsonl.gz",
        [{"event_id": "e1", "campaign_id": "cp", "coupon_id": "c1", "account_id": "a1", "action": "claim", "ts": t}],
    )
    write_landing(
        landing,
        "activity",
        "v.csv",
        [{"event_id": "v1", "account_id": "a1", "ts": t, "action": "lottery_spin", "duration_s": "1.2"}],
    )
    out = nightly(tmp_path, landing)
    assert all(out["ingested"][k] == 1 for k in out["ingested"]), out["ingested"]
    assert work(tmp_path, "SELECT text FROM stg_reviews") == [('差评, "假货" 😡',)]
    assert work(tmp_path, "SELECT kind FROM stg_refunds") == [("compensation",)]


# ---------------------------------------------------------------------------------------------
# What real exports look like (issue 9): BOM, CRLF, other delimiters, empty files, odd names.

import json  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from test_ingest_bad_input import HEADER, good, load, loaded, put  # noqa: E402


def test_bom_and_crlf_csv_with_a_multiline_record(landing: Path) -> None:
    body = HEADER + good(1) + 'o2,a2,s,"3.50",2026-06-12T10:00:00+08:00\n' + good(3)
    put(landing, "orders", "bom_crlf.csv", b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode())
    rh = "review_id,account_id,shop_id,rating,created_at,text\r\n"
    put(
        landing,
        "reviews",
        "crlf.csv",
        (
            rh + 'r1,a,s,1,2026-06-11T10:00:00+08:00,"line one\r\nline two"\r\nr2,a,s,9,2026-06-11T10:00:00+08:00,x\r\n'
        ).encode(),
    )
    con, _rep, q = load(landing)
    assert loaded(con) == ["o1", "o2", "o3"]
    assert con.execute("SELECT text FROM raw_reviews WHERE review_id = 'r1'").fetchone()[0] == "line one\r\nline two"
    assert [(f, n) for f, n, _r, _ in q] == [("crlf.csv", 2)]  # the two-line record counted once


def test_bom_and_crlf_jsonl(landing: Path) -> None:
    lines = [json.dumps(order(1)), json.dumps(order(2))]
    put(landing, "orders", "bom.jsonl", b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    con, _rep, q = load(landing)
    assert q == [] and loaded(con) == ["o_0001", "o_0002"]


def test_a_semicolon_delimited_file_is_rejected_naming_what_is_missing(landing: Path) -> None:
    put(landing, "orders", "semi.csv", (HEADER + good(1)).replace(",", ";").encode())
    put(landing, "orders", "fine.csv", (HEADER + good(2)).encode())
    con, rep, q = load(landing)
    assert loaded(con) == ["o2"]
    assert len(q) == 1 and q[0][0] == "semi.csv" and q[0][1] is None
    assert "missing required columns 'order_id', 'account_id', 'shop_id', 'amount', 'created_at'" in q[0][2]
    assert "separated by semicolons" in q[0][2]


def test_empty_and_header_only_files(landing: Path) -> None:
    put(landing, "orders", "empty.csv", b"")
    put(landing, "orders", "header_only.csv", HEADER.encode())
    put(landing, "orders", "blank_lines.jsonl", b"\n\n  \n")
    put(landing, "orders", "empty.csv.gz", __import__("gzip").compress(b""))
    con, rep, q = load(landing)
    assert [(f, n, r) for f, n, r, _ in q] == [
        ("empty.csv", None, "file rejected: empty file: no header row"),
        ("empty.csv.gz", None, "file rejected: empty file: no header row"),
    ]
    by_name = {r.file.path.name: r for r in rep.files}
    assert by_name["header_only.csv"].rows == 0 and by_name["header_only.csv"].rejected is None
    assert by_name["blank_lines.jsonl"].rows == 0 and by_name["blank_lines.jsonl"].rejected is None
    assert loaded(con) == []


@pytest.mark.parametrize(
    "name", ["orders 2026-06-18 (1).csv", "订单 😀.jsonl", 'it\'s "quoted".csv', "glob[1]*?.parquet", "{a,b}.csv.gz"]
)
def test_odd_file_names(landing: Path, name: str) -> None:
    write_landing(landing, "orders", name, [order(1), order(2, amount="-1"), order(3)])
    con, rep, q = load(landing)
    assert rep.files[0].rejected is None and rep.files[0].careful is None
    assert loaded(con) == ["o_0001", "o_0003"]
    assert [(f, n) for f, n, _r, _ in q] == [(name, 2)]


def test_parquet_float_money_is_read_by_value_not_binary_noise(landing: Path) -> None:
    path = landing / "orders" / "floats.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "order_id": ["o1", "o2", "o3"],
                "account_id": ["a", "a", "a"],
                "shop_id": ["s", "s", "s"],
                "amount": [0.1 + 0.2, 1.234, 19.99],
                "created_at": ["2026-06-11T10:00:00+08:00"] * 3,
            }
        ),
        path,
    )
    con, _rep, q = load(landing)
    assert con.execute(
        "SELECT order_id, amount::VARCHAR FROM raw_orders WHERE _reject IS NULL ORDER BY 1"
    ).fetchall() == [("o1", "0.30"), ("o3", "19.99")]
    assert [(n, r) for _f, n, r, _ in q] == [
        (2, "more than 2 decimals in amount: '1.234' (money is in yuan, up to 2 decimals)")
    ]
