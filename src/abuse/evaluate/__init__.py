"""Scoring a report against the truth files that ``abuse generate`` writes.

Account level per pattern (precision, recall, F1), cluster recovery (a planted ring or batch
counts as recovered when one reported cluster holds at least half of its members), victim-shop
recall for rings, client-shop recall for brushing crews, inflated-target recall for
vote_inflation, false positives on each benign look-alike, and whether each planted spike was
reported and explained as it should be. Beside a pattern's recall, the recall over the planted
members that acted in the run's window (``window``): brushers that brushed, ring victims a
member attacked, hoarders that claimed (and that redeemed) a coupon, voters that cast their
crew's inflated action on one of its targets; a member with no such act leaves no trace.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from abuse.evaluate import window
from abuse.evaluate.truth import read_truth, truth_dir


def _prf(flagged: set[str], truth: set[str]) -> dict[str, Any]:
    tp = len(flagged & truth)
    p = tp / len(flagged) if flagged else (1.0 if not truth else 0.0)
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "tp": tp,
        "fp": len(flagged - truth),
        "fn": len(truth - flagged),
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
    }


def _spike_scores(con: duckdb.DuckDBPyConnection, truth: Path) -> list[dict[str, Any]]:
    """Each planted spike: reported (a row of its scope or family overlapping it) and explained
    as it should be. A row whose accounts are mostly flagged is not explained away, whatever
    release or sale it names."""
    cols = {r[0] for r in con.execute("DESCRIBE report.activity_spikes").fetchall()}
    share = "flagged_share" if "flagged_share" in cols else "NULL"
    reported = con.execute(
        f"SELECT scope, window_start, window_end, explained_by IS NOT NULL AND coalesce({share}, 0) < 0.5 "
        "FROM report.activity_spikes"
    ).fetchall()
    out = []
    for s in read_truth(truth / "spikes.csv"):
        start = datetime.fromisoformat(s["window_start"])
        end = datetime.fromisoformat(s["window_end"])
        family = s["scope"].split(":")[0]
        hits = [
            r for r in reported if (r[0] == s["scope"] or r[0].split(":")[0] == family) and r[1] < end and r[2] > start
        ]
        exact = [r for r in hits if r[0] == s["scope"]] or hits
        # a release crowd of planted accounts is abuse, whatever the release explains
        want_explained = s["kind"] != "abusive" and s.get("crowd", "people") != "planted"
        # reported as it should be by one of the rows that overlap it (a family-wide truth row may
        # overlap another incident's row, e.g. a fan base's posts folded over weeks)
        explained = any(r[3] for r in exact) if want_explained else all(r[3] for r in exact)
        # a quiet release of people (a dozen claims in its first minutes) is no spike to explain
        quiet = not exact and s["kind"] == "benign_campaign" and s.get("crowd", "people") == "people"
        out.append(
            {
                **s,
                "reported": bool(exact),
                "explained": explained,
                "ok": quiet or (bool(exact) and explained == want_explained),
            }
        )
    return out


def _target_recall(db: Path, truth: Path, by_pattern: dict[str, Any]) -> None:
    """vote_inflation: the share of planted inflated targets (truth/inflated_targets.csv) that
    report.inflated_targets names, and the ones it missed."""
    planted = {r["target_id"] for r in read_truth(truth / "inflated_targets.csv")}
    if not planted:
        return
    con = duckdb.connect(str(db), read_only=True)
    try:
        named = {r[0] for r in con.execute("SELECT DISTINCT target_id FROM report.inflated_targets").fetchall()}
    except duckdb.Error:  # a report from before the view existed
        named = set()
    finally:
        con.close()
    by_pattern.setdefault("vote_inflation", {}).update(
        target_recall=round(len(planted & named) / len(planted), 4),
        targets_missed=sorted(planted - named),
        targets_named=len(named),
        targets_planted=len(planted),
    )


def evaluate(db: Path, truth: Path) -> dict[str, Any]:
    truth = truth_dir(Path(truth))
    con = duckdb.connect(str(db), read_only=True)
    try:
        flagged = con.execute("SELECT account_id, pattern, cluster_id FROM report.flagged_accounts").fetchall()
        clusters = con.execute("SELECT cluster_id, pattern, account_ids, shop_ids FROM report.clusters").fetchall()
        spikes = _spike_scores(con, truth)
    finally:
        con.close()
    truth_rows = read_truth(truth / "accounts.csv")
    by_pattern = _pattern_scores(truth_rows, flagged, clusters)
    _shop_recall(by_pattern, clusters, truth / "ring_shops.csv", "extortion_ring", "victim_shop", precision=False)
    _target_recall(db, truth, by_pattern)
    window.attacked_victim_recall(db, truth, by_pattern, clusters)
    _client_shop_recall(by_pattern, clusters, truth)
    window.active_brusher_recall(db, truth, by_pattern, flagged)
    window.active_hoarder_recall(db, truth, by_pattern, flagged)
    window.active_voter_recall(db, truth, by_pattern, flagged)
    lookalikes = _lookalike_scores(read_truth(truth / "lookalikes.csv"), flagged)
    evasions = by_evasion(truth_rows, flagged, clusters)
    return {
        "patterns": by_pattern,
        "lookalikes": lookalikes,
        "spikes": spikes,
        "by_evasion": evasions,
        "by_role": by_role(truth_rows, flagged),
    }


def _pattern_scores(
    truth_rows: list[dict[str, str]], flagged: list[tuple], clusters: list[tuple]
) -> dict[str, dict[str, Any]]:
    """Per pattern (planted or reported): account precision and recall, and how many planted
    groups a reported cluster recovers (holds at least half of the group)."""
    patterns = sorted({r["pattern"] for r in truth_rows} | {f[1] for f in flagged})
    by_pattern: dict[str, Any] = {}
    for pat in patterns:
        t = {r["account_id"] for r in truth_rows if r["pattern"] == pat}
        f = {a for a, p, _ in flagged if p == pat}
        scores = _prf(f, t)
        groups: dict[str, set[str]] = defaultdict(set)
        for r in truth_rows:
            if r["pattern"] == pat and r.get("cluster"):
                groups[r["cluster"]].add(r["account_id"])
        reported = [set(ids or []) for _, p, ids, _ in clusters if p == pat]
        recovered = sum(
            1 for members in groups.values() if any(len(members & c) >= 0.5 * len(members) for c in reported)
        )
        scores.update(
            truth_clusters=len(groups),
            reported_clusters=len(reported),
            clusters_recovered=recovered,
            cluster_recovery=round(recovered / len(groups), 4) if groups else None,
        )
        by_pattern[pat] = scores
    return by_pattern


def _shop_recall(
    by_pattern: dict[str, Any], clusters: list[tuple], planted_file: Path, pattern: str, key: str, precision: bool
) -> None:
    """`<key>_recall`: share of the planted shops (a truth file's shop_id) among the shop_ids of
    the reported clusters of `pattern`; with `precision`, also `<key>_precision`, the share of
    reported shops that are planted ones. Nothing when nothing is planted."""
    planted = {r["shop_id"] for r in read_truth(planted_file)}
    if not planted:
        return
    found = {s for _, p, _, shops in clusters if p == pattern for s in (shops or [])}
    scores = by_pattern.setdefault(pattern, {})
    scores[f"{key}_recall"] = round(len(found & planted) / len(planted), 4)
    if precision:
        scores[f"{key}_precision"] = round(len(found & planted) / len(found), 4) if found else None


def _lookalike_scores(members_rows: list[dict[str, str]], flagged: list[tuple]) -> dict[str, Any]:
    """Per kind of benign look-alike (truth/lookalikes.csv): how many of its accounts and
    groups were flagged, and by which patterns."""
    flagged_by_account: dict[str, set[str]] = defaultdict(set)
    for a, p, _ in flagged:
        flagged_by_account[a].add(p)
    lookalikes: dict[str, Any] = {}
    for kind in sorted({r["lookalike"] for r in members_rows}):
        members = [r for r in members_rows if r["lookalike"] == kind]
        per_pattern = Counter(p for r in members for p in flagged_by_account.get(r["account_id"], ()))
        hit_groups = {r["group"] for r in members if flagged_by_account.get(r["account_id"])}
        lookalikes[kind] = {
            "accounts": len(members),
            "flagged": sum(1 for r in members if flagged_by_account.get(r["account_id"])),
            "groups_flagged": len(hit_groups),
            "by_pattern": dict(per_pattern),
        }
    return lookalikes


def by_role(truth_rows: list[dict[str, str]], flagged: list[tuple]) -> dict[str, dict[str, Any]]:
    """Per pattern with more than one planted role (truth/accounts.csv ``role``: e.g. a
    held-out set's ``loner``/``crew_food`` refunders, ``bought``/``part_timer`` brushers):
    recall over the planted accounts of each role, so a miss names the kind of account that
    got through when the truth has no ``evasion`` for the pattern."""
    roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in truth_rows:
        roles[r["pattern"]][r.get("role") or "-"].add(r["account_id"])
    hit = {(a, pat) for a, pat, _ in flagged}
    out: dict[str, dict[str, Any]] = {}
    for pat, by in sorted(roles.items()):
        if len(by) < 2:
            continue
        out[pat] = {
            role: {
                "accounts": len(accs),
                "tp": sum((a, pat) in hit for a in accs),
                "recall": round(sum((a, pat) in hit for a in accs) / len(accs), 4),
            }
            for role, accs in sorted(by.items())
        }
    return out


def by_evasion(
    truth_rows: list[dict[str, str]], flagged: list[tuple], clusters: list[tuple]
) -> dict[str, dict[str, Any]]:
    """Per pattern and evasion tactic (the ``evasion`` column of truth/accounts.csv, ``;``
    separated; crews without one count as ``none``): recall over the planted accounts whose
    crew used the tactic, and precision over the reported clusters of that pattern whose
    planted members mostly come from such crews (their other members being the false
    positives they drag in). A regression names the tactic that beat the detector."""
    out: dict[str, dict[str, Any]] = {}
    tactics_of: dict[tuple[str, str], set[str]] = {}
    crew_of: dict[tuple[str, str], str] = {}
    for r in truth_rows:
        tactics = {t for t in (r.get("evasion") or "").split(";") if t} or {"none"}
        tactics_of[(r["pattern"], r["account_id"])] = tactics
        crew_of[(r["pattern"], r["account_id"])] = r.get("cluster") or r["account_id"]
    flagged_by = defaultdict(set)
    for a, pat, _ in flagged:
        flagged_by[pat].add(a)
    for pat in sorted({p for p, _ in tactics_of}):
        planted = {a: t for (p, a), t in tactics_of.items() if p == pat}
        rows: dict[str, Any] = {}
        for tactic in sorted({t for ts in planted.values() for t in ts}):
            accs = {a for a, ts in planted.items() if tactic in ts}
            tp = len(accs & flagged_by[pat])
            kept = flagged_in = 0
            for _, p, ids, _ in clusters:
                ids = set(ids or [])
                if p != pat or not ids:
                    continue
                true_ids = ids & planted.keys()
                if true_ids and len(true_ids & accs) * 2 > len(true_ids):
                    flagged_in += len(ids)
                    kept += len(true_ids)
            rows[tactic] = {
                "accounts": len(accs),
                "crews": len({crew_of[(pat, a)] for a in accs}),
                "tp": tp,
                "recall": round(tp / len(accs), 4) if accs else None,
                "precision": round(kept / flagged_in, 4) if flagged_in else None,
            }
        out[pat] = rows
    return out


def _client_shop_recall(by_pattern: dict[str, Any], clusters: list[tuple], truth: Path) -> None:
    """brushing_ring: share of the planted crews' client shops (truth/brushing_shops.csv)
    among the shop_ids of the reported brushing clusters, and the share of reported client
    shops that are planted ones."""
    _shop_recall(by_pattern, clusters, truth / "brushing_shops.csv", "brushing_ring", "client_shop", precision=True)


# The figures some patterns have beyond precision and recall, one line each under the pattern's.
_PATTERN_EXTRAS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("victim_shop_recall", lambda s: f"victim-shop recall {s['victim_shop_recall']:.3f}"),
    (
        "victim_shop_recall_attacked",
        lambda s: (
            f"victim-shop recall {s['victim_shop_recall_attacked']:.3f} "
            f"of the {s['victims_attacked']} victims a member attacked in the window"
        ),
    ),
    ("client_shop_recall", lambda s: f"client-shop recall {s['client_shop_recall']:.3f}"),
    (
        "active_member_recall",
        lambda s: (
            f"recall {s['active_member_recall']:.3f} of the {s['active_members']} members that brushed in the window"
        ),
    ),
    (
        "claiming_member_recall",
        lambda s: (
            f"recall {s['claiming_member_recall']:.3f} of the {s['claiming_members']} members that claimed "
            "in the window"
            + (
                f"; {s['redeeming_member_recall']:.3f} of the {s['redeeming_members']} that redeemed"
                if s.get("redeeming_member_recall") is not None
                else ""
            )
        ),
    ),
    (
        "engaged_member_recall",
        lambda s: (
            f"recall {s['engaged_member_recall']:.3f} of the {s['engaged_members']} members that engaged "
            "their crew's targets in the window"
        ),
    ),
    (
        "target_recall",
        lambda s: (
            f"inflated-target recall {s['target_recall']:.3f} "
            f"({s['targets_planted'] - len(s['targets_missed'])}/{s['targets_planted']})"
        ),
    ),
]


def format_scores(scores: dict[str, Any]) -> str:
    lines = ["pattern              precision  recall     f1   tp   fp   fn  clusters recovered"]
    for pat, s in scores["patterns"].items():
        rec = f"{s['clusters_recovered']}/{s['truth_clusters']}" if s.get("truth_clusters") else "-"
        lines.append(
            f"{pat:<20} {s.get('precision', 0):>9.3f} {s.get('recall', 0):>7.3f} "
            f"{s.get('f1', 0):>6.3f} {s.get('tp', 0):>4} {s.get('fp', 0):>4} {s.get('fn', 0):>4}"
            f"  {rec:>18}"
        )
        lines.extend(f"{'':<20} {say(s)}" for key, say in _PATTERN_EXTRAS if key in s)
    lines.append("benign look-alikes (accounts flagged / accounts, by pattern):")
    for kind, s in scores["lookalikes"].items():
        lines.append(f"  {kind:<20} {s['flagged']:>4} / {s['accounts']:<5} {s['by_pattern'] or ''}")
    for pat, rows in scores.get("by_evasion", {}).items():
        if set(rows) == {"none"}:
            continue
        lines.append(f"{pat} by evasion (recall of crews using it; precision of their clusters):")
        for tactic, r in rows.items():
            prec = "-" if r["precision"] is None else f"{r['precision']:.3f}"
            lines.append(
                f"  {tactic:<20} recall {r['recall']:.3f} ({r['tp']}/{r['accounts']} "
                f"accounts, {r['crews']} crews)  precision {prec}"
            )
    for pat, rows in scores.get("by_role", {}).items():
        lines.append(
            f"{pat} by role (recall): "
            + ", ".join(f"{role} {r['recall']:.3f} ({r['tp']}/{r['accounts']})" for role, r in rows.items())
        )
    if scores["spikes"]:
        lines.append("planted spikes (want: abusive unexplained, benign explained):")
        for s in scores["spikes"]:
            state = "explained" if s["explained"] else "unexplained"
            kind = s["kind"] + ("/planted" if s.get("crowd") == "planted" and s["kind"] != "abusive" else "")
            lines.append(
                f"  {'ok  ' if s['ok'] else 'MISS'} {kind:<16} {s['scope']:<28} "
                f"{s['window_start']}  reported={s['reported']} {state}"
            )
    return "\n".join(lines)
