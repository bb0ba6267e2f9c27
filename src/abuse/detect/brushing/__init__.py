"""brushing_ring: crews placing fake orders at client shops and posting the five-star reviews
they are paid for.

1. Positive (account, shop) edges come from SQL (``sql/features/brushing_edges.sql``): a
   review of >= ``min_rating`` stars in the window (not withdrawn or lowered since), its lag from the order,
   the orders' money and shipping addresses, the review texts.
2. Co-targeting, judged per shop against its own popularity: shop pairs sharing more
   positive reviewers than the configuration null allows (``graph``; the projection is onto
   shops, never onto account pairs), Louvain communities of them as candidate client sets
   (and a component Louvain cut, where its pieces are too small to show a crew),
   members and client shops by Poisson surprise against the shops' positive degrees, the
   strongest shops left out of the strength (``crews``). A member must have served two
   clients during the crew's bursts there (``recruit.confirm``). Accounts that served only one or two of
   many clients join when their hits during the crew's bursts, a shared drop address and
   copied praise together are too much for chance (``recruit``; two hits, then one hit, as
   two families, each kept by a Benjamini-Hochberg step-up over its own candidates).
3. Evidence against platform baselines: quick reviews, templated praise, drop addresses,
   reviews clustered in time at each client (``evidence``). A crew is reported when
   co-targeting plus evidence reaches ``min_crew_bits`` and its review behaviour alone (quick,
   copied, bursty) reaches ``min_behaviour_bits``: co-targeting plus shared addresses is also
   what a company's procurement accounts or a household look like.
4. Own-staff brushing (``own``): a shop whose devoted buyers write far more of its positive
   reviews than shops of its size see, sharing order devices or IPs among them and reviewing
   more than buyers do; one cluster per shop (evidence ``kind: own_staff``).
5. Push days (``push``): one shop's positive reviewers of one order day far beyond its other
   days, tied by shared addresses or copied praise: one-task hires no co-targeting can see;
   one cluster per shop (evidence ``kind: push_day``). Accounts a crew holds stay with it;
   both are reported by ``shops``.
Money: ``loss_estimate`` is the fake GMV, the money of the members' orders at the client
shops in the window (paid and usually returned off the platform); the inflated review count
per client shop and the crew's share of the shop's five-star reviews are in the evidence
(``client_shops``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import polars as pl
from pydantic import BaseModel, Field

from abuse import stats
from abuse.detect.base import Cluster, DetectContext, DetectorBase, DetectorResult, register
from abuse.frames import instant, number
from abuse.report_text import plural

from . import crews as crews_
from . import evidence as evidence_
from . import graph as graph_
from . import recruit as recruit_
from .findings import PATTERN, add_case
from .shops import own_staff, push_days


@register
class BrushingDetector(DetectorBase):
    name = "brushing"
    patterns = (PATTERN,)

    class Params(BaseModel):
        min_rating: int = Field(
            4,
            ge=1,
            le=5,
            description="a positive review has at least this rating (4: crews "
            "that mix in four-star reviews to look natural still count)",
        )
        quick_q: float = Field(
            0.1,
            gt=0,
            lt=1,
            description="platform quantile of the order-to-review lag under which a review counts as quick",
        )
        min_pair_surprise: float = Field(
            3.0,
            ge=0,
            description="-log10 p two shops' shared reviewers need to link them "
            "(lenient: the crew is tested as a whole below)",
        )
        min_member_surprise: float = Field(
            3.0, ge=0, description="-log10 p of an account's hits on a crew's client shops"
        )
        min_shop_surprise: float = Field(
            2.0, ge=0, description="-log10 p of a shop's count of crew members for it to be a client"
        )
        min_members: int = Field(3, ge=2, description="smallest crew reported")
        leave_out_shops: int = Field(
            2, ge=0, description="a crew's co-targeting strength leaves out its this many strongest shops"
        )
        min_crew_bits: float = Field(20.0, ge=0, description="co-targeting plus evidence (-log10 p) a crew needs")
        min_behaviour_bits: float = Field(
            3.0,
            ge=0,
            description="-log10 p a crew's review behaviour (quick reviews, copied "
            "praise, bursts at each client; Fisher-combined) needs after paying for the "
            "candidate crews: co-targeting and shared addresses alone are a company's or a "
            "household's buying",
        )
        text_jaccard: float = Field(0.5, gt=0, le=1, description="shingle Jaccard of near-duplicate texts")
        max_recruit_rounds: int = Field(
            3,
            ge=1,
            le=10,
            description="rounds of recruitment per family: each round tests the remaining "
            "candidates against the crew as the previous rounds left it, at a bar raised by "
            "log10(round) (Bonferroni over the looks at one account)",
        )
        own_staff: bool = Field(
            True, description="also look for a shop's own staff brushing it (one shop, no crew across clients)"
        )
        own_devoted_q: float = Field(
            0.05,
            gt=0,
            lt=1,
            description="a devoted buyer's orders at a shop are in this top share of the buyers of "
            "shops of its size (empirical tail), and most of its window orders are there",
        )
        own_min_members: int = Field(
            4, ge=2, description="smallest own-staff crew (devoted buyers, addresses, members)"
        )
        own_min_shop_surprise: float = Field(
            3.0,
            ge=0,
            description="-log10 p of a shop's devoted buyers' share of its positive reviews, after Bonferroni over the shops tried",
        )
        own_min_behaviour_bits: float = Field(
            3.0,
            ge=0,
            description="-log10 p of the devoted buyers' shared devices, shared IPs and reviewing "
            "(Fisher-combined), after Bonferroni over the shops tried",
        )
        own_min_infra_bits: float = Field(
            2.0,
            ge=0,
            description="-log10 p their shared devices and IPs need on their own: reviewing a "
            "lot is also what a shop's loyal regulars do",
        )
        own_fdr: float = Field(0.05, gt=0, lt=1, description="false-discovery rate of the members' step-up")
        push_days: bool = Field(
            True,
            description="also look for push days: one shop's burst of one-day reviewers tied by addresses or praise",
        )
        push_min_members: int = Field(4, ge=2, description="smallest push-day group reported")
        push_min_burst_surprise: float = Field(
            3.0,
            ge=0,
            description="-log10 p of a push day's reviewers against the shop's other days (scaled by "
            "the platform's busyness that day), after Bonferroni over every shop and day",
        )
        push_min_tie_bits: float = Field(
            2.0,
            ge=0,
            description="-log10 p of the group's shared addresses and copied praise (Fisher), after "
            "Bonferroni over the bursting groups: a launch week or a sale day bursts too",
        )
        push_fdr: float = Field(
            0.02,
            gt=0,
            lt=1,
            description="local false-discovery rate under which a push day's untied one-task reviewers join",
        )

    def run(self, ctx: DetectContext) -> DetectorResult:
        p: BrushingDetector.Params = ctx.params  # type: ignore[assignment]
        edges = graph_.positive_edges(ctx.con, p.min_rating, p.quick_q)
        result = DetectorResult()
        # the platform's text and address baselines, read from every positive text once for
        # the crews and the push days both
        baselines = functools.cache(lambda: evidence_.baselines(edges, p.text_jaccard))
        self._crews(ctx, p, edges, result, baselines)
        buyers = None
        if p.own_staff:
            buyers = own_staff(ctx, p, result)
        if p.push_days:
            push_days(ctx, p, edges, buyers, result, base_dup=baselines()[0] if not edges.is_empty() else 0.0)
        return result

    def _crews(
        self,
        ctx: DetectContext,
        p: "BrushingDetector.Params",
        edges: pl.DataFrame,
        result: DetectorResult,
        baselines: Callable[[], tuple[float, float]],
    ) -> None:
        """Crews spanning client shops (co-targeting, recruitment, evidence) into ``result``."""
        if edges.is_empty():
            return
        cand = graph_.prune(edges)
        pairs = graph_.shop_pairs(ctx.con, edges, cand)
        crews = crews_.build_crews(
            edges,
            pairs,
            min_pair_surprise=p.min_pair_surprise,
            min_member_surprise=p.min_member_surprise,
            min_shop_surprise=p.min_shop_surprise,
            min_members=p.min_members,
            leave_out=p.leave_out_shops,
        )
        if not crews:
            return
        base_dup, base_addr = baselines()
        recruit_.confirm(edges, crews)
        crews = [c for c in crews if len(c.members) >= p.min_members]
        window_s = (ctx.window_end - ctx.window_start).total_seconds()
        orders = graph_.client_orders(ctx.con, sorted({s for c in crews for s in c.shops}))
        confirmed = [dict(c.members) for c in crews]
        index = recruit_.EdgeIndex.of(edges, orders)  # once for every round of recruitment
        n_tried = len(crews)

        def recruit_all(group: list[crews_.Crew]) -> None:
            for min_hits in (2, 1):  # two families (two hits, then one), each paying for its own candidates
                # each family in rounds: the recruits of one round add to the crew's items and
                # drop addresses that the next round tests the rest against (an item pushed
                # mostly by one-task hires is the crew's only once some of them are recognised)
                for look in range(1, p.max_recruit_rounds + 1):
                    added = recruit_.recruit(
                        edges,
                        orders,
                        group,
                        min_surprise=p.min_member_surprise,
                        threshold=p.text_jaccard,
                        base_dup=base_dup,
                        min_hits=min_hits,
                        window_s=window_s,
                        look=look,
                        index=index,
                    )
                    if not added:
                        break

        by_account = graph_.RowIndex(edges, "account_id")  # every crew's evidence, in both passes

        def judged(group: list[crews_.Crew]) -> list[tuple[crews_.Crew, evidence_.CrewEvidence, float]]:
            out = []
            for crew in group:
                ev = evidence_.gather(
                    edges,
                    crew,
                    quick_q=p.quick_q,
                    threshold=p.text_jaccard,
                    base_dup=base_dup,
                    base_addr=base_addr,
                    window_s=window_s,
                    of_account=by_account,
                )
                bits = evidence_.total_bits(crew, ev)
                behaviour = float(stats.combined(ev.bits["quick"], ev.bits["dup_texts"], ev.bits["time_clustering"]))
                # the bar pays for every candidate crew tried, also on the second pass
                if bits >= p.min_crew_bits and behaviour >= p.min_behaviour_bits + math.log10(n_tried):
                    out.append((crew, ev, bits))
            return out

        recruit_all(crews)
        kept = judged(crews)
        if kept and len(kept) < len(crews):
            # accounts that a candidate crew claimed but that is not reported (a chance
            # pairing of a few of a crew's members with some other shop) are free again: the
            # reported crews recruit once more from their confirmed members
            ids = {id(c) for c, _, _ in kept}
            again = []
            for crew, members in zip(crews, confirmed, strict=True):
                if id(crew) in ids:
                    crew.members = dict(members)
                    again.append(crew)
            recruit_all(again)
            kept = judged(again)
        tests = max(pairs.height, 1)
        for crew, ev, bits in kept:
            _report(f"brush-{len(result.clusters) + 1}", crew, ev, edges, bits, tests, p.quick_q, result)


def _report(
    key: str,
    crew: crews_.Crew,
    ev: evidence_.CrewEvidence,
    edges: pl.DataFrame,
    bits: float,
    tests: int,
    quick_q: float,
    result: DetectorResult,
) -> None:
    sub = edges.filter(pl.col("account_id").is_in(list(crew.members)) & pl.col("shop_id").is_in(crew.shops))
    per_shop = (
        sub.group_by("shop_id")
        .agg(
            pl.col("n_pos").sum().alias("crew_reviews"),
            pl.col("n_five").sum().alias("crew_five"),
            pl.col("account_id").n_unique().alias("members"),
            pl.col("shop_pos").first(),
            pl.col("shop_five").first(),
            pl.col("gmv").sum(),
        )
        .sort("shop_id")
    )
    shops_ev = {
        r["shop_id"]: {
            "crew_five_star": int(r["crew_five"]),
            "shop_five_star": int(r["shop_five"]),
            "share": round(r["crew_five"] / max(r["shop_five"], 1), 3),
            "crew_positive": int(r["crew_reviews"]),
            "shop_positive": int(r["shop_pos"]),
            "inflated_reviews": int(r["crew_reviews"]),
            "members": int(r["members"]),
            "fake_gmv": round(float(r["gmv"]), 2),
        }
        for r in per_shop.iter_rows(named=True)
    }
    m, n_shops = len(crew.members), len(crew.shops)
    score = stats.score(stats.corrected(bits, tests))
    share = number(per_shop["crew_five"].sum()) / max(number(per_shop["shop_five"].sum()), 1)
    drops = (
        f"; {ev.members_at_drops} members ship to {plural(ev.drop_addresses, 'shared address')}"
        if ev.drop_addresses
        else ""
    )
    summary = (
        f"{m} accounts posted {ev.reviews} positive reviews on {n_shops} client shops "
        f"({share:.0%} of those shops' five-star reviews in the window), {ev.quick} of "
        f"{ev.lagged} within the platform's quickest {quick_q:.0%} after the order, "
        f"{ev.dup_text_pairs} near-duplicate text pairs ({ev.dup_text_expected:.1f} expected){drops}; "
        f"fake orders worth {ev.gmv:.2f} yuan."
    )
    group_ev = {
        "n_accounts": m,
        "n_shops": n_shops,
        "co_target_bits": round(crew.surprise, 2),
        "evidence_bits": {k: round(v, 2) for k, v in ev.bits.items()},
        "positive_reviews": ev.reviews,
        "quick_reviews": ev.quick,
        "dup_text_pairs": ev.dup_text_pairs,
        "dup_text_expected": round(ev.dup_text_expected, 2),
        "drop_addresses": ev.drop_addresses,
        "members_at_drops": ev.members_at_drops,
        "median_span_days": round(ev.median_span_days, 2),
        "fake_gmv": round(ev.gmv, 2),
        "client_shops": shops_ev,
    }
    cluster = Cluster(
        cluster_key=key,
        pattern=PATTERN,
        account_ids=sorted(crew.members),
        score=score,
        summary=summary,
        shop_ids=list(crew.shops),
        first_seen=instant(sub["first_at"].min()),
        last_seen=instant(sub["last_at"].max()),
        loss_estimate=round(ev.gmv, 2),
        evidence=group_ev,
    )
    per = (
        sub.group_by("account_id")
        .agg(pl.len().alias("shops"), pl.col("n_pos").sum(), pl.col("n_quick").sum(), pl.col("gmv").sum())
        .sort("account_id")
    )

    def member(r: dict[str, Any]) -> tuple[float, str, dict[str, Any]]:
        reason = (
            f"posted {plural(int(r['n_pos']), 'positive review')} on {r['shops']} of the "
            f"{n_shops} client shops of a crew of {m} accounts ({r['n_quick']} within the "
            f"platform's quickest {quick_q:.0%} after the order), fake orders worth {r['gmv']:.2f} yuan"
        )
        figures = {
            "shops": r["shops"],
            "positive_reviews": int(r["n_pos"]),
            "quick_reviews": int(r["n_quick"]),
            "fake_gmv": round(float(r["gmv"]), 2),
            "member_bits": round(crew.members[r["account_id"]], 2),
        }
        return round(score * (0.8 + 0.2 * min(1.0, crew.members[r["account_id"]] / 10)), 4), reason, figures

    add_case(result, cluster, per, member, {k: v for k, v in group_ev.items() if k != "client_shops"})


__all__ = ["BrushingDetector", "math"]
