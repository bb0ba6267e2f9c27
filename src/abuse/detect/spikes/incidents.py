"""Spikes as incidents an analyst can work through.

- **Recurring bursts are one incident**: spikes of one scope that start at the same minute of
  the hour and are driven by largely the same accounts (each shares at least half of its top
  accounts with the one before) fold into one row with ``occurrences`` and a ``cadence``
  ("every hour at :26", "every day at 20:26"), first start to last end.
- **Flagged crowds are not explained away**: the share of a spike's first minutes' accounts that
  upstream detectors flagged, and the clusters they belong to. A release or sale explains a
  spike only while that share stays below one half; otherwise ``explained_by`` names both.

What the crowd itself says (organic signups, a new post, a shop's sale) is ``organic``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import polars as pl

from abuse.detect.base import DetectorResult, Spike
from abuse.sqlfiles import read_sql, set_variables


def fold_recurring(spikes: pl.DataFrame, tz: str, min_occurrences: int = 3, overlap: float = 0.5) -> pl.DataFrame:
    """One row per recurring incident (see the module doc); other spikes keep their row with
    ``occurrences`` 1 and no cadence."""
    if spikes.is_empty():
        return spikes.with_columns(pl.lit(1).alias("occurrences"), pl.lit(None, pl.String).alias("cadence"))
    local = pl.col("window_start").dt.convert_time_zone(tz)
    rows = spikes.with_columns(local.dt.minute().alias("_moh"), local.dt.hour().alias("_hod")).sort("window_start")
    out: list[dict] = []
    used: set[tuple[str, datetime]] = set()  # (scope, window_start) of the folded spikes
    # a sale day raises every count, but does not explain a burst that keeps its minute and accounts
    # through it: the sale's ticks join the schedule's incident
    open_ = pl.col("explained_by").is_null() | pl.col("explained_by").str.starts_with("sales calendar")
    for (scope, moh), part in rows.filter(open_).group_by(["scope", "_moh"]):
        items = part.sort("window_start").to_dicts()
        run: list[dict] = []
        for it in items + [None]:
            if it is not None and run and shares_top_accounts(run[-1], it, overlap):
                run.append(it)
                continue
            if len(run) >= min_occurrences:
                out.append(_incident(run, moh))
                used.update((r["scope"], r["window_start"]) for r in run)
            run = [it] if it is not None else []
    keep = (
        rows.filter(
            ~pl.struct("scope", "window_start").map_elements(
                lambda s: (s["scope"], s["window_start"]) in used, return_dtype=pl.Boolean
            )
        )
        .drop("_moh", "_hod")
        .with_columns(pl.lit(1).alias("occurrences"), pl.lit(None, pl.String).alias("cadence"))
    )
    if not out:
        return keep
    folded = pl.DataFrame(out, schema={**{c: keep.schema[c] for c in keep.columns}})
    return pl.concat([keep, folded]).sort("window_start", "scope")


def shares_top_accounts(a: dict, b: dict, share: float) -> bool:
    """Whether two spike rows share at least ``share`` of the smaller one's top accounts."""
    x, y = set(a["top_account_ids"] or []), set(b["top_account_ids"] or [])
    return bool(x and y) and len(x & y) >= share * min(len(x), len(y))


def _incident(run: list[dict], moh: int) -> dict:
    first, last = run[0], run[-1]
    gaps = [(b["window_start"] - a["window_start"]) for a, b in zip(run, run[1:])]
    daily = all(g % timedelta(days=1) == timedelta(0) for g in gaps)
    hour = first["_hod"]
    cadence = f"every day at {hour:02d}:{moh:02d}" if daily else f"every hour at :{moh:02d}"
    counts = Counter(a for r in run for a in (r["top_account_ids"] or []))
    row = {k: v for k, v in first.items() if not k.startswith("_")}
    row.update(
        window_start=first["window_start"],
        window_end=last["window_end"],
        observed=sum(r["observed"] for r in run),
        expected=sum(r["expected"] for r in run),
        p_value=min(r["p_value"] for r in run),
        top_account_ids=[a for a, _ in counts.most_common(len(first["top_account_ids"] or []) or 10)],
        occurrences=len(run),
        cadence=cadence,
        explained_by=None,
    )
    return row


def flagged_crowds(con, spikes: pl.DataFrame, upstream: dict[str, DetectorResult], minutes: int) -> pl.DataFrame:
    """Per spike: how many accounts acted in its first ``minutes`` minutes (or in all of it, where
    that crowd is more flagged: sql/features/spikes_flagged.sql), how many of them
    upstream detectors flagged, and the (pattern, cluster_key)s of those flagged, most first.
    Needs the TEMP table ``spikes_events``."""
    flagged = [(f.account_id, f.pattern, f.cluster_key) for r in upstream.values() for f in r.findings]
    empty = spikes.select("scope", "window_start").with_columns(
        pl.lit(0).alias("n_accounts"),
        pl.lit(0).alias("n_flagged"),
        pl.lit(None, pl.String).alias("top_pattern"),
        pl.lit([], pl.List(pl.String)).alias("cluster_keys"),
        pl.lit(False).alias("whole"),
    )
    if spikes.is_empty() or not flagged:
        return empty
    marks = pl.DataFrame(
        flagged, schema={"account_id": pl.String, "pattern": pl.String, "cluster_key": pl.String}, orient="row"
    ).unique("account_id", keep="first")
    con.register("spikes_flagged_marks", marks.to_arrow())
    con.register("spikes_crowd_found", spikes.select("scope", "window_start", "window_end").to_arrow())
    try:
        set_variables(con, spikes_crowd_min=minutes)
        crowd = con.sql(read_sql("features/spikes_flagged.sql")).pl()
    finally:
        con.unregister("spikes_flagged_marks")
        con.unregister("spikes_crowd_found")
    return crowd


