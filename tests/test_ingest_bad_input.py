"""Bad input: whole files refused with a clear message, bad rows quarantined with row numbers."""

from pathlib import Path

import pytest

from abuse.pipeline import run_nightly
from abuse.settings import Settings
from conftest import nightly, order, report, work, write_landing


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
    rows = [order(1), order(2, created_at="yesterday"), order(3, amount="-1"),
            order(4, order_id=None), order(5, amount="twelve"), order(6)]
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
    rows = [{**base, "review_id": "r1", "rating": "1", "text": "line one\nline two, \"quoted\""},
            {**base, "review_id": "r2", "rating": "6", "text": "多行\n文本 😀"},
            {**base, "review_id": "r3", "rating": "", "action": "withdrawn"},
            {**base, "review_id": "r4", "rating": "", "action": "posted"}]
    write_landing(landing, "reviews", "r.csv", rows, columns=["review_id", "account_id", "shop_id",
                                                              "rating", "created_at", "action", "text"])
    nightly(tmp_path, landing)
    got = report(tmp_path, "SELECT row_number, reason FROM report.quarantine ORDER BY row_number")
    assert got[0] == (2, "rating outside 1..5: 6")  # the record spanning two lines counts once
    assert got[1][0] == 4 and "rating" in got[1][1]
    assert work(tmp_path, "SELECT review_id, text FROM stg_reviews ORDER BY 1")[0] == (
        "r1", "line one\nline two, \"quoted\"")


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
    shown = ("SELECT (SELECT list(f ORDER BY f) FROM report.flagged_accounts f), "
             "(SELECT list(q.file ORDER BY q.file) FROM report.quarantine q), (SELECT run_id FROM report.latest_run)")
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
    write_landing(landing, "reviews", "r.jsonl", [
        {**base, "created_at": "2026-06-06T10:00:00+08:00", "action": "withdrawn"},  # no rating key
        {**base, "rating": 1, "created_at": "2026-06-01T10:00:00+08:00"}])
    out = nightly(tmp_path, landing)
    assert out["ingested"]["reviews"] == 2 and out["quarantined"]["reviews"] == 0
