"""Supporting evidence for candidate crews, each against a platform baseline, in -log10 p:
quick reviews (posted within the platform's ``quick_q`` lag quantile, binomial at that rate),
templated praise (near-duplicate texts vs random pairs of positive texts), drop addresses
(members shipping client orders to an address another member uses, vs the share of
positive reviewers whose orders share an address), and time clustering (the range of the
members' review times at each client shop vs uniform times over the window)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from abuse import graphs, stats
from abuse.frames import number

from .crews import Crew
from .graph import RowIndex


@dataclass
class CrewEvidence:
    reviews: int = 0
    quick: int = 0
    lagged: int = 0
    dup_text_pairs: int = 0
    dup_text_expected: float = 0.0
    drop_addresses: int = 0
    members_at_drops: int = 0
    median_span_days: float = 0.0
    gmv: float = 0.0
    bits: dict[str, float] = field(default_factory=dict)


def _range_surprise(times: np.ndarray, window_s: float) -> float:
    """-log10 P(range of n uniform times over the window <= the observed range)."""
    n = len(times)
    if n < 3:
        return 0.0
    r = min(max(float(times.max() - times.min()) / window_s, 1e-9), 1.0)
    p = n * r ** (n - 1) - (n - 1) * r**n
    return float(stats.surprise_of(max(p, 1e-300)))


def baselines(edges: pl.DataFrame, threshold: float) -> tuple[float, float]:
    """(near-duplicate rate of positive texts by different accounts, share of positive
    reviewers with an order shipped to an address another account also uses)."""
    texts = edges.select("account_id", "texts").explode("texts", empty_as_null=False).drop_nulls()
    dup = graphs.near_duplicate_rate(list(texts.iter_rows()), threshold)
    addr = number(edges.group_by("account_id").agg(pl.col("addr_shared").any())["addr_shared"].mean() or 0.0)
    return dup, addr


def gather(
    edges: pl.DataFrame,
    crew: Crew,
    *,
    quick_q: float,
    threshold: float,
    base_dup: float,
    base_addr: float,
    window_s: float,
    of_account: RowIndex | None = None,
) -> CrewEvidence:
    """``of_account``: a ``RowIndex`` of ``edges`` by account (the crew's rows without a pass
    over every edge)."""
    ev = CrewEvidence()
    mine = (
        of_account.take(crew.members)
        if of_account is not None
        else edges.filter(pl.col("account_id").is_in(list(crew.members)))
    )
    sub = mine.filter(pl.col("shop_id").is_in(crew.shops))
    ev.reviews = int(sub["n_pos"].sum())
    ev.quick, ev.lagged = int(sub["n_quick"].sum()), int(sub["n_lagged"].sum())
    ev.gmv = float(sub["gmv"].sum())
    texts = sub.select("account_id", "texts").explode("texts", empty_as_null=False).drop_nulls()
    ev.dup_text_pairs, compared, _ = graphs.near_duplicate_pairs(list(texts.iter_rows()), threshold)
    ev.dup_text_expected = compared * base_dup
    addrs = sub.select("account_id", "addrs").explode("addrs", empty_as_null=False).drop_nulls().unique()
    shared = addrs.group_by("addrs").agg(pl.col("account_id").n_unique().alias("n")).filter(pl.col("n") >= 2)
    ev.drop_addresses = shared.height
    ev.members_at_drops = addrs.filter(pl.col("addrs").is_in(shared["addrs"].implode()))["account_id"].n_unique()
    spans, time_bits = [], 0.0
    for _, g in sub.group_by("shop_id"):
        t = g["t"].to_numpy()
        spans.append((t.max() - t.min()) / 86400.0)
        time_bits += _range_surprise(t, window_s)
    ev.median_span_days = float(np.median(spans)) if spans else 0.0
    m = len(crew.members)
    ev.bits = {
        "quick": float(stats.surprise_binom(ev.quick, ev.lagged, quick_q)),
        "dup_texts": float(stats.surprise_poisson(ev.dup_text_pairs, ev.dup_text_expected)),
        "drop_addresses": float(stats.surprise_binom(ev.members_at_drops, m, min(max(base_addr, 1e-3), 0.999))),
        "time_clustering": time_bits,
    }
    return ev


def total_bits(crew: Crew, ev: CrewEvidence) -> float:
    return crew.surprise + sum(ev.bits.values())


__all__ = ["CrewEvidence", "baselines", "gather", "total_bits", "math"]
