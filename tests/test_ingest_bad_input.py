"""Bad input: whole files refused with a clear message, bad rows quarantined with row numbers."""

from pathlib import Path

import pytest
from helpers import nightly, order, report, state_db, work, write_landing

from abuse.pipeline import run_nightly
from abuse.settings import Settings


def test_missing_required_column_rejects_the_file(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "no_amount.csv", [{k: v for k, v in order(1).items() if k != "amount"}])
    write_landing(landing, "orders", "good.csv", [order(2)])
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 1
    rows = report(tmp_path, "SELECT file, row_number, reason FROM report.quarantine")
    assert len(rows) == 1
    file, row_number, reason = rows[0]
    assert file.endswith("no_amount.csv") and row_number is None
    assert "missing required column" in reason and "'amount'" in reason


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet"])
def test_bad_rows_are_quarantined_with_row_numbers(tmp_path: Path, landing: Path, ext: str) -> None:
    rows = [
        order(1),
        order(2, created_at="yesterday"),
        order(3, amount="-1"),
        order(4, order_id=None),
        order(5, amount="twelve"),
        order(6),
    ]
    write_landing(landing, "orders", f"o{ext}", rows)
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 2 and out["quarantined"]["orders"] == 4
    got = report(tmp_path, "SELECT row_number, reason, raw FROM report.quarantine ORDER BY row_number")
    assert [r[0] for r in got] == [2, 3, 4, 5]
    assert "unparseable timestamp in created_at: 'yesterday'" in got[0][1]
    assert "negative amount" in got[1][1]
    assert "missing key: order_id" in got[2][1]
    assert "unparseable amount" in got[3][1] and "twelve" in got[3][2]


def test_ratings_outside_range_and_multiline_records(tmp_path: Path, landing: Path) -> None:
    base = {"account_id": "a", "shop_id": "s", "created_at": "2026-06-01T10:00:00+08:00"}
    rows = [
        {**base, "review_id": "r1", "rating": "1", "text": 'line one\nline two, "quoted"'},
        {**base, "review_id": "r2", "rating": "6", "text": "多行\n文本 😀"},
        {**base, "review_id": "r3", "rating": "", "action": "withdrawn"},
        {**base, "review_id": "r4", "rating": "", "action": "posted"},
    ]
    write_landing(
        landing,
        "reviews",
        "r.csv",
        rows,
        columns=["review_id", "account_id", "shop_id", "rating", "created_at", "action", "text"],
    )
    nightly(tmp_path, landing)
    got = report(tmp_path, "SELECT row_number, reason FROM report.quarantine ORDER BY row_number")
    assert got[0] == (2, "rating outside 1..5: 6")  # the record spanning two lines counts once
    assert got[1][0] == 4 and "rating" in got[1][1]
    assert work(tmp_path, "SELECT review_id, text FROM stg_reviews ORDER BY 1")[0] == (
        "r1",
        'line one\nline two, "quoted"',
    )


def test_unreadable_files_are_rejected_whole(tmp_path: Path, landing: Path) -> None:
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "broken.parquet").write_bytes(b"not a parquet file")
    (landing / "orders" / "broken.csv.gz").write_bytes(b"not gzip")
    write_landing(landing, "orders", "fine.csv", [order(1)])
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 1
    rows = report(tmp_path, "SELECT file, row_number, reason FROM report.quarantine ORDER BY file")
    assert [Path(r[0]).name for r in rows] == ["broken.csv.gz", "broken.parquet"]
    assert all(r[1] is None and r[2].startswith("file rejected") for r in rows)


