"""Coupon-hoarding features: what each coupon claimer did, as named behavioural tells.

The feature SQL lives in ``sql/features/hoarding_*.sql``; this module runs it and turns the
numbers into yes/no tells whose base rate among all claimers the detector measures, so a
tell counts as evidence only as far as it is rarer in the crowd than in a batch.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from abuse.sqlfiles import read_sql, use_intermediate

#: Behavioural tells, in the order reasons mention them, with a phrase for each.
TELLS: dict[str, str] = {
    "fast": "claimed within {fast_claim_s:g} s of release",
    "early": "claimed within {early_claim_min:g} minutes of release",
    "unused": "left most claimed coupons unused",
    "at_threshold": "redeemed on orders at the exact threshold",
    "refund_loop": "re-redeemed returned coupons (refund loop)",
    "thin": "did almost nothing else (no plain orders, <= {thin_max_events} other events)",
    "short_sessions": "sessions of about a second (median <= {short_session_s:g} s)",
    "spins": "spun the lottery far more than other claimers",
    "burst": "registered in a registration burst",
    "virtual": "registered with a virtual-operator number",
}

#: Behaviour tells. "Suspicious" (``susp``) is a fast claim plus one of the strong ones, or
#: three behaviour tells without a fast claim (a batch that staggers its claims). Leaving a
#: coupon unused is everyday human behaviour, so it is weak: it only counts among the three.
#: A maintained account that looks alive (browsing, a plain order) still shows the conjunction
#: of two weak tells: it raced a release (within minutes) and redeemed at exactly the
#: threshold; each is common alone (alert people, deal hunters; people who top up an order).
#: Registration burst and number segment never count: a referral wave or a TV ad brings
#: bursts of fresh sign-ups too.
STRONG_TELLS = ("at_threshold", "refund_loop", "thin", "short_sessions", "spins")
BEHAVIOUR_TELLS = ("unused", *STRONG_TELLS)


def _query(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    use_intermediate(con)  # the shared identifiers and claims the feature SQL reads
    return con.sql(read_sql(f"features/{name}.sql")).pl()


def claimers(con: duckdb.DuckDBPyConnection, p: Any, edges: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per account with a claim in the window: features, tells and ``susp``.
    ``edges`` (from ``identifiers``) tell which claimers share nothing with another claimer:
    the crowd whose race to a release is the base rate of an early claim."""
    df = _query(con, "hoarding_claimers")
    if df.is_empty():
        return df.with_columns([pl.lit(False).alias(t) for t in (*TELLS, "susp")])
    bursts = _query(con, "hoarding_registration_bursts")
    df = df.join(bursts, on="account_id", how="left")
    expected = df["bucket_expected"].fill_null(0.0).to_numpy().astype(float)
    count = df["bucket_count"].fill_null(0).to_numpy().astype(float)
    burst_p = stats.poisson.sf(count - 1, np.maximum(expected, p.burst_min_expected))
    # how many spins is "far more" is judged among claimers who did not race a release,
    # so a large batch of spinners cannot raise its own bar
    spins = df["n_spins"].to_numpy().astype(float)
    slow = df["min_delay_s"].fill_null(float("inf")).to_numpy() > p.fast_claim_s
    spin_cut = _upper_fence(spins[slow & (spins > 0)])
    df = df.with_columns(
        pl.Series("burst_p", burst_p),
        fast=pl.col("min_delay_s") <= p.fast_claim_s,
        early=pl.col("min_delay_s") <= 60 * p.early_claim_min,
        unused=(pl.col("n_unused") > 0) & (2 * pl.col("n_unused") >= pl.col("n_claims")),
        at_threshold=pl.col("n_at_threshold") > 0,
        refund_loop=pl.col("n_reredeems") > 0,
        thin=(pl.col("n_plain_orders") == 0) & (pl.col("n_activity") <= p.thin_max_events),
        short_sessions=pl.col("med_duration_s").fill_null(float("inf")) <= p.short_session_s,
        spins=pl.col("n_spins") > spin_cut,
        burst=pl.Series(burst_p < p.burst_alpha),
        virtual=pl.col("virtual_segment").fill_null(False),
    )
    df = df.with_columns([pl.col(t).fill_null(False) for t in TELLS])
    df = df.with_columns(early=_early_where_rare(con, df, p, edges))
    return df.with_columns(
        n_tells=_count(tuple(TELLS)),
        susp=(pl.col("fast") & (_count(STRONG_TELLS) >= 1))
        | (_count(BEHAVIOUR_TELLS) >= 3)
        | (pl.col("early") & pl.col("at_threshold")),
    )


