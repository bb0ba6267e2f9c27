"""The brushing cases of one shop, reported: shops brushed by their own staff (``own``) and
push days of one-task hires (``push``), one cluster per shop with its findings. Accounts an
earlier case holds stay with it."""

from __future__ import annotations

from typing import Any

import polars as pl

from abuse import stats
from abuse.detect.base import Cluster, DetectContext, DetectorResult
from abuse.frames import instant
from abuse.report_text import plural

from . import evidence as evidence_
from . import own as own_
from . import push as push_
from .findings import PATTERN, add_case

Params = Any  # BrushingDetector.Params (defined in the package, which imports this module)


def _shop_cluster(
    key: str,
    members: list[str],
    score: float,
    summary: str,
    shop: str,
    rows: pl.DataFrame,
    gmv: float,
    evidence: dict,
) -> Cluster:
    """A brushing case of one shop: its members' orders there (``rows``, shop_buyers' rows)
    give its first and last seen; the money of those orders is the loss."""
    return Cluster(
        cluster_key=key,
        pattern=PATTERN,
        account_ids=members,
        score=score,
        summary=summary,
        shop_ids=[shop],
        first_seen=instant(rows["first_order_at"].min()),
        last_seen=instant(rows["last_order_at"].max()),
        loss_estimate=round(gmv, 2),
        evidence=evidence,
    )


def push_days(
    ctx: DetectContext,
    p: Params,
    edges: pl.DataFrame,
    buyers: pl.DataFrame | None,
    result: DetectorResult,
    base_dup: float | None = None,
) -> None:
    """Push days (``push``) as one cluster per shop; accounts another cluster holds stay there.
    ``base_dup``: ``evidence.baselines(edges, ...)[0]`` if already computed."""
    rows = push_.push_orders(ctx.con, p.min_rating)
    if rows.is_empty():
        return
    if base_dup is None:
        base_dup = evidence_.baselines(edges, p.text_jaccard)[0] if not edges.is_empty() else 0.0
    if buyers is None:
        buyers = own_.shop_buyers(ctx.con, p.min_rating)
    n_days = max(1, round((ctx.window_end - ctx.window_start).total_seconds() / 86400))
    days, n_tests = push_.find_push_days(
        rows,
        n_days=n_days,
        min_members=p.push_min_members,
        min_burst_surprise=p.push_min_burst_surprise,
        min_tie_bits=p.push_min_tie_bits,
        base_dup=base_dup,
        threshold=p.text_jaccard,
        fdr=p.push_fdr,
        orders_at_shop=buyers.select("account_id", "shop_id", "n_orders"),
    )
    taken = {f.account_id for f in result.findings}
    by_shop: dict[str, list[push_.PushDay]] = {}
    for d in days:
        by_shop.setdefault(d.shop_id, []).append(d)
    clients = {s: c.cluster_key for c in result.clusters for s in (c.shop_ids or [])}
    for shop, group in by_shop.items():
        members = sorted({a for d in group for a in d.members} - taken)
        if len(members) < p.push_min_members:
            continue
        taken |= set(members)
        key = f"brush-{len(result.clusters) + 1}"
        rows_m = buyers.filter((pl.col("shop_id") == shop) & pl.col("account_id").is_in(members))
        best = max(group, key=lambda d: d.bits["burst"])
        evidence = max(float(stats.combined(d.bits["burst"], d.bits["ties"])) for d in group)
        score = stats.score(stats.corrected(evidence, max(n_tests, 1)))
        gmv = float(rows_m["gmv"].sum())
        n_days_hit = len(group)
        f = best.figures
        summary = (
            f"{len(members)} accounts each ordered at shop {shop} on {plural(n_days_hit, 'push day')} and reviewed it "
            f"well ({f['reviewers']} reviewers on its busiest one against {f['expected_reviewers']:.1f} expected), "
            f"{f['sharing_addresses']} of them shipping to an address another uses and {f['dup_text_pairs']} "
            f"near-duplicate text pairs ({f['dup_text_expected']:.1f} expected); orders worth {gmv:.2f} yuan."
        )
        group_ev = {
            "kind": "push_day",
            "n_accounts": len(members),
            "n_shops": 1,
            "push_days": [
                {"day": str(d.day)[:10], **d.figures, "bits": {k: round(v, 2) for k, v in d.bits.items()}}
                for d in group
            ],
            "tests": n_tests,
            "fake_gmv": round(gmv, 2),
            "crew_cluster": clients.get(shop),
        }

        def member(r: dict[str, Any]) -> tuple[float, str, dict[str, Any]]:
            reason = (
                f"ordered at shop {shop} on a push day ({f['reviewers']} positive reviewers against "
                f"{f['expected_reviewers']:.1f} expected) and reviewed it well, one of {len(members)} accounts "
                f"tied by shared addresses, copied praise or the pushed item"
            )
            figures = {
                "shop_id": shop,
                "orders_at_shop": int(r["n_orders"]),
                "positive_reviews": int(r["n_pos"]),
                "fake_gmv": round(float(r["gmv"]), 2),
            }
            return round(score * 0.9, 4), reason, figures

        cluster = _shop_cluster(key, members, score, summary, shop, rows_m, gmv, group_ev)
        add_case(result, cluster, rows_m, member, {k: v for k, v in group_ev.items() if k != "push_days"})


