"""extortion_ring: crews that co-target small shops with low ratings, refund and compensation
requests, and withdraw or raise the review once paid.

1. Hostile (account, shop) edges come from SQL (``sql/features/rings_hostile_edges.sql``).
2. The candidate part (accounts hostile to >= 2 shops, shops with >= 2 of them) is projected
   to account pairs in DuckDB, hub shops excepted; each pair's shared-shop count is scored
   against its chance expectation (``graph``).
3. Sparse rings, whose members mostly share 0-1 shops pairwise, are seeded instead by the
   extortion signature (paid, then the review withdrawn or raised, on >= 2 shops): such
   accounts meeting at a shop more often than their share predicts, or on a rarely shared
   device/IP, form extra cores (``signature``).
   Louvain communities of the significant pairs and these cores become rings of the accounts
   that hit several of their victim shops at the ring's times, scored by how surprising the
   victims' member counts are, leaving out the strongest two shops so a genuinely bad seller
   cannot make a ring (``groups``).
4. Members that hit a single victim are attached when their review text copies the ring's
   (``attach``).
5. A ring must also extort: compensation demands and reviews withdrawn after payment above
   their base rate (``evidence``). Near-duplicate texts, bought-account traits and
   shared devices/IPs add evidence; the score maps the summed evidence (-log10 p) to 0..1.
6. Crews that adapted to all of the above (no shared ids, each member hitting a few of
   dozens of victims once, money asked for in words or off the platform) are found by
   ``covictims``: members keep meeting at shops that draw little hostility otherwise; the
   co-victim count, timing at each victim, payment behaviour, invitations, registration
   cohorts and copied texts are each measured against a base rate and summed, none of
   them a gate. Accounts already in a ring above stay there.
"""

from __future__ import annotations

import math
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

from abuse import stats
from abuse.detect.base import Cluster, DetectContext, DetectorBase, DetectorResult, Finding, register

from . import attach as attach
from . import covictims as covictims
from . import evidence as evidence
from . import graph as rg
from . import groups as groups_
from . import signature as signature
from . import victims as victims


