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

import math

import numpy as np
import polars as pl

from abuse import stats
from abuse.sqlfiles import read_sql


def significant_buckets(con, bucket_s: float, neighbour_s: float, alpha: float, min_accounts: int) -> tuple[pl.DataFrame, int]:
    """(significant buckets with their surprise, number of buckets tested)."""
    b = con.sql(read_sql("features/engagement_buckets.sql")).pl()
    if b.is_empty():
        return b.with_columns(pl.lit(0.0).alias("surprise"), pl.lit(0.0).alias("expected")), 0
    k = max(int(round(neighbour_s / bucket_s)), 1)
    side = np.maximum(b["left_accounts"].to_numpy(), b["right_accounts"].to_numpy()).astype(float)
    mu = (side + 1.0) / k
    s = stats.surprise_poisson(b["accounts"].to_numpy(), mu)
    b = b.with_columns(pl.Series("expected", mu), pl.Series("surprise", s))
    m = len(b)
    level = -math.log10(alpha)
    sig = b.filter((pl.col("accounts") >= min_accounts)
                   & (pl.col("surprise") - math.log10(m) >= level))
    return sig, m


def lockstep_accounts(members: pl.DataFrame, accounts: pl.DataFrame, alpha: float) -> pl.DataFrame:
    """Per account in any significant bucket: its lockstep moments, all its moments, the
    binomial surprise against the population's share and whether it passes (corrected)."""
    if members.is_empty():
        return pl.DataFrame(schema={"account_id": pl.Utf8, "sync_moments": pl.Int64, "moments": pl.Int64,
                                    "sync_surprise": pl.Float64, "sync_ok": pl.Boolean})
    k = members.group_by("account_id").agg(pl.len().alias("sync_moments"))
    total_moments = float(accounts["moments"].sum())
    p0 = min(max(float(k["sync_moments"].sum()) / max(total_moments, 1.0), 1e-6), 0.5)
    j = k.join(accounts.select("account_id", "moments"), on="account_id", how="left")
    s = stats.surprise_binom(j["sync_moments"].to_numpy(), j["moments"].to_numpy(), p0)
    level = -math.log10(alpha)
    tests = max(len(accounts), 1)
    return j.with_columns(pl.Series("sync_surprise", s)).with_columns(
        (pl.col("sync_surprise") - math.log10(tests) >= level).alias("sync_ok"),
        pl.lit(p0).alias("sync_base_rate"),
    )
