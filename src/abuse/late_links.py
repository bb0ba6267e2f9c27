"""Spike rows and the cases found after them. The spikes detector runs before the detectors that
read its results (timing's bots, batches), so its rows cannot name their cases; when the report
is written (``cases.write_results``), each row learns of them here: the batch made of a registration
burst, and the clusters holding a good share of a row's top accounts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime


def burst_clusters(results: dict) -> dict:
    """Clusters of detectors that read the spikes and name the registration burst they come from
    (``evidence.burst_start``, e.g. ``batch_registration``): burst start -> [(pattern, key, share
    of the burst's registrants in the cluster)]. The spikes detector runs before them, so its rows
    learn of these cases here."""
    out: dict = {}
    for r in results.values():
        for c in r.clusters:
            ev = c.evidence or {}
            if ev.get("burst_start") and ev.get("burst_members"):
                start = datetime.fromisoformat(ev["burst_start"])
                share = len(c.account_ids) / max(int(ev["burst_members"]), 1)
                out.setdefault(start, []).append((c.pattern, c.cluster_key, share))
    return out


def with_burst_cases(s, bursts: dict):
    """A registrations spike with the cases made of its burst's accounts linked (and their share)."""
    found = bursts.get(s.window_start) if s.scope.split(":", 1)[0] == "registrations" else None
    if not found:
        return s
    share = max([s.flagged_share or 0.0] + [f[2] for f in found])
    keys = list(s.cluster_keys) + [(p, k) for p, k, _ in found]
    return replace(s, flagged_share=round(min(share, 1.0), 4), cluster_keys=keys)


def late_cases(results: dict) -> dict[str, list[tuple[str, str | None]]]:
    """account -> (pattern, cluster_key or None) of what detectors that read the spikes flagged
    (``requires`` spikes: timing's bot cases, batches): the spikes detector could not see them."""
    from abuse.detect.base import all_detectors

    registry = all_detectors()
    out: dict[str, list[tuple[str, str | None]]] = {}
    for name, r in results.items():
        cls = registry.get(name)
        if cls is None or "spikes" not in cls.requires:
            continue
        for c in r.clusters:
            for a in c.account_ids:
                out.setdefault(a, []).append((c.pattern, c.cluster_key))
        for f in r.findings:  # flagged alone (a lone bot): counted in the share, nothing to link
            out.setdefault(f.account_id, []).append((f.pattern, None))
    return out


def with_late_cases(s, late: dict[str, list[tuple[str, str | None]]], min_share: float = 0.2):
    """A spike row learns of what was found after the spikes: when at least ``min_share`` of its
    top accounts (and two) were flagged by such a detector, the share of its top accounts flagged
    becomes ``flagged_share`` (when larger) and the clusters holding that many are linked. A row
    that already names cases learns of them only when they account for more of its crowd than
    those do (a bot tick whose crowd also holds some of a batch's accounts names both)."""
    top = list(s.top_account_ids or [])
    if not top or not late:
        return s
    counts: dict[tuple, int] = {}
    for a in top:
        for k in dict.fromkeys(late.get(a, [])):
            counts[k] = counts.get(k, 0) + 1
    keys = sorted(k for k, n in counts.items() if k[1] is not None and n >= 2 and n >= min_share * len(top))
    held = sum(1 for a in top if a in late)
    if held < 2 or held < min_share * len(top):
        return s
    if s.cluster_keys and (s.flagged_share or 0.0) >= held / len(top):
        return s  # the cases it names already account for as much of its crowd
    share = max(s.flagged_share or 0.0, held / len(top))
    explained = s.explained_by
    if explained and held >= 0.5 * len(top):  # a benign cause no longer explains it alone
        patterns = sorted({k[0] for a in top for k in late.get(a, [])})
        explained = f"{explained}; {held / len(top):.0%} of its top accounts are flagged {', '.join(patterns)}"
    linked = list(dict.fromkeys([tuple(k) for k in s.cluster_keys] + [tuple(k) for k in keys]))
    return replace(s, flagged_share=round(share, 4), cluster_keys=linked, explained_by=explained)