@register
class RingDetector(DetectorBase):
    name = "rings"
    patterns = ("extortion_ring",)

    class Params(BaseModel):
        low_rating: int = Field(2, ge=1, le=4, description="ratings at or below this are hostile")
        min_account_shops: int = Field(2, ge=2, description="hostile shops an account needs to be a candidate")
        co_days: float = Field(
            7.0,
            gt=0,
            description="two accounts co-target a shop when their first hostile "
            "actions there are at most this many days apart",
        )
        hub_cap: int = Field(
            200,
            ge=2,
            description="shops with more candidate accounts than this are not "
            "projected to account pairs (keeps the projection linear)",
        )
        min_pair_surprise: float = Field(
            2.0,
            ge=0,
            description="-log10 p a co-targeting pair needs to link two accounts "
            "(lenient: the ring as a whole is tested again below)",
        )
        min_member_surprise: float = Field(
            3.0,
            ge=0,
            description="-log10 p of an account's hits on a ring's victims (near the "
            "ring's times) for it to be a member",
        )
        min_attach_bits: float = Field(
            3.0,
            ge=0,
            description="-log10 p of text copying (plus log10 of the accounts tried) "
            "to attach an account that hit a single victim",
        )
        min_members: int = Field(3, ge=2, description="smallest ring reported")
        min_member_shops: int = Field(2, ge=1, description="a member must hit this many of the ring's victim shops")
        min_group_surprise: float = Field(
            3.0,
            ge=0,
            description="-log10 p of the victims' member counts (strongest shop left out) a ring needs at least",
        )
        leave_out_shops: int = Field(
            2,
            ge=0,
            description="a ring's co-targeting strength leaves out its this many "
            "strongest shops (a bad seller's storefronts cannot make a ring)",
        )
        min_ring_bits: float = Field(
            10.0,
            ge=0,
            description="co-targeting plus extortion evidence (-log10 p: "
            "compensation demands and reviews withdrawn after payment above their base rate) "
            "a ring needs to be reported",
        )
        signature_shops: int = Field(
            2,
            ge=2,
            description="shops on which an account must have been paid and then "
            "withdrawn or raised its review to carry the extortion signature",
        )
        min_shop_signature_surprise: float = Field(
            2.0,
            ge=0,
            description="-log10 p of a shop's count of signature accounts (vs "
            "their share of hostile edges, spread by volume) for the shop to link them",
        )
        id_hub_cap: int = Field(
            10,
            ge=2,
            description="devices/IPs used by more accounts than this do not link "
            "signature accounts (campus NATs, shared hotspots)",
        )
        trim: Literal["targets", "peel"] = Field(
            "targets",
            description="members: significant hits on the victims, or the FRAUDAR "
            "densest block of the community ('peel', measured worse)",
        )
        text_jaccard: float = Field(0.5, gt=0, le=1, description="shingle Jaccard of two near-duplicate review texts")
        score_half_bits: float = Field(30.0, gt=0, description="summed evidence (-log10 p) at which a ring scores 0.5")
        sparse: bool = Field(True, description="also look for sparse crews (``covictims``)")
        customer_orders: int = Field(
            2,
            ge=2,
            description="an account with this many orders at a shop (history "
            "included) is its regular customer: its complaints there count in the shop's base "
            "rate but link it to nobody",
        )
        signature_with_sparse: bool = Field(
            True,
            description="keep the extortion-signature cores (step 3) when sparse crews "
            "are looked for too (without them the held-out set's small sparse ring is missed)",
        )
        link_days: float = Field(
            30.0,
            gt=0,
            description="sparse crews: two accounts hostile to one shop at most "
            "this many days apart are linked (closeness is scored, not required)",
        )
        invite_cap: int = Field(
            50,
            ge=2,
            description="sparse crews: an inviter of more accounts than this (a referral campaign) links none of them",
        )
        invite_bits: float = Field(
            2.0,
            ge=0,
            description="sparse crews: weight of an invitation link between two hostile accounts, in -log10 p",
        )
        cohort_days: float = Field(
            3.0,
            gt=0,
            description="sparse crews: members registered at most this many days apart form a registration cohort",
        )
        min_sparse_member_bits: float = Field(
            2.5,
            ge=0,
            description="sparse crews: -log10 p of an account's hits on the "
            "group's victims (plus an invitation link) for it to be a member",
        )
        min_shared_victims: int = Field(
            3,
            ge=1,
            description="sparse crews: shops hit by two or more members, beyond the "
            "``leave_out_shops`` strongest, a crew needs",
        )
        min_covictim_bits: float = Field(
            6.0,
            ge=0,
            description="sparse crews: -log10 p of the shared-victim count against "
            "the shops' background hostility a crew needs",
        )
        victim_prior_buyers: float = Field(
            20.0,
            gt=0,
            description="victims: pseudo-buyers at the platform's hostility rate "
            "added to each shop's own (a shop with few buyers borrows the platform's rate)",
        )
        victim_fdr: float = Field(
            0.1,
            gt=0,
            lt=1,
            description="victims: false-discovery rate of the shops named "
            "among those where a member acted hostilely (Benjamini-Hochberg over each ring's "
            "candidate shops, each tested against its own base rate)",
        )
        min_sparse_bits: float = Field(
            15.0,
            ge=0,
            description="sparse crews: summed evidence (co-victims, timing, "
            "payment, invitations, cohorts, texts; -log10 p, Bonferroni over the groups "
            "tested) a crew needs to be reported",
        )

    def run(self, ctx: DetectContext) -> DetectorResult:
        p: RingDetector.Params = ctx.params  # type: ignore[assignment]
        edges = rg.hostile_edges(ctx.con, p.low_rating)
        if edges.is_empty():
            return DetectorResult()
        # a regular customer's complaints (a company's buyers at their supplier) link nobody
        cand = rg.prune(edges.filter(pl.col("n_orders_all") < p.customer_orders), p.min_account_shops)
        pairs = rg.co_target_pairs(ctx.con, edges, cand, p.co_days, p.hub_cap)
        groups = groups_.build_groups(
            edges,
            pairs,
            min_pair_surprise=p.min_pair_surprise,
            extra_cores=None
            if (p.sparse and not p.signature_with_sparse)
            else lambda known: signature.signature_cores(
                ctx.con,
                edges,
                min_shops=p.signature_shops,
                known=known,
                min_shop_surprise=p.min_shop_signature_surprise,
                id_hub_cap=p.id_hub_cap,
            ),
            min_member_surprise=p.min_member_surprise,
            co_days=p.co_days,
            min_members=p.min_members,
            min_member_shops=p.min_member_shops,
            leave_out=p.leave_out_shops,
            trim=p.trim,
        )
        groups = [g for g in groups if g.surprise >= p.min_group_surprise]
        if not groups:
            return DetectorResult()
        base_dup = evidence.text_baseline(edges, p.text_jaccard)
        attach.attach_by_text(
            edges, groups, co_days=p.co_days, threshold=p.text_jaccard, base_rate=base_dup, min_bits=p.min_attach_bits
        )
        profiles = evidence.account_profiles(ctx.con, edges)
        evs = evidence.gather(ctx.con, edges, groups, profiles, p.text_jaccard, base_dup)
        kept = [
            (g, ev) for g, ev in zip(groups, evs, strict=True) if g.surprise + ev.bits["extortion"] >= p.min_ring_bits
        ]
        reports: list[tuple[groups_.Group, evidence.GroupEvidence, float | None, dict]] = [
            (g, ev, None, {}) for g, ev in kept
        ]
        if p.sparse:
            reports = self._sparse(ctx, p, edges, reports, base_dup, profiles)
        reports = self._victims(ctx, p, edges, reports, base_dup, profiles)
        result = DetectorResult()
        for i, (g, ev, score, extra) in enumerate(reports):
            cluster, findings = _report(f"ring-{i + 1}", g, ev, edges, p.score_half_bits, score=score, extra=extra)
            result.clusters.append(cluster)
            result.findings.extend(findings)
        return result

    @staticmethod
    def _victims(
        ctx: DetectContext,
        p: RingDetector.Params,
        edges: pl.DataFrame,
        reports: list,
        base_dup: float,
        profiles: pl.DataFrame,
    ) -> list:
        """Each ring's victims: the shops where its members' hostility is beyond the shop's
        own base rate (``victims``). The ring's score stays what its finding made it; the
        evidence describing it is gathered again over the victims named."""
        named = victims.name_victims(
            ctx.con,
            edges,
            [g.members for g, *_ in reports],
            prior_buyers=p.victim_prior_buyers,
            fdr=p.victim_fdr,
            customer_orders=p.customer_orders,
        )
        out = []
        renamed = []  # the reports whose victims were named, their evidence gathered at once
        for (g, ev, score, extra), (shops, vic_ev) in zip(reports, named, strict=True):
            if score is None:
                bits = g.surprise + sum(ev.bits.values())
                score = bits / (bits + p.score_half_bits)
            if shops:
                g = groups_.Group(
                    members=g.members,
                    shops=sorted(set(shops)),
                    surprise=g.surprise,
                    method=g.method,
                    attached=g.attached,
                )
                renamed.append(len(out))
            out.append((g, ev, score, {**extra, "victims": vic_ev}))
        evs = evidence.gather(ctx.con, edges, [out[i][0] for i in renamed], profiles, p.text_jaccard, base_dup)
        for i, ev in zip(renamed, evs, strict=True):
            g, _, score, extra = out[i]
            out[i] = (g, ev, score, extra)
        return out

    @staticmethod
    def _sparse(
        ctx: DetectContext,
        p: RingDetector.Params,
        edges: pl.DataFrame,
        reports: list,
        base_dup: float,
        profiles: pl.DataFrame,
    ) -> list:
        """Sparse crews (``covictims``). A crew holding most of a ring found above absorbs
        it (the ring was part of the crew; its members are those the crew's own member test
        keeps: measured, the ring's others were lone complainers); otherwise accounts of the
        rings above stay where they are."""
        window = (ctx.window_end - ctx.window_start).total_seconds()
        found = covictims.find_sparse(
            ctx.con,
            edges,
            window,
            hub_cap=p.hub_cap,
            link_days=p.link_days,
            invite_cap=p.invite_cap,
            invite_bits=p.invite_bits,
            cohort_days=p.cohort_days,
            min_members=p.min_members,
            min_member_bits=p.min_sparse_member_bits,
            leave_out=p.leave_out_shops,
            min_shared=p.min_shared_victims,
            min_covictim_bits=p.min_covictim_bits,
            min_total_bits=p.min_sparse_bits,
            text_threshold=p.text_jaccard,
            base_dup=base_dup,
            customer_orders=p.customer_orders,
        )
        # a ring found above that sparse crews cover for the most part was one or several of
        # them seen together: the crews absorb it
        covered = {m for sp in found for m in sp.members}
        absorbed_all = {i for i, (g, *_) in enumerate(reports) if len(covered & set(g.members)) >= 0.5 * len(g.members)}
        old = list(reports)
        reports = [r for i, r in enumerate(reports) if i not in absorbed_all]
        taken = {m for g, *_ in reports for m in g.members}
        # an absorbed ring's members that no crew kept: one invited by (or with) a crew's
        # member joins that crew; so does one that spent most of its hostility on the ring's
        # victims, one of them the crew's, mostly extorting (asked for compensation, or
        # withdrew or raised the review): a loud complainer complains everywhere, a bad
        # seller's unhappy buyer once
        extorting = (pl.col("n_comp") + pl.col("n_comp_words") + pl.col("n_reversed")) > 0
        acc = edges.group_by("account_id").agg(pl.col("shop_id"), extorting.sum().alias("ext"))
        shops_of = {a: set(s) for a, s, _ in acc.iter_rows()}
        ext_of = {a: x for a, _, x in acc.iter_rows()}
        left = {a for i in absorbed_all for a in old[i][0].members} - covered - taken
        invites: dict[str, set] = {}
        if left:
            links = covictims.account_links(ctx.con, sorted(left | covered))
            for a, b in covictims.invite_pairs(links, p.invite_cap).iter_rows():
                invites.setdefault(a, set()).add(b)
                invites.setdefault(b, set()).add(a)
        joins: dict[int, set] = {}
        for i in sorted(absorbed_all):
            crews = [j for j, sp in enumerate(found) if set(sp.members) & set(old[i][0].members)]
            for a in sorted(set(old[i][0].members) & left):
                # invited by (or with) a crew's member first, then the victims it hit most
                best = max(
                    crews,
                    key=lambda j: (
                        len(invites.get(a, set()) & set(found[j].members)),
                        len(shops_of.get(a, set()) & set(found[j].shops)),
                        -j,
                    ),
                )
                mine = shops_of.get(a, set())
                invited = bool(invites.get(a, set()) & set(found[best].members))
                devoted = (
                    len(mine) >= 2
                    and 2 * len(mine & set(old[i][0].shops)) >= len(mine)
                    and mine & set(found[best].shops)
                    and 2 * ext_of.get(a, 0) >= len(mine)
                )
                if invited or devoted:
                    joins.setdefault(best, set()).add(a)
        crews = []  # (group, score, figures) of each crew reported, evidence gathered at once
        for j, sp in enumerate(found):
            members = set(sp.members) | joins.get(j, set())
            absorbed = [i for i in sorted(absorbed_all) if members & set(old[i][0].members)]
            members -= taken
            if len(members) < p.min_members or len(members) < 0.5 * len(sp.members):
                continue
            shops = set(sp.shops)  # the crew's own member test decides who stays
            for i in absorbed:
                shops |= set(old[i][0].shops) & set(edges.filter(pl.col("account_id").is_in(list(members)))["shop_id"])
            g = groups_.Group(
                members=sorted(members),
                shops=sorted(shops),
                surprise=sp.bits["co_victims"] + sp.bits["timing"],
                method="covictims",
            )
            corrected = sp.total - math.log10(max(sp.figures["groups_tested"], 1))
            figures = {
                "sparse_bits": {k: round(v, 2) for k, v in sp.bits.items()},
                **sp.figures,
                "absorbed_rings": len(absorbed),
            }
            taken |= members
            crews.append((g, float(stats.score(corrected)), figures))
        evs = evidence.gather(ctx.con, edges, [g for g, *_ in crews], profiles, p.text_jaccard, base_dup)
        return reports + [(g, ev, score, figures) for (g, score, figures), ev in zip(crews, evs, strict=True)]