def test_failed_run_leaves_everything_as_it_was(tmp_path: Path, landing: Path, monkeypatch) -> None:
    write_landing(landing, "orders", "day1.csv", [order(1)])
    nightly(tmp_path, landing)
    shown = (
        "SELECT (SELECT list(f ORDER BY f) FROM report.flagged_accounts f), "
        "(SELECT list(q.file ORDER BY q.file) FROM report.quarantine q), (SELECT run_id FROM report.latest_run)"
    )
    before = report(tmp_path, shown)
    write_landing(landing, "orders", "day2.csv", [order(2)])

    import abuse.pipeline as pipeline

    def boom(run):
        raise RuntimeError("detector crashed")

    monkeypatch.setattr(pipeline, "detect", boom)
    with pytest.raises(RuntimeError):
        run_nightly(Settings(landing=landing, db=tmp_path / "abuse.duckdb"), say=lambda _m: None)
    assert report(tmp_path, shown) == before  # report untouched (only report.runs shows the failure)
    assert work(tmp_path, "SELECT count(*) FROM raw_orders") == [(1,)]  # day2 forgotten
    assert work(tmp_path, "SELECT run_id, status FROM runs ORDER BY 1") == [(1, "succeeded"), (2, "failed")]
    monkeypatch.undo()
    out = nightly(tmp_path, landing)  # the next run picks day2 up again
    assert out["ingested"]["orders"] == 1
    assert report(tmp_path, "SELECT count(*) FROM report.runs WHERE status = 'failed'") == [(1,)]


def test_jsonl_optional_key_missing_from_the_first_record(tmp_path: Path, landing: Path) -> None:
    base = {"review_id": "r1", "account_id": "a", "shop_id": "s"}
    write_landing(
        landing,
        "reviews",
        "r.jsonl",
        [
            {**base, "created_at": "2026-06-06T10:00:00+08:00", "action": "withdrawn"},  # no rating key
            {**base, "rating": 1, "created_at": "2026-06-01T10:00:00+08:00"},
        ],
    )
    out = nightly(tmp_path, landing)
    assert out["ingested"]["reviews"] == 2 and out["quarantined"]["reviews"] == 0


# ---------------------------------------------------------------------------------------------
# Row-level quarantine everywhere (issue 9): real damaged files, ingested without detectors.

import json  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import duckdb  # noqa: E402

from abuse import ingest  # noqa: E402
from abuse.ingest.options import IngestOptions  # noqa: E402

DELIVERED = datetime(2026, 6, 20, 4, 0, tzinfo=timezone.utc)
HEADER = "order_id,account_id,shop_id,amount,created_at\n"


def good(i: int) -> str:
    return f"o{i},a{i},s{i % 3},{i}.50,2026-06-1{i % 9}T10:00:00+08:00\n"


def load(landing: Path, **options) -> tuple[duckdb.DuckDBPyConnection, ingest.IngestReport, list[tuple]]:
    """Ingest ``landing`` into a fresh in-memory state; (con, report, quarantine rows as
    (file name, row_number, reason, raw))."""
    con = state_db(":memory:", "Asia/Shanghai")
    con.execute("INSERT INTO runs (run_id, started_at, status) VALUES (1, ?, 'running')", [DELIVERED])
    rep = ingest.load_new_files(con, landing, 1, DELIVERED, options=IngestOptions(**options))
    ingest.record_files(con, rep, 1, DELIVERED)
    rows = con.execute("SELECT file, row_number, reason, raw FROM quarantine ORDER BY file, row_number").fetchall()
    return con, rep, [(Path(f).name, n, reason, raw) for f, n, reason, raw in rows]


def loaded(con: duckdb.DuckDBPyConnection, kind: str = "orders", key: str = "order_id") -> list[str]:
    return [
        r[0]
        for r in con.execute(f"SELECT {key} FROM raw_{kind} WHERE _reject IS NULL ORDER BY _file_seq, _row").fetchall()
    ]


def put(landing: Path, kind: str, name: str, data: bytes) -> Path:
    path = landing / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_short_and_long_rows_are_quarantined_alone(landing: Path) -> None:
    rows = [good(1), "o2,a2\n", good(3), "o4,a4,s1,1.00,2026-06-11T10:00:00+08:00,extra\n"] + [
        good(i) for i in range(5, 200)
    ]
    put(landing, "orders", "ragged.csv", (HEADER + "".join(rows)).encode())
    con, rep, q = load(landing)
    assert [(n, r) for _f, n, r, _raw in q] == [
        (2, "wrong number of fields (a short row): 2 where the header has 5"),
        (4, "wrong number of fields (a long row): 6 where the header has 5"),
    ]
    assert q[0][3] == "o2,a2"
    assert loaded(con) == ["o1", "o3"] + [f"o{i}" for i in range(5, 200)]
    assert rep.files[0].rejected is None


