"""coupon_hoarding: batches of accounts registered together that grab coupons at release.

Steps (each its own module):
1. ``features``: per claimer in the window, behavioural tells (claimed within
   seconds of release, coupons left unused, redeemed at the exact threshold, refund loops,
   no other behaviour, one-second sessions, lottery spinning, registration burst, virtual
   number segment) and ``susp``: a fast claim plus a strong behaviour tell, or three
   behaviour tells.
2. ``groups``: the account-identifier graph (devices, IPs, IP blocks, number
   segments, inviters, shipping addresses, phone hashes, identical items bought at the
   threshold with one campaign's coupon). An identifier links its claimers only
   if their suspicious share beats the base rate (binomial test) and is a majority, so hubs
   of real people (campus NAT, a popular referrer, a family tablet) glue nobody. Batches are
   connected components; each is tested against the base rate, Bonferroni-corrected. A
   second pass re-judges identifiers against the ordinary claimers (outside the batches of
   the first), so one large batch does not hide another behind a raised baseline; batches
   that meet only at a weak tie (an identifier of fewer than ``min_accounts`` accounts, say a
   mobile IP two crews once ordered from) are cut apart there.
3. ``report``: a Cluster per batch (loss = face value of every redemption, counting
   re-redemptions after returns; the campaigns it hit) and a Finding per member.
"""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel, Field

from abuse.detect.base import DetectContext, DetectorBase, DetectorResult, register
from abuse.detect.hoarding import features as features
from abuse.detect.hoarding import groups as groups
from abuse.detect.hoarding import report as report


@register
class HoardingDetector(DetectorBase):
    name = "hoarding"
    patterns = (report.PATTERN,)

    class Params(BaseModel):
        fast_claim_s: float = Field(
            10.0, gt=0, description="a claim this many seconds after release or sooner is 'fast'"
        )
        early_claim_min: float = Field(
            30.0,
            gt=0,
            description="a claim this many minutes after release or sooner is "
            "'early' (alone common: alert people, deal hunters)",
        )
        early_max_share: float = Field(
            0.5,
            gt=0,
            le=1,
            description="an early claim counts only at a campaign whose other "
            "claimers (those sharing nothing with another claimer and not redeeming at the threshold) "
            "race it less often than this",
        )
        thin_max_events: int = Field(
            2,
            ge=0,
            description="an account with no plain orders and at most this many other "
            "activity events in the window shows 'almost no other behaviour'",
        )
        short_session_s: float = Field(
            3.0, ge=0, description="median session length at or below this is a one-second session"
        )
        burst_alpha: float = Field(
            1e-4,
            gt=0,
            lt=1,
            description="Poisson tail below which a registration 10-minute "
            "bucket is a burst against its time-of-day baseline",
        )
        burst_min_expected: float = Field(
            0.5, gt=0, description="floor of a bucket's expected registrations (sparse history)"
        )
        link_alpha: float = Field(
            1e-3,
            gt=0,
            lt=1,
            description="binomial tail below which an identifier's suspicious "
            "sharers beat the claimers' base rate, so the identifier links them",
        )
        link_min_purity: float = Field(
            0.5,
            ge=0,
            le=1,
            description="share of an identifier's accounts (claimers or not) "
            "that must be suspicious claimers for it to link (a hub of real people never is)",
        )
        attach_min_kinds: int = Field(
            2,
            ge=1,
            description="a claimer without a suspicious profile joins a batch when "
            "linking identifiers of this many different kinds tie it to the batch",
        )
        min_accounts: int = Field(5, ge=2, description="smallest batch reported, in suspicious claimers")
        cluster_alpha: float = Field(
            1e-6,
            gt=0,
            lt=1,
            description="family-wise significance (Bonferroni over candidate "
            "batches) for a batch's suspicious members against the base rate",
        )

    def run(self, ctx: DetectContext) -> DetectorResult:
        p = cast(HoardingDetector.Params, ctx.params)
        edges, sizes = features.identifiers(ctx.con)
        claimers = features.claimers(ctx.con, p, edges)
        if claimers.is_empty() or not claimers["susp"].any():
            return DetectorResult()
        use = features.campaign_use(ctx.con)
        base = None
        for _ in range(2):  # the second pass judges identifiers by ordinary claimers' rate
            idents = groups.link_identifiers(edges, claimers, p, base)
            members = groups.batches(edges, idents, claimers, p, use)
            if members.is_empty():
                return DetectorResult()
            scored = groups.score_groups(members, claimers, p, base)
            flagged = scored.filter("flagged")
            members = members.join(flagged.select("group"), on="group")
            if members.is_empty():
                break
            base = groups.ordinary_rate(claimers, members)
        ordinary = claimers.join(members, on="account_id", how="anti")
        findings, clusters = report.build(
            report.Inputs(
                members=members,
                groups=flagged,
                claimers=claimers,
                accounts=features.accounts(ctx.con),
                edges=edges,
                idents=idents,
                sizes=sizes,
                campaigns=use,
                base=groups.base_rates(ordinary),
                params=p,
            )
        )
        return DetectorResult(findings=findings, clusters=clusters)
