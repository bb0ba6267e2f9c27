"""serial_refunder: accounts, alone or in small crews, that are paid a refund or compensation
on far more of their orders than the base rate of the very shops and items they bought from.

1. Per account (``sql/features/refunds_accounts.sql``): its orders of the window, how many were
   paid a refund or compensation, and how many paid orders the base rate expects: each order's
   item rate, shrunk toward its shop's and the platform's, all without the account's own
   orders. A bad seller or a recalled item refunds everyone, so its buyers expect many refunds.
2. The surprise of the paid count (binomial at the mean base rate, an upper bound on the
   heterogeneous tail), taken as the smaller of all shops and all but the account's strongest
   shop (one bad seller cannot make a serial refunder), Bonferroni over the accounts that
   could reach the level at all (Tarone's count), ``rate``.
   Reuse of the same claim reason, against that reason's share of all claims, is a second
   test combined with the first by Fisher's method.
3. Accounts most of whose paid orders they themselves rated low (that very order, at most
   ``complaint_rating`` stars) are left out: those claims come with bad-review leverage
   (loud complainers, extortion rings), a distinct pattern. One bad review at a shop does
   not make every later claim there a complaint.
4. Crews: flagged accounts linked by shipping addresses or devices used by few accounts;
   an account just below the level joins when it shares such an identifier with one, paying
   only for the accounts so linked (``crews``).
Money: what was paid on the flagged orders beyond what the base rate explains,
``paid * (1 - expected / paid_orders)``.
"""

from __future__ import annotations

import math
from typing import cast

import polars as pl
from pydantic import BaseModel, Field

from abuse import stats
from abuse.detect.base import Cluster, DetectContext, DetectorBase, DetectorResult, Finding, register
from abuse.frames import instant
from abuse.report_text import plural

from . import crews as crews_
from . import rate as rate_


@register
class RefundDetector(DetectorBase):
    name = "refunds"
    patterns = ("serial_refunder",)

    class Params(BaseModel):
        prior_orders: float = Field(
            10.0,
            gt=0,
            description="weight (in orders) of the shop rate as prior of an item's "
            "paid rate, and of the platform rate as prior of a shop's",
        )
        min_surprise: float = Field(
            2.0,
            ge=0,
            description="-log10 p of the paid count left after the correction over accounts (2 = 1% familywise)",
        )
        min_paid_surprise: float = Field(
            3.0,
            ge=0,
            description="-log10 p the paid or the claimed count needs on its own, "
            "uncorrected (reason reuse supports a high claim rate, it never replaces it)",
        )
        max_rejected_surprise: float = Field(
            2.0,
            ge=0,
            description="-log10 p of the account's rejected claims at the platform's "
            "approval rate above which its claim count is no evidence (the shops judge the "
            "claims unfounded: a complainer); its paid count still is",
        )
        min_rest_surprise: float | None = Field(
            1.3,
            ge=0,
            description="-log10 p the paid (or claimed) count at the account's shops "
            "other than its strongest needs for the count over all its shops to be the evidence "
            "(else only the rest is): a refunder's home shops count once it claims elsewhere "
            "too, one bad seller never makes a serial refunder; null: always the smaller",
        )
        min_paid_for_claims: float = Field(
            1.0,
            ge=0,
            description="-log10 p the paid count needs on its own (all shops) for "
            "the claimed count to count: a complainer whose claims the shops mostly reject is no "
            "serial refunder",
        )
        clean_claims: bool = Field(
            False,
            description="the claimed count always leaves out claims on orders the account "
            "itself rated low (off: only for an account that rated more than max_leveraged_share "
            "of its claimed orders low, a complainer; a refunder's one low review per shop is cover)",
        )
        crew_baselines: bool = Field(
            True,
            description="accounts linked by a rare shared address or device (among the "
            "first pass's candidates) leave each other's orders out of their base rates, as "
            "each leaves out its own: a crew buying at the same home shops would raise them",
        )
        min_shops: int = Field(3, ge=1, description="distinct shops that paid the account")
        min_join_paid_surprise: float = Field(
            1.3,
            ge=0,
            description="-log10 p of the paid count an account linked to a flagged "
            "one needs on its own to be considered for joining",
        )
        join_surprise: float = Field(
            2.0,
            ge=0,
            description="-log10 p an account linked to a flagged one by a shared "
            "address or device needs (after paying for the accounts so linked)",
        )
        max_coupon_share: float = Field(
            0.5,
            ge=0,
            le=1,
            description="largest share of paid orders that redeemed a coupon: "
            "above it the refunds are coupon arbitrage (coupon_hoarding)",
        )
        max_leveraged_share: float = Field(
            0.8,
            ge=0,
            le=1,
            description="largest share of paid orders the account itself rated "
            "<= complaint_rating stars: above it the claims are complaints or extortion (rings), "
            "not serial refunds",
        )
        complaint_rating: int = Field(
            3,
            ge=1,
            le=5,
            description="a review of the claimed order at or below this rating makes the claim a complaint",
        )
        id_hub_cap: int = Field(
            8,
            ge=2,
            description="addresses/devices used by more accounts than this link no one (parcel lockers, campus NATs)",
        )

    def run(self, ctx: DetectContext) -> DetectorResult:
        p = cast(RefundDetector.Params, ctx.params)
        exclude: list[str] = []
        groups = None
        with rate_.window_units(ctx.con, p.complaint_rating):  # the units once, for both passes
            for second in (False, True):  # the second pass leaves the first pass's flagged out of the baselines
                acc = rate_.account_rates(ctx.con, p.prior_orders, exclude, p.complaint_rating, groups)
                if acc.is_empty():
                    return DetectorResult()
                acc, tests = rate_.score(
                    acc,
                    p.min_surprise,
                    p.max_rejected_surprise,
                    p.min_rest_surprise,
                    p.min_paid_for_claims,
                    None if p.clean_claims else p.max_leveraged_share,
                )
                # claims that followed the account's own low ratings are complaints or extortion
                acc = acc.filter(
                    (pl.col("n_paid_leveraged") <= p.max_leveraged_share * pl.col("n_paid"))
                    & (pl.col("n_paid_coupon") <= p.max_coupon_share * pl.col("n_paid"))
                    & (pl.col("n_paid_shops") >= p.min_shops)
                    & (pl.col("n_paid") > pl.col("expected_paid"))
                )
                need = p.min_surprise + math.log10(max(tests, 1))
                strong = (pl.col("surprise") >= need) & (pl.col("count_surprise") >= p.min_paid_surprise)
                exclude = sorted(acc.filter(strong)["account_id"])
                if p.crew_baselines and not second:  # linked candidates leave each other's orders out
                    cand = acc  # every account that passed the filters above (paid at min_shops shops)
                    groups = crews_.groups(ctx.con, sorted(cand["account_id"]), p.id_hub_cap)
        flagged = acc.filter(strong)
        if flagged.is_empty():
            return DetectorResult()
        near = acc.filter(~strong & (pl.col("count_surprise") >= p.min_join_paid_surprise))
        found, joined = crews_.crews(ctx.con, flagged, near, join_surprise=p.join_surprise, hub_cap=p.id_hub_cap)
        members = (
            pl.concat([flagged.with_columns(joined_bits=pl.lit(None, pl.Float64)), joined])
            if joined.height
            else flagged.with_columns(joined_bits=pl.lit(None, pl.Float64))
        )
        return _report(members, found, tests)


