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

import math
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import polars as pl

from abuse.detect.base import DetectorResult, Spike
from abuse.report_text import plural
from abuse.sqlfiles import read_sql, set_variables
from abuse.stats import surprise_binom


def fold_recurring(spikes: pl.DataFrame, tz: str, min_occurrences: int = 3, overlap: float = 0.5) -> pl.DataFrame:
    """One row per recurring incident (see the module doc); other spikes keep their row with
    ``occurrences`` 1 and no cadence."""
    if spikes.is_empty():
        return spikes.with_columns(pl.lit(1).alias("occurrences"), pl.lit(None, pl.String).alias("cadence"))
    local = pl.col("window_start").dt.convert_time_zone(tz)
    rows = spikes.with_columns(local.dt.minute().alias("_moh"), local.dt.hour().alias("_hod")).sort("window_start")
    out, used = [], set()
    # a sale day raises every count, but does not explain a burst that keeps its minute and accounts
    # through it: the sale's ticks join the schedule's incident
    open_ = pl.col("explained_by").is_null() | pl.col("explained_by").str.starts_with("sales calendar")
    for (scope, moh), part in rows.filter(open_).group_by(["scope", "_moh"]):
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


DIVERSE = 0.7  # a crowd of people: at least this many distinct devices per account (a farm shares few)


def organic(con, found: pl.DataFrame, tz: str, alpha: float) -> pl.DataFrame:
    """Explanations read from the crowd itself, for spikes no release or sale explains and whose
    accounts are mostly not flagged (``n_flagged / n_accounts`` below one half):

    - a registration spike most of whose new accounts go on to use the app, about as often as
      the window's new accounts do (their idle share not beyond the base rate: binomial tail above
      ``alpha``) is organic signups (a TV ad, a news story), or a referral wave when most of
      them name one inviter; a batch's throwaway accounts stay idle, so it stays unexplained;
    - either only when the crowd is on its own devices (at least ``DIVERSE`` distinct devices per
      account): a farm or a batch runs many accounts on few machines;
    - an activity spike most of whose events go to a target that first appeared in the log at
      the spike is the crowd of a new post or entry (like a release).

    Needs the TEMP table ``spikes_events``."""
    if found.is_empty():
        return found
    share = pl.col("n_flagged").fill_null(0) / pl.col("n_accounts").fill_null(0).clip(lower_bound=1)
    # one-off crowds only: a burst that recurs with a cadence is a schedule, not a new post or an ad
    open_rows = found.filter(pl.col("explained_by").is_null() & (share < 0.5) & (pl.col("occurrences") == 1))
    open_rows = open_rows.filter(pl.col("scope").str.split(":").list.first().is_in(["registrations", "activity"]))
    if open_rows.is_empty():
        return found
    con.register("spikes_organic_found", open_rows.select("scope", "window_start", "window_end").to_arrow())
    try:
        signups = con.sql(read_sql("features/spikes_signups.sql")).pl()
        targets = con.sql(read_sql("features/spikes_new_targets.sql")).pl()
    finally:
        con.unregister("spikes_organic_found")
    why: dict[tuple, str] = {}
    cause: dict[tuple, str] = {}  # what one explained crowd shares with another: its inviter, its target
    _signup_reasons(signups, alpha, why, cause)
    _target_reasons(targets, ZoneInfo(tz), why, cause)
    if not why:
        return found
    keys = pl.DataFrame(
        [(s, t, w, cause.get((s, t))) for (s, t), w in why.items()],
        orient="row",
        schema={
            "scope": pl.String,
            "window_start": found.schema["window_start"],
            "_organic": pl.String,
            "_cause": pl.String,
        },
    )
    found = (
        found.join(keys, on=["scope", "window_start"], how="left")
        .with_columns(pl.coalesce("explained_by", "_organic").alias("explained_by"))
        .drop("_organic")
    )
    return fold_explained(found).drop("_cause")


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
                and _overlaps(q, r, overlap)
            ):
                drop.add(r["_i"])
    return found.with_row_index("_i").filter(~pl.col("_i").is_in(list(drop))).drop("_i")


def _signup_reasons(signups: pl.DataFrame, alpha: float, why: dict, cause: dict) -> None:
    """Organic signups or a referral wave (see ``organic``), into ``why`` and ``cause``."""
    for r in signups.iter_rows(named=True):
        n, active = int(r["n_members"]), int(r["n_active"])
        base_idle = (r["registered"] - r["registered_active"] + 1) / (r["registered"] + 2)
        # most of them active, and not idler than the window's new accounts in general
        if (
            active < 0.5 * max(n, 1)
            or r["n_devices"] < DIVERSE * n
            or float(surprise_binom(n - active, n, base_idle)) >= -math.log10(alpha)
        ):
            continue
        use = (
            f"{active / n:.0%} of the {plural(n, 'new account')} went on to use the app "
            f"(the window's new accounts: {1 - base_idle:.0%})"
        )
        if r["n_top_inviter"] >= 0.5 * n:
            why[(r["scope"], r["window_start"])] = (
                f"referral wave: {r['n_top_inviter'] / n:.0%} of them invited by {r['top_inviter']}; {use}"
            )
            cause[(r["scope"], r["window_start"])] = f"inviter:{r['top_inviter']}"
        else:
            why[(r["scope"], r["window_start"])] = f"organic signups: {use}"
            cause[(r["scope"], r["window_start"])] = "organic"


