"""Members that co-targeting alone cannot show: an account that hit just one of a ring's
victim shops (low participation, or joined late) is attached when it did so while the ring
was there and its review text is a near-duplicate of the ring's far more often than two
random low-rating texts are (binomial surprise against the text baseline, Bonferroni over
the accounts tried). Rings that write their own words attach no one this way."""

from __future__ import annotations

import math

import polars as pl

from abuse import graphs

from .evidence import binom_surprise
from .groups import _DAY, Group, _victims


def attach_by_text(
    edges: pl.DataFrame,
    groups: list[Group],
    *,
    co_days: float,
    threshold: float,
    base_rate: float,
    min_bits: float,
    max_texts: int = 150,
) -> None:
    """Adds accounts to ``groups`` in place (``members`` and ``attached``)."""
    e = edges.with_columns(t=pl.col("first_at").dt.epoch("ms") / 1000.0)
    taken = {m for g in groups for m in g.members}
    for g in groups:
        victims = _victims(e, set(g.members))
        on = e.join(victims.rename({"t": "t_ring"}), on="shop_id")
        ring = (
            on.filter(pl.col("account_id").is_in(g.members))
            .select(pl.col("texts").explode(empty_as_null=False))
            .drop_nulls()
        )
        if ring.height > max_texts:
            ring = ring.sample(max_texts, seed=0)
        ring_sh = [graphs.shingles(x) for x in ring["texts"]]
        near = on.filter(
            ~pl.col("account_id").is_in(list(taken)) & ((pl.col("t") - pl.col("t_ring")).abs() <= co_days * _DAY)
        )
        if near.is_empty() or not ring_sh:
            continue
        need = min_bits + math.log10(near["account_id"].n_unique())
        texts = near.select("account_id", "texts").explode("texts", empty_as_null=False).drop_nulls()
        for acc, rows in texts.group_by("account_id"):
            best = max(sum(graphs.jaccard(graphs.shingles(x), r) >= threshold for r in ring_sh) for x in rows["texts"])
            bits = binom_surprise(best, len(ring_sh), base_rate)
            if bits >= need:
                g.attached[acc[0]] = bits
                taken.add(acc[0])
        g.members = sorted(set(g.members) | g.attached.keys())