def _n(k: int, word: str) -> str:
    """``1 shop``, ``2 shops``."""
    return f"{k} {word}{'' if k == 1 else 's'}"


def _members_wrote(k: int) -> str:
    """``no member wrote near-duplicate reviews``, ``1 member wrote ...``, ``3 members ...``."""
    who = "no member" if k == 0 else _n(k, "member")
    return f"{who} wrote near-duplicate reviews"


def _report(
    key: str,
    g: groups_.Group,
    ev: evidence.GroupEvidence,
    edges: pl.DataFrame,
    half: float,
    score: float | None = None,
    extra: dict | None = None,
) -> tuple[Cluster, list[Finding]]:
    """The ring's cluster and one finding a member."""
    extra = extra or {}
    sub = edges.filter(pl.col("account_id").is_in(g.members) & pl.col("shop_id").is_in(g.shops))
    per = _member_totals(sub)
    if score is None:
        bits = g.surprise + sum(ev.bits.values())
        score = bits / (bits + half)
    loss = float(sub["refund_paid"].sum() + sub["comp_paid"].sum())
    tot = per.select(pl.exclude("account_id").sum()).row(0, named=True)
    share = _sharing(ev)
    group_ev = _group_evidence(g, ev, extra)
    cluster = Cluster(
        cluster_key=key,
        pattern="extortion_ring",
        account_ids=sorted(per["account_id"]),
        score=score,
        summary=_summary(g, ev, sub, tot, loss, share, extra),
        shop_ids=g.shops,
        first_seen=sub["first_at"].min(),
        last_seen=sub["last_at"].max(),
        loss_estimate=round(loss, 2),
        evidence={**group_ev, **tot, "loss": round(loss, 2)},
    )
    return cluster, _member_findings(key, g, per, score, share, group_ev)


