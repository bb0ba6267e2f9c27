"""Sparse crews, step 2: the links between hostile accounts (a shared shop within
``link_days``, invitations) and the base rates of invitations and registration cohorts."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from abuse.sqlfiles import read_sql, use_intermediate

_DAY = 86400.0


def account_links(con: duckdb.DuckDBPyConnection, accounts: list[str]) -> pl.DataFrame:
    cur = con.cursor()
    try:
        use_intermediate(cur)
        cur.register("rings_hostile", pl.DataFrame({"account_id": accounts}, schema={"account_id": pl.Utf8}).to_arrow())
        return cur.sql(read_sql("features/rings_account_links.sql")).pl()
    finally:
        cur.close()


def invite_pairs(links: pl.DataFrame, invite_cap: int) -> pl.DataFrame:
    """(a, b) with a < b, both hostile: one invited the other, or siblings of an inviter who
    invited at most ``invite_cap`` accounts in all."""
    hostile = links.select("account_id")
    direct = (
        links.filter(pl.col("invited_by").is_not_null())
        .join(hostile, left_on="invited_by", right_on="account_id", how="semi")
        .select(pl.col("account_id").alias("x"), pl.col("invited_by").alias("y"))
    )
    kids = links.filter(pl.col("invited_by").is_not_null() & (pl.col("inviter_fanout") <= invite_cap)).select(
        "account_id", "invited_by"
    )
    sib = (
        kids.join(kids, on="invited_by", suffix="_2")
        .filter(pl.col("account_id") < pl.col("account_id_2"))
        .select(pl.col("account_id").alias("x"), pl.col("account_id_2").alias("y"))
    )
    both = pl.concat([direct, sib])
    return (
        both.select(a=pl.min_horizontal("x", "y"), b=pl.max_horizontal("x", "y"))
        .filter(pl.col("a") != pl.col("b"))
        .unique()
        .sort("a", "b")
    )


def cohort_rate(reg: np.ndarray, days: float) -> float:
    """Share of pairs of hostile accounts registered within ``days`` of each other (sorted
    sweep, linear after the sort)."""
    r = np.sort(reg[np.isfinite(reg)])
    n = len(r)
    if n < 2:
        return 1.0
    close = np.searchsorted(r, r + days * _DAY, side="right") - np.arange(n) - 1
    return float(close.sum()) / (n * (n - 1) / 2)


def link_pairs(
    con: duckdb.DuckDBPyConnection,
    e: pl.DataFrame,
    inv: pl.DataFrame,
    H: float,
    window_seconds: float,
    *,
    hub_cap: int,
    link_days: float,
    invite_bits: float,
) -> pl.DataFrame:
    """(a, b, weight) links between accounts hostile to >= 2 shops: hostile to the same shop
    within ``link_days`` (hub shops left out), plus ``invite_bits`` for an invitation."""
    cand = e.filter(pl.col("d") >= 2)
    link_edges = cand.filter(pl.col("account_id").n_unique().over("shop_id") <= hub_cap).select(
        "account_id", "shop_id", "t", w=(H / pl.col("h").cast(pl.Float64)).log10()
    )
    cur = con.cursor()
    try:
        cur.register("rings_link_edges", link_edges.to_arrow())
        cur.execute("SET VARIABLE rings_link_seconds = ?", [link_days * _DAY])
        cur.execute("SET VARIABLE rings_window_seconds = ?", [window_seconds])
        pairs = cur.sql(read_sql("features/rings_links.sql")).pl()
    finally:
        cur.close()
    cand_ids = cand.select("account_id").unique()
    inv_c = (
        inv.join(cand_ids, left_on="a", right_on="account_id", how="semi")
        .join(cand_ids, left_on="b", right_on="account_id", how="semi")
        .with_columns(weight=pl.lit(invite_bits))
    )
    return (
        pl.concat([pairs.select("a", "b", pl.col("weight").cast(pl.Float64)), inv_c.select("a", "b", "weight")])
        .group_by("a", "b")
        .agg(pl.col("weight").sum())
        .sort("a", "b")
    )
