"""Spikes as incidents an analyst can work through.

- **Recurring bursts are one incident**: spikes of one scope that start at the same minute of
  the hour and are driven by largely the same accounts (each shares at least half of its top
  accounts with the one before) fold into one row with ``occurrences`` and a ``cadence``
  ("every hour at :26", "every day at 20:26"), first start to last end.
- **Flagged crowds are not explained away**: the share of a spike's first minutes' accounts that
  upstream detectors flagged, and the clusters they belong to. A release or sale explains a
  spike only while that share stays below one half; otherwise ``explained_by`` names both.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import polars as pl

from abuse.detect.base import DetectorResult
from abuse.sqlfiles import read_sql, set_variables


def fold_recurring(spikes: pl.DataFrame, tz: str, min_occurrences: int = 3, overlap: float = 0.5) -> pl.DataFrame:
    """One row per recurring incident (see the module doc); other spikes keep their row with
    ``occurrences`` 1 and no cadence."""
    if spikes.is_empty():
        return spikes.with_columns(pl.lit(1).alias("occurrences"), pl.lit(None, pl.String).alias("cadence"))
    local = pl.col("window_start").dt.convert_time_zone(tz)
    rows = spikes.with_columns(local.dt.minute().alias("_moh"), local.dt.hour().alias("_hod")).sort("window_start")
    out, used = [], set()
    for (scope, moh), part in rows.filter(pl.col("explained_by").is_null()).group_by(["scope", "_moh"]):
        items = part.sort("window_start").to_dicts()
        run: list[dict] = []
        for it in items + [None]:
            if it is not None and run and _overlaps(run[-1], it, overlap):
                run.append(it)
                continue
            if len(run) >= min_occurrences:
                out.append(_incident(run, moh))
                used.update(id(r) for r in run)
                used.update((r["scope"], r["window_start"]) for r in run)
            run = [it] if it is not None else []
    keep = rows.filter(
        ~pl.struct("scope", "window_start").map_elements(
            lambda s: (s["scope"], s["window_start"]) in used, return_dtype=pl.Boolean)
    ).drop("_moh", "_hod").with_columns(
        pl.lit(1).alias("occurrences"), pl.lit(None, pl.String).alias("cadence"))
    if not out:
        return keep
    folded = pl.DataFrame(out, schema={**{c: keep.schema[c] for c in keep.columns}})
    return pl.concat([keep, folded]).sort("window_start", "scope")


def _overlaps(a: dict, b: dict, share: float) -> bool:
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
        window_start=first["window_start"], window_end=last["window_end"],
        observed=sum(r["observed"] for r in run), expected=sum(r["expected"] for r in run),
        p_value=min(r["p_value"] for r in run),
        top_account_ids=[a for a, _ in counts.most_common(len(first["top_account_ids"] or []) or 10)],
        occurrences=len(run), cadence=cadence,
    )
    return row


def flagged_crowds(con, spikes: pl.DataFrame, upstream: dict[str, DetectorResult], minutes: int) -> pl.DataFrame:
    """Per spike: how many accounts acted in its first ``minutes`` minutes, how many of them
    upstream detectors flagged, and the (pattern, cluster_key)s of those flagged, most first.
    Needs the TEMP table ``spikes_events``."""
    flagged = [(f.account_id, f.pattern, f.cluster_key) for r in upstream.values() for f in r.findings]
    empty = spikes.select("scope", "window_start").with_columns(
        pl.lit(0).alias("n_accounts"), pl.lit(0).alias("n_flagged"), pl.lit(None, pl.String).alias("top_pattern"),
        pl.lit([], pl.List(pl.String)).alias("cluster_keys"))
    if spikes.is_empty() or not flagged:
        return empty
    marks = pl.DataFrame(flagged, schema={"account_id": pl.String, "pattern": pl.String, "cluster_key": pl.String},
                         orient="row").unique("account_id", keep="first")
    con.register("spikes_flagged_marks", marks.to_arrow())
    con.register("spikes_crowd_found", spikes.select("scope", "window_start", "window_end").to_arrow())
    try:
        set_variables(con, spikes_crowd_min=minutes)
        crowd = con.sql(read_sql("features/spikes_flagged.sql")).pl()
    finally:
        con.unregister("spikes_flagged_marks")
        con.unregister("spikes_crowd_found")
    return crowd


def explain_flagged(explained: str | None, share: float, pattern: str | None, minutes: int) -> str | None:
    """The honest explanation: a release or sale, and who drove it when they are mostly flagged."""
    if share < 0.5 or pattern is None:
        return explained
    who = f"{share:.0%} of the first {minutes} minutes' accounts are flagged {pattern} (see cluster_ids)"
    return f"{explained}; {who}" if explained else None
