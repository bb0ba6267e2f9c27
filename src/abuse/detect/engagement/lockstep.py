"""Lockstep: many accounts acting on one target within seconds, again and again.

Each target's engagement is cut into short buckets. A bucket is tested against the target's
own local rate: its distinct accounts against a Poisson whose mean is the busier side (left or
right) of its surrounding buckets, plus one pseudo-account (an empty neighbourhood still allows
a little). So a crowd that builds over minutes (a star's fans, a post going viral) is its own
baseline, while a hundred phones fired in the same seconds stands out. Buckets are
Bonferroni-corrected over every non-empty bucket.

An account is in lockstep when the share of its engagement moments (target, action, bucket)
that fall in significant buckets beats the population's share (binomial tail, corrected over
accounts): one lucky coincidence is not enough, a farm phone's moments are nearly all there.
No account pairs are formed: accounts meet only through the buckets they share.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import polars as pl

from abuse import stats
from abuse.detect.engagement.crews import fisher
from abuse.sqlfiles import read_sql


def significant_buckets(
    con, bucket_s: float, neighbour_s: float, alpha: float, min_accounts: int
) -> tuple[pl.DataFrame, int]:
    """(significant buckets with their surprise, number of buckets tested). Every non-empty
    bucket is tested (and counts in the correction), but only those with ``min_accounts`` or
    more can pass: only they leave DuckDB (the buckets are as many as the engagement moments)."""
    con.execute("CREATE OR REPLACE TEMP TABLE engagement_buckets AS " + read_sql("features/engagement_buckets.sql"))
    try:
        m = con.execute("SELECT count(*) FROM engagement_buckets").fetchall()[0][0]
        b = con.sql(f"SELECT * FROM engagement_buckets WHERE accounts >= {int(min_accounts)}").pl()
    finally:
        con.execute("DROP TABLE IF EXISTS engagement_buckets")
    if b.is_empty():
        cols = ("surprise", "expected") if m == 0 else ("expected", "surprise")
        return b.with_columns(pl.lit(0.0).alias(cols[0]), pl.lit(0.0).alias(cols[1])), m
    k = max(int(round(neighbour_s / bucket_s)), 1)
    side = np.maximum(b["left_accounts"].to_numpy(), b["right_accounts"].to_numpy()).astype(float)
    mu = (side + 1.0) / k
    s = stats.surprise_poisson(b["accounts"].to_numpy(), mu)
    b = b.with_columns(pl.Series("expected", mu), pl.Series("surprise", s))
    sig = b.filter((pl.col("accounts") >= min_accounts) & (pl.col("surprise") >= stats.required_surprise(alpha, m)))
    return sig, m


def lockstep_accounts(members: pl.DataFrame, accounts: pl.DataFrame, alpha: float) -> pl.DataFrame:
    """Per account in any significant bucket: its lockstep moments, all its moments, the
    binomial surprise against the population's share and whether it passes (corrected)."""
    if members.is_empty():
        return pl.DataFrame(
            schema={
                "account_id": pl.Utf8,
                "sync_moments": pl.Int64,
                "moments": pl.Int64,
                "sync_surprise": pl.Float64,
                "sync_ok": pl.Boolean,
            }
        )
    k = members.group_by("account_id").agg(pl.len().alias("sync_moments"))
    total_moments = float(accounts["moments"].sum())
    p0 = min(max(float(k["sync_moments"].sum()) / max(total_moments, 1.0), 1e-6), 0.5)
    j = k.join(accounts.select("account_id", "moments"), on="account_id", how="left")
    s = stats.surprise_binom(j["sync_moments"].to_numpy(), j["moments"].to_numpy(), p0)
    need = stats.required_surprise(alpha, len(accounts))
    return j.with_columns(pl.Series("sync_surprise", s)).with_columns(
        (pl.col("sync_surprise") >= need).alias("sync_ok"),
        pl.lit(p0).alias("sync_base_rate"),
    )