def test_latin1_byte_in_a_utf8_file_quarantines_that_record(landing: Path) -> None:
    data = (
        (HEADER + good(1)).encode() + "o2,café,s1,1.00,2026-06-12T10:00:00+08:00\n".encode("latin-1") + good(3).encode()
    )
    put(landing, "orders", "latin.csv", data)
    put(
        landing,
        "orders",
        "latin.jsonl",
        b'{"order_id":"j1","account_id":"a","shop_id":"s","amount":1,'
        b'"created_at":"2026-06-11T10:00:00+08:00"}\n{"order_id":"j2","account_id":"caf\xe9","shop_id":"s",'
        b'"amount":1,"created_at":"2026-06-11T10:00:00+08:00"}\n',
    )
    con, _rep, q = load(landing)
    assert [(f, n, r) for f, n, r, _ in q] == [
        ("latin.csv", 2, "bytes that are not UTF-8 in column account_id"),
        ("latin.jsonl", 2, "bytes that are not UTF-8 in this line"),
    ]
    assert "caf\\xe9" in q[0][3]  # the raw record shows the byte, escaped
    assert sorted(loaded(con)) == ["j1", "o1", "o3"]


@pytest.mark.parametrize("ext", [".csv", ".jsonl"])
def test_a_5mb_chinese_review_text_is_quarantined_alone(landing: Path, ext: str) -> None:
    huge = "差评假货😡" * (5 * 1024 * 1024 // 16)  # 5 MB of UTF-8
    fine = "好评👍" * 50_000  # 500 kB: under the 1 MB default, loads intact
    base = {"account_id": "a", "shop_id": "s", "created_at": "2026-06-11T10:00:00+08:00"}
    rows = [
        {**base, "review_id": "r1", "rating": "1", "text": huge},
        {**base, "review_id": "r2", "rating": "5", "text": fine},
        {**base, "review_id": "r3", "rating": "4", "text": "ok"},
    ]
    write_landing(landing, "reviews", f"big{ext}", rows)
    con, _rep, q = load(landing)
    assert len(q) == 1 and q[0][1] == 1
    assert q[0][2].startswith("over-long value in text: ") and "setting max_field_bytes" in q[0][2]
    assert len(q[0][3]) < 2000  # the quarantine keeps the start of it, not 5 MB
    assert con.execute("SELECT review_id, text FROM raw_reviews WHERE _reject IS NULL ORDER BY 1").fetchall() == [
        ("r2", fine),
        ("r3", "ok"),
    ]
    if ext == ".jsonl":
        return
    # a larger maximum, a setting, lets it in untouched
    con, _rep, q = load(landing, max_field_bytes=8 << 20)
    assert q == [] and con.execute("SELECT text FROM raw_reviews WHERE review_id = 'r1'").fetchone()[0] == huge


@pytest.mark.parametrize("ext", [".csv.gz", ".jsonl.gz"])
def test_truncated_gzip_loads_what_precedes_the_damage(landing: Path, ext: str) -> None:
    rows = [order(i, order_id=f"o{i:05d}") for i in range(1, 3001)]
    path = write_landing(landing, "orders", f"cut{ext}", rows)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    con, rep, q = load(landing)
    got = loaded(con)
    assert 100 < len(got) < 3000 and got == [f"o{i:05d}" for i in range(1, len(got) + 1)]  # a clean prefix
    assert len(q) == 1 and q[0][0] == f"cut{ext}" and q[0][1] == len(got) + 1
    assert "the compressed stream is cut short" in q[0][2] and "what follows could not be read" in q[0][2]
    assert rep.files[0].rejected is None and "cut short" in rep.files[0].careful


def test_gzip_cut_after_the_last_record_is_noticed(landing: Path) -> None:
    path = write_landing(landing, "orders", "no_trailer.csv.gz", [order(1), order(2)])
    path.write_bytes(path.read_bytes()[:-8])  # the CRC and size trailer lost: DuckDB alone reads it happily
    con, _rep, q = load(landing)
    assert loaded(con) == ["o_0001", "o_0002"]
    assert [(n, "cut short" in r) for _f, n, r, _ in q] == [(3, True)]


def test_unterminated_quote_quarantines_from_that_record_on(landing: Path) -> None:
    put(landing, "orders", "quote.csv", (HEADER + good(1) + 'o2,a2,s,"1.50,2026-06-11\n' + good(3)).encode())
    con, _rep, q = load(landing)
    assert loaded(con) == ["o1"]
    assert [(n, r) for _f, n, r, _ in q] == [(2, "cannot parse this record: a quoted field is never closed")]


def test_jsonl_lines_that_are_not_objects_are_quarantined_alone(landing: Path) -> None:
    ok = json.dumps(order(1))
    put(
        landing,
        "orders",
        "mixed.jsonl",
        "\n".join(["[1, 2]", ok, '"just a string"', "{broken", "", json.dumps(order(2)), "42"]).encode() + b"\n",
    )
    con, _rep, q = load(landing)
    assert [(n, r) for _f, n, r, _ in q] == [
        (1, "not a JSON object"),
        (3, "not a JSON object"),
        (4, "not a JSON object"),
        (6, "not a JSON object"),
    ]
    assert loaded(con) == ["o_0001", "o_0002"]


def test_implausible_timestamps_are_quarantined(landing: Path) -> None:
    write_landing(
        landing,
        "orders",
        "times.csv",
        [
            order(1),
            order(2, created_at="1970-01-01T00:00:00Z"),
            order(3, created_at="2999-01-01T00:00:00+08:00"),
            order(4, created_at="2026-06-21T11:00:00+08:00"),  # within the 2-day tolerance of the delivery
            order(5, created_at="2026-06-25T00:00:00+08:00"),
        ],
    )
    con, _rep, q = load(landing)
    assert [n for _f, n, _r, _ in q] == [2, 3, 5]
    assert "timestamp before the platform could exist in created_at: '1970-01-01T00:00:00Z'" in q[0][2]
    assert "earliest_timestamp" in q[0][2]
    assert "timestamp in the future in created_at: '2999-01-01T00:00:00+08:00'" in q[1][2]
    assert "future_tolerance_days" in q[2][2]
    assert loaded(con) == ["o_0001", "o_0004"]
    _con, _rep, q = load(landing, future_tolerance=__import__("datetime").timedelta(days=10))
    assert [n for _f, n, _r, _ in q] == [2, 3]


def test_a_delivery_dated_ahead_of_the_machine_clock_loads_and_its_stray_row_does_not(landing: Path) -> None:
    """A data set made for days after this machine's clock (another team's generator, a clock
    set wrong) would otherwise be quarantined whole: its own 99th percentile stands for "now"."""
    ahead = [order(i, created_at=f"2027-03-{1 + i % 20:02d}T10:00:00+08:00") for i in range(1, 200)]
    write_landing(landing, "orders", "ahead.csv", ahead + [order(999, created_at="2999-01-01T00:00:00+08:00")])
    write_landing(landing, "orders", "more.csv", [order(1001, created_at="2027-03-19T09:00:00+08:00")])
    con, rep, q = load(landing)
    assert [(f, n) for f, n, _r, _ in q] == [("ahead.csv", 200)]
    assert "its own 99th-percentile time counts as now" in q[0][2] and "2027-03-" in q[0][2]
    assert len(loaded(con)) == 200
    assert {r.clock.year for r in rep.files} == {2027}
    assert con.execute("SELECT count(future_clock) FROM ingest_files").fetchone() == (2,)


def test_a_small_delivery_never_moves_the_clock(landing: Path) -> None:
    """A few records ahead (one bad file) are quarantined, not taken for a data set ahead."""
    write_landing(landing, "orders", "few.csv", [order(i, created_at="2999-01-01T00:00:00+08:00") for i in range(1, 6)])
    con, rep, q = load(landing)
    assert [n for _f, n, _r, _ in q] == [1, 2, 3, 4, 5] and "later than the delivery" in q[0][2]
    assert loaded(con) == [] and rep.files[0].clock is None


def test_values_the_contract_does_not_allow_are_never_coerced(landing: Path) -> None:
    write_landing(
        landing,
        "orders",
        "money.csv",
        [
            order(1, amount="1.234"),
            order(2, amount="-3"),
            order(3, amount="12,50"),
            order(4, amount="7.10"),
            order(5, discount="0.005"),
        ],
    )
    base = {"account_id": "a", "shop_id": "s", "created_at": "2026-06-11T10:00:00+08:00"}
    write_landing(
        landing,
        "reviews",
        "ratings.csv",
        [
            {**base, "review_id": "r1", "rating": "2.5"},
            {**base, "review_id": "r2", "rating": "7"},
            {**base, "review_id": "r3", "rating": "five"},
            {**base, "review_id": "r4", "rating": "4.0"},
        ],
    )
    write_landing(
        landing,
        "activity",
        "durations.csv",
        [
            {
                "event_id": "e1",
                "account_id": "a",
                "ts": "2026-06-11T10:00:00+08:00",
                "action": "login",
                "duration_s": "inf",
            },
            {
                "event_id": "e2",
                "account_id": "a",
                "ts": "2026-06-11T10:00:00+08:00",
                "action": "login",
                "duration_s": "1.5",
            },
        ],
    )
    con, _rep, q = load(landing)
    reasons = {(f, n): r for f, n, r, _ in q}
    assert reasons == {
        ("money.csv", 1): "more than 2 decimals in amount: '1.234' (money is in yuan, up to 2 decimals)",
        ("money.csv", 2): "negative amount in amount: '-3'",
        ("money.csv", 3): "unparseable amount in amount: '12,50'",
        ("money.csv", 5): "more than 2 decimals in discount: '0.005' (money is in yuan, up to 2 decimals)",
        ("ratings.csv", 1): "not a whole number in rating: '2.5'",
        ("ratings.csv", 2): "rating outside 1..5: 7",
        ("ratings.csv", 3): "not a number in rating: 'five'",
        ("durations.csv", 1): "not a finite number in duration_s: 'inf'",
    }
    assert con.execute("SELECT order_id, amount::VARCHAR FROM raw_orders WHERE _reject IS NULL").fetchall() == [
        ("o_0004", "7.10")
    ]
    assert con.execute("SELECT review_id, rating FROM raw_reviews WHERE _reject IS NULL").fetchall() == [("r4", 4)]


def test_duplicate_keys_in_one_file_are_counted_in_the_run_record(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "dups.csv", [order(1), order(2), order(1, amount="99"), order(1), order(3)])
    write_landing(landing, "orders", "other.csv", [order(2)])  # a re-delivery across files is no duplicate
    nightly(tmp_path, landing)
    runs = report(tmp_path, "SELECT duplicate_keys FROM report.runs")
    assert json.loads(runs[0][0])["orders"] == 2
    files = work(tmp_path, "SELECT path, duplicate_keys FROM ingest_files ORDER BY file_seq")
    assert [(Path(p).name, n) for p, n in files] == [("dups.csv", 2), ("other.csv", 0)]


def test_a_damaged_file_never_blocks_later_nights(tmp_path: Path, landing: Path) -> None:
    """The issue's case: a .csv.gz cut short after a few bytes failed every night with EOFError."""
    path = write_landing(landing, "orders", "night1.csv.gz", [order(i) for i in range(1, 50)])
    path.write_bytes(path.read_bytes()[:20])
    write_landing(landing, "orders", "fine.csv", [order(60)])
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 1
    rows = report(tmp_path, "SELECT file, row_number, reason FROM report.quarantine")
    assert len(rows) == 1 and rows[0][0].endswith("night1.csv.gz") and rows[0][1] is None
    assert "cut short" in rows[0][2]
    assert work(tmp_path, "SELECT rejected IS NOT NULL FROM ingest_files WHERE path LIKE '%night1%'") == [(True,)]
    out = nightly(tmp_path, landing)  # the same damaged bytes: recorded, not read again, no failure
    assert out["ingested"]["orders"] == 0
    write_landing(landing, "orders", "night1.csv.gz", [order(i) for i in range(1, 50)])  # corrected re-delivery
    out = nightly(tmp_path, landing)
    assert out["ingested"]["orders"] == 49
    assert report(tmp_path, "SELECT status, count(*) FROM report.runs GROUP BY 1") == [("succeeded", 3)]


def test_a_stray_row_years_ahead_moves_neither_as_of_nor_empties_the_report(tmp_path: Path, landing: Path) -> None:
    rows = [order(i, created_at=f"2026-06-{1 + i % 18:02d}T1{i % 10}:00:00+08:00") for i in range(1, 200)]
    write_landing(landing, "orders", "orders.csv", rows + [order(999, created_at="2999-01-01T00:00:00+08:00")])
    out = nightly(tmp_path, landing)
    assert out["as_of"] == "2026-06-18" and out["ingested"]["orders"] == 199
    assert report(tmp_path, "SELECT count(*) FROM report.quarantine WHERE reason LIKE 'timestamp in the future%'") == [
        (1,)
    ]
    # with the future rule switched off (a huge tolerance) the stray row loads, and still does not move as-of
    out = nightly(tmp_path / "b", landing, future_tolerance_days=1_000_000)
    assert out["ingested"]["orders"] == 200 and out["as_of"] == "2026-06-18"
    assert report(tmp_path / "b", "SELECT as_of::VARCHAR, window_start < window_end FROM report.runs") == [
        ("2026-06-18", True)
    ]


def test_a_data_set_dated_ahead_of_the_clock_gets_a_full_report(tmp_path: Path, landing: Path) -> None:
    rows = [order(i, created_at=f"2031-06-{1 + i % 18:02d}T1{i % 10}:00:00+08:00") for i in range(1, 200)]
    write_landing(landing, "orders", "orders.csv", rows + [order(999, created_at="2999-01-01T00:00:00+08:00")])
    out = nightly(tmp_path, landing)
    assert out["as_of"] == "2031-06-18" and out["ingested"]["orders"] == 199
    assert report(tmp_path, "SELECT count(*) FROM report.quarantine") == [(1,)]


# ---------------------------------------------------------------------------------------------
# Generated deliveries: valid and invalid records mixed; every valid one loads, every invalid one
# is quarantined alone with its own record number.

import csv as _csv  # noqa: E402
import io  # noqa: E402
import tempfile  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FIELDS = ["order_id", "account_id", "shop_id", "item_id", "amount", "created_at"]
TEXT = st.text(st.sampled_from(list("ab ,\"\n\r;'é差评😀\t")), max_size=12)
BROKEN = [
    "short row",
    "long row",
    "latin-1",
    "3 decimals",
    "negative",
    "future",
    "ancient",
    "missing key",
    "bad timestamp",
    "not an object",
]


@st.composite
def records(draw):
    broken = draw(st.sampled_from([None] * 4 + BROKEN))
    return {
        "broken": broken,
        "item": draw(TEXT),
        "amount": draw(st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False)),
        "day": draw(st.integers(1, 19)),
        "second": draw(st.integers(0, 59)),
    }


