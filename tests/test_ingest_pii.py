"""Raw mobile numbers are caught at ingest: prefixes cut to 7 digits, hashes keyed, texts masked,
and none of them reaches a table, a report view or a log line."""

import hashlib
import hmac
import json
from pathlib import Path

import duckdb
from helpers import order, report, work, write_landing

from abuse.ingest.options import DEFAULT_PII_KEY
from abuse.pipeline import run_nightly
from abuse.settings import Settings

T = "2026-06-18T20:00:01+08:00"
RAW = ["13912340020", "15087654321", "18600001111", "17712345678", "13500135000"]


def _hmac(number: str, key: str = DEFAULT_PII_KEY) -> str:
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def _deliver(landing: Path) -> None:
    write_landing(
        landing,
        "accounts",
        "a.csv",
        [
            {"account_id": "a1", "registered_at": T, "phone_prefix": RAW[0], "phone_hash": "+86 139-1234-0020"},
            {"account_id": "a2", "registered_at": T, "phone_prefix": "1508765", "phone_hash": RAW[1]},
            {"account_id": "a3", "registered_at": T, "phone_prefix": "+86 186 0000 1111", "phone_hash": "9f3a0c"},
            {"account_id": "a4", "registered_at": "yesterday", "phone_prefix": RAW[3]},  # quarantined: raw too
        ],
    )
    base = {"account_id": "a1", "shop_id": "s", "created_at": T}
    write_landing(
        landing,
        "reviews",
        "r.jsonl",
        [
            {**base, "review_id": "r1", "rating": 1, "text": f"假货! 联系我 {RAW[4]} 或 139-1234-0020"},
            {**base, "review_id": "r2", "rating": 9, "text": f"call {RAW[1]}"},  # quarantined: raw shown masked
            {**base, "review_id": "r3", "rating": 5, "text": "订单号 139876543210123 不是手机号"},
        ],
    )
    write_landing(
        landing,
        "refunds",
        "f.csv",
        [
            {
                "refund_id": "f1",
                "account_id": "a1",
                "shop_id": "s",
                "amount": "5",
                "requested_at": T,
                "reason": f"tel {RAW[2]}",
            }
        ],
    )
    write_landing(landing, "orders", "o.csv", [order(1, account_id="a1")])


def _all_text(path: Path) -> str:
    """Every text value of every table and view in a database, as one string."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = []
        for schema, table in con.execute(
            "SELECT DISTINCT table_schema, table_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON') OR data_type LIKE '%[]'"
        ).fetchall():
            parts.append(str(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()))
        return "\n".join(parts)
    finally:
        con.close()


def test_raw_mobile_numbers_are_masked_at_ingest(tmp_path: Path, landing: Path) -> None:
    _deliver(landing)
    lines: list[str] = []
    run_nightly(Settings(landing=landing, db=tmp_path / "abuse.duckdb"), say=lines.append)
    accounts = work(tmp_path, "SELECT account_id, phone_prefix, phone_hash FROM stg_accounts ORDER BY 1")
    assert accounts == [
        ("a1", "1391234", _hmac(RAW[0])),  # the same number in two spellings: one pseudonym
        ("a2", "1508765", _hmac(RAW[1])),
        ("a3", "1860000", "9f3a0c"),
    ]  # a delivered hash is kept
    texts = work(tmp_path, "SELECT review_id, text FROM stg_reviews ORDER BY 1")
    assert texts == [("r1", "假货! 联系我 135****5000 或 139****0020"), ("r3", "订单号 139876543210123 不是手机号")]
    assert work(tmp_path, "SELECT reason FROM stg_refunds") == [("tel 186****1111",)]
    masked = json.loads(report(tmp_path, "SELECT pii_masked FROM report.runs")[0][0])
    assert masked == {"accounts.phone_hash": 2, "accounts.phone_prefix": 3, "refunds.reason": 1, "reviews.text": 2}
    quarantine = report(tmp_path, "SELECT raw FROM report.quarantine ORDER BY file")
    assert len(quarantine) == 2 and "150****4321" in quarantine[1][0]
    # nowhere: no table of the work database, no report view, no log line
    for where in (_all_text(tmp_path / "abuse.work.duckdb"), _all_text(tmp_path / "abuse.duckdb"), "\n".join(lines)):
        for number in RAW:
            assert number not in where


def test_the_hash_key_is_a_setting_and_never_recorded(tmp_path: Path, landing: Path, monkeypatch) -> None:
    write_landing(landing, "accounts", "a.csv", [{"account_id": "a1", "registered_at": T, "phone_hash": RAW[0]}])
    monkeypatch.setenv("ABUSE_PII_HASH_KEY", "the-platform-secret")
    from abuse.settings import load_settings

    run_nightly(load_settings(landing=landing, db=tmp_path / "abuse.duckdb"), say=lambda _m: None)
    assert work(tmp_path, "SELECT phone_hash FROM stg_accounts") == [(_hmac(RAW[0], "the-platform-secret"),)]
    assert "the-platform-secret" not in report(tmp_path, "SELECT parameters FROM report.runs")[0][0]


def test_no_raw_number_in_reasons_or_reader_messages(tmp_path: Path, landing: Path) -> None:
    """A reason quoting a value, or DuckDB's error quoting a line, is masked too."""
    from test_ingest_bad_input import load, put

    put(
        landing,
        "coupon_events",
        "e.csv",
        (
            "event_id,campaign_id,coupon_id,account_id,action,ts\n"
            f"e1,c,k,a,{RAW[0]},{T}\n"  # an unknown action: the reason quotes the value
            f"e2,c,k,{RAW[1]},claim\n"
        ).encode(),
    )  # a short row: DuckDB's message quotes the line
    con, rep, q = load(landing)
    assert [(n, r) for _f, n, r, _ in q][0] == (1, "unknown action: '139****0020'")
    assert "150****4321" in q[1][3] and "150****4321" in rep.files[0].careful
    text = str(con.execute("SELECT * FROM quarantine").fetchall()) + str(
        con.execute("SELECT * FROM ingest_files").fetchall()
    )
    assert rep.files[0].careful and all(n not in text and n not in rep.files[0].careful for n in RAW)


def test_numbers_stored_by_an_earlier_version_are_masked_once(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "accounts", "a.csv", [{"account_id": "a1", "registered_at": T, "phone_prefix": "1391234"}])
    run_nightly(Settings(landing=landing, db=tmp_path / "abuse.duckdb"), say=lambda _m: None)
    con = duckdb.connect(str(tmp_path / "abuse.work.duckdb"))  # as an earlier version left it
    con.execute("UPDATE raw_accounts SET phone_prefix = ?, phone_hash = ?", [RAW[0], RAW[1]])
    con.execute("INSERT INTO quarantine VALUES (1, 'old.csv', 3, 'bad', ?, now())", [f"x,{RAW[2]}"])
    con.execute("DELETE FROM ingest_upgrades")
    con.close()
    run_nightly(Settings(landing=landing, db=tmp_path / "abuse.duckdb"), say=lambda _m: None)
    assert work(tmp_path, "SELECT phone_prefix, phone_hash FROM raw_accounts") == [("1391234", _hmac(RAW[1]))]
    text = _all_text(tmp_path / "abuse.duckdb") + _all_text(tmp_path / "abuse.work.duckdb")
    assert "186****1111" in text and not any(n in text for n in RAW)