def _member_totals(sub: pl.DataFrame) -> pl.DataFrame:
    """Per member: shops attacked, low ratings, refunds and compensations paid, reviews
    reversed after payment, shops where compensation was asked for."""
    return (
        sub.group_by("account_id")
        .agg(
            pl.len().alias("shops"),
            pl.col("n_low").sum(),
            pl.col("n_one_star").sum(),
            pl.col("n_refund_paid").sum(),
            pl.col("n_comp_paid").sum(),
            pl.col("refund_paid").sum(),
            pl.col("comp_paid").sum(),
            pl.col("n_reversed_after_pay").sum(),
            ((pl.col("n_comp") > 0) | (pl.col("n_comp_words") > 0)).sum().alias("comp_asked_shops"),
        )
        .sort("account_id")
    )


def _sharing(ev: evidence.GroupEvidence) -> str:
    """``that share 2 devices and 1 IP``, ``with no shared device or IP``."""
    shared = [
        f"{n} {what}{'s' if n != 1 else ''}" for n, what in ((ev.shared_devices, "device"), (ev.shared_ips, "IP")) if n
    ]
    return f"that share {' and '.join(shared)}" if shared else "with no shared device or IP"


def _summary(
    g: groups_.Group, ev: evidence.GroupEvidence, sub: pl.DataFrame, tot: dict, loss: float, share: str, extra: dict
) -> str:
    """The ring's one-sentence summary."""
    m, n_shops = len(g.members), len(g.shops)
    summary = (
        f"{m} accounts posted {_n(tot['n_low'], 'low rating')} on {_n(n_shops, 'shop')} and "
        f"were paid {_n(tot['n_refund_paid'], 'refund')} + "
        f"{_n(tot['n_comp_paid'], 'compensation')} ({loss:.2f} yuan); "
        f"{_n(tot['n_reversed_after_pay'], 'review')} withdrawn or raised after payment; "
        f"members {share}; {_members_wrote(ev.members_dup_text)}, "
        f"{_n(ev.dormant_members, 'old-but-unused account')}; {ev.extortion_edges} of "
        f"{_n(sub.height, 'attack')} demanded compensation or reversed the review after payment "
        f"({ev.extortion_expected:.1f} expected)"
    )
    if extra.get("linked_by") == "recruitment":
        summary += "; linked by invitations among the members, not by shared victims"
    if extra.get("victims"):
        summary += "; each shop named has more complaints from the members than its own rate explains"
    return summary + "."


