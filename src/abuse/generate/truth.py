"""The answer key: truth/accounts.csv, ring_shops.csv, brushing_shops.csv, lookalikes.csv,
spikes.csv, meta.json, inflated_targets.csv.

spikes.csv: ``kind`` is ``abusive`` (a planted burst: a registration wave, bot ticks, a vote
farm), ``benign_campaign`` (a release), ``benign_tv_ad`` or ``benign_referral`` (waves.py);
``crowd`` is ``planted`` where the release's first ten minutes' claimers are mostly planted
accounts (then the release does not explain it away), else ``people``.

accounts.csv has an ``evasion`` column: the tactics of the planted account's crew, ``;``
separated (empty for crews of the default mode). A scenario names them with
``w.params["evasions"][cluster] = "tactic_a;tactic_b"`` (or, for accounts planted without a
cluster, under the key ``"<pattern>/<role>"``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from abuse.generate.columns import ACCOUNT, CAMPAIGN, COUPON_ACTIONS, SHOP, enum
from abuse.generate.world import World


def fmt_id(code: int, spec=ACCOUNT) -> str:
    prefix, width = spec[1]
    return f"{prefix}{int(code):0{width}d}"


def _write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(sorted(set(rows)))


def mark_release_spikes(w: World) -> None:
    """Before the rows are joined (finalize frees them): whether each release spike's first
    claimers are mostly planted accounts (``crowd``)."""
    for s in w.spikes:
        if s["campaign"] >= 0 and s["kind"] == "benign_campaign":
            s["crowd"] = "planted" if _release_share(w, s["campaign"], s["start"]) >= 0.5 else "people"


def _release_share(w: World, campaign: int, start: int, minutes: int = 10) -> float:
    """Share of the accounts claiming campaign ``campaign`` in its first ``minutes`` minutes
    after ``start`` that are planted abusers (a release crowd dominated by a batch is abuse,
    whatever the release explains)."""
    ev = w.sink.frame("coupon_events")
    claim = enum(COUPON_ACTIONS, "claim")
    at = (
        (ev["campaign_id"] == campaign)
        & (ev["action"] == claim)
        & (ev["ts"] >= start)
        & (ev["ts"] < start + minutes * 60_000)
    )
    who = np.unique(ev["account_id"][at])
    if len(who) == 0:
        return 0.0
    planted = np.unique(np.concatenate([c for c, *_ in w.truth_accounts])) if w.truth_accounts else np.empty(0)
    return float(np.isin(who, planted).mean())


def write_truth(w: World, out: Path, summary: dict) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "accounts.csv", ["account_id", "pattern", "cluster", "role", "evasion"], _account_rows(w))
    _write_csv(
        out / "ring_shops.csv",
        ["cluster", "shop_id"],
        [(cl, fmt_id(s, SHOP)) for cl, shops in w.ring_shops for s in shops.tolist()],
    )
    _write_csv(
        out / "brushing_shops.csv",
        ["cluster", "shop_id"],
        [(cl, fmt_id(s, SHOP)) for cl, shops in w.brushing_shops for s in shops.tolist()],
    )
    _write_csv(
        out / "lookalikes.csv",
        ["account_id", "lookalike", "group"],
        [(fmt_id(a), kind, group) for codes, kind, group in w.lookalikes for a in np.unique(codes).tolist()],
    )
    _write_csv(
        out / "inflated_targets.csv",
        ["cluster", "target_id", "action"],
        [(cl, f"t_{t:06d}", a) for cl, t, a in w.inflated_targets],
    )
    _write_csv(
        out / "spikes.csv", ["scope", "window_start", "window_end", "kind", "campaign_id", "crowd"], _spike_rows(w)
    )
    (out / "meta.json").write_text(
        json.dumps(_meta(w, summary), indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    names = (
        "accounts.csv",
        "ring_shops.csv",
        "brushing_shops.csv",
        "lookalikes.csv",
        "spikes.csv",
        "meta.json",
        "inflated_targets.csv",
    )
    return [out / n for n in names]


def _account_rows(w: World) -> list[tuple]:
    """truth/accounts.csv: every planted account once per pattern (an account planted twice
    under one pattern keeps its first role, a leader first), with its crew's evasion."""
    evasions = w.params.get("evasions", {})
    acc_rows = [
        (
            fmt_id(a),
            pattern,
            cluster,
            role,
            evasions.get(cluster, "") if cluster else evasions.get(f"{pattern}/{role}", ""),
        )
        for codes, pattern, cluster, role in w.truth_accounts
        for a in np.unique(codes).tolist()
    ]
    seen, rows = set(), []
    for r in sorted(acc_rows, key=lambda r: (r[0], r[1], r[3] != "leader")):
        if r[:2] not in seen:
            seen.add(r[:2])
            rows.append(r)
    return rows


def _spike_rows(w: World) -> list[tuple]:
    """truth/spikes.csv: the planted spikes, a campaign's scoped to it."""
    spikes = []
    for s in w.spikes:
        cid = fmt_id(s["campaign"], CAMPAIGN) if s["campaign"] >= 0 else ""
        scope = f"{s['scope']}:{cid}" if cid else s["scope"]
        crowd = s.get("crowd", "planted" if s["kind"] == "abusive" else "people")
        spikes.append((scope, w.clock.iso(s["start"]), w.clock.iso(s["end"]), s["kind"], cid, crowd))
    return spikes


def _meta(w: World, summary: dict) -> dict:
    """truth/meta.json: the run's seed, scale, clock and parameters."""
    return {
        "seed": w.seed,
        "scale": w.scale,
        "tz": w.clock.tz,
        "as_of": w.clock.as_of.isoformat(),
        "window_days": w.clock.window_days,
        "window_start": w.clock.iso(w.clock.window_start),
        "window_end": w.clock.iso(w.clock.end),
        "history_start": w.clock.iso(w.clock.start),
        "summary": summary,
        "parameters": w.params,
    }
