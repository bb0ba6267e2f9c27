"""Deliveries written from the contract's text by someone who never saw our generator.

One set of records for all seven kinds (ids with leading zeros, uuids, Chinese ids; text with
commas, quotes, newlines, emoji and the word NULL; money with 0, 1 or 2 decimals; instants with
microseconds; optional fields missing) is written by independent writers, each in a style the
contract allows or does not forbid: header order, extra and unnamed columns, BOM, CRLF, every
field quoted, many parts, multi-member gzip, upper-case extensions, JSON numbers, keys omitted,
bare NaN, parquet types, every ISO 8601 timestamp spelling, "NULL" and "\\N" for missing values.
Each must load exactly the records as Python has them (values and instants), with nothing
quarantined. The column lists are copied from the contract (not from abuse.schema).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import state_db

from abuse import ingest
from abuse.ingest.options import IngestOptions

TZ = "Asia/Shanghai"
LOCAL = ZoneInfo(TZ)

# kind -> [(column, type)]; type: s text, t timestamp, m money, i int, n number (the contract's tables)
CONTRACT: dict[str, list[tuple[str, str]]] = {
    "accounts": [
        ("account_id", "s"),
        ("registered_at", "t"),
        ("phone_prefix", "s"),
        ("phone_hash", "s"),
        ("device_id", "s"),
        ("ip", "s"),
        ("channel", "s"),
        ("invited_by", "s"),
    ],
    "orders": [
        ("order_id", "s"),
        ("account_id", "s"),
        ("shop_id", "s"),
        ("item_id", "s"),
        ("amount", "m"),
        ("discount", "m"),
        ("coupon_id", "s"),
        ("created_at", "t"),
        ("device_id", "s"),
        ("ip", "s"),
        ("ship_addr_hash", "s"),
        ("status", "s"),
    ],
    "reviews": [
        ("review_id", "s"),
        ("order_id", "s"),
        ("account_id", "s"),
        ("shop_id", "s"),
        ("rating", "i"),
        ("created_at", "t"),
        ("action", "s"),
        ("text", "s"),
    ],
    "refunds": [
        ("refund_id", "s"),
        ("order_id", "s"),
        ("account_id", "s"),
        ("shop_id", "s"),
        ("amount", "m"),
        ("kind", "s"),
        ("reason", "s"),
        ("requested_at", "t"),
        ("resolved_at", "t"),
        ("outcome", "s"),
    ],
    "campaigns": [
        ("campaign_id", "s"),
        ("name", "s"),
        ("released_at", "t"),
        ("face_value", "m"),
        ("threshold", "m"),
        ("per_account_limit", "i"),
        ("total_quota", "i"),
    ],
    "coupon_events": [
        ("event_id", "s"),
        ("campaign_id", "s"),
        ("coupon_id", "s"),
        ("account_id", "s"),
        ("action", "s"),
        ("ts", "t"),
        ("order_id", "s"),
        ("device_id", "s"),
        ("ip", "s"),
    ],
    "activity": [
        ("event_id", "s"),
        ("account_id", "s"),
        ("ts", "t"),
        ("action", "s"),
        ("session_id", "s"),
        ("duration_s", "n"),
        ("target_id", "s"),
        ("device_id", "s"),
        ("ip", "s"),
    ],
}
REQUIRED = {
    "accounts": {"account_id", "registered_at"},
    "orders": {"order_id", "account_id", "shop_id", "amount", "created_at"},
    "reviews": {"review_id", "account_id", "shop_id", "rating", "created_at"},
    "refunds": {"refund_id", "account_id", "shop_id", "amount", "requested_at"},
    "campaigns": {"campaign_id", "released_at", "face_value"},
    "coupon_events": {"event_id", "campaign_id", "coupon_id", "account_id", "action", "ts"},
    "activity": {"event_id", "account_id", "ts", "action"},
}
KEY = {k: c[0][0] for k, c in CONTRACT.items()}
TEXTS = [
    'plain, with a comma and "quotes"',
    "多行\n评论，假货😀",
    "NULL",  # free text keeps the word
    "  padded  ",
    "emoji 🎉🎉 and 中文",
    "a,b,,c",
]


def _id(rng: random.Random, prefix: str) -> str:
    return rng.choice(
        [
            f"{prefix}_{rng.randrange(10**6):06d}",
            f"{rng.randrange(10**4):06d}",  # leading zeros
            str(uuid.UUID(int=rng.getrandbits(128))),
            f"{rng.randrange(10**7)}",  # a number-looking id
            f"用户{rng.randrange(100)}",
        ]
    )


def _money(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(0, 10**6)) / Decimal(rng.choice([1, 10, 100]))


def _instant(rng: random.Random) -> datetime:
    base = datetime(2026, 6, 1, tzinfo=timezone.utc)
    return base + timedelta(seconds=rng.randrange(25 * 86400), microseconds=rng.choice([0, 0, 123000, 456789]))


def records(seed: int = 11, n: int = 12) -> dict[str, list[dict[str, Any]]]:
    """Valid records of every kind: Python values (str, Decimal, aware datetime, int, float, None)."""
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, cols in CONTRACT.items():
        rows, keys = [], set()
        while len(rows) < n:
            row: dict[str, Any] = {}
            for c, t in cols:
                missing = c not in REQUIRED[kind] and rng.random() < 0.3
                if missing:
                    row[c] = None
                elif t == "t":
                    row[c] = _instant(rng)
                elif t == "m":
                    row[c] = _money(rng)
                elif t == "i":
                    row[c] = rng.randint(1, 5)
                elif t == "n":
                    row[c] = rng.choice([0.5, 1.0, 37.25, 3600.0])
                elif c in ("text", "reason", "name"):
                    row[c] = rng.choice(TEXTS)
                elif c == "action":
                    row[c] = {"reviews": "posted", "coupon_events": "claim"}.get(kind, "vote")
                elif c in ("status", "outcome", "kind", "channel"):
                    row[c] = {"status": "paid", "outcome": "approved", "kind": "compensation", "channel": "app"}[c]
                elif c == "phone_prefix":
                    row[c] = f"170{rng.randrange(10**4):04d}"
                elif c == "ip":
                    row[c] = rng.choice(["10.0.0.7", "2001:db8::1", "192.168.001.010"])
                else:
                    row[c] = _id(rng, c.split("_")[0][:2])
            if row[KEY[kind]] in keys:
                continue
            keys.add(row[KEY[kind]])
            rows.append(row)
        out[kind] = rows
    return out


# --------------------------------------------------------------------------------------- writers
# Each writer: (kind, rows) -> [(file name, bytes)] in one style.


def _ts_text(v: datetime, style: str, i: int) -> str:
    if style == "iso":
        return v.isoformat()
    forms = [
        lambda: v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        lambda: v.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M:%S.%f"),  # naive: platform-local
        lambda: v.astimezone(timezone(timedelta(hours=-5))).strftime("%Y-%m-%dT%H:%M:%S.%f%z"),  # -0500
        lambda: v.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S.%f"),
        lambda: v.astimezone(timezone(timedelta(hours=5, minutes=45))).isoformat(),
        lambda: v.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S,%fZ"),  # basic format, decimal comma
        lambda: v.astimezone(LOCAL).isoformat() + "[Asia/Shanghai]",  # Java's ZonedDateTime
    ]
    return forms[i % len(forms)]()


def _text(v: Any, t: str, style: str, i: int, null: str = "") -> str:
    if v is None:
        return null
    if t == "t":
        return _ts_text(v, style, i)
    if t == "m" and style != "iso" and i % 2:
        return f"{v:.2f}"  # 7 written 7.00
    return str(v)


def _csv(
    kind: str,
    rows: list[dict],
    *,
    order: list[str] | None = None,
    extra: bool = False,
    null: str = "",
    style: str = "iso",
    terminator: str = "\n",
    quoting: int = csv.QUOTE_MINIMAL,
    bom: bool = False,
) -> bytes:
    cols = order or [c for c, _ in CONTRACT[kind]]
    types = dict(CONTRACT[kind])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=terminator, quoting=quoting)
    w.writerow(cols + (["exported_by", "note", ""] if extra else []))
    for i, r in enumerate(rows):
        # (a missing free text is empty: there "NULL" is what someone wrote)
        cells = [_text(r[c], types[c], style, i, "" if c in ("text", "reason", "name") else null) for c in cols]
        w.writerow(cells + (["tool 1.0", 'x, "y"', ""] if extra else []))
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode()


def plain_csv(kind: str, rows: list[dict]) -> list[tuple[str, bytes]]:
    return [(f"{kind}.csv", _csv(kind, rows))]


def excel_csv(kind: str, rows: list[dict]) -> list[tuple[str, bytes]]:
    """Reversed header order, unknown and unnamed columns, BOM, CRLF, every field quoted."""
    order = [c for c, _ in CONTRACT[kind]][::-1]
    data = _csv(kind, rows, order=order, extra=True, terminator="\r\n", quoting=csv.QUOTE_ALL, bom=True)
    return [(f"{kind} export (1).csv", data)]


def sql_dump_csv(kind: str, rows: list[dict]) -> list[tuple[str, bytes]]:
    """Missing values written NULL (or \\N), other timestamp spellings, split in parts of which
    one is header-only, upper-case extensions, one part a multi-member gzip."""
    parts = [rows[i::3] for i in range(3)] + [[]]
    out = []
    for n, part in enumerate(parts):
        data = _csv(kind, part, null="NULL" if n % 2 else "\\N", style="respelled")
        if n == 1:
            data = gzip.compress(data[: len(data) // 2]) + gzip.compress(data[len(data) // 2 :])
            out.append((f"part-{n:05d}.CSV.GZ", data))
        else:
            out.append((f"part-{n:05d}.CSV", data))
    return out


def _json_value(v: Any, t: str, style: str, i: int) -> Any:
    if v is None:
        return None
    if t == "t":
        return _ts_text(v, style, i)
    if t == "m":
        return float(v) if i % 2 else str(v)  # a JSON number or a string
    return v


def jsonl(kind: str, rows: list[dict], gz: bool = False) -> list[tuple[str, bytes]]:
    """Keys in another order, missing values omitted or null or (floats) a bare NaN, money as JSON
    numbers, timestamps respelled, a blank line."""
    types = dict(CONTRACT[kind])
    lines = []
    for i, r in enumerate(rows):
        obj = {}
        for c in reversed(list(r)):
            v = _json_value(r[c], types[c], "respelled", i)
            if v is None and i % 3 == 0:
                continue  # key omitted
            obj[c] = float("nan") if v is None and types[c] == "n" else v
        lines.append(json.dumps(obj, ensure_ascii=i % 2 == 0))
    data = ("\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n").encode()
    return [(f"{kind}.jsonl.gz", gzip.compress(data))] if gz else [(f"{kind}.jsonl", data)]


def parquet(kind: str, rows: list[dict]) -> list[tuple[str, bytes]]:
    """Typed columns: absolute (UTC) timestamps, decimal or float money, int64 counts, float numbers."""
    arrays = {}
    for c, t in CONTRACT[kind]:
        vals = [r[c] for r in rows]
        if t == "t":
            arrays[c] = pa.array(vals, pa.timestamp("us", tz="UTC"))
        elif t == "m":
            arrays[c] = (
                pa.array(vals, pa.decimal128(18, 2))
                if kind != "orders"
                else pa.array([None if v is None else float(v) for v in vals], pa.float64())
            )
        elif t == "i":
            arrays[c] = pa.array(vals, pa.int64())
        elif t == "n":
            arrays[c] = pa.array(vals, pa.float64())
        else:
            arrays[c] = pa.array(vals, pa.string())
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays), buf, row_group_size=4)
    return [(f"{kind}.parquet", buf.getvalue())]


def parquet_local(kind: str, rows: list[dict]) -> list[tuple[str, bytes]]:
    """Timestamps without a zone (platform-local wall time, nanoseconds), ids dictionary-encoded."""
    arrays = {}
    for c, t in CONTRACT[kind]:
        vals = [r[c] for r in rows]
        if t == "t":
            wall = [None if v is None else v.astimezone(LOCAL).replace(tzinfo=None) for v in vals]
            arrays[c] = pa.array(wall, pa.timestamp("ns"))
        elif t in ("m", "i", "n"):
            arrays[c] = pa.array([None if v is None else str(v) for v in vals], pa.string())
        else:
            arrays[c] = pa.array(vals, pa.string()).dictionary_encode()
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays), buf)
    return [(f"{kind}.parquet", buf.getvalue())]


WRITERS: dict[str, Callable[[str, list[dict]], list[tuple[str, bytes]]]] = {
    "plain_csv": plain_csv,
    "excel_csv": excel_csv,
    "sql_dump_csv": sql_dump_csv,
    "jsonl": jsonl,
    "jsonl_gz": lambda k, r: jsonl(k, r, gz=True),
    "parquet": parquet,
    "parquet_local": parquet_local,
}


def deliver(landing: Path, files: dict[str, list[tuple[str, bytes]]], mtime: int = 1_780_000_000) -> None:
    for kind, parts in files.items():
        for name, data in parts:
            path = landing / kind / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            mtime += 10
            os.utime(path, (mtime, mtime))


def load(landing: Path, tz: str = TZ) -> tuple[duckdb.DuckDBPyConnection, list[tuple]]:
    """Ingest ``landing`` into a fresh in-memory state: (con, quarantine as (file name, row, reason))."""
    con = state_db(":memory:", tz)
    now = datetime.now(timezone.utc)
    con.execute("INSERT INTO runs (run_id, started_at, status) VALUES (1, ?, 'running')", [now])
    rep = ingest.load_new_files(con, landing, 1, now, options=IngestOptions())
    ingest.record_files(con, rep, 1, now)
    q = con.execute("SELECT file, row_number, reason FROM quarantine ORDER BY file, row_number").fetchall()
    return con, [(Path(f).name, n, r) for f, n, r in q]


def loaded(con: duckdb.DuckDBPyConnection, kind: str) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c, _ in CONTRACT[kind])
    return con.execute(f'SELECT {cols} FROM raw_{kind} WHERE _reject IS NULL ORDER BY "{KEY[kind]}"').fetchall()


def expected(rows: list[dict], kind: str) -> list[tuple]:
    cols = [c for c, _ in CONTRACT[kind]]
    return sorted((tuple(r[c] for c in cols) for r in rows), key=lambda t: t[0])


def _instants(rows: list[tuple]) -> list[tuple]:
    # aware datetimes compare as instants; money as Decimal, counts as int, numbers as float
    return [tuple(v.astimezone(timezone.utc) if isinstance(v, datetime) else v for v in r) for r in rows]


@pytest.mark.parametrize("style", list(WRITERS))
def test_every_writer_style_loads_the_records_exactly(tmp_path: Path, style: str) -> None:
    recs = records()
    landing = tmp_path / "landing"
    deliver(landing, {kind: WRITERS[style](kind, rows) for kind, rows in recs.items()})
    con, q = load(landing)
    assert q == []
    for kind, rows in recs.items():
        got, want = _instants(loaded(con, kind)), _instants(expected(rows, kind))
        assert got == want, f"{style}: {kind} differs"


def test_missing_values_spelled_null_are_missing_but_free_text_keeps_the_word(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    head = "order_id,account_id,shop_id,amount,discount,created_at,device_id,ip,status\n"
    deliver(
        landing,
        {
            "orders": [
                (
                    "o.csv",
                    (
                        head
                        + "o1,a1,s1,10,NULL,2026-06-18T10:00:00,NULL,\\N,None\n"
                        + "o2,a2,s1,10,nan,2026-06-18T10:00:00,NaN,null,paid\n"
                        + "NULL,a3,s1,10,,2026-06-18T10:00:00,d9,,paid\n"  # a key spelled NULL is missing
                    ).encode(),
                )
            ],
            "reviews": [
                (
                    "r.jsonl",
                    b'{"review_id":"r1","account_id":"a1","shop_id":"s1","rating":1,'
                    b'"created_at":"2026-06-18T10:00:00","text":"NULL","order_id":"NULL"}\n',
                )
            ],
        },
    )
    con, q = load(landing)
    assert q == [("o.csv", 3, "missing key: order_id")]
    assert con.execute(
        "SELECT order_id, discount, device_id, ip, status FROM raw_orders WHERE _reject IS NULL ORDER BY 1"
    ).fetchall() == [("o1", None, None, None, None), ("o2", None, None, None, "paid")]
    assert con.execute("SELECT text, order_id FROM raw_reviews").fetchall() == [("NULL", None)]


def test_float_ids_from_json_and_parquet_writers_are_the_whole_numbers(tmp_path: Path) -> None:
    """A JSON number 7.0 (or a parquet double) in an id column is the id 7; a JSON string "7.0"
    stays "7.0" (ids are opaque strings)."""
    landing = tmp_path / "landing"
    buf = io.BytesIO()
    pq.write_table(
        pa.table({"account_id": pa.array([7.0, 8.5]), "registered_at": ["2026-06-18T10:00:00+08:00"] * 2}), buf
    )
    deliver(
        landing,
        {
            "accounts": [("a.parquet", buf.getvalue())],
            "orders": [
                (
                    "o.jsonl",
                    b'{"order_id":1.0,"account_id":7.0,"shop_id":"7.0","amount":1,"created_at":"2026-06-18T10:00:00"}\n',
                )
            ],
        },
    )
    con, q = load(landing)
    assert q == []
    assert con.execute("SELECT account_id FROM raw_accounts ORDER BY 1").fetchall() == [("7",), ("8.5",)]
    assert con.execute("SELECT order_id, account_id, shop_id FROM raw_orders").fetchall() == [("1", "7", "7.0")]


def test_money_written_as_a_binary_float_is_its_two_decimal_value(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    amounts = [0.1 + 0.2, 19.9 * 3, 17.1 - 1e-12, 1.005]  # float noise, noise, noise, a real 3rd decimal
    lines = "".join(
        json.dumps(
            {"order_id": f"o{i}", "account_id": "a", "shop_id": "s", "amount": a, "created_at": "2026-06-18T10:00:00"}
        )
        + "\n"
        for i, a in enumerate(amounts)
    )
    deliver(landing, {"orders": [("o.jsonl", lines.encode())]})
    con, q = load(landing)
    assert con.execute(
        "SELECT order_id, amount::VARCHAR FROM raw_orders WHERE _reject IS NULL ORDER BY 1"
    ).fetchall() == [("o0", "0.30"), ("o1", "59.70"), ("o2", "17.10")]
    assert q == [("o.jsonl", 4, "more than 2 decimals in amount: '1.005' (money is in yuan, up to 2 decimals)")]


def test_header_variations_are_ignored_named_or_hinted(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    row = "o1,a1,s1,10,2026-06-18T10:00:00"
    deliver(
        landing,
        {
            "orders": [
                ("trailing_commas.csv", f"order_id,account_id,shop_id,amount,created_at,,\n{row},,\n".encode()),
                ("twice_unknown.csv", f"order_id,account_id,shop_id,amount,created_at,x,x\n{row},1,2\n".encode()),
                ("twice_amount.csv", f"order_id,account_id,shop_id,amount,created_at,amount\n{row},11\n".encode()),
                ("upper.csv", f"ORDER_ID,Account_Id,shop_id,amount,created_at\n{row}\n".encode()),
                ("utf16.csv", f"order_id,account_id,shop_id,amount,created_at\n{row}\n".encode("utf-16")),
                ("sep.csv", f"sep=,\norder_id,account_id,shop_id,amount,created_at\n{row}\n".encode()),
                ("joined.csv", (f"order_id,account_id,shop_id,amount,created_at\n{row}\n" * 2).encode()),
            ]
        },
    )
    con, q = load(landing)
    assert con.execute("SELECT _file FROM raw_orders WHERE _reject IS NULL ORDER BY 1").fetchall() == [
        (str(landing / "orders" / "joined.csv"),),
        (str(landing / "orders" / "joined.csv"),),
        (str(landing / "orders" / "trailing_commas.csv"),),
        (str(landing / "orders" / "twice_unknown.csv"),),
    ]
    assert q == [
        ("joined.csv", 2, "a repeated header row (files joined together?)"),
        (
            "sep.csv",
            None,
            "file rejected: missing required columns 'order_id', 'account_id', 'shop_id', 'amount', 'created_at' "
            "(the first line is a spreadsheet's 'sep=' line; the header must be the first line)",
        ),
        ("twice_amount.csv", None, "file rejected: the header names column 'amount' more than once"),
        (
            "upper.csv",
            None,
            "file rejected: missing required columns 'order_id', 'account_id' (the file has 'ORDER_ID' for "
            "'order_id', 'Account_Id' for 'account_id': column names are matched exactly, in lower case)",
        ),
        (
            "utf16.csv",
            None,
            "file rejected: cannot read the header: bytes that are not UTF-8 (the file looks UTF-16 encoded; "
            "the contract's CSV is UTF-8)",
        ),
    ]


def test_an_upper_case_gz_extension_is_decompressed_not_read_as_noise(tmp_path: Path) -> None:
    """Before: DuckDB chose compression by the name's case, read the gzip bytes as text and
    loaded nothing, with no error and nothing quarantined."""
    landing = tmp_path / "landing"
    line = b'{"order_id":"o1","account_id":"a","shop_id":"s","amount":1,"created_at":"2026-06-18T10:00:00"}\n'
    csv_data = b"order_id,account_id,shop_id,amount,created_at\no2,a,s,1,2026-06-18T10:00:00\n"
    deliver(landing, {"orders": [("A.JSONL.GZ", gzip.compress(line)), ("B.Csv.Gz", gzip.compress(csv_data))]})
    con, q = load(landing)
    assert q == [] and con.execute("SELECT order_id FROM raw_orders ORDER BY 1").fetchall() == [("o1",), ("o2",)]


def test_kind_folders_in_another_spelling_load_and_other_entries_are_named(tmp_path: Path) -> None:
    """``Orders/`` and ``coupon-events/`` hold orders and coupon events; a folder of no kind
    (``order/``) or a file beside the folders is passed over by name, never silently."""
    from abuse.ingest.discover import discover

    landing = tmp_path / "landing"
    head = "order_id,account_id,shop_id,amount,created_at\n"
    deliver(
        landing,
        {
            "Orders": [("o.csv", (head + "o1,a,s,1,2026-06-18T10:00:00\n").encode())],
            "coupon-events": [
                (
                    "e.jsonl",
                    b'{"event_id":"e1","campaign_id":"c","coupon_id":"k","account_id":"a",'
                    b'"action":"claim","ts":"2026-06-18T10:00:00"}\n',
                )
            ],
            "order": [("typo.csv", (head + "o2,a,s,1,2026-06-18T10:00:00\n").encode())],
        },
    )
    (landing / "accounts.csv").write_text("account_id,registered_at\n")
    files, skipped = discover(landing)
    assert sorted((f.kind, f.path.name) for f in files) == [("coupon_events", "e.jsonl"), ("orders", "o.csv")]
    assert sorted(p.name for p in skipped) == ["accounts.csv", "order"]
    con, q = load(landing)
    assert q == [] and con.execute("SELECT order_id FROM raw_orders").fetchall() == [("o1",)]
    assert con.execute("SELECT event_id FROM raw_coupon_events").fetchall() == [("e1",)]


def test_a_file_of_withdrawals_needs_no_rating_column(tmp_path: Path) -> None:
    """rating may be empty on a withdrawn action, so a reviews file with an action column but no
    rating column loads its withdrawals; any other action in it is quarantined alone. In JSONL a
    required key first seen after the 1,000-record sample still counts as the file's column."""
    landing = tmp_path / "landing"
    base = '"account_id":"a","shop_id":"s","created_at":"2026-06-18T10:00:00"'
    withdrawals = "".join(f'{{"review_id":"w{i}",{base},"action":"withdrawn"}}\n' for i in range(1200))
    late_rating = (
        "".join(f'{{"review_id":"p{i}",{base}}}\n' for i in range(1200)) + f'{{"review_id":"p9",{base},"rating":4}}\n'
    )
    deliver(
        landing,
        {
            "reviews": [
                ("withdrawals.jsonl", withdrawals.encode()),
                (
                    "w.csv",
                    b"review_id,account_id,shop_id,created_at,action\nw1,a,s,2026-06-18T10:00:00,withdrawn\n"
                    b"x1,a,s,2026-06-18T10:00:00,posted\n",
                ),
                ("late.jsonl", late_rating.encode()),
            ]
        },
    )
    con, q = load(landing)
    by_file: dict[str, int] = {}
    for f, _n, _r in q:
        by_file[f] = by_file.get(f, 0) + 1
    assert by_file == {"w.csv": 1, "late.jsonl": 1200}  # every p-row lacks its rating; nothing refused whole
    assert ("w.csv", 2, "missing required value: rating (only a withdrawn action may omit it)") in q
    n = con.execute("SELECT count(*) FROM raw_reviews WHERE _reject IS NULL").fetchone()[0]
    assert n == 1200 + 1 + 1