def _group_evidence(g: groups_.Group, ev: evidence.GroupEvidence, extra: dict) -> dict:
    """The figures behind a ring, shared by its cluster and its members' findings."""
    return {
        "n_accounts": len(g.members),
        "n_shops": len(g.shops),
        "co_target_bits": round(g.surprise, 2),
        "evidence_bits": {k: round(v, 2) for k, v in ev.bits.items()},
        "shared_devices": ev.shared_devices,
        "shared_ips": ev.shared_ips,
        "members_sharing_ids": ev.members_sharing,
        "dup_text_pairs": ev.dup_text_pairs,
        "dup_text_expected": round(ev.dup_text_expected, 2),
        "dormant_members": ev.dormant_members,
        "dormant_expected": round(ev.dormant_expected, 2),
        "extortion_edges": ev.extortion_edges,
        "extortion_expected": round(ev.extortion_expected, 2),
        "method": g.method,
        **extra,
    }


def _member_findings(
    key: str, g: groups_.Group, per: pl.DataFrame, score: float, share: str, group_ev: dict
) -> list[Finding]:
    """One finding a member, scored from the ring's score by how many of its shops the
    member attacked (against the median member)."""
    m = len(g.members)
    median_hits = float(per["shops"].median() or 1.0)
    findings = []
    for r in per.iter_rows(named=True):
        f = dict(r)
        f.pop("account_id")
        member_score = score * (0.7 + 0.3 * min(1.0, r["shops"] / median_hits))
        reason = (
            f"posted {_n(r['n_low'], 'low rating')} ({r['n_one_star']} one-star) on "
            f"{_n(r['shops'], 'shop')} together with {_n(m - 1, 'other account')} {share}; "
            f"{_n(r['n_refund_paid'], 'refund')} + {_n(r['n_comp_paid'], 'compensation')} paid "
            f"({r['refund_paid'] + r['comp_paid']:.2f} yuan), "
            f"{_n(r['n_reversed_after_pay'], 'review')} withdrawn or raised after payment"
        )
        if r["comp_asked_shops"]:
            reason += f"; asked for compensation (in the claim or in words) on {_n(r['comp_asked_shops'], 'shop')}"
        if r["account_id"] in g.attached:
            reason += "; the review text copies the ring's"
            f["text_copy_bits"] = round(g.attached[r["account_id"]], 2)
        findings.append(
            Finding(
                account_id=r["account_id"],
                pattern="extortion_ring",
                score=round(member_score, 4),
                reason=reason,
                evidence={**f, "ring": group_ev},
                cluster_key=key,
            )
        )
    return findings