def _report(members: pl.DataFrame, groups: list[crews_.Crew], tests: int) -> DetectorResult:
    result = DetectorResult()
    key_of: dict[str, str] = {}
    for i, g in enumerate(groups):
        key = f"refund-{i + 1}"
        result.clusters.append(_crew_cluster(key, g, members.filter(pl.col("account_id").is_in(g.accounts)), tests))
        for a in g.accounts:
            key_of[a] = key
    for r in members.sort("account_id").iter_rows(named=True):
        size = next((len(g.accounts) for g in groups if r["account_id"] in g.accounts), 0)  # its crew's
        result.findings.append(_account_finding(r, tests, size, key_of.get(r["account_id"])))
    return result


def _crew_cluster(key: str, g: crews_.Crew, sub: pl.DataFrame, tests: int) -> Cluster:
    """The cluster of crew ``g`` (its members' rows ``sub``): their orders and paid claims
    pooled into one binomial test against the expected."""
    n, k = int(sub["n_orders"].sum()), int(sub["n_paid"].sum())
    mu = float(sub["expected_paid"].sum())
    pooled = float(stats.surprise_binom(k, n, mu / max(n, 1)))
    loss = float(sub["excess_paid"].sum())
    shops = sorted({s for ss in sub["paid_shops"].to_list() for s in (ss or [])})
    shared = " and ".join(
        x
        for x in (
            plural(g.addresses, "shipping address") if g.addresses else "",
            plural(g.devices, "device") if g.devices else "",
        )
        if x
    )
    summary = (
        f"{len(g.accounts)} accounts that share {shared} were paid a refund or "
        f"compensation on {k} of {n} orders at {len(shops)} shops ({mu:.1f} expected "
        f"at those shops' and items' rates), {loss:.2f} yuan above the base rate."
    )
    return Cluster(
        cluster_key=key,
        pattern="serial_refunder",
        account_ids=sorted(g.accounts),
        score=stats.score(stats.corrected(pooled, tests)),
        summary=summary,
        shop_ids=shops,
        first_seen=instant(sub["first_at"].min()),
        last_seen=instant(sub["last_at"].max()),
        loss_estimate=round(loss, 2),
        evidence={
            "n_accounts": len(g.accounts),
            "orders": n,
            "paid_orders": k,
            "expected_paid_orders": round(mu, 2),
            "paid": round(float(sub["paid_amount"].sum()), 2),
            "loss": round(loss, 2),
            "shared_addresses": g.addresses,
            "shared_devices": g.devices,
            "pooled_surprise": round(pooled, 2),
        },
    )


def _account_finding(r: dict, tests: int, crew_size: int, key: str | None) -> Finding:
    """The finding of account row ``r`` (in a crew of ``crew_size`` under cluster ``key``, or none)."""
    top = (
        f'; {r["top_reason_n"]} of its claims give the reason "{r["top_reason"]}"'
        if r["top_reason"] and (r["top_reason_n"] or 0) >= 2
        else ""
    )
    crew = ""
    if key is not None:
        crew = f", together with {plural(crew_size - 1, 'other account')} sharing its address or device"
    reason = (
        f"was paid a refund or compensation on {r['n_paid']} of its {r['n_orders']} orders "
        f"at {plural(r['n_paid_shops'], 'shop')} ({r['expected_paid']:.1f} expected at "
        f"those shops' and items' rates), {r['paid_amount']:.2f} yuan{crew}{top}"
    )
    ev = {
        k: (round(v, 3) if isinstance(v, float) else v)
        for k, v in r.items()
        if k not in ("account_id", "first_at", "last_at", "paid_shops")
    }
    ev["tests"] = tests
    corrected = r["surprise"] - math.log10(max(tests, 1))
    if r["joined_bits"] is not None:
        corrected = r["joined_bits"]
    return Finding(
        account_id=r["account_id"],
        pattern="serial_refunder",
        score=stats.score(max(corrected, 0.0)),
        reason=reason,
        evidence=ev,
        cluster_key=key,
    )
