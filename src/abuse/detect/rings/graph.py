"""The hostile account-shop graph of the extortion-ring detector: hostile edges, pruning to
the candidate part, and co-targeting pairs scored against a baseline.

Null model: hostility is proportional to order volume. Shop ``s`` expects
``hhat_s = H * v_s / V`` of the ``H`` hostile edges, ``v_s`` being its buyers who were not
hostile to it (plus one), so a ring cannot inflate its own baseline. An account with ``d``
hostile shops hits ``s`` with probability about ``d * hhat_s / H``; two accounts ``a``, ``b``
then share ``lambda_ab = (d_b * S_a + d_a * S_b) / 2H`` shops by chance, with ``S_a`` the
summed ``hhat`` of ``a``'s shops. Observed shares count a shop only when both hit it within
``co_days`` of each other. A genuinely bad shop is far above its baseline too, but its
complainers share only that one shop, and a pair needs two shared shops.
"""

from __future__ import annotations

import duckdb
import polars as pl

from abuse import stats
from abuse.sqlfiles import read_sql


def hostile_edges(con: duckdb.DuckDBPyConnection, low_rating: int) -> pl.DataFrame:
    """The window's hostile (account, shop) edges with the shop's hostile degree ``h``, its
    volume-based expectation ``hhat``, and the account's hostile degree ``d``."""
    con.execute("SET VARIABLE rings_low_rating = ?", [low_rating])
    df = con.sql(read_sql("features/rings_hostile_edges.sql")).pl()
    if df.is_empty():
        return df
    total = float(df.height)
    df = df.with_columns(pl.len().over("shop_id").alias("h"), pl.len().over("account_id").alias("d"))
    vol = (pl.col("shop_buyers") - pl.col("h")).clip(0, None) + 1
    # sum of vol over every shop: those with orders, plus hostile shops without any (so a
    # delivery without orders falls back to a uniform null)
    no_orders = df.filter(pl.col("shop_buyers") == 0)["shop_id"].n_unique()
    sold = df.filter(pl.col("shop_buyers") > 0).unique("shop_id")
    norm = float(
        df["total_buyer_shops"][0]
        + df["n_shops"][0]
        + no_orders
        - sold.select(pl.min_horizontal("h", "shop_buyers").sum()).item()
    )
    return df.with_columns(hhat=total * vol / max(norm, 1.0))


def prune(edges: pl.DataFrame, min_shops: int) -> pl.DataFrame:
    """The candidate part: accounts hostile to at least ``min_shops`` shops and shops with at
    least two such accounts, repeated until stable (a bipartite (min_shops, 2)-core)."""
    cand = edges.select("account_id", "shop_id", "first_at")
    for _ in range(20):
        before = cand.height
        cand = cand.filter(pl.len().over("account_id") >= min_shops)
        cand = cand.filter(pl.len().over("shop_id") >= 2)
        if cand.height == before:
            break
    return cand


def co_target_pairs(
    con: duckdb.DuckDBPyConnection,
    edges: pl.DataFrame,
    cand: pl.DataFrame,
    co_days: float,
    hub_cap: int,
) -> pl.DataFrame:
    """Account pairs sharing >= 2 shops close in time, with their chance expectation ``lam``
    and ``surprise`` = -log10 P(Poisson(lam) >= k). Shops with more than ``hub_cap``
    candidate accounts are not projected to pairs (their pairs would be quadratic; a ring
    is seen through its many small targets anyway)."""
    proj = cand.filter(pl.len().over("shop_id") <= hub_cap)
    cur = con.cursor()
    try:
        cur.register("rings_cand", proj.to_arrow())
        cur.execute("SET VARIABLE rings_co_seconds = ?", [co_days * 86400.0])
        pairs = cur.sql(read_sql("features/rings_pairs.sql")).pl()
    finally:
        cur.close()
    if pairs.is_empty():
        return pairs.with_columns(lam=pl.lit(0.0), surprise=pl.lit(0.0))
    total = float(edges.height)
    acc = edges.group_by("account_id").agg(pl.len().alias("d"), pl.col("hhat").sum().alias("S"))
    pairs = (
        pairs.join(acc.rename({"account_id": "a", "d": "d_a", "S": "S_a"}), on="a")
        .join(acc.rename({"account_id": "b", "d": "d_b", "S": "S_b"}), on="b")
        .with_columns(lam=((pl.col("d_b") * pl.col("S_a") + pl.col("d_a") * pl.col("S_b")) / (2 * total)))
    )
    surprise = stats.surprise_poisson(pairs["k"].to_numpy(), pairs["lam"].to_numpy())
    return pairs.with_columns(surprise=pl.Series(surprise))
