"""The sample generator: deterministic, contract-shaped files, consistent truth, abuse in the
window. Read back with DuckDB using declared (all-varchar) types, as a stranger would."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import helpers
import pytest

from abuse.generate import generate
from abuse.schema import KINDS, file_format

SCALE = 0.3


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("gen")
    out = {}
    out["a"] = helpers.generated(7, SCALE)  # the session's shared set (test_sample_data reads it)
    generate(base / "b", seed=7, scale=SCALE)  # made again here: the same seed, the same bytes
    out["b"] = base / "b"
    out["c"] = helpers.generated(1, SCALE)  # another seed (test_engagement's and test_hoarding's)
    return out


@pytest.fixture(scope="module")
def con(runs) -> duckdb.DuckDBPyConnection:
    """Tables of run `a`: one per kind (every column as text) plus the truth files."""
    c = duckdb.connect()
    c.execute("SET TimeZone = 'Asia/Shanghai'")
    root = runs["a"]
    for kind, spec in KINDS.items():
        parts = [_select(f, spec.column_names) for f in sorted((root / "landing" / kind).iterdir())]
        c.execute(f"CREATE TABLE {kind} AS " + " UNION ALL ".join(parts))
    for name in ("accounts", "ring_shops", "lookalikes", "spikes"):
        c.execute(
            f"CREATE TABLE truth_{name} AS SELECT * FROM "
            f"read_csv('{root / 'truth' / name}.csv', all_varchar=true, header=true)"
        )
    return c


def _select(path: Path, cols: list[str]) -> str:
    fmt = file_format(path.name)
    if fmt == ".parquet":
        src = f"read_parquet('{path}')"
    elif fmt in (".csv", ".csv.gz"):
        src = f"read_csv('{path}', all_varchar=true, header=true)"
    else:
        types = ", ".join(f"'{c}': 'VARCHAR'" for c in cols)
        src = f"read_json('{path}', format='newline_delimited', columns={{{types}}})"
    return "SELECT " + ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in cols) + f" FROM {src}"


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() + f"@{p.stat().st_mtime}"
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_and_mtimes(runs):
    a, b, c = (_digest(runs[k]) for k in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_every_format_is_used_and_columns_match_contract(runs):
    landing = runs["a"] / "landing"
    formats = {file_format(p.name) for p in landing.rglob("*") if p.is_file()}
    assert formats == {".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet"}
    con = duckdb.connect()
    for kind, spec in KINDS.items():
        for path in (landing / kind).iterdir():
            rel = con.sql(
                _select(path, spec.column_names).replace("SELECT ", "SELECT * FROM (SELECT ", 1) + ") LIMIT 0"
            )
            assert rel.columns == spec.column_names
            fmt = file_format(path.name)
            if fmt in (".csv", ".csv.gz"):
                header = con.sql(f"SELECT * FROM read_csv('{path}', all_varchar=true) LIMIT 0").columns
                assert header == spec.column_names, path
            elif fmt == ".parquet":
                header = con.sql(f"SELECT * FROM read_parquet('{path}') LIMIT 0").columns
                assert header == spec.column_names, path


def test_values_obey_the_contract(con):
    for kind, spec in KINDS.items():
        for col in spec.columns:
            if col.required and not (kind == "reviews" and col.name == "rating"):
                assert con.sql(f"SELECT count(*) FROM {kind} WHERE {col.name} IS NULL").fetchone()[0] == 0, (
                    kind,
                    col.name,
                )
            if col.type == "TIMESTAMPTZ":
                bad = con.sql(
                    f"SELECT count(*) FROM {kind} WHERE {col.name} IS NOT NULL "
                    f"AND TRY_CAST({col.name} AS TIMESTAMPTZ) IS NULL"
                ).fetchone()[0]
                assert bad == 0, (kind, col.name)
            if col.type.startswith("DECIMAL"):
                bad = con.sql(
                    f"SELECT count(*) FROM {kind} WHERE TRY_CAST({col.name} AS DOUBLE) < 0 "
                    f"OR round(TRY_CAST({col.name} AS DOUBLE), 2) <> TRY_CAST({col.name} AS DOUBLE)"
                ).fetchone()[0]
                assert bad == 0, (kind, col.name)
    ratings = con.sql(
        "SELECT action, min(rating::INT), max(rating::INT), count(*) FILTER (WHERE rating IS NULL) "
        "FROM reviews GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in ratings] == ["amended", "posted", "withdrawn"]
    for action, lo, hi, nulls in ratings:
        assert action == "withdrawn" or (1 <= lo <= hi <= 5 and nulls == 0)
    # offsets are mixed: naive local, +08:00 and Z all occur
    spelled = con.sql(
        "SELECT count(*) FILTER (WHERE created_at LIKE '%+08:00'), "
        "count(*) FILTER (WHERE created_at LIKE '%Z'), "
        "count(*) FILTER (WHERE length(created_at) = 19) FROM reviews"
    ).fetchone()
    assert all(n > 0 for n in spelled)


def test_ids_stay_strings(runs, con):
    order_ids = con.sql("SELECT DISTINCT order_id FROM orders LIMIT 50").fetchall()
    assert all(o.startswith("00") and len(o) == 10 for (o,) in order_ids)
    parquet = next((runs["a"] / "landing" / "orders").glob("*.parquet"))
    types = dict(duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()[i][:2] for i in range(12))
    assert types["order_id"] == "VARCHAR" and types["item_id"] == "VARCHAR"
    jsonl = next((runs["a"] / "landing" / "reviews").glob("*.jsonl"))
    first = json.loads(jsonl.read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(first["order_id"], str) and first["order_id"].startswith("00")


def test_text_survives_quoting(con):
    rows = con.sql("SELECT text FROM reviews WHERE text LIKE '%\n%' OR text LIKE '%\"%' OR text LIKE '%,%'").fetchall()
    assert len(rows) > 10
    assert con.sql("SELECT count(*) FROM refunds WHERE reason LIKE '%\n%'").fetchone()[0] > 0
    assert (
        con.sql("SELECT count(*) FROM reviews WHERE regexp_matches(text, '[\\x{1F600}-\\x{1F64F}]')").fetchone()[0] > 0
    )


def test_redelivery_is_later_and_changes_values(runs, con):
    orders = runs["a"] / "landing" / "orders"
    fix = orders / "orders_corrections.csv"
    assert fix.stat().st_mtime > max(p.stat().st_mtime for p in orders.iterdir() if p != fix)
    changed = con.sql(
        "SELECT count(DISTINCT order_id) FROM orders GROUP BY order_id HAVING count(DISTINCT status) > 1"
    ).fetchall()
    assert len(changed) >= 5


def test_truth_is_consistent(runs, con):
    meta = json.loads((runs["a"] / "truth" / "meta.json").read_text())
    assert meta["as_of"] == "2026-06-20" and meta["window_days"] == 30 and meta["tz"] == "Asia/Shanghai"
    missing = con.sql(
        "SELECT count(*) FROM truth_accounts WHERE account_id NOT IN (SELECT account_id FROM accounts)"
    ).fetchone()[0]
    assert missing == 0
    patterns = {p for (p,) in con.sql("SELECT DISTINCT pattern FROM truth_accounts").fetchall()}
    assert patterns == {
        "extortion_ring",
        "coupon_hoarding",
        "scripted_timing",
        "vote_inflation",
        "brushing_ring",
        "serial_refunder",
        "batch_registration",  # idle registrants of a registration wave (generate/waves.py)
    }
    assert (
        con.sql("SELECT count(*) FROM truth_ring_shops WHERE shop_id NOT IN (SELECT shop_id FROM orders)").fetchone()[0]
        == 0
    )
    kinds = {k for (k,) in con.sql("SELECT DISTINCT lookalike FROM truth_lookalikes").fetchall()}
    assert kinds == {
        "bad_shop_complainer",
        "serial_complainer",
        "household",
        "campus_nat",
        "referral_burst",
        "flash_sale_crowd",
        "tv_ad_signup",
        "night_owl",
        "viral_target",
        "office_vote",
        "fan_base",
        "launch_week_buyer",
        "loyal_customer",
        "household_orders",
        "unlucky_buyer",
        "recall_buyer",
    }
    overlap = con.sql(
        "SELECT count(*) FROM truth_lookalikes WHERE account_id IN (SELECT account_id FROM truth_accounts)"
    ).fetchone()[0]
    assert overlap == 0
    spikes = con.sql("SELECT kind, count(*) FROM truth_spikes GROUP BY 1").fetchall()
    assert {k for k, _ in spikes} == {"abusive", "benign_campaign", "benign_tv_ad", "benign_referral"}
    assert (
        con.sql(
            "SELECT count(*) FROM truth_spikes WHERE kind = 'benign_campaign' AND campaign_id NOT IN "
            "(SELECT campaign_id FROM campaigns)"
        ).fetchone()[0]
        == 0
    )


def test_planted_abuse_is_inside_the_window(con):
    start, end = "TIMESTAMPTZ '2026-05-22 00:00:00+08'", "TIMESTAMPTZ '2026-06-21 00:00:00+08'"
    attacks = con.sql(f"""
        SELECT min(r.created_at::TIMESTAMPTZ) >= {start}, max(r.created_at::TIMESTAMPTZ) < {end}, count(*)
        FROM reviews r JOIN truth_accounts t USING (account_id)
        JOIN truth_ring_shops s ON s.cluster = t.cluster AND s.shop_id = r.shop_id
        WHERE t.pattern = 'extortion_ring'""").fetchone()
    assert attacks[:2] == (True, True) and attacks[2] > 20
    claims = con.sql(f"""
        SELECT min(e.ts::TIMESTAMPTZ) >= {start}, min(a.registered_at::TIMESTAMPTZ) >= {start}, count(*)
        FROM coupon_events e JOIN truth_accounts t USING (account_id) JOIN accounts a USING (account_id)
        WHERE t.pattern = 'coupon_hoarding'""").fetchone()
    assert claims[:2] == (True, True) and claims[2] >= 50
    bots = con.sql(f"""
        SELECT min(ts::TIMESTAMPTZ) >= {start}, count(*)
        FROM activity JOIN truth_accounts t USING (account_id) WHERE t.role = 'bot'""").fetchone()
    assert bots[0] and bots[1] > 300
    spikes = con.sql(
        f"SELECT bool_and(window_start::TIMESTAMPTZ >= {start} AND window_end::TIMESTAMPTZ <= {end}) FROM truth_spikes"
    ).fetchone()[0]
    assert spikes


def test_lookalikes_have_ordinary_histories(con):
    """Look-alike accounts are people: most of them also order like everyone else."""
    share = con.sql("""SELECT avg(CASE WHEN l.account_id IN (SELECT account_id FROM orders) THEN 1 ELSE 0 END)
                       FROM (SELECT DISTINCT account_id FROM truth_lookalikes
                             WHERE lookalike <> 'flash_sale_crowd') l""").fetchone()[0]
    assert share > 0.5