def own_staff(ctx: DetectContext, p: Params, result: DetectorResult) -> pl.DataFrame:
    """Shops brushed by their own staff accounts (``own``), as one cluster per shop; accounts a
    crew already holds stay with it."""
    buyers = own_.shop_buyers(ctx.con, p.min_rating)
    crews, n_tried = own_.find_own_crews(
        buyers,
        devoted_q=p.own_devoted_q,
        min_members=p.own_min_members,
        min_shop_surprise=p.own_min_shop_surprise,
        min_behaviour_bits=p.own_min_behaviour_bits,
        min_infra_bits=p.own_min_infra_bits,
        fdr=p.own_fdr,
    )
    taken = {f.account_id for f in result.findings}
    _add_own(crews, n_tried, buyers, p, taken, result)
    return buyers


def _add_own(
    crews: list[own_.OwnCrew],
    n_tried: int,
    buyers: pl.DataFrame,
    p: Params,
    taken: set,
    result: DetectorResult,
) -> None:
    for crew in crews:
        members = {a: s for a, s in crew.members.items() if a not in taken}
        if len(members) < p.own_min_members:
            continue
        taken |= set(members)
        key = f"brush-{len(result.clusters) + 1}"
        rows = buyers.filter((pl.col("shop_id") == crew.shop_id) & pl.col("account_id").is_in(list(members)))
        bits = crew.bits
        evidence = float(stats.combined(bits["concentration"], bits["behaviour"]))
        score = stats.score(stats.corrected(evidence, max(n_tried, 1)))
        f = crew.figures
        m = len(members)
        gmv = float(rows["gmv"].sum())
        n_orders, n_pos = int(rows["n_orders"].sum()), int(rows["n_pos"].sum())
        summary = (
            f"{m} accounts placed {n_orders} of shop {crew.shop_id}'s {f['orders']} orders in the window "
            f"and posted {n_pos} of its {f['positive_reviews']} positive reviews "
            f"({f['devoted_positive_reviews'] / max(f['positive_reviews'], 1):.0%} from its devoted buyers, "
            f"{f['band_devoted_share']:.0%} at shops of its size); "
            f"{f['devoted_sharing_devices']} of its {plural(f['devoted_buyers'], 'devoted buyer')} share order devices "
            f"and {f['devoted_sharing_ips']} share IPs: the shop's own staff brushing it, orders worth {gmv:.2f} yuan."
        )
        group_ev = {
            "kind": "own_staff",
            "n_accounts": m,
            "n_shops": 1,
            "evidence_bits": {k: round(v, 2) for k, v in bits.items()},
            "shops_tried": n_tried,
            "fake_gmv": round(gmv, 2),
            **f,
        }

        def member(r: dict[str, Any]) -> tuple[float, str, dict[str, Any]]:
            reason = (
                f"placed {plural(int(r['n_orders']), 'order')} of its {int(r['n_all'])} in the window at shop "
                f"{crew.shop_id} and posted {plural(int(r['n_pos']), 'positive review')} there, one of "
                f"{m} accounts sharing devices or IPs that make most of the shop's orders and reviews"
            )
            figures = {
                "shop_id": crew.shop_id,
                "orders_at_shop": int(r["n_orders"]),
                "orders_in_window": int(r["n_all"]),
                "positive_reviews": int(r["n_pos"]),
                "refunds": int(r["n_refunds"]),
                "fake_gmv": round(float(r["gmv"]), 2),
                "member_bits": members[r["account_id"]],
            }
            return round(score * (0.8 + 0.2 * min(1.0, members[r["account_id"]] / 10)), 4), reason, figures

        cluster = _shop_cluster(key, sorted(members), score, summary, crew.shop_id, rows, gmv, group_ev)
        add_case(result, cluster, rows, member, {k: v for k, v in group_ev.items() if k not in ("evidence_bits",)})
