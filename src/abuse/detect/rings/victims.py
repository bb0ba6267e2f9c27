"""A ring's victims, each shop judged against its own base rate.

A ring is found through its members; which shops it extorted is a second question. A sparse
crew hits many of its victims only once (one member, one order, one low review), so "shops
hit by two or more members" names a fraction of them. Here every shop where a member acted
hostilely (a low rating, a refund or compensation claim, a review withdrawn or raised after
the claim) is a candidate, and it is named when the members' hostility there is beyond what
the shop's own base rate explains:

- the shop's rate ``p_s``: its hostile (account, shop) edges per distinct buyer in the window,
  the ring's own edges and buyers taken out, shrunk toward the platform rate with
  ``prior_buyers`` pseudo-buyers (empirical Bayes: a shop with few buyers borrows the
  platform's rate, a busy shop speaks for itself);
- ``k`` of the ``n`` members who bought there were hostile: ``P(Binomial(n, p_s) >= k)``;
- the extortion traits of those edges (compensation asked for, in the ``kind`` field or in
  words; a refund; the review withdrawn or raised) multiply in, each edge at the share of
  the other hostile edges that carry all of its traits.

A shop with a genuine quality problem (many unrelated unhappy buyers) has a large ``p_s``: a
member's complaint there is what anyone's would be, and it is not named. The shops named are
those a Benjamini-Hochberg procedure at false-discovery rate ``fdr`` keeps among the ring's
candidates, so the list is long when most candidates are clearly victims and short when few
are."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from abuse import stats
from abuse.frames import number
from abuse.sqlfiles import read_sql

_TRAITS = ("comp", "refund", "reversed")


def _traits(e: pl.DataFrame) -> pl.DataFrame:
    return e.with_columns(
        comp=(pl.col("n_comp") > 0) | (pl.col("n_comp_words") > 0),
        refund=pl.col("n_refund") > 0,
        reversed=pl.col("n_reversed") > 0,
    )


def name_victims(
    con: duckdb.DuckDBPyConnection,
    edges: pl.DataFrame,
    groups: list[list[str]],
    *,
    prior_buyers: float,
    fdr: float,
    customer_orders: int,
) -> list[tuple[list[str], list[dict]]]:
    """For each group of members: (victim shops, one evidence dict per victim, strongest
    first). ``edges`` are all hostile edges of the window (``rings_hostile_edges``)."""
    if not groups:
        return []
    e = _traits(edges)
    shop = (
        e.group_by("shop_id")
        .agg(h=pl.len(), buyers=pl.col("shop_buyers").first())
        .with_columns(buyers=pl.max_horizontal("buyers", "h"))
    )
    total_buyers = float(max(number(edges["total_buyer_shops"].max() or 0), number(shop["buyers"].sum())))
    members = pl.DataFrame(
        [(a, i) for i, g in enumerate(groups) for a in g],
        orient="row",
        schema={"account_id": pl.Utf8, "group_key": pl.Int64},
    )
    everyone = set(members["account_id"])
    # the traits' rates among the hostile edges of everyone else
    other = e.filter(~pl.col("account_id").is_in(list(everyone)))
    h_other = float(other.height)
    platform = (h_other + 1.0) / (max(total_buyers - members.height, 1.0) + 2.0)
    hits = e.filter(pl.col("n_orders_all") < customer_orders).join(members, on="account_id")
    if hits.is_empty():
        return [([], []) for _ in groups]
    cand = hits.select("group_key", "shop_id").unique()
    cur = con.cursor()
    try:
        cur.register("rings_members", members.with_columns(pl.col("group_key").cast(pl.Utf8)).to_arrow())
        cur.register("rings_candidate_shops", cand.with_columns(pl.col("group_key").cast(pl.Utf8)).to_arrow())
        bought = cur.sql(read_sql("features/rings_member_orders.sql")).pl()
    finally:
        cur.close()
    bought = bought.with_columns(pl.col("group_key").cast(pl.Int64))
    # members who bought there in the window, or were hostile there (an older order)
    n_buy = (
        pl.concat(
            [bought.select("group_key", "account_id", "shop_id"), hits.select("group_key", "account_id", "shop_id")]
        )
        .unique()
        .group_by("group_key", "shop_id")
        .len("n")
    )
    # each edge's traits at the share of other hostile edges carrying all of them
    combo = None
    for t in _TRAITS:
        c = pl.col(t)
        combo = c.cast(pl.Int8) if combo is None else combo * 2 + c.cast(pl.Int8)
    hits = hits.with_columns(combo=combo)
    other = other.with_columns(combo=combo)
    codes = other["combo"].to_numpy() if h_other else np.zeros(0, int)
    share = {}
    for code in hits["combo"].unique().to_list():
        carry = int(((codes & code) == code).sum()) if h_other else 0
        share[code] = (carry + 1.0) / (h_other + 2.0) if code else 1.0
    hits = hits.with_columns(trait_bits=-pl.col("combo").replace_strict(share).log10())
    per = (
        hits.group_by("group_key", "shop_id")
        .agg(k=pl.len(), trait_bits=pl.col("trait_bits").sum(), **{f"n_{t}": pl.col(t).sum() for t in _TRAITS})
        .join(n_buy, on=["group_key", "shop_id"])
        .join(shop, on="shop_id")
        .with_columns(n=pl.max_horizontal("n", "k"))
        .with_columns(
            base=((pl.col("h") - pl.col("k")).cast(pl.Float64) + platform * prior_buyers)
            / ((pl.col("buyers") - pl.col("n")).clip(0, None) + prior_buyers)
        )
    )
    per = per.with_columns(base=pl.col("base").clip(1e-6, 0.999))
    bin_bits = stats.surprise_binom(per["k"].to_numpy(), per["n"].to_numpy(), per["base"].to_numpy())
    per = per.with_columns(bits=pl.Series(bin_bits) + pl.col("trait_bits"))
    out: list[tuple[list[str], list[dict]]] = []
    for i in range(len(groups)):
        g = per.filter(pl.col("group_key") == i).sort(["bits", "shop_id"], descending=[True, False])
        if g.is_empty():
            out.append(([], []))
            continue
        keep = stats.step_up(g["bits"].to_numpy(), fdr)
        g = g.filter(pl.Series(keep))
        ev = [
            {
                "shop_id": r["shop_id"],
                "members_hostile": int(r["k"]),
                "members_bought": int(r["n"]),
                "shop_buyers": int(r["buyers"]),
                "shop_hostile": int(r["h"]),
                "base_rate": round(float(r["base"]), 4),
                "compensation": int(r["n_comp"]),
                "refunds": int(r["n_refund"]),
                "withdrawn_or_raised": int(r["n_reversed"]),
                "surprise": round(float(r["bits"]), 2),
            }
            for r in g.iter_rows(named=True)
        ]
        out.append((sorted(g["shop_id"]), ev))
    return out
