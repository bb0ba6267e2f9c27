"""Audience crews: targets whose engagement comes mostly from accounts with nothing else to do,
where those same accounts also boost the same other targets, whatever IPs they use (a farm on
residential proxies has no shared block).

1. A target is thin-heavy when its share of engaging accounts that do nothing else on the
   platform beats the base rate of such accounts (binomial, corrected over targets).
2. Thin accounts and thin-heavy targets form a small bipartite graph; each component is a
   candidate. Thin-heavy alone is what a wave of new sign-ups voting for a TV show also looks
   like, so a candidate is a crew only when its accounts boost two of its targets together:
   the accounts that engaged both of a pair of its targets, against the expected overlap if
   audiences were independent (Poisson: engagers of one x engagers of the other / all engaging
   accounts), the best of its top pairs, corrected over every pair tried.
3. Members are the component's thin accounts that engaged at least two of its targets, or whose
   only engagement was on the co-boosted pair, and accounts with a life of their own (bought
   real accounts) that worked two or more of its targets far beyond those targets' share of all
   engagement (binomial, corrected).
"""

from __future__ import annotations

import itertools
from typing import cast

import networkx as nx
import numpy as np
import polars as pl

from abuse import stats
from abuse.detect.engagement.reasons import AUDIENCE_CREW
from abuse.sqlfiles import read_sql

TOP_TARGETS = 5


