"""Coupon-hoarding output: readable reasons and evidence for flagged batches and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from abuse.detect.base import Cluster, Finding
from abuse.detect.hoarding.features import TELLS
from abuse.frames import instant, integer
from abuse.report_text import plural
from abuse.stats import score

PATTERN = "coupon_hoarding"

#: Identifier kinds (as sql/intermediate/int_account_identifiers.sql names them, plus
#: hoarding's own redeem_item) as words for a reason.
KIND_NAMES = {
    "device": ("device", "devices"),
    "ip": ("IP", "IPs"),
    "ip_block": ("IP block", "IP blocks"),
    "phone_prefix": ("number segment", "number segments"),
    "phone_hash": ("phone number", "phone numbers"),
    "inviter": ("inviter", "inviters"),
    "address": ("shipping address", "shipping addresses"),
    "redeem_item": ("identical item bought at the threshold", "identical items bought at the threshold"),
}

#: A base rate is quoted in a sentence only when it rests on at least this many accounts.
MIN_BASE = 30

#: What a member did, as a clause of "this account ..." (evidence keeps the figures).
CLAUSES: dict[str, str] = {
    "fast": "claimed within {fast_claim_s:g} s of release",
    "early": "claimed within {early_claim_min:g} minutes of release",
    "unused": "left most of its coupons unused",
    "at_threshold": "redeemed on an order at exactly the threshold",
    "refund_loop": "redeemed coupons again after getting them back with a refund",
    "thin": "placed no plain orders and did next to nothing else",
    "short_sessions": "had sessions of about a second",
    "spins": "spun the lottery far more than other claimers",
    "burst": "registered in a registration burst",
    "virtual": "registered with a virtual-operator number",
}


def and_list(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def duration(seconds: float) -> str:
    s = max(float(seconds), 0.0)
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if s >= 2 * size:
            return f"{s / size:.0f} {unit}"
    return f"{s:.0f} s"


def densest_span(times: pl.Series, share: float = 0.8) -> float:
    """Seconds of the shortest interval holding ``share`` of the timestamps."""
    t = np.sort(times.drop_nulls().dt.epoch("us").to_numpy()) / 1e6
    k = max(int(np.ceil(share * len(t))), 1)
    if len(t) < 2:
        return 0.0
    return float(np.min(t[k - 1 :] - t[: len(t) - k + 1]))


@dataclass
class Inputs:
    members: pl.DataFrame  # account_id, group, role
    groups: pl.DataFrame  # flagged groups from score_groups
    claimers: pl.DataFrame
    accounts: pl.DataFrame  # registration facts of every account
    edges: pl.DataFrame  # account-identifier edges with df
    idents: pl.DataFrame  # identifier link statistics
    sizes: pl.DataFrame  # population identifier sizes (kind, value, df)
    campaigns: pl.DataFrame  # hoarding_campaign_use
    base: dict[str, float]  # tell rates among claimers outside every flagged batch
    params: Any


def _identifier_evidence(used: pl.DataFrame, pop: dict[str, np.ndarray], n_accounts: int) -> list[dict[str, Any]]:
    """Per identifier kind a batch's linking identifiers: how many, how many members they
    tie, how many accounts outside the batch carry them, and how rare that size is
    (``base_rate``: share of all identifiers of the kind that carry as many accounts)."""
    out = []
    for (kind,), part in used.group_by("kind"):
        per_id = part.group_by("value").agg(inside=pl.len(), df=pl.col("df").first())
        typical = integer(per_id["df"].median())
        sizes = pop.get(kind, np.zeros(0))
        share = float(1 - np.searchsorted(sizes, typical) / len(sizes)) if len(sizes) else 0.0
        out.append(
            {
                "kind": kind,
                "n_identifiers": len(per_id),
                "accounts": part["account_id"].n_unique(),
                "outside_accounts": int((per_id["df"] - per_id["inside"]).sum()),
                "typical_accounts_per_identifier": typical,
                "base_rate": share,
                "idf": float(np.log(max(n_accounts, 1) / max(typical, 1))),
                "examples": per_id.sort(["inside", "value"], descending=[True, False])["value"].head(3).to_list(),
            }
        )
    return sorted(out, key=lambda d: (-d["accounts"], d["kind"]))  # ties by kind: stable


def _identifier_phrase(ev: list[dict[str, Any]]) -> str:
    """ "linked by 2 devices and 3 shipping addresses that no other account uses"."""
    if not ev:
        return "linked by no shared identifier"
    names = []
    for d in ev[:3]:
        one, many = KIND_NAMES.get(d["kind"], (d["kind"], d["kind"] + "s"))
        names.append(plural(d["n_identifiers"], one, many))
    outside = sum(d["outside_accounts"] for d in ev[:3])
    tail = (
        "that no other account uses"
        if outside == 0
        else f"that only {plural(outside, 'other account')} also use{'s' * (outside == 1)}"
    )
    return f"linked by {and_list(names)} {tail}"


def _ordinary_campaigns(inp: Inputs) -> pl.DataFrame:
    """Per campaign, its claimers outside every flagged batch and their fast-claim rate."""
    ordinary = inp.campaigns.join(inp.members, on="account_id", how="anti")
    return ordinary.group_by("campaign_id").agg(
        ordinary_claimers=pl.len(),
        ordinary_fast_rate=(pl.col("min_delay_s") <= inp.params.fast_claim_s).mean(),
        ordinary_early_rate=(pl.col("min_delay_s") <= 60 * inp.params.early_claim_min).mean(),
    )


def _campaign_evidence(inp: Inputs, accounts: pl.DataFrame, everyone: pl.DataFrame) -> list[dict[str, Any]]:
    fast = inp.params.fast_claim_s
    mine = (
        inp.campaigns.join(accounts, on="account_id")
        .group_by("campaign_id")
        .agg(
            claimers=pl.len(),
            fast=(pl.col("min_delay_s") <= fast).sum(),
            early=(pl.col("min_delay_s") <= 60 * inp.params.early_claim_min).sum(),
            median_delay_s=pl.col("min_delay_s").median(),
            coupons=pl.col("n_coupons").sum(),
            redeems=pl.col("n_redeems").sum(),
            redeemed_value=pl.col("redeemed_value").sum(),
        )
        .join(everyone, on="campaign_id", how="left")
        .with_columns(pl.col("ordinary_claimers").fill_null(0))
        .sort(["claimers", "campaign_id"], descending=[True, False])  # ties by id: group_by has no order
    )
    return mine.to_dicts()


@dataclass
class _Batch:
    """What one flagged batch's reasons are written from."""

    key: str
    rows: pl.DataFrame  # one row per member: role, features and tells
    score: float
    identifiers: str  # "12 on 2 devices (seen on no other account; ...)"
    top_identifier: str  # the strongest of them, for the members' shorter reasons
    campaign: str  # "11 claimed campaign C within 10 s of release (vs ...)"
    base: str  # "11 of its 12 claimers behave like batch accounts vs ..."
    core_span: float