def explain_flagged(
    explained: str | None, share: float, pattern: str | None, minutes: int, whole: bool = False
) -> str | None:
    """The honest explanation: a release or sale, and who drove it when they are mostly flagged
    (in its first ``minutes`` minutes, or over ``whole`` of it)."""
    if share < 0.5 or pattern is None:
        return explained
    crowd = "the burst's accounts" if whole else f"the first {minutes} minutes' accounts"
    who = f"{share:.0%} of {crowd} are flagged {pattern} (see cluster_ids)"
    return f"{explained}; {who}" if explained else None


def fold_cases(spikes: list[Spike]) -> list[Spike]:
    """One row per case: unexplained bursts of one scope family that are mostly driven by the
    same flagged case (a vote farm's bursts, a bot batch's ticks and their logins) are one
    incident, at the scope that carries most of it, spanning its first to its last burst, with
    ``occurrences`` the bursts folded. Explained bursts (a release, a sale) keep their own rows:
    each names its own cause."""
    groups: dict[tuple[str, tuple[str, str]], list[Spike]] = {}
    out: list[Spike] = []
    for s in spikes:
        if s.explained_by is None and s.cluster_keys and (s.flagged_share or 0) >= 0.5:
            groups.setdefault((s.scope.split(":", 1)[0], s.cluster_keys[0]), []).append(s)
        else:
            out.append(s)
    for (_, _), part in sorted(groups.items()):
        if len(part) == 1:
            out.extend(part)
            continue
        by_scope: dict[str, float] = {}
        for s in part:
            by_scope[s.scope] = by_scope.get(s.scope, 0.0) + s.observed
        scope = max(sorted(by_scope), key=lambda k: by_scope[k])
        main = [s for s in part if s.scope == scope]
        strongest = max(part, key=lambda s: (s.score, s.observed))
        cadences = {s.cadence for s in main if s.cadence}
        occurrences = sum(s.occurrences for s in main)
        top = list(dict.fromkeys(a for s in sorted(main, key=lambda s: -s.observed) for a in s.top_account_ids))
        keys = list(dict.fromkeys(k for s in part for k in s.cluster_keys))
        n = sum(s.observed for s in main)
        out.append(
            Spike(
                scope=scope,
                window_start=min(s.window_start for s in part),
                window_end=max(s.window_end for s in part),
                observed=n,
                expected=round(sum(s.expected for s in main), 3),
                score=strongest.score,
                top_account_ids=top[:20],
                explained_by=None,
                p_value=strongest.p_value,
                occurrences=occurrences,
                cadence=cadences.pop() if len(cadences) == 1 else f"{occurrences} bursts at irregular times",
                flagged_share=round(sum((s.flagged_share or 0) * s.observed for s in main) / max(n, 1.0), 4),
                cluster_keys=keys,
            )
        )
    return sorted(out, key=lambda s: (s.window_start, s.scope))


def drop_inside_incidents(found: pl.DataFrame, tz: str, overlap: float = 0.5) -> pl.DataFrame:
    """Leave out family rows (``activity``, one-off or recurring) that are ticks of a narrower recurring
    incident (``activity:lottery_spin``, every hour at :41): inside its span, at its minute of the
    hour, driven by largely the same accounts. The incident's row says it."""
    recurring = found.filter(pl.col("cadence").is_not_null() & pl.col("scope").str.contains(":")).to_dicts()
    if not recurring:
        return found
    local = pl.col("window_start").dt.convert_time_zone(tz).dt.minute()
    family = (
        found.with_row_index("_i")
        .with_columns(local.alias("_moh"))
        .filter(~pl.col("scope").str.contains(":") & pl.col("explained_by").is_null())
    )
    drop = set()
    for r in family.to_dicts():
        for q in recurring:
            moh = q["cadence"].rsplit(":", 1)[-1]
            same_tick = r["cadence"] == q["cadence"] if r["cadence"] else moh.isdigit() and int(moh) == r["_moh"]
            if (
                q["scope"].split(":", 1)[0] == r["scope"]
                and q["window_start"] <= r["window_start"] < q["window_end"]
                and same_tick
                and shares_top_accounts(q, r, overlap)
            ):
                drop.add(r["_i"])
    return found.with_row_index("_i").filter(~pl.col("_i").is_in(list(drop))).drop("_i")