def audience_crews(
    con, accounts: pl.DataFrame, alpha: float, fdr: float
) -> tuple[list[dict], pl.DataFrame, pl.DataFrame]:
    """(crew evidence dicts, members [crew, account_id, member_surprise], crew targets
    [crew, target_id, action])."""
    empty_m = pl.DataFrame(schema={"crew": pl.Int64, "account_id": pl.Utf8, "member_surprise": pl.Float64})
    empty_t = pl.DataFrame(schema={"crew": pl.Int64, "target_id": pl.Utf8, "action": pl.Utf8})
    level = stats.required_surprise(alpha)
    n_acc = max(len(accounts), 1)
    p_thin = min(max(float(cast(float, (accounts["other_events"] == 0).mean()) or 0.0), 1e-3), 0.999)
    aud, heavy = _thin_heavy_targets(con, p_thin, level)
    if heavy.is_empty():
        return [], empty_m, empty_t
    con.register("_heavy", heavy.select("target_id", "action").to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE engagement_thin_targets AS SELECT * FROM _heavy")
    con.unregister("_heavy")
    edges = con.sql(read_sql("features/engagement_audience_edges.sql")).pl()
    con.execute("DROP TABLE IF EXISTS engagement_thin_targets")
    cands, tries = _coboosted_components(edges, aud, n_acc)
    crews, members, targets = [], [], []
    for i, (comp, tnodes, by_t, (sp, pair, k, mu)) in enumerate(cands):
        corr = float(stats.corrected(sp, max(tries, 1)))
        if pair is None or corr < level:
            continue
        crew = AUDIENCE_CREW + i
        mem = _members(tnodes, by_t, pair, edges, accounts)
        if not mem:
            continue
        crews.append(
            {
                "crew": crew,
                "kind": "audience",
                "accounts": len(mem),
                "targets": len(tnodes),
                "thin_base_rate": round(p_thin, 4),
                "pair": [f"{t[0]} ({t[1]})" for t in pair],
                "pair_overlap": k,
                "pair_expected": round(mu, 3),
                "coboost_surprise": round(sp, 2),
                "corrected": corr,
                "is_crew": True,
            }
        )
        members += [(crew, a, corr) for a in mem]
        mset = set(mem)
        targets += [(crew, t, act) for t, act in tnodes if by_t[(t, act)] & mset]
    m = pl.DataFrame(members, schema=empty_m.schema, orient="row") if members else empty_m
    t = pl.DataFrame(targets, schema=empty_t.schema, orient="row") if targets else empty_t
    if crews:
        m = (
            pl.concat([m, bought_members(con, t, accounts, fdr)])
            .unique(["crew", "account_id"], keep="first")
            .sort("crew", "account_id")
        )
        sizes = m.group_by("crew").len()
        for c in crews:
            c["accounts"] = int(sizes.filter(pl.col("crew") == c["crew"])["len"].sum())
    return crews, m, t


def _members(tnodes, by_t: dict, pair: tuple, edges: pl.DataFrame, accounts: pl.DataFrame) -> list[str]:
    """A candidate crew's members: accounts on two of its targets, or only ever on the
    co-boosted pair's (a throwaway with one target)."""
    hits: dict[str, int] = {}
    for t in tnodes:
        for a in by_t[t]:
            hits[a] = hits.get(a, 0) + 1
    only = _only_on(edges, accounts, by_t[pair[0]] | by_t[pair[1]])
    return sorted(a for a, h in hits.items() if h >= 2 or a in only)


def _thin_heavy_targets(con, p_thin: float, level: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(every target's audience with the surprise of its thin accounts against the platform's
    share `p_thin`, corrected over targets; the targets where that reaches `level`, with at
    least two thin accounts)."""
    aud = con.sql(read_sql("features/engagement_audience.sql")).pl()
    if aud.is_empty():
        return aud, aud
    s = stats.surprise_binom(aud["thin"].to_numpy(), aud["accounts"].to_numpy(), p_thin)
    aud = aud.with_columns(pl.Series("thin_surprise", stats.corrected(s, len(aud))))
    return aud, aud.filter((pl.col("thin_surprise") >= level) & (pl.col("thin") >= 2))


def _coboosted_components(edges: pl.DataFrame, aud: pl.DataFrame, n_acc: int) -> tuple[list[tuple], int]:
    """Components of the account-target graph of thin targets with two targets or more, each
    with its best co-boosted pair of top targets (Poisson surprise of their shared engagers
    against independence), and how many pairs were tried (for the correction)."""
    g = nx.Graph()
    for a, t, act in edges.select("account_id", "target_id", "action").rows():
        g.add_edge(("a", a), ("t", t, act))
    engagers = {(t, a): n for t, a, n in aud.select("target_id", "action", "accounts").rows()}
    comps = sorted((c for c in nx.connected_components(g)), key=lambda c: min(map(str, c)))
    cands = []
    tries = 0
    for comp in comps:
        tnodes = [n[1:] for n in comp if n[0] == "t"]
        if len(tnodes) < 2:
            continue
        by_t = {t: {nb[1] for nb in g.neighbors(("t", *t))} for t in tnodes}
        top = sorted(tnodes, key=lambda t: (-len(by_t[t]), t))[:TOP_TARGETS]
        pairs = list(itertools.combinations(top, 2))
        tries += len(pairs)
        best: tuple[float, tuple | None, int, float] = (0.0, None, 0, 0.0)
        for t1, t2 in pairs:
            k = len(by_t[t1] & by_t[t2])
            mu = engagers[t1] * engagers[t2] / n_acc
            sp = float(stats.surprise_poisson(k, mu))
            if sp > best[0]:
                best = (sp, (t1, t2), k, mu)
        cands.append((comp, tnodes, by_t, best))
    return cands, tries


def _only_on(edges: pl.DataFrame, accounts: pl.DataFrame, pair_acc: set) -> set:
    """The accounts of ``pair_acc`` whose every engagement is on these targets (throwaways)."""
    if not pair_acc:
        return set()
    return set(
        edges.filter(pl.col("account_id").is_in(list(pair_acc)))
        .join(accounts.select("account_id", pl.col("events").alias("all_events")), on="account_id")
        .group_by("account_id", "all_events")
        .agg(pl.col("events").sum())
        .filter(pl.col("events") >= pl.col("all_events"))["account_id"]
        .to_list()
    )


def bought_members(con, targets: pl.DataFrame, accounts: pl.DataFrame, fdr: float) -> pl.DataFrame:
    """Accounts with a life of their own (bought real accounts) that worked two or more of a
    crew's targets (``targets``: crew, target_id, action) beyond chance. Audience crews and block
    crews both recruit them: a bought account votes from its owner's phone and network, so it
    shares no block with the rig and does plenty besides.

    Under the null an account's ``k`` engagement events land anywhere on the platform: each of
    the crew's ``n`` targets is hit with ``pi = 1 - (1 - p)^k``, ``p`` the targets' mean share of
    all engagement events (mean before the power: conservative). The surprise of hitting ``h`` of
    them is a binomial tail; per crew a Benjamini-Hochberg step-up at ``fdr`` over every
    engaging account (each could have been a chance member) keeps the members. A heavy user of
    popular targets is not surprising; a hundred accounts that each hit the same two obscure
    targets are, together, though none is alone."""
    empty = pl.DataFrame(schema={"crew": pl.Int64, "account_id": pl.Utf8, "member_surprise": pl.Float64})
    con.register("_at", targets.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE engagement_audience_targets AS SELECT * FROM _at")
    con.unregister("_at")
    try:
        touched = con.sql(read_sql("features/engagement_audience_members.sql")).pl()
        per_target = con.sql(read_sql("features/engagement_crew_target_events.sql")).pl()
    finally:
        con.execute("DROP TABLE IF EXISTS engagement_audience_targets")
    total = max(float(accounts["events"].sum()), 1.0)
    share = per_target.group_by("crew").agg(
        (pl.col("target_events").mean() / total).clip(1e-12, 0.5).alias("p"), pl.len().alias("n_targets")
    )
    touched = (
        touched.filter(pl.col("crew_targets") >= 2)
        .join(accounts.select("account_id", "events"), on="account_id")
        .join(share, on="crew")
        .sort("crew", "account_id")
    )
    if touched.is_empty():
        return empty
    k = touched["events"].to_numpy().astype(float)
    pi = 1.0 - np.power(1.0 - touched["p"].to_numpy(), k)
    s = stats.surprise_binom(touched["crew_targets"].to_numpy(), touched["n_targets"].to_numpy(), pi)
    touched = touched.with_columns(pl.Series("member_surprise", s))
    kept = []
    for (_crew,), part in touched.partition_by("crew", as_dict=True, maintain_order=True).items():
        mask = stats.step_up(part["member_surprise"].to_numpy(), fdr, tests=len(accounts))
        kept.append(part.filter(pl.Series(mask)).select("crew", "account_id", "member_surprise"))
    return pl.concat(kept) if kept else empty
