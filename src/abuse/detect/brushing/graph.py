"""The positive account-shop graph of the brushing detector and its shop-side co-targeting.

Null model (configuration): an account with ``d`` positive shops picks each in proportion to
the shop's positive degree ``k_s`` (its popularity among reviewers). Two shops then share
``E_st = k_s k_t Q`` reviewers by chance, ``Q = sum_a d_a (d_a - 1) / K^2`` with ``K`` the
edges. Shop pairs sharing many more reviewers than that are co-targeted (Poisson surprise).
The projection is onto shops (a few hundred), never onto account pairs.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import polars as pl

from abuse import stats
from abuse.sqlfiles import read_sql, use_intermediate


class RowIndex:
    """The rows of a frame by the values of one column (accounts, shops, addresses), built in
    one pass: ``take`` gives a few values' rows in the frame's own order, as a filter on the
    column would, at the cost of those rows. A filter per crew over every edge grows with the
    square of the platform (its crews grow with it, and so does every pass)."""

    def __init__(self, frame: pl.DataFrame, key: str) -> None:
        # one group per value: its rows as a slice of one flat array (no Python object per
        # row, one dict entry per value)
        g = frame.select(key).with_row_index("_r").group_by(key).agg("_r")
        self.frame = frame
        self._flat = g["_r"].explode().to_numpy().astype(np.int64) if g.height else np.zeros(0, dtype=np.int64)
        self._len = g["_r"].list.len().to_numpy().astype(np.int64)
        self._start = np.cumsum(self._len) - self._len
        self._pos = dict(zip(g[key].to_list(), range(g.height), strict=True))

    def take(self, values: Iterable) -> pl.DataFrame:
        pos = np.fromiter((self._pos[v] for v in set(values) if v in self._pos), dtype=np.int64)
        lens = self._len[pos]
        # the groups' slices of the flat array, concatenated
        idx = np.repeat(self._start[pos] - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
        return self.frame[np.sort(self._flat[idx])]


def positive_rows(con: duckdb.DuckDBPyConnection, min_rating: int, feature: str) -> pl.DataFrame:
    """The rows of ``sql/features/<feature>.sql``, a feature of the positive reviews (``min_rating``
    stars or more)."""
    con.execute("SET VARIABLE brushing_min_rating = ?", [int(min_rating)])
    use_intermediate(con)  # int_review_life: a review's life in one row
    return con.sql(read_sql(f"features/{feature}.sql")).pl()


def positive_edges(con: duckdb.DuckDBPyConnection, min_rating: int, quick_q: float) -> pl.DataFrame:
    con.execute("SET VARIABLE brushing_quick_q = ?", [float(quick_q)])
    df = positive_rows(con, min_rating, "brushing_edges")
    if df.is_empty():
        return df
    return df.with_columns(
        pl.len().over("shop_id").alias("k"),
        pl.len().over("account_id").alias("d"),
        t=pl.col("first_at").dt.epoch("ms") / 1000.0,
    )


def prune(edges: pl.DataFrame) -> pl.DataFrame:
    """Accounts with >= 2 positive shops and shops with >= 2 such accounts, until stable."""
    cand = edges.select("account_id", "shop_id")
    for _ in range(20):
        before = cand.height
        cand = cand.filter(pl.len().over("account_id") >= 2)
        cand = cand.filter(pl.len().over("shop_id") >= 2)
        if cand.height == before:
            break
    return cand


def shop_pairs(con: duckdb.DuckDBPyConnection, edges: pl.DataFrame, cand: pl.DataFrame) -> pl.DataFrame:
    """Shop pairs sharing >= 2 candidate reviewers with their chance expectation and surprise."""
    con.register("brushing_cand", cand.to_arrow())
    try:
        pairs = con.sql(read_sql("features/brushing_shop_pairs.sql")).pl()
    finally:
        con.unregister("brushing_cand")
    if pairs.is_empty():
        return pairs.with_columns(expected=pl.lit(0.0), surprise=pl.lit(0.0))
    d = edges.unique("account_id")["d"].cast(pl.Float64)
    big_k = float(edges.height)
    q = float((d * (d - 1)).sum()) / big_k**2
    k = edges.unique("shop_id").select("shop_id", "k")
    pairs = (
        pairs.join(k.rename({"shop_id": "s", "k": "k_s"}), on="s")
        .join(k.rename({"shop_id": "t", "k": "k_t"}), on="t")
        .with_columns(expected=pl.col("k_s") * pl.col("k_t") * q)
    )
    s = stats.surprise_poisson(pairs["c"].to_numpy(), pairs["expected"].to_numpy())
    return pairs.with_columns(surprise=pl.Series(s))


def client_orders(con: duckdb.DuckDBPyConnection, shops: list[str]) -> pl.DataFrame:
    """The window's orders at ``shops`` (account_id, shop_id, item_id, t in epoch seconds)."""
    con.register("brushing_clients", pl.DataFrame({"shop_id": shops}, schema={"shop_id": pl.Utf8}).to_arrow())
    try:
        df = con.sql(read_sql("features/brushing_client_orders.sql")).pl()
    finally:
        con.unregister("brushing_clients")
    return df.with_columns(pl.col("t").cast(pl.Float64))
