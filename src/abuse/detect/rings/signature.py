"""Sparse rings that pairwise co-targeting cannot see: members that each hit a few of many
victims, most pairs sharing at most one shop.

What still gives them away is the extortion signature itself: being paid by a shop and then
withdrawing the review or raising it to >= 4 stars. Honest buyers rarely do that even once;
a crew does it as its business model, on shop after shop. Accounts carrying it (once at
least, outside the rings already found) are linked

* through a shop where more of them turned up than chance allows: ``m_s`` of them against
  ``hhat_s * q``, ``q`` being their share of all hostile edges, spread over shops by volume
  like everyone's (Poisson surprise). Many lone signature accounts raise ``q``, so their
  chance meetings stay unsurprising; a bad seller's crowd is far more than ``m_s``.
* through a device or IP used by few accounts (hubs such as a campus NAT are capped).

Connected components of that bipartite (account, shop-or-id) graph holding >= 2 accounts
with the full signature (on >= ``min_shops`` shops) become candidate cores. They go through
the same member, strength and extortion tests as the co-targeting cores: a core is a
hypothesis here, not a finding.
"""

from __future__ import annotations

import duckdb
import polars as pl

from abuse import graphs, stats
from abuse.sqlfiles import read_sql, use_intermediate


def signature_counts(edges: pl.DataFrame) -> pl.DataFrame:
    """Shops on which each account was paid and then reversed its review (>= 1)."""
    return edges.filter(pl.col("n_reversed_after_pay") > 0).group_by("account_id").agg(pl.len().alias("n_sig"))


def signature_cores(
    con: duckdb.DuckDBPyConnection,
    edges: pl.DataFrame,
    *,
    min_shops: int,
    min_shop_surprise: float,
    id_hub_cap: int,
    known: set,
) -> list[set]:
    """Connected groups of signature accounts outside the ``known`` cores with >= 2 accounts
    carrying the full signature (>= ``min_shops`` shops), see the module docstring."""
    counts = signature_counts(edges).filter(~pl.col("account_id").is_in(list(known)))
    strong = set(counts.filter(pl.col("n_sig") >= min_shops)["account_id"])
    if len(strong) < 2:
        return []
    # signature accounts at a shop against their share of hostile edges, spread by volume; an
    # account counts at a shop only with the signature on another shop: a shop that pays and
    # sees reviews revised as a matter of course (a generous seller, a real quality problem
    # settled) explains the signature its own buyers carry there, not one carried elsewhere
    on = (
        edges.filter(pl.col("account_id").is_in(counts["account_id"].implode()))
        .join(counts, on="account_id")
        .filter(pl.col("n_sig") - (pl.col("n_reversed_after_pay") > 0).cast(pl.UInt32) > 0)
    )
    q = on.height / max(edges.height, 1)
    shops = on.group_by("shop_id").agg(pl.len().alias("m"), pl.col("hhat").first(), pl.col("account_id").sort())
    s = stats.surprise_poisson(shops["m"].to_numpy(), shops["hhat"].to_numpy() * q)
    rare = shops.with_columns(surprise=pl.Series(s, dtype=pl.Float64)).filter(
        (pl.col("m") >= 2) & (pl.col("surprise") >= min_shop_surprise)
    )
    links = [(a, "shop:" + shop) for shop, accs in zip(rare["shop_id"], rare["account_id"], strict=True) for a in accs]
    cur = con.cursor()
    try:
        use_intermediate(cur)
        cur.register("rings_sig", pl.DataFrame({"account_id": sorted(strong)}).to_arrow())
        ids = cur.sql(read_sql("features/rings_signature_ids.sql")).pl()
    finally:
        cur.close()
    small = ids.filter(pl.col("n_accounts") <= id_hub_cap)
    for i, accs in small.select("id", "sig_accounts").iter_rows():
        links.extend((a, i) for a in accs)
    return sorted((c for c in graphs.union_components(links) if len(c & strong) >= 2), key=min)
