"""What a case dossier shows, read from the work database: the case, its members, their
events, and the edges of its graph. Every query is restricted to the case's members."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from abuse.sqlfiles import read_sql, use_intermediate

STAGED = ("stg_accounts", "stg_orders", "stg_reviews", "stg_refunds", "stg_coupon_events", "stg_activity")


@dataclass
class Case:
    run_id: int
    cluster_id: str
    pattern: str
    account_ids: list[str]
    shop_ids: list[str] | None
    first_seen: datetime | None
    last_seen: datetime | None
    loss_estimate: float | None  # None: the pattern estimates no money
    score: float
    summary: str
    evidence: dict[str, Any]
    case_status: str | None
    case_first_run: int | None
    window_start: datetime | None
    window_end: datetime | None
    tz: str


@dataclass
class Dossier:
    case: Case
    members: pl.DataFrame  # account_id, score, reason, registered_at, device_id, ip, ...
    events: pl.DataFrame  # account_id, t (epoch s), lane, kind, shop_id, amount, minute, second
    edges: pl.DataFrame  # ring: account_id, shop_id, counts; else: kind, value, account_id
    texts: pl.DataFrame  # text, uses, members, shops, min_rating
    shops: pl.DataFrame | None = None  # ring: shop_id, members, low_ratings, paid_requests, loss_estimate


def load_case(con: duckdb.DuckDBPyConnection, run_id: int, cluster_id: str) -> Case:
    row = con.execute(
        """SELECT c.run_id, c.cluster_id, c.pattern, c.account_ids, c.shop_ids, c.first_seen,
                  c.last_seen, c.loss_estimate, c.score, c.summary, c.evidence::VARCHAR,
                  c.case_status, c.case_first_run, r.window_start, r.window_end,
                  current_setting('TimeZone')
           FROM clusters c LEFT JOIN runs r USING (run_id)
           WHERE c.run_id = ? AND c.cluster_id = ?""",
        [run_id, cluster_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"no case {cluster_id!r} in run {run_id} of the work database")
    (
        rid,
        cid,
        pattern,
        accounts,
        shops,
        first,
        last,
        loss,
        score,
        summary,
        evidence,
        status,
        first_run,
        w_start,
        w_end,
        tz,
    ) = row
    try:
        ev = json.loads(evidence) if evidence else {}
    except json.JSONDecodeError:
        ev = {"raw": evidence}
    return Case(
        rid,
        cid,
        pattern,
        list(accounts or []),
        list(shops) if shops is not None else None,
        first,
        last,
        None if loss is None else float(loss),
        float(score or 0.0),
        summary or "",
        ev if isinstance(ev, dict) else {"evidence": ev},
        status,
        first_run,
        w_start,
        w_end,
        tz,
    )


def latest_run_with(con: duckdb.DuckDBPyConnection, cluster_id: str) -> int:
    """The latest successful run that reported ``cluster_id``."""
    row = con.execute(
        """SELECT max(c.run_id) FROM clusters c JOIN runs r USING (run_id)
           WHERE c.cluster_id = ? AND r.status = 'succeeded'""",
        [cluster_id],
    ).fetchone()
    if row is None or row[0] is None:
        raise KeyError(f"no successful run reported a case {cluster_id!r}")
    return int(row[0])


def top_cases(con: duckdb.DuckDBPyConnection, run_id: int, top: int) -> list[str]:
    rows = con.execute(
        """SELECT cluster_id FROM clusters WHERE run_id = ? AND coalesce(case_status, '') <> 'dismissed'
           ORDER BY loss_estimate DESC NULLS LAST, score DESC NULLS LAST, cluster_id LIMIT ?""",
        [run_id, top],
    ).fetchall()
    return [r[0] for r in rows]


def _missing(con: duckdb.DuckDBPyConnection) -> list[str]:
    have = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    have |= {
        r[0]
        for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database()").fetchall()
    }
    return [t for t in STAGED if t not in have]


def _query(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """Run ``sql/reports/<name>.sql``: scalars as ``$name`` parameters, lists (of ids) as
    ``getvariable('dossier_<name>')``, set from one registered Arrow relation: DuckDB binds a
    Python list parameter element by element (trying to import pandas for each one; about a
    second per 5,000 ids), the relation at once."""
    lists = {k: v for k, v in params.items() if isinstance(v, (list, tuple))}
    scalars = {k: v for k, v in params.items() if k not in lists}
    if lists:
        _set_lists(con, lists)
    return con.execute(read_sql(f"reports/{name}.sql"), scalars).pl()


def _set_lists(con: duckdb.DuckDBPyConnection, lists: dict[str, list[Any] | tuple[Any, ...]]) -> None:
    """``getvariable('dossier_<name>')`` = the list, as VARCHAR[] (one Arrow row)."""
    import pyarrow as pa

    frame = pa.table({k: pa.array([list(v)], type=pa.list_(pa.string())) for k, v in lists.items()})
    con.register("dossier_lists_frame", frame)
    try:
        for k in lists:
            con.execute(f"SET VARIABLE dossier_{k} = (SELECT {k} FROM dossier_lists_frame)")
    finally:
        con.unregister("dossier_lists_frame")


def load(con: duckdb.DuckDBPyConnection, run_id: int, cluster_id: str) -> Dossier:
    """Everything the page needs for one case."""
    case = load_case(con, run_id, cluster_id)
    missing = _missing(con)
    if missing:
        raise RuntimeError(f"the work database lacks staged tables {missing}: run `abuse nightly` first")
    accounts = case.account_ids
    members = _query(con, "dossier_members", {"run_id": run_id, "cluster_id": cluster_id, "accounts": accounts})
    events = _query(con, "dossier_events", {"accounts": accounts})
    if case.pattern == "extortion_ring":
        edges = _query(con, "dossier_ring_edges", {"accounts": accounts, "shops": case.shop_ids or []})
    else:
        use_intermediate(con)
        edges = _query(con, "dossier_identifier_edges", {"accounts": accounts})
    texts = _query(con, "dossier_review_texts", {"accounts": accounts, "limit": 8})
    shops = None
    if case.pattern == "extortion_ring" and "cluster_shops" in _tables(con):
        shops = con.execute(
            """SELECT shop_id, members, low_ratings, paid_requests, loss_estimate FROM cluster_shops
               WHERE run_id = ? AND cluster_id = ? ORDER BY loss_estimate DESC, shop_id""",
            [run_id, cluster_id],
        ).pl()
    return Dossier(case, members, events, edges, texts, shops)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }


def incidents(con: duckdb.DuckDBPyConnection, run_id: int) -> tuple[list[tuple], str | None]:
    """The run's incidents for the index (sql/reports/dossier_incidents.sql) and the platform
    zone to show their times in; none when the work database has no spikes table."""
    if "spikes" not in _tables(con):
        return [], None
    rows = con.execute(read_sql("reports/dossier_incidents.sql"), {"run_id": run_id}).fetchall()
    tz = con.execute("SELECT current_setting('TimeZone')").fetchone()
    return rows, tz[0] if tz else None
