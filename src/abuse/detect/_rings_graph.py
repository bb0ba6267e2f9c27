"""The hostile account-shop graph of the extortion-ring detector: pruning, co-targeting pairs
scored against a baseline, and candidate groups.

Null model: a hostile account with ``d`` hostile shops hits shop ``s`` with probability about
``d * h_s / H`` (``h_s`` the shop's hostile degree, ``H`` all hostile edges). Two accounts
``a``, ``b`` then share ``lambda_ab = (d_b * S_a + d_a * S_b) / 2H`` shops by chance, with
``S_a`` the summed hostile degree of ``a``'s shops. A busy or genuinely bad shop has a large
``h_s``, so sharing it is expected; sharing several quiet shops is not. Observed shares count a
shop only when both hit it within ``co_days`` of each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from abuse import graphs
from abuse.sqlfiles import read_sql


def hostile_edges(con: duckdb.DuckDBPyConnection, low_rating: int) -> pl.DataFrame:
    """The window's hostile (account, shop) edges with the shop's hostile degree ``h`` and
    the account's hostile degree ``d`` over all hostile edges."""
    con.execute("SET VARIABLE rings_low_rating = ?", [low_rating])
    df = con.sql(read_sql("features/rings_hostile_edges.sql")).pl()
    if df.is_empty():
        return df
    return df.with_columns(
        pl.len().over("shop_id").alias("h"),
        pl.len().over("account_id").alias("d"),
    )


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


_PAIRS_SQL = """
SELECT a.account_id AS a, b.account_id AS b, count(*) AS k
FROM rings_cand a
JOIN rings_cand b
  ON a.shop_id = b.shop_id AND a.account_id < b.account_id
 AND abs(epoch(a.first_at) - epoch(b.first_at)) <= ?
GROUP BY ALL
HAVING count(*) >= 2
"""


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
        pairs = cur.execute(_PAIRS_SQL, [co_days * 86400.0]).pl()
    finally:
        cur.close()
    if pairs.is_empty():
        return pairs.with_columns(lam=pl.lit(0.0), surprise=pl.lit(0.0))
    total = float(edges.height)
    acc = edges.group_by("account_id").agg(
        pl.len().alias("d"), (pl.col("h") - 1).sum().alias("S")
    )
    pairs = (
        pairs.join(acc.rename({"account_id": "a", "d": "d_a", "S": "S_a"}), on="a")
        .join(acc.rename({"account_id": "b", "d": "d_b", "S": "S_b"}), on="b")
        .with_columns(
            lam=((pl.col("d_b") * pl.col("S_a") + pl.col("d_a") * pl.col("S_b")) / (2 * total))
        )
    )
    surprise = graphs.poisson_surprise(pairs["k"].to_numpy(), pairs["lam"].to_numpy())
    return pairs.with_columns(surprise=pl.Series(surprise))


@dataclass
class Group:
    members: list[str]
    shops: list[str]  # victim shops: hit by >= 2 members
    surprise: float  # summed per-shop surprise, leaving out the strongest shop
    hits: dict[str, int]  # member -> number of victim shops hit
    method: str = "louvain"


def _shop_surprise(sub: pl.DataFrame, members: set, edges_total: float) -> pl.DataFrame:
    """Per shop of a group: how many members hit it vs how many would by chance."""
    d_group = float(sub.unique("account_id")["d"].sum())
    per_shop = sub.group_by("shop_id").agg(pl.len().alias("n"), pl.col("h").first())
    exp = d_group * per_shop["h"].to_numpy() / edges_total
    s = graphs.poisson_surprise(per_shop["n"].to_numpy(), exp)
    return per_shop.with_columns(expected=pl.Series(exp), surprise=pl.Series(s))


def build_groups(
    edges: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    min_pair_surprise: float,
    min_members: int,
    min_member_shops: int,
    trim: str,
    seed: int = 0,
) -> list[Group]:
    """Candidate rings: Louvain communities of the significant co-targeting pairs, each
    trimmed to members hitting >= ``min_member_shops`` of the group's victim shops (or, with
    ``trim='peel'``, to the FRAUDAR densest block) and scored by the surprise of its victim
    shops' member counts, leaving the single strongest shop out so one bad shop cannot make
    a group on its own."""
    strong = pairs.filter(pl.col("surprise") >= min_pair_surprise)
    comms = graphs.communities(
        zip(strong["a"], strong["b"], strong["surprise"], strict=True), seed=seed
    )
    total = float(edges.height)
    weights = graphs.log_column_weights(dict(edges.group_by("shop_id").agg(pl.len()).iter_rows()))
    groups = []
    for comm in comms:
        if len(comm) < min_members:
            continue
        sub = edges.filter(pl.col("account_id").is_in(list(comm)))
        members = set(comm)
        for _ in range(3):
            sub = sub.filter(pl.col("account_id").is_in(list(members)))
            sub = sub.filter(pl.len().over("shop_id") >= 2)
            if trim == "peel":
                block = graphs.peel_dense_block(
                    zip(sub["account_id"], sub["shop_id"], strict=True), weights
                )
                new = set(block.rows)
            else:
                hits = sub.group_by("account_id").agg(pl.len())
                new = set(hits.filter(pl.col("len") >= min_member_shops)["account_id"])
            if new == members:
                break
            members = new
        sub = sub.filter(pl.col("account_id").is_in(list(members)))
        sub = sub.filter(pl.len().over("shop_id") >= 2)
        if len(members) < min_members or sub.is_empty():
            continue
        per_shop = _shop_surprise(sub, members, total)
        s = np.sort(per_shop["surprise"].to_numpy())[::-1]
        hits = dict(sub.group_by("account_id").agg(pl.len()).iter_rows())
        groups.append(
            Group(
                members=sorted(members),
                shops=sorted(per_shop["shop_id"].to_list()),
                surprise=float(s[1:].sum()),
                hits={m: int(hits.get(m, 0)) for m in members},
                method=trim,
            )
        )
    return groups