def _cells(i: int, r: dict) -> dict:
    row = {
        "order_id": f"o{i}",
        "account_id": f"a{i % 5}",
        "shop_id": "s1",
        "item_id": r["item"],
        "amount": f"{r['amount']:.2f}",
        "created_at": f"2026-06-{r['day']:02d}T10:00:{r['second']:02d}+08:00",
    }
    b = r["broken"]
    if b == "3 decimals":
        row["amount"] += "7"
    elif b == "negative":
        row["amount"] = "-" + row["amount"] if r["amount"] else "-1"
    elif b == "future":
        row["created_at"] = "2031-01-01T00:00:00+08:00"
    elif b == "ancient":
        row["created_at"] = "1999-12-31T12:00:00+08:00"
    elif b == "missing key":
        row["order_id"] = ""
    elif b == "bad timestamp":
        row["created_at"] = "June 5th"
    return row


def _csv_record(cells: list[str]) -> bytes:
    buf = io.StringIO()
    _csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue().encode()


def _delivery(rows: list[dict], fmt: str) -> bytes:
    out = [_csv_record(FIELDS)] if fmt == "csv" else []
    for i, r in enumerate(rows, start=1):
        cells = _cells(i, r)
        b = r["broken"]
        if fmt == "csv":
            values = [cells[c] for c in FIELDS]
            if b == "short row":
                values = values[:3]
            elif b == "long row":
                values = values + ["extra"]
            data = _csv_record(values)
            if b == "latin-1":
                data = data.replace(b"s1", "sé".encode("latin-1"), 1)
        else:
            data = json.dumps(cells, ensure_ascii=False).encode() + b"\n"
            if b in ("short row", "long row", "not an object"):
                data = json.dumps(list(cells.values())).encode() + b"\n"
            elif b == "latin-1":
                data = data.replace(b'"s1"', '"sé"'.encode("latin-1"), 1)
        out.append(data)
    return b"".join(out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(records(), min_size=1, max_size=25), fmt=st.sampled_from(["csv", "jsonl"]))
