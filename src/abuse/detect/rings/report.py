"""A ring's cluster, its one-sentence summary and one finding a member."""

from __future__ import annotations

import polars as pl

from abuse.detect.base import Cluster, Finding
from abuse.frames import instant, number

from . import evidence as evidence
from . import groups as groups_

_ACT_WORDS = {  # lone extorters: the money act of the script (``lone.ACTS``)
    "compensation": "a compensation demanded",
    "paid_beyond_price": "paid back more than it spent at the shop",
    "asked_beyond_price": "asked for more than the order cost",
}


def _n(k: int, word: str) -> str:
    """``1 shop``, ``2 shops``."""
    return f"{k} {word}{'' if k == 1 else 's'}"


def _members_wrote(k: int) -> str:
    """``no member wrote near-duplicate reviews``, ``1 member wrote ...``, ``3 members ...``."""
    who = "no member" if k == 0 else _n(k, "member")
    return f"{who} wrote near-duplicate reviews"


def ring_report(
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
    loss = number(sub["refund_paid"].sum()) + number(sub["comp_paid"].sum())
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
        first_seen=instant(sub["first_at"].min()),
        last_seen=instant(sub["last_at"].max()),
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
    elif extra.get("linked_by") == "shared traits":
        summary += (
            "; the members, one or two shops each, are linked by texts, identifiers or victims "
            "they share far more often than other complainers"
        )
    elif extra.get("linked_by") == "script":
        summary += (
            f"; the members share no device, address, inviter or victim: each got money beyond a refund "
            f"({_ACT_WORDS[extra['script_act']]}) and withdrew or raised the low review once paid, on the same "
            f"shop, {extra['script_edges']} such attacks where the two acts' own rates predict "
            f"{extra['script_expected']:.1f}"
        )
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
    median_hits = number(per["shops"].median() or 1.0)
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
        if group_ev.get("linked_by") == "script":
            reason += (
                f"; one of {_n(group_ev['script_edges'], 'attack')} that got money beyond a refund "
                f"({_ACT_WORDS[group_ev['script_act']]}) and reversed the review once paid, "
                f"{group_ev['script_expected']:.1f} expected by chance"
            )
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