def build(inp: Inputs) -> tuple[list[Finding], list[Cluster]]:
    """A Cluster per flagged batch, largest first, and a Finding per member."""
    linking = inp.idents.filter("links").select("kind", "value")
    linked = inp.edges.join(linking, on=["kind", "value"]).join(
        inp.members.select("account_id", "group"), on="account_id"
    )
    pop = {kind: np.sort(part["df"].to_numpy()) for (kind,), part in inp.sizes.group_by("kind")}
    ordinary = _ordinary_campaigns(inp)
    findings: list[Finding] = []
    clusters: list[Cluster] = []
    for g in inp.groups.sort(["n", "group"], descending=[True, False]).iter_rows(named=True):
        rows = (
            inp.members.filter(pl.col("group") == g["group"])
            .join(inp.claimers.drop("registered_at", "phone_prefix"), on="account_id", how="left")
            .join(inp.accounts, on="account_id", how="left")
            .with_columns([pl.col(t).fill_null(False) for t in TELLS])
            .sort("account_id")
        )
        idents = _identifier_evidence(linked.filter(pl.col("group") == g["group"]), pop, len(inp.accounts))
        camps = _campaign_evidence(inp, rows.select("account_id"), ordinary)
        cluster, batch = _cluster(inp, f"hoard-{len(clusters) + 1}", g, rows, idents, camps)
        clusters.append(cluster)
        findings.extend(_finding(inp, batch, r) for r in rows.iter_rows(named=True))
    return findings, clusters


