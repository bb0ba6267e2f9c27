"""Members that co-targeting over the whole window cannot show: an account that served only
two of a crew's many clients. It is recruited when the conjunction of three tests, combined
by Fisher's method (``stats.combined``) and paying ``log10`` of the accounts tried, reaches
the member level:

* its hits on the clients *during the crew's bursts there* (each client's burst: the
  members' review times, a day either side), against the outsiders' positive edges at those
  shops in those intervals (Poisson, as in ``crews``);
* shipping a client order to one of the crew's drop addresses (addresses two members use):
  the chance is the share of positive reviewers outside the crew who ship there;
* praise copying the crew's: its best near-duplicate count among the crew's texts against
  the rate of near duplicates between random positive texts (binomial).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from abuse import graphs, stats

from .crews import Crew

_DAY = 86400.0


def bursts(edges: pl.DataFrame, crew: Crew, slack_days: float = 1.0) -> pl.DataFrame:
    """(shop_id, lo, hi) per client: the central 80% of the members' review times there, a
    day either side (a member reviewing off-burst does not stretch it)."""
    return (edges.filter(pl.col("account_id").is_in(list(crew.members))
                         & pl.col("shop_id").is_in(crew.shops))
            .group_by("shop_id")
            .agg(lo=pl.col("t").quantile(0.1, "lower") - slack_days * _DAY,
                 hi=pl.col("t").quantile(0.9, "higher") + slack_days * _DAY))


def confirm(edges: pl.DataFrame, crews: list[Crew]) -> None:
    """Keep the members that served >= 2 clients during the crew's bursts there; a crew
    serves its clients in bursts, an account reviewing two of them at other times does not."""
    for crew in crews:
        b = bursts(edges, crew)
        on = (edges.filter(pl.col("account_id").is_in(list(crew.members))).join(b, on="shop_id")
              .filter(pl.col("t").is_between(pl.col("lo"), pl.col("hi")))
              .group_by("account_id").len().filter(pl.col("len") >= 2))
        keep = set(on["account_id"])
        crew.members = {a: s for a, s in crew.members.items() if a in keep}


def recruit(edges: pl.DataFrame, crews: list[Crew], *, min_surprise: float, threshold: float, min_hits: int = 1,
            base_dup: float, max_texts: int = 100) -> None:
    """Adds members to ``crews`` in place (``members``, with their combined surprise)."""
    big_k = float(edges.height)
    n_accounts = max(edges["account_id"].n_unique(), 1)
    taken = {a for c in crews for a in c.members}
    for crew in crews:
        mem = list(crew.members)
        at = edges.filter(pl.col("shop_id").is_in(crew.shops))
        b = bursts(edges, crew)
        on = at.join(b, on="shop_id").filter(pl.col("t").is_between(pl.col("lo"), pl.col("hi")))
        outsiders = on.filter(~pl.col("account_id").is_in(mem))
        mass = float(outsiders.group_by("shop_id").len()["len"].sum() + b.height)
        cand = (outsiders.filter(~pl.col("account_id").is_in(list(taken)))
                .group_by("account_id").agg(pl.len().alias("hits"), pl.col("d").first(),
                                            pl.col("addrs").explode(empty_as_null=False).drop_nulls(),
                                            pl.col("texts").explode(empty_as_null=False).drop_nulls())
                .filter(pl.col("hits") >= min_hits))
        if cand.is_empty():
            continue
        # drop addresses: used by two or more members at the clients
        maddr = (at.filter(pl.col("account_id").is_in(mem)).select("account_id", "addrs")
                 .explode("addrs", empty_as_null=False).drop_nulls().unique())
        drops = set(maddr.group_by("addrs").agg(pl.len()).filter(pl.col("len") >= 2)["addrs"])
        users = (edges.filter(~pl.col("account_id").is_in(mem)).select("account_id", "addrs")
                 .explode("addrs", empty_as_null=False).filter(pl.col("addrs").is_in(list(drops)))["account_id"].n_unique())
        p_drop = (users + 1) / n_accounts
        texts = (at.filter(pl.col("account_id").is_in(mem)).select(pl.col("texts").explode(empty_as_null=False))
                 .drop_nulls()["texts"].to_list())
        if len(texts) > max_texts:
            texts = [texts[i] for i in np.random.default_rng(0).choice(len(texts), max_texts, replace=False)]
        crew_sh = [graphs.shingles(x) for x in texts]
        need = min_surprise + math.log10(cand.height)
        hits_s = stats.surprise_poisson(cand["hits"].to_numpy(), cand["d"].to_numpy() * mass / big_k)
        for r, s_hits in zip(cand.iter_rows(named=True), hits_s, strict=True):
            s_addr = -math.log10(p_drop) if drops & set(r["addrs"] or []) else 0.0
            best = max((sum(graphs.jaccard(graphs.shingles(x), y) >= threshold for y in crew_sh)
                        for x in (r["texts"] or []) if x), default=0)
            s_text = float(stats.surprise_binom(best, len(crew_sh), min(max(base_dup, 1e-6), 0.5)))
            s = float(stats.combined(s_hits, s_addr, s_text))
            if s >= need:
                crew.members[r["account_id"]] = s
                taken.add(r["account_id"])