def _target_reasons(targets: pl.DataFrame, zone, why: dict, cause: dict) -> None:
    """The crowd of a new post or entry (see ``organic``), into ``why`` and ``cause``."""
    for r in targets.iter_rows(named=True):
        first, start = r["first_seen"], r["window_start"]
        if (
            first is None
            or r["n_events"] == 0
            or r["n_top"] < 0.5 * r["n_events"]
            or first < start - timedelta(minutes=30)
            or r["n_devices"] < DIVERSE * r["n_accounts"]
        ):
            continue
        why[(r["scope"], start)] = (
            f"first appearance of target {r['top_target']} at {first.astimezone(zone):%Y-%m-%d %H:%M} "
            f"(a new post or entry): {r['n_top'] / r['n_events']:.0%} of the burst's events"
        )
        cause[(r["scope"], start)] = f"target:{r['top_target']}"


ORGANIC_GAP = timedelta(minutes=30)  # organic signup bursts closer than this are one crowd


def fold_explained(found: pl.DataFrame, overlap: float = 0.3) -> pl.DataFrame:
    """Crowds explained by the same kind of cause are one incident: a family row (``activity``)
    goes when a narrower row (``activity:like``) names the same target over the same time; the
    bursts of one referral (same inviter) are one row; organic signup bursts of one scope within
    ``ORGANIC_GAP`` of each other (one TV ad's waves) are one row; bursts on new targets driven by largely
    the same accounts (a star's fans at each new post: at least ``overlap`` of their top
    accounts shared with the one before) are one row, with ``occurrences`` and first to last."""
    rows = found.to_dicts()
    caused = [r for r in rows if r.get("_cause")]
    drop = set()
    for r in caused:
        if ":" in r["scope"]:
            continue
        for q in caused:
            if (
                q["scope"].startswith(r["scope"] + ":")
                and q["_cause"] == r["_cause"]
                and q["window_start"] < r["window_end"]
                and q["window_end"] > r["window_start"]
            ):
                drop.add(id(r))
    caused = [r for r in caused if id(r) not in drop]
    groups: list[list[dict]] = []
    for r in sorted(caused, key=lambda r: (r["scope"], r["window_start"])):
        for g in groups:
            last = g[-1]
            same = last["scope"] == r["scope"] and (
                last["_cause"] == r["_cause"]
                if r["_cause"].startswith("inviter:")
                else (
                    last["_cause"] == r["_cause"] == "organic" and r["window_start"] - last["window_end"] <= ORGANIC_GAP
                )
                if r["_cause"] == "organic"
                else last["_cause"].startswith("target:")
                and r["_cause"].startswith("target:")
                and _overlaps(last, r, overlap)
            )
            if same:
                g.append(r)
                break
        else:
            groups.append([r])
    out = [r for r in rows if not r.get("_cause")]
    for g in groups:
        if len(g) == 1:
            out.append(g[0])
            continue
        first = g[0]
        counts = Counter(a for r in g for a in (r["top_account_ids"] or []))
        if first["_cause"].startswith("target:"):
            targets = [r["_cause"].split(":", 1)[1] for r in g]
            why = (
                f"first appearances of {len(g)} targets ({', '.join(targets[:5])}{', ...' if len(g) > 5 else ''}: "
                f"new posts or entries), each crowded at once by largely the same accounts"
            )
        elif first["_cause"] == "organic":
            why = f"{len(g)} bursts of organic signups minutes apart; the first: " + first["explained_by"].removeprefix(
                "organic signups: "
            )
        else:
            why = f"{len(g)} bursts of one {first['explained_by']}"
        out.append(
            {
                **first,
                "window_end": max(r["window_end"] for r in g),
                "observed": sum(r["observed"] for r in g),
                "expected": sum(r["expected"] for r in g),
                "p_value": min(r["p_value"] for r in g),
                "occurrences": sum(r["occurrences"] for r in g),
                "cadence": f"{len(g)} bursts at irregular times",
                "explained_by": why,
                "top_account_ids": [a for a, _ in counts.most_common(len(first["top_account_ids"] or []) or 10)],
            }
        )
    return pl.DataFrame(out, schema=found.schema).sort("window_start", "scope")