def _cluster(inp: Inputs, key: str, g: dict, rows: pl.DataFrame, idents: list, camps: list):
    p = inp.params
    reg = rows["registered_at"].drop_nulls()
    first, last = instant(reg.min()), instant(reg.max())  # None when no member's registration is known
    span = (last - first).total_seconds() if first is not None and last is not None else 0.0
    core_span = densest_span(reg)
    loss = float(rows["redeemed_value"].fill_null(0).sum())
    n_rr = int(rows["n_reredeems"].fill_null(0).sum())
    top = camps[0] if camps else None
    camp_txt = _campaign_phrase(p, top)
    batch = _Batch(
        key=key,
        rows=rows,
        score=score(-g["log10_p"]),
        identifiers=_identifier_phrase(idents),
        top_identifier=_identifier_phrase(idents[:2]),
        campaign=camp_txt,
        base=f"{g['k']} of its {g['n']} claimers behave like batch accounts",
        core_span=core_span,
    )
    hit = [c["campaign_id"] for c in camps]
    n = len(rows)
    shown = ", ".join(map(str, hit[:5])) + (" and others" if len(hit) > 5 else "")
    loops = f", {plural(n_rr, 're-redemption')} after returns among them" if n_rr else ""
    summary = (
        f"Batch of {n} accounts {batch.identifiers}, registered over {duration(span)} with 80% "
        f"within {duration(core_span)}; {camp_txt}; it hit {plural(len(hit), 'campaign')} "
        f"({shown}) and took {loss:.2f} yuan in redeemed coupons{loops}."
    )
    evidence = {
        "n_accounts": n,
        "roles": dict(rows.group_by("role").len().iter_rows()),
        "suspicious_accounts": g["k"],
        "log10_p_corrected": round(float(g["log10_p"]), 2),
        "base_rates": {k: round(v, 4) for k, v in inp.base.items()},
        "tell_counts": {t: int(g[f"n_{t}"]) for t in TELLS},
        "identifiers": idents,
        "registered_first": first.isoformat() if first is not None else None,
        "registered_last": last.isoformat() if last is not None else None,
        "registration_span_s": span,
        "registration_span_80pct_s": core_span,
        "campaigns": camps,
        "redeemed_value": loss,
        "re_redemptions": n_rr,
    }
    cluster = Cluster(
        cluster_key=key,
        pattern=PATTERN,
        account_ids=rows["account_id"].to_list(),
        score=batch.score,
        summary=summary,
        shop_ids=None,
        first_seen=first,
        last_seen=instant(rows["last_claim_at"].max()),
        loss_estimate=loss,
        evidence=evidence,
    )
    return cluster, batch


def _campaign_phrase(p: Any, top: dict | None) -> str:
    """ "41 of them claimed campaign C within 10 s of release, against 3% of its 812 other
    claimers" (the base rate only when it rests on enough accounts)."""
    if not top:
        return "it made no campaign claims"
    fast = top["fast"] >= 0.5 * top["claimers"]
    count, rate = (top["fast"], top["ordinary_fast_rate"]) if fast else (top["early"], top["ordinary_early_rate"])
    when = f"{p.fast_claim_s:g} s" if fast else f"{p.early_claim_min:g} minutes"
    txt = f"{count} of them claimed campaign {top['campaign_id']} within {when} of release"
    if top["ordinary_claimers"] >= MIN_BASE:
        txt += f", against {100 * (rate or 0):.2g}% of its {top['ordinary_claimers']} other claimers"
    return txt


def _finding(inp: Inputs, b: _Batch, r: dict) -> Finding:
    own = [t for t in TELLS if r[t]]
    if r["role"] == "dormant":
        own_txt = "registered with the batch but claimed no coupon in the window"
    else:
        params = inp.params.model_dump()
        said = [t for t in own if not (t == "early" and "fast" in own)]  # fast says early too
        own_txt = and_list([CLAUSES[t].format(**params) for t in said]) or "claimed coupons with it"
    return Finding(
        account_id=r["account_id"],
        pattern=PATTERN,
        score=float(b.score * (0.6 + 0.4 * min(len(own), 4) / 4)),
        reason=(
            f"One of a batch of {len(b.rows)} accounts {b.top_identifier}, in which "
            f"{b.campaign}; this account {own_txt}."
        ),
        evidence={
            "cluster_accounts": len(b.rows),
            "tells": own,
            "role": r["role"],
            "min_claim_delay_s": _num(r["min_delay_s"]),
            "claims": r["n_claims"] or 0,
            "campaigns": r["n_campaigns"] or 0,
            "account_age_days_at_first_claim": _num(r["age_days"]),
            "unused": r["n_unused"] or 0,
            "redeems": r["n_redeems"] or 0,
            "re_redemptions": r["n_reredeems"] or 0,
            "at_threshold_redemptions": r["n_at_threshold"] or 0,
            "min_excess_over_threshold": _num(r["min_excess"]),
            "tiny_order_redemptions": r["n_tiny_orders"] or 0,
            "plain_orders": r["n_plain_orders"],
            "other_events": r["n_activity"],
            "sessions": r["n_sessions"],
            "lottery_spins": r["n_spins"] or 0,
            "median_session_s": _num(r["med_duration_s"]),
            "redeemed_value": _num(r["redeemed_value"]),
            "registered_at": r["registered_at"].isoformat() if r["registered_at"] else None,
            "phone_prefix": r["phone_prefix"],
        },
        cluster_key=b.key,
    )


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)
