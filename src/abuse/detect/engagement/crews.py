"""Crews: accounts behind the same network blocks that boost the same targets.

1. A (block, target) pair is co-boosted when more of the block's engaging accounts engaged
   the target than independence predicts (Poisson with mean block accounts x the target's
   share of all engaging accounts), corrected over every pair. A campus NAT or a mobile
   carrier's block engages popular targets in proportion and is never co-boosted.
2. Crew candidates are the connected components of co-boosted pairs (blocks and targets).
   Being co-boosted alone is what an office voting for a colleague also does, so a candidate
   is a crew only when independent tells, each against its base rate, add up (Fisher's method,
   corrected over candidates): a second target boosted together, members with nothing else to
   do on the platform, engagement right after a purchase or recharge, per-target counts in
   fixed multiples.
3. A member is an account whose engagement on the crew's targets (from its blocks) is far more
   than the share those targets have of all engagement predicts (binomial, corrected over the
   candidate's accounts), or is most of its engagement (a throwaway with one or two votes); on
   blocks that carry few accounts besides the crew's (purity), every account engaging the
   crew's targets from them (a bought real account liking once through the rig's phones).
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np
import polars as pl
from scipy import stats as sst

from abuse import stats
from abuse.sqlfiles import read_sql


def fisher(surprises: list[float]) -> float:
    """Fisher's combination of independent tails given as surprises, as a surprise."""
    s = [max(float(x), 0.0) for x in surprises]
    if not s:
        return 0.0
    x = 2.0 * stats.LN10 * sum(s)
    return float(stats.surprise_of(sst.chi2.sf(x, 2 * len(s))))


def coboosted_pairs(con, alpha: float, n_accounts: int) -> pl.DataFrame:
    bt = con.sql(read_sql("features/engagement_block_targets.sql")).pl()
    if bt.is_empty():
        return bt.with_columns(pl.lit(0.0).alias("surprise"), pl.lit(0.0).alias("expected"))
    mu = bt["block_accounts"].to_numpy() * bt["target_accounts"].to_numpy() / max(n_accounts, 1)
    s = stats.surprise_poisson(bt["accounts"].to_numpy(), mu)
    tests = float(bt["block_accounts"].sum())  # every (account's block, target) it could share
    bt = bt.with_columns(pl.Series("expected", mu), pl.Series("surprise", s))
    return bt.filter(pl.col("surprise") >= stats.required_surprise(alpha, tests)).with_columns(
        (pl.col("surprise") - math.log10(max(tests, 1.0))).alias("corrected")
    )


def crew_candidates(pairs: pl.DataFrame) -> pl.DataFrame:
    """Components of the block-target graph of co-boosted pairs: crew, block, target_id, action."""
    g = nx.Graph()
    rows = pairs.select("block", "target_id", "action").rows()
    for block, target, action in rows:
        g.add_edge(("b", block), ("t", target, action))
    crew_of = {}
    for i, comp in enumerate(sorted(nx.connected_components(g), key=lambda c: sorted(map(str, c))[0])):
        for node in comp:
            crew_of[node] = i
    return pl.DataFrame(
        [(crew_of[("b", b)], b, t, a) for b, t, a in rows],
        schema={"crew": pl.Int64, "block": pl.Utf8, "target_id": pl.Utf8, "action": pl.Utf8},
        orient="row",
    )


def multiples_surprise(counts: np.ndarray) -> tuple[float, int]:
    """Counts in fixed multiples: for m = 2..10, counts that are multiples of m against counts
    one off a multiple (a smooth distribution puts about as many there), binomial; the best m,
    corrected over the nine tried."""
    best, best_m = 0.0, 0
    counts = np.asarray(counts, np.int64)
    for m in range(2, 11):
        r = counts % m
        k0 = int((r == 0).sum())
        kadj = int(((r == 1) | (r == m - 1)).sum())
        p = 0.5 if m == 2 else 1.0 / 3.0
        s = float(stats.surprise_binom(k0, k0 + kadj, p))
        if s > best:
            best, best_m = s, m
    return float(stats.corrected(best, 9)), best_m