#: Identifier kinds through which a claimer can be tied to another (for ``_isolated``).
PERSONAL_KINDS = ("device", "ip", "phone_hash", "address", "redeem_item")


def _isolated(df: pl.DataFrame, edges: pl.DataFrame | None) -> pl.Series:
    """Per claimer: shares no device, IP, number, address or threshold item with another
    claimer (people on their own; batch accounts are tied to each other by something)."""
    if edges is None or edges.is_empty():
        return pl.Series("isolated", [True] * len(df))
    e = edges.filter(pl.col("kind").is_in(PERSONAL_KINDS)).join(df.select("account_id"), on="account_id")
    tied = (
        e.join(e.group_by("kind", "value").agg(n=pl.len()).filter(pl.col("n") >= 2), on=["kind", "value"])
        .select("account_id")
        .unique()
    )
    return df.select("account_id")["account_id"].is_in(tied["account_id"].implode()).not_()


def _early_where_rare(
    con: duckdb.DuckDBPyConnection, df: pl.DataFrame, p: Any, edges: pl.DataFrame | None
) -> pl.Series:
    """Per claimer: claimed some campaign within ``early_claim_min`` minutes of its release,
    where racing that release is rare. A campaign's early share is measured among its
    isolated claimers (``_isolated``) that did not redeem at the threshold, so a batch does
    not raise it; at a flash sale that the whole crowd races, being early says nothing and
    does not count."""
    use = _query(con, "hoarding_campaign_use").select("account_id", "campaign_id", "min_delay_s")
    crowd = df.select("account_id", "at_threshold").with_columns(_isolated(df, edges).alias("isolated"))
    use = use.join(crowd, on="account_id").with_columns(is_early=pl.col("min_delay_s") <= 60 * p.early_claim_min)
    share = (
        use.filter(~pl.col("at_threshold") & pl.col("isolated"))
        .group_by("campaign_id")
        .agg(early_share=pl.col("is_early").mean())
    )
    per = (
        use.join(share, on="campaign_id", how="left")
        .with_columns(rare=pl.col("early_share").fill_null(0.0) < p.early_max_share)
        .group_by("account_id")
        .agg(early=(pl.col("is_early") & pl.col("rare")).any())
    )
    out = df.select("account_id").join(per, on="account_id", how="left", maintain_order="left")
    return out["early"].fill_null(False)


def _count(tells: tuple[str, ...]) -> pl.Expr:
    return pl.sum_horizontal([pl.col(t).cast(pl.Int32) for t in tells])


def _upper_fence(x: np.ndarray) -> float:
    """Tukey's far-out fence (Q3 + 3 IQR) of the non-zero values; +inf when too few."""
    if len(x) < 20:
        return float("inf")
    q1, q3 = np.quantile(x, [0.25, 0.75])
    return float(q3 + 3 * max(q3 - q1, 1.0))


def identifiers(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every account-identifier edge, each with ``df``: how many accounts of the whole
    population carry that identifier (its rarity, as in IDF); and the population's
    identifier sizes (kind, value, df), to state base rates."""
    edges = _query(con, "hoarding_identifiers")
    sizes = edges.group_by("kind", "value").agg(df=pl.len())
    return edges.join(sizes, on=["kind", "value"]), sizes


def accounts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Registration facts of every account (for batch members that claimed nothing)."""
    return _query(con, "hoarding_accounts")


def campaign_use(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _query(con, "hoarding_campaign_use")
