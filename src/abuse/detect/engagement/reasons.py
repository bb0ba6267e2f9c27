"""What a farm's cluster and its members' findings say: the crew ids that tell where a member
came from, the nouns of each action, the summary sentence and the member's reason with the figures
behind it."""

from __future__ import annotations

from abuse import stats
from abuse.detect.base import Finding
from abuse.report_text import plural

PATTERN = "vote_inflation"
AUDIENCE_CREW = 1_000_000  # crew ids from ``audience`` start here
COENGAGED_CREW = 2_000_000  # crew ids from ``coengage`` start here
PUSH_CREW = 3_000_000  # push recruits (``pushes``)
NOUN = {
    "vote": ("vote", "votes"),
    "like": ("like", "likes"),
    "follow": ("follow", "follows"),
    "view": ("view", "views"),
}


def noun(action: str, k: int) -> str:
    one, many = NOUN.get(action, (f"{action} action", f"{action} actions"))
    return plural(k, one, many)


def summary(n_acc: int, inf: dict, top: dict | None, n_targets: int) -> str:
    ips = int(inf.get("ips") or 0)
    where = f"{plural(n_acc, 'account')} on {plural(ips, 'IP')}"
    if not top:
        return where + " acted together"
    s = f"{where} cast {top['from_cluster']:,} of target {top['target_id']}'s {noun(top['action'], top['total'])}"
    if top["bursts"]:
        s += f" within {top['burst_spread_s']:g} s of each other, in {plural(top['bursts'], 'burst')}"
    if n_targets > 1:
        s += f"; {plural(n_targets - 1, 'more target')} inflated"
    return s


def finding(
    a: str,
    key: str,
    n_acc: int,
    farm_s: float,
    sync: dict | None,
    crew: dict | None,
    info: dict,
    on_targets: list,
    inf: dict,
    bucket_s: float,
) -> Finding:
    own = []
    parts = []
    total = sum(e for _, _, e in on_targets)
    acts = sorted({act for _, act, _ in on_targets})
    cast_what = noun(acts[0], total) if len(acts) == 1 else plural(total, "engagement")
    lead = f"cast {cast_what} on {plural(len(on_targets), 'inflated target')} with {plural(n_acc - 1, 'other account')} of its farm"
    if sync and sync.get("sync_ok"):
        own.append(float(stats.corrected(sync["sync_surprise"], 1)))
        parts.append(
            f"{sync['sync_moments']:,} of its {plural(int(sync['moments']), 'engagement moment')} fell in "
            f"lockstep bursts (many accounts on one target within {bucket_s:g} s, against the "
            f"target's surrounding minutes)"
        )
    if crew:
        own.append(float(crew["member_surprise"]))
        if crew["crew"] >= PUSH_CREW:
            act = crew["push_action"]
            parts.append(
                f"its only {noun(act, 1).split(' ', 1)[1]} on target {crew['push_target']} came during its farm's "
                f"{crew['push_hours']:.1f}-hour push there, with {noun(act, int(crew['push_inside']))} by "
                f"accounts outside the farm where the target's own surrounding hours predict "
                f"{crew['push_expected']:.2f}"
            )
        elif crew["crew"] >= COENGAGED_CREW:
            parts.append(
                "it engaged several of its farm's targets, whose audience the farm's accounts mostly "
                "are, far beyond its own activity predicts"
            )
        elif crew["crew"] >= AUDIENCE_CREW:
            parts.append(
                "its farm's accounts boost the same targets together far beyond what independent audiences share"
            )
        else:
            parts.append(
                f"it acted from the farm's {plural(int(inf.get('blocks') or 0), 'network block')} "
                f"({plural(int(inf.get('ips') or 0), 'IP')})"
            )
    bought = int(info.get("after_purchase") or 0)
    if bought:
        parts.append(f"{plural(bought, 'engagement')} came within minutes of its own purchase or top-up")
    other = int(info.get("other_events") or 0)
    parts.append(
        "it does nothing else on the platform" if other == 0 else f"{plural(other, 'other action')} in the window"
    )
    acc_s = max(own) if own else 0.0
    evidence = {
        "targets": [{"target_id": t, "action": act, "events": int(e)} for t, act, e in on_targets],
        "sync_moments": int(sync["sync_moments"]) if sync else 0,
        "moments": int(info.get("moments") or 0),
        "sync_base_rate": round(float(sync["sync_base_rate"]), 5) if sync else None,
        "other_events": other,
        "after_purchase": int(info.get("after_purchase") or 0),
        "farm_accounts": n_acc,
        "account_surprise": round(acc_s, 2),
        "farm_surprise": round(farm_s, 2),
    }
    return Finding(
        account_id=a,
        pattern=PATTERN,
        score=float(stats.score(min(acc_s, farm_s) if own else farm_s * 0.5)),
        reason=lead + "; " + "; ".join(parts) + ".",
        evidence=evidence,
        cluster_key=key,
    )
