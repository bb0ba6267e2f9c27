"""extortion_ring: crews that co-target small shops with low ratings, refund and compensation
requests, and withdraw or raise the review once paid.

1. Hostile (account, shop) edges come from SQL (``sql/features/rings_hostile_edges.sql``).
2. The candidate part (accounts hostile to >= 2 shops, shops with >= 2 of them) is projected
   to account pairs in DuckDB, hub shops excepted; each pair's shared-shop count is scored
   against its chance expectation (``_rings_graph``).
3. Louvain communities of the significant pairs are trimmed to members who hit several of
   the group's victim shops and scored by how surprising the victims' member counts are,
   leaving out the strongest shop so one genuinely bad shop cannot make a ring.
4. Shared devices/IPs, near-duplicate texts and bought-account traits add evidence
   (``_rings_evidence``); the score maps the summed evidence (in -log10 p units) to 0..1.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, Field

from abuse.detect.base import Cluster, DetectContext, DetectorResult, Finding, register

from . import _rings_evidence as evidence
from . import _rings_graph as rg


@register
class RingDetector:
    name = "rings"
    patterns = ("extortion_ring",)

    class Params(BaseModel):
        low_rating: int = Field(2, ge=1, le=4, description="ratings at or below this are hostile")
        min_account_shops: int = Field(
            2, ge=2, description="an account needs hostile edges to this many shops to be a candidate"
        )
        co_days: float = Field(
            21.0, gt=0, description="two accounts co-target a shop when their first hostile "
            "actions there are at most this many days apart",
        )
        hub_cap: int = Field(
            200, ge=2, description="shops with more candidate accounts than this are not "
            "projected to account pairs (keeps the projection linear)",
        )
        min_pair_surprise: float = Field(
            3.0, ge=0, description="-log10 p a co-targeting pair needs to link two accounts"
        )
        min_members: int = Field(3, ge=2, description="smallest ring reported")
        min_member_shops: int = Field(
            2, ge=1, description="a member must hit this many of the ring's victim shops"
        )
        min_group_surprise: float = Field(
            10.0, ge=0, description="-log10 p of the victims' member counts (strongest shop "
            "left out) a group needs to be reported",
        )
        trim: str = Field("targets", description="'targets' or 'peel' (FRAUDAR block)")
        text_jaccard: float = Field(
            0.5, gt=0, le=1, description="shingle Jaccard at which two review texts are near-duplicates"
        )
        score_half_bits: float = Field(
            30.0, gt=0, description="summed evidence (-log10 p) at which a ring scores 0.5"
        )

    def detect(self, ctx: DetectContext) -> DetectorResult:
        p: RingDetector.Params = ctx.params  # type: ignore[assignment]
        edges = rg.hostile_edges(ctx.con, p.low_rating)
        if edges.is_empty():
            return DetectorResult()
        cand = rg.prune(edges, p.min_account_shops)
        pairs = rg.co_target_pairs(ctx.con, edges, cand, p.co_days, p.hub_cap)
        groups = rg.build_groups(
            edges, pairs,
            min_pair_surprise=p.min_pair_surprise, min_members=p.min_members,
            min_member_shops=p.min_member_shops, trim=p.trim,
        )
        groups = [g for g in groups if g.surprise >= p.min_group_surprise]
        if not groups:
            return DetectorResult()
        profiles = evidence.account_profiles(ctx.con, edges)
        evs = evidence.gather(ctx.con, edges, groups, profiles, p.text_jaccard)
        result = DetectorResult()
        for i, (g, ev) in enumerate(zip(groups, evs, strict=True)):
            cluster, findings = _report(f"ring-{i + 1}", g, ev, edges, p.score_half_bits)
            result.clusters.append(cluster)
            result.findings.extend(findings)
        return result


def _report(
    key: str, g: rg.Group, ev: evidence.GroupEvidence, edges: pl.DataFrame, half: float
) -> tuple[Cluster, list[Finding]]:
    sub = edges.filter(pl.col("account_id").is_in(g.members) & pl.col("shop_id").is_in(g.shops))
    per = sub.group_by("account_id").agg(
        pl.len().alias("shops"),
        pl.col("n_low").sum(), pl.col("n_one_star").sum(),
        pl.col("n_refund_paid").sum(), pl.col("n_comp_paid").sum(),
        pl.col("refund_paid").sum(), pl.col("comp_paid").sum(),
        pl.col("n_reversed_after_pay").sum(),
    )
    bits = g.surprise + sum(ev.bits.values())
    score = bits / (bits + half)
    loss = float(sub["refund_paid"].sum() + sub["comp_paid"].sum())
    m, n_shops = len(g.members), len(g.shops)
    tot = per.select(pl.exclude("account_id").sum()).row(0, named=True)
    share = (
        f"that share {ev.shared_devices} devices and {ev.shared_ips} IPs"
        if ev.shared_devices or ev.shared_ips else "with no shared device or IP"
    )
    summary = (
        f"{m} accounts posted {tot['n_low']} low ratings on {n_shops} shops and were paid "
        f"{tot['n_refund_paid']} refunds + {tot['n_comp_paid']} compensations ({loss:.2f} yuan); "
        f"{tot['n_reversed_after_pay']} reviews withdrawn or raised after payment; members "
        f"{share}, {ev.dup_text_pairs} near-duplicate review pairs, "
        f"{ev.dormant_members} old-but-unused accounts."
    )
    group_ev = {
        "n_accounts": m, "n_shops": n_shops, "co_target_bits": round(g.surprise, 2),
        "evidence_bits": {k: round(v, 2) for k, v in ev.bits.items()},
        "shared_devices": ev.shared_devices, "shared_ips": ev.shared_ips,
        "members_sharing_ids": ev.members_sharing,
        "dup_text_pairs": ev.dup_text_pairs, "dup_text_expected": round(ev.dup_text_expected, 2),
        "dormant_members": ev.dormant_members,
        "dormant_expected": round(ev.dormant_expected, 2), "method": g.method,
    }
    cluster = Cluster(
        cluster_key=key, pattern="extortion_ring", account_ids=g.members, score=score,
        summary=summary, shop_ids=g.shops, first_seen=sub["first_at"].min(),
        last_seen=sub["last_at"].max(), loss_estimate=round(loss, 2),
        evidence={**group_ev, **tot, "loss": round(loss, 2)},
    )
    median_hits = float(per["shops"].median() or 1.0)
    findings = []
    for r in per.iter_rows(named=True):
        f = dict(r)
        f.pop("account_id")
        member_score = score * (0.7 + 0.3 * min(1.0, r["shops"] / median_hits))
        reason = (
            f"posted {r['n_low']} low ratings ({r['n_one_star']} one-star) on {r['shops']} "
            f"shops together with {m - 1} other accounts {share}; {r['n_refund_paid']} refunds "
            f"+ {r['n_comp_paid']} compensations paid ({r['refund_paid'] + r['comp_paid']:.2f} "
            f"yuan), {r['n_reversed_after_pay']} reviews withdrawn or raised after payment"
        )
        findings.append(Finding(
            account_id=r["account_id"], pattern="extortion_ring", score=round(member_score, 4),
            reason=reason, evidence={**f, "ring": group_ev}, cluster_key=key,
        ))
    return cluster, findings