def test_generated_rows_valid_load_invalid_are_quarantined_alone(rows: list[dict], fmt: str) -> None:
    if fmt == "csv":  # a CSV record is no JSON: that breakage does not apply
        rows = [{**r, "broken": None} if r["broken"] == "not an object" else r for r in rows]
    with tempfile.TemporaryDirectory(prefix="abuse-hyp-") as d:
        landing = Path(d)
        put(landing, "orders", f"gen.{fmt}", _delivery(rows, fmt))
        con, rep, q = load(landing)
        if fmt == "jsonl" and all(r["broken"] in ("short row", "long row", "not an object") for r in rows):
            # not one JSON object in the file: refused whole, named, row number NULL
            assert q == [
                ("gen.jsonl", None, f"file rejected: none of the first {len(rows)} lines is a JSON object", None)
            ]
            return
        assert rep.files[0].rejected is None
        valid = [i for i, r in enumerate(rows, start=1) if r["broken"] is None]
        invalid = [i for i, r in enumerate(rows, start=1) if r["broken"] is not None]
        assert loaded(con) == [f"o{i}" for i in valid]
        assert [n for _f, n, _r, _raw in q] == invalid
        items = dict(
            con.execute("SELECT order_id, coalesce(item_id, '') FROM raw_orders WHERE _reject IS NULL").fetchall()
        )
        assert items == {f"o{i}": rows[i - 1]["item"] for i in valid}  # text exactly as delivered
        con.close()


def test_default_as_of_is_the_latest_day_with_plausible_volume() -> None:
    from abuse.pipeline import latest_day
    from abuse.testing import empty_staged

    con = empty_staged(seeds=False)
    con.execute(
        "INSERT INTO stg_orders (order_id, created_at) SELECT 'o' || i, TIMESTAMPTZ '2026-06-01 10:00:00' "
        "+ to_days((i % 20)::INTEGER) FROM range(2000) t(i)"
    )  # 100 a day, June 1..20
    assert latest_day(con) == __import__("datetime").date(2026, 6, 20)
    con.execute(
        "INSERT INTO stg_orders (order_id, created_at) VALUES ('late', TIMESTAMPTZ '2026-06-27 10:00:00'), "
        "('stray', TIMESTAMPTZ '2999-01-01 00:00:00')"
    )  # one row a week later, one in 2999
    assert latest_day(con) == __import__("datetime").date(2026, 6, 20)
    con.execute(
        "INSERT INTO stg_orders (order_id, created_at) SELECT 'p' || i, TIMESTAMPTZ '2026-06-21 00:30:00' "
        "FROM range(8) t(i)"
    )  # a short last day (8% of the usual volume) still counts
    assert latest_day(con) == __import__("datetime").date(2026, 6, 21)