def judge_crews(
    members: pl.DataFrame, pairs_sig: pl.DataFrame, accounts: pl.DataFrame, alpha: float, min_purity: float = 0.5
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(crews with their tells and verdict, members of the crews that pass)."""
    level = stats.required_surprise(alpha)
    acc = accounts.select("account_id", "events", "other_events", "after_purchase")
    p_thin, p_purchase, total_events = _base_rates(acc)
    per, info, tparts, mparts = _crew_frames(members, pairs_sig, acc)
    crews, kept = [], []
    n_cand = max(per["crew"].n_unique(), 1)
    for (crew,), part in per.partition_by("crew", as_dict=True, maintain_order=True).items():
        tg = tparts.get(crew)
        corr_t = tg["corrected"].to_list() if tg is not None else [0.0]
        extra = float(corr_t[1]) if len(corr_t) > 1 else 0.0
        s_acc, ok, purity = _member_test(part, info[crew], total_events, level, min_purity)
        mem = part.filter(pl.Series(ok))
        if mem.is_empty():
            continue
        n = len(mem)
        k_thin, s_thin, k_buy, s_buy, m, s_mult = _member_tells(mem, mparts[crew], p_thin, p_purchase)
        combined = fisher([extra, s_thin, s_buy, s_mult])
        corr = float(stats.corrected(combined, n_cand))
        crews.append(
            {
                "crew": crew,
                "kind": "block",
                "accounts": n,
                "targets": len(corr_t),
                "coboost_surprise": float(corr_t[0]),
                "block_purity": round(min(purity, 1.0), 3),
                "second_target_surprise": extra,
                "thin": k_thin,
                "thin_base_rate": p_thin,
                "thin_surprise": s_thin,
                "after_purchase": k_buy,
                "purchase_base_rate": p_purchase,
                "purchase_surprise": s_buy,
                "multiple": m,
                "multiple_surprise": s_mult,
                "combined": combined,
                "corrected": corr,
                "is_crew": corr >= level,
            }
        )
        if corr >= level:
            kept.append(
                mem.select("crew", "account_id", "crew_events", "crew_targets").with_columns(
                    pl.Series("member_surprise", s_acc[ok])
                )
            )
    crews_df = pl.DataFrame(crews) if crews else pl.DataFrame(schema={"crew": pl.Int64, "is_crew": pl.Boolean})
    kept_df = pl.concat(kept) if kept else pl.DataFrame(schema={"crew": pl.Int64, "account_id": pl.Utf8})
    return crews_df, kept_df


def _crew_frames(
    members: pl.DataFrame, pairs_sig: pl.DataFrame, acc: pl.DataFrame
) -> tuple[pl.DataFrame, dict[Any, dict], dict[Any, pl.DataFrame], dict[Any, pl.DataFrame]]:
    """(per crew and account: its events on the crew's targets and its account row; per crew:
    its targets' events and its blocks' accounts; per crew: its targets by corrected surprise;
    per crew: its member rows)."""
    per = (
        members.group_by("crew", "account_id")
        .agg(
            pl.col("events").sum().alias("crew_events"),
            pl.col("after_purchase").sum().alias("crew_after_purchase"),
            pl.len().alias("crew_targets"),
        )
        .join(acc, on="account_id", how="left")
        .sort("crew", "account_id")
    )
    # the crew's targets' share of all engagement (the member test's null) and the accounts
    # its blocks carry at all (purity: a block of the rig's own carries nobody else)
    target_events = members.group_by("crew").agg(pl.col("events").sum().alias("target_events"))
    block_acc = (
        pairs_sig.select("crew", "block", "block_accounts")
        .unique()
        .group_by("crew")
        .agg(pl.col("block_accounts").sum())
    )
    by_target = pairs_sig.group_by("crew", "target_id", "action").agg(pl.col("corrected").max())
    info = {r["crew"]: r for r in target_events.join(block_acc, on="crew", how="left").to_dicts()}
    tparts = {
        k[0]: v
        for k, v in by_target.sort("corrected", descending=True)
        .partition_by("crew", as_dict=True, maintain_order=True)
        .items()
    }
    mparts = {k[0]: v for k, v in members.partition_by("crew", as_dict=True, maintain_order=True).items()}
    return per, info, tparts, mparts


def _member_test(
    part: pl.DataFrame, info: dict, total_events: float, level: float, min_purity: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """(each candidate's corrected surprise of its events on the crew's targets, whether it is
    a member, the crew's block purity)."""
    q = min(max(float(info["target_events"]) / max(total_events, 1.0), 1e-9), 0.5)
    s_acc = stats.corrected(
        stats.surprise_binom(part["crew_events"].to_numpy(), part["events"].to_numpy(), q), len(part)
    )
    purity = len(part) / max(float(info.get("block_accounts") or 1), 1.0)
    # on the rig's own blocks everyone engaging its targets is the rig's; elsewhere an account
    # must be far more on the crew's targets than chance, or mostly there (one or two votes
    # of a throwaway cannot pass a test on their own; the crew is tested below)
    ok = (s_acc >= level) | (part["crew_events"].to_numpy() * 2 >= np.maximum(part["events"].to_numpy(), 1))
    if purity >= min_purity:
        ok = np.ones(len(part), bool)
    return s_acc, ok, purity


def _base_rates(acc: pl.DataFrame) -> tuple[float, float, float]:
    """(share of engaging accounts that do nothing else, share that engage mostly right after
    a purchase, all their engagement events): the nulls of the crew tells."""
    thin_all = acc["other_events"].to_numpy() == 0
    p_thin = min(max(float(thin_all.mean()) if len(acc) else 0.0, 1e-3), 0.999)
    bought_all = acc["after_purchase"].to_numpy() * 2 >= np.maximum(acc["events"].to_numpy(), 1)
    p_purchase = min(max(float(bought_all.mean()) if len(acc) else 0.0, 1e-4), 0.999)
    return p_thin, p_purchase, float(acc["events"].sum())


def _member_tells(
    mem: pl.DataFrame, crew_events: pl.DataFrame, p_thin: float, p_purchase: float
) -> tuple[int, float, int, float, int, float]:
    """The crew's members' tells against their base rates: (thin accounts, surprise, engaging
    after a purchase, surprise, the common multiple of their event counts, surprise)."""
    n = len(mem)
    k_thin = int((mem["other_events"].to_numpy() == 0).sum())
    s_thin = float(stats.surprise_binom(k_thin, n, p_thin))
    k_buy = int((mem["crew_after_purchase"].to_numpy() * 2 >= np.maximum(mem["crew_events"].to_numpy(), 1)).sum())
    s_buy = float(stats.surprise_binom(k_buy, n, p_purchase))
    counts = crew_events.filter(pl.col("account_id").is_in(mem["account_id"].implode()))["events"].to_numpy()
    s_mult, m = multiples_surprise(counts)
    return k_thin, s_thin, k_buy, s_buy, m, s_mult
