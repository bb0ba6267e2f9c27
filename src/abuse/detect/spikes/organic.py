"""Spikes explained by what their crowd does, when no release or sale explains them and the
crowd is mostly not flagged: organic signups or a referral wave (new accounts that go on to use
the app), the crowd of a new post or entry, a shop's own sale (established buyers on their own
phones and doors). Explained crowds of one cause fold into one incident (``fold_explained``)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import polars as pl

from abuse.detect.spikes.incidents import shares_top_accounts
from abuse.report_text import plural
from abuse.sqlfiles import read_sql
from abuse.stats import surprise_binom

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
      the spike is the crowd of a new post or entry (like a release);
    - an orders spike most of whose orders go to one shop, bought by established accounts (most
      with an order before that day) on their own devices and to their own addresses, is that
      shop's sale: a crew pushing orders shares machines and drop addresses or is freshly made.

    Needs the TEMP table ``spikes_events``."""
    if found.is_empty():
        return found
    share = pl.col("n_flagged").fill_null(0) / pl.col("n_accounts").fill_null(0).clip(lower_bound=1)
    # one-off crowds only: a burst that recurs with a cadence is a schedule, not a new post or an ad
    open_rows = found.filter(pl.col("explained_by").is_null() & (share < 0.5) & (pl.col("occurrences") == 1))
    open_rows = open_rows.filter(
        pl.col("scope").str.split(":").list.first().is_in(["registrations", "activity"]) | (pl.col("scope") == "orders")
    )
    if open_rows.is_empty():
        return found
    con.register("spikes_organic_found", open_rows.select("scope", "window_start", "window_end").to_arrow())
    try:
        signups = con.sql(read_sql("features/spikes_signups.sql")).pl()
        targets = con.sql(read_sql("features/spikes_new_targets.sql")).pl()
        shops = con.sql(read_sql("features/spikes_shop_crowds.sql")).pl()
    finally:
        con.unregister("spikes_organic_found")
    why: dict[tuple, str] = {}
    cause: dict[tuple, str] = {}  # what one explained crowd shares with another: its inviter, its target
    _signup_reasons(signups, alpha, why, cause)
    _target_reasons(targets, ZoneInfo(tz), why, cause)
    _shop_reasons(shops, why, cause)
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


def _shop_reasons(shops: pl.DataFrame, why: dict, cause: dict) -> None:
    """A shop's own sale (see ``organic``), into ``why`` and ``cause``."""
    for r in shops.iter_rows(named=True):
        n = int(r["n_buyers"] or 0)
        if (
            n == 0
            or r["n_top"] < 0.5 * r["n_orders"]
            or r["n_devices"] < DIVERSE * n
            or r["n_addresses"] < DIVERSE * n
            or r["n_established"] < 0.5 * n
        ):
            continue
        why[(r["scope"], r["window_start"])] = (
            f"sale at shop {r['top_shop']}: {r['n_top'] / r['n_orders']:.0%} of the burst's orders, from "
            f"{plural(n, 'buyer')} on their own devices and addresses, {r['n_established'] / n:.0%} of them "
            "with earlier orders"
        )
        cause[(r["scope"], r["window_start"])] = f"shop:{r['top_shop']}"


ORGANIC_GAP = timedelta(minutes=30)  # organic signup bursts closer than this are one crowd


def fold_explained(found: pl.DataFrame, overlap: float = 0.3) -> pl.DataFrame:
    """Crowds explained by the same kind of cause are one incident: a family row (``activity``)
    goes when a narrower row (``activity:like``) names the same target over the same time; the
    bursts of one referral (same inviter) are one row; organic signup bursts of one scope within
    ``ORGANIC_GAP`` of each other (one TV ad's waves) are one row; bursts on new targets driven by largely
    the same accounts (a star's fans at each new post: at least ``overlap`` of their top
    accounts shared with the one before) are one row, with ``occurrences`` and first to last."""
    rows = found.to_dicts()
    groups: list[list[dict]] = []
    for r in sorted(_narrowest([r for r in rows if r.get("_cause")]), key=lambda r: (r["scope"], r["window_start"])):
        for g in groups:
            if _same_incident(g[-1], r, overlap):
                g.append(r)
                break
        else:
            groups.append([r])
    out = [r for r in rows if not r.get("_cause")]
    out += [g[0] if len(g) == 1 else _folded(g) for g in groups]
    return pl.DataFrame(out, schema=found.schema).sort("window_start", "scope")


def _narrowest(caused: list[dict]) -> list[dict]:
    """``caused`` less the family rows that a narrower row of the family explains by the same
    cause over an overlapping time."""
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
    return [r for r in caused if id(r) not in drop]


def _same_incident(last: dict, r: dict, overlap: float) -> bool:
    """Whether burst ``r`` continues the incident whose latest burst is ``last``: the same
    scope and one referral, organic waves close together, or new targets crowded by largely
    the same accounts."""
    return last["scope"] == r["scope"] and (
        last["_cause"] == r["_cause"]
        if r["_cause"].startswith("inviter:")
        else (last["_cause"] == r["_cause"] == "organic" and r["window_start"] - last["window_end"] <= ORGANIC_GAP)
        if r["_cause"] == "organic"
        else last["_cause"].startswith("target:")
        and r["_cause"].startswith("target:")
        and shares_top_accounts(last, r, overlap)
    )


def _folded(g: list[dict]) -> dict:
    """One row for the bursts ``g`` of one incident: first to last, counts summed, the
    strongest p-value, the accounts most often on top, and why in words."""
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
    return {
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