def judge_components(
    sync_members: pl.DataFrame, sync_accounts: pl.DataFrame, accounts: pl.DataFrame, blocks: pl.DataFrame, alpha: float
) -> tuple[set[str], list[dict]]:
    """Lockstep accounts joined through the significant buckets they share; a component is a
    rig only when it also looks like one against base rates (Fisher-combined, corrected over
    components): its members crowd into one network block far beyond that block's share of all
    engaging accounts, or do nothing else on the platform, or engage right after a purchase.
    A live audience reacting to the same moments from its own phones and home lines has none
    of these. Returns (accounts of passing components, evidence per component)."""
    ok = sync_accounts.filter(pl.col("sync_ok")) if not sync_accounts.is_empty() else sync_accounts
    if ok.is_empty():
        return set(), []
    level = stats.required_surprise(alpha)
    n_all = max(len(accounts), 1)
    thin = accounts["other_events"].to_numpy() == 0
    p_thin = min(max(float(thin.mean()), 1e-3), 0.999)
    bought = accounts["after_purchase"].to_numpy() * 2 >= np.maximum(accounts["events"].to_numpy(), 1)
    p_buy = min(max(float(bought.mean()), 1e-4), 0.999)
    sm = sync_members.filter(pl.col("account_id").is_in(ok["account_id"].implode()))
    g = nx.Graph()
    for a, t, act, b in sm.select("account_id", "target_id", "action", "bucket").rows():
        g.add_edge(("a", a), ("k", t, act, b))
    comps = [sorted(n[1] for n in c if n[0] == "a") for c in nx.connected_components(g)]
    comps = [c for c in comps if c]
    acc = accounts.select("account_id", "events", "other_events", "after_purchase")
    bsize = dict(blocks.select("block", "block_accounts").rows()) if not blocks.is_empty() else {}
    keep, evidence = set(), []
    for members in sorted(comps, key=lambda c: c[0]):
        n = len(members)
        mem = acc.filter(pl.col("account_id").is_in(members))
        k_thin = int((mem["other_events"].to_numpy() == 0).sum())
        k_buy = int((mem["after_purchase"].to_numpy() * 2 >= np.maximum(mem["events"].to_numpy(), 1)).sum())
        s_block, top_block = _block_crowding(sm, members, bsize, n_all)
        s_thin = float(stats.surprise_binom(k_thin, n, p_thin))
        s_buy = float(stats.surprise_binom(k_buy, n, p_buy))
        combined = fisher([s_block, s_thin, s_buy])
        corr = float(stats.corrected(combined, len(comps)))
        evidence.append(
            {
                "accounts": n,
                "top_block_accounts": top_block[1] if top_block else 0,
                "block_surprise": round(s_block, 2),
                "thin": k_thin,
                "thin_surprise": round(s_thin, 2),
                "after_purchase": k_buy,
                "purchase_surprise": round(s_buy, 2),
                "corrected": round(corr, 2),
                "is_rig": corr >= level,
            }
        )
        if corr >= level:
            keep.update(members)
    return keep, evidence


def _block_crowding(
    sm: pl.DataFrame, members: list[str], bsize: dict, n_all: int
) -> tuple[float, tuple[Any, int] | None]:
    """How far a component's members crowd into one network block beyond that block's share
    of all engaging accounts: (the best block's binomial surprise corrected over the blocks the
    members use, (that block, its members)), (0, None) when no member has a block."""
    per_block = (
        sm.filter(pl.col("account_id").is_in(members) & pl.col("block").is_not_null())
        .group_by("block")
        .agg(pl.col("account_id").n_unique().alias("k"))
    )
    if per_block.is_empty():
        return 0.0, None
    k = per_block["k"].to_numpy()
    p = np.array([bsize.get(b, 1) / n_all for b in per_block["block"].to_list()])
    s = stats.corrected(stats.surprise_binom(k, len(members), np.minimum(p, 0.999)), len(per_block))
    i = int(np.argmax(s))
    return float(s[i]), (per_block["block"][i], int(k[i]))
