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
7. Crews scattered over hundreds of small shops, one or two per member (``scattered``):
   extorting accounts linked by a shared trait (a script's text in any language, a shop, a
   device, an IP block, an address, an inviter) that honest complainers share far less
   often, each component tested against the hostile accounts around it (the victims' own
   base rate included).
8. Crew members that share nothing at all, one or two shops each (``lone``): money beyond a
   refund (a compensation demanded, paid back more than the account spent at the shop, or more
   asked for than the order cost; complaint waves' shops left out; one hitting a ring's victim joins it)
   and the low review reversed once paid on the same shop, two acts honest buyers do
   independently, far more often together than the acts' own rates predict.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

from abuse.detect.base import DetectContext, DetectorBase, DetectorResult, register

from . import absorb as absorb
from . import attach as attach
from . import covictims as covictims
from . import evidence as evidence
from . import graph as rg
from . import groups as groups_
from . import report as report
from . import scattered as scattered
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

        scattered: bool = Field(True, description="also look for crews scattered over many small shops (``scattered``)")
        scatter_link_bits: float = Field(
            2.0,
            ge=0,
            description="scattered crews: -log10 p of a shared trait's count of extorting "
            "accounts (vs their share of hostile accounts) for it to link them (lenient: the "
            "crew is tested again)",
        )
        min_scatter_bits: float = Field(
            3.0,
            ge=0,
            description="scattered crews: -log10 p of the members among the hostile accounts "
            "around them (Bonferroni over the extorting accounts) a crew needs",
        )

        lone: bool = Field(
            True,
            description="also look for crew members that share nothing with anyone, by their script "
            "(``lone``: money beyond a refund and the review reversed once paid, on one shop)",
        )
        min_lone_bits: float = Field(
            6.0,
            ge=0,
            description="lone extorters: -log10 p of the count of edges carrying both acts vs the "
            "product of the two acts' rates (independence; Bonferroni over the money acts) a crew needs",
        )

        lone_odds: float = Field(
            4.0,
            gt=0,
            description="lone extorters: posterior odds (the crew's excess rate of the conjunction "
            "vs the edge's own chance rate, from its shop and its account) an edge needs to make "
            "its account a member",
        )

        lone_asked_beyond_price: bool = Field(
            False,
            description="lone extorters: also test a third money act, a refund or compensation asked for "
            "more than its own order cost (issue #11; opt-in: see the README)",
        )
        lone_drop_waves: bool = Field(
            False,
            description="lone extorters: leave the complaint waves' shops out of the test altogether "
            "(counts and rates), not only out of the members (issue #11; opt-in: see the README)",
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
        # no dense ring: sparse and scattered crews are still looked for
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
            reports = absorb.sparse_crews(ctx, p, edges, reports, base_dup, profiles)
        if p.scattered:
            reports = absorb.scattered_crews(ctx, p, edges, reports, base_dup, profiles)
        if p.lone:
            reports = absorb.lone_crews(ctx, p, edges, reports, base_dup, profiles)
        reports = absorb.victims_of(ctx, p, edges, reports, base_dup, profiles)
        result = DetectorResult()
        for i, (g, ev, score, extra) in enumerate(reports):
            cluster, findings = report.ring_report(
                f"ring-{i + 1}", g, ev, edges, p.score_half_bits, score=score, extra=extra
            )
            # the publisher recounts the ring's shop losses by this same definition of hostile
            cluster.evidence["low_rating"] = p.low_rating
            result.clusters.append(cluster)
            result.findings.extend(findings)
        return result
