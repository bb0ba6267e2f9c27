"""``report.activity_spikes``: minutes in which a scope's count far exceeds its baseline.

Scopes are registrations, orders, reviews, refunds, coupon claims (all, and per campaign)
and activity (all, and per action). Counts per platform-local minute are compared with the
median of the same minute of the day on up to ``baseline_days`` earlier days (smoothed over
neighbouring minutes for sparse scopes, scaled by a day-of-week factor), plus its robust
spread; the count is then tested against a Poisson with that mean, floored so that tiny
counts never spike, Bonferroni-corrected over every scope-minute of the window. Flagged
minutes close together merge into one window. A window that starts at a campaign's release
is explained by it; one on a day of the sales calendar is explained by the sale if the whole
day's uplift (median over its hours) accounts for it. The rest are left for people to read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import numpy as np
import polars as pl
from pydantic import BaseModel, Field
from scipy.stats import poisson

from abuse.detect.base import DetectContext, DetectorBase, DetectorResult, Spike, register
from abuse.detect.spikes import daily, handover, incidents, organic, scales
from abuse.frames import Schema
from abuse.sqlfiles import read_sql, set_variables, temp_table
from abuse.stats import least_significant_poisson_at, score, surprise_of


class SpikeParams(BaseModel):
    baseline_days: int = Field(28, ge=1, description="Earlier days whose same minute makes the baseline.")
    min_history_days: int = Field(
        7,
        ge=1,
        description="With fewer earlier days than this, the baseline also uses the days after (no history yet).",
    )
    smooth_min: int = Field(7, ge=0, description="Baseline counts are averaged over this many minutes either side.")
    wide_min: int = Field(
        5,
        ge=1,
        le=60,
        description="Distinct accounts are also tested per bin of this many minutes (sparse scopes); divides 60.",
    )
    poisson_floor: float = Field(
        1.0, gt=0, description="Expected accounts per minute are at least this (tiny counts never spike)."
    )
    spread_weight: float = Field(
        2.0, ge=0, description="Robust spreads (1.4826 MAD) of the baseline added to its median."
    )
    alpha: float = Field(
        0.01, gt=0, lt=1, description="Family-wise error rate over every scope, minute and scale of the window."
    )
    min_count: int = Field(5, ge=1, description="Minutes (and wide sums) with fewer accounts are never spikes.")
    merge_gap_min: int = Field(
        3, ge=0, description="Flagged stretches at most this many minutes apart merge into one window."
    )
    release_grace_min: int = Field(
        10, ge=0, description="A window starting this soon after a campaign release is explained by it."
    )
    top_accounts: int = Field(10, ge=1, description="How many driving accounts a spike lists.")
    long_scopes: list[str] = Field(
        ["registrations"],
        description="Scope families also scanned over windows of half an hour to two days (registration "
        "waves the minute scales miss); [] turns the long scan off.",
    )
    recurring_min: int = Field(
        3,
        ge=2,
        description="Spikes at one minute of the hour, driven by the same accounts, this many times "
        "or more are one recurring incident.",
    )
    recurring_overlap: float = Field(
        0.5, gt=0, le=1, description="Share of top accounts a recurrence shares with the one before."
    )
    handover_pad_min: int = Field(
        5,
        ge=0,
        description="Minutes either side of a one-off burst whose events the result hands to its readers "
        "(timing's lone members look up to their own spike_pad_min, at most this, around a burst).",
    )
    crowd_minutes: int = Field(
        10, ge=1, description="The first minutes of a spike whose accounts are checked against flagged ones."
    )


def find_spikes(con, window_start: datetime, window_end: datetime, p: SpikeParams) -> pl.DataFrame:
    """Merged spike windows: scope, window_start, window_end, observed (distinct accounts),
    expected, p_value, explained_by, top_account_ids. Leaves the TEMP table ``spikes_events``
    (and its per-minute counts, the view ``spikes_minutes``) for callers that look further
    (``drop_events`` removes them)."""
    set_variables(
        con,
        window_start=window_start,
        window_end=window_end,
        spikes_from=window_start - timedelta(days=p.baseline_days),
        spikes_baseline_days=p.baseline_days,
        spikes_smooth_min=p.smooth_min,
        spikes_wide_min=p.wide_min,
        spikes_min_history_days=p.min_history_days,
    )
    daily.ensure(con, p.wide_min)  # the per-day counts (kept by the stage: detect/spikes/daily.py)
    con.execute("CREATE OR REPLACE TEMP TABLE spikes_events AS " + read_sql("features/spikes_events.sql"))
    con.execute("CREATE OR REPLACE TEMP VIEW spikes_minutes AS " + read_sql("features/spikes_minutes.sql"))
    # every scope with an event in the window (a family, and each family:detail of it)
    n_scopes = con.sql(
        "SELECT count(DISTINCT scope) FROM spikes_minutes WHERE minute >= CAST(getvariable('window_start') AS TIMESTAMP)"
    ).fetchone()[0]
    minutes = max(1, int((window_end - window_start).total_seconds() // 60))
    n_tests = 2 * max(n_scopes, 1) * minutes  # every scope, minute and both scales
    # below these counts not even the Poisson floor is beaten: such minutes are no candidates
    set_variables(
        con,
        spikes_min_count=max(p.min_count, least_significant_poisson_at(p.poisson_floor, p.alpha / n_tests)),
        spikes_min_count_wide=max(
            p.min_count, least_significant_poisson_at(p.poisson_floor * p.wide_min, p.alpha / n_tests)
        ),
    )
    cand = con.sql(read_sql("features/spikes_candidates.sql")).pl().sort("scope", "minute")
    stretches = _stretches(cand, p, n_tests) if not cand.is_empty() else cand.clear()
    if not stretches.is_empty():
        merged = _merge(stretches, p, n_tests)
    else:
        merged = pl.DataFrame(
            schema={
                **_WINDOW,
                "minute_sum": pl.Float64,
                "lam": pl.Float64,
                "day_uplift": pl.Float64,
                "beyond_sale": pl.Boolean,
            }
        )
    if p.long_scopes:
        merged = _with_long(con, merged, window_start, window_end, p)
    if merged.is_empty():
        return _empty()
    merged = merged.with_columns(pl.Series("explained_by", _explain(con, merged, p), dtype=pl.String)).drop(
        "minute_sum", "lam", "day_uplift", "beyond_sale"
    )
    return _drop_shadowed(_describe(con, merged, p.top_accounts))


def _with_long(con, merged: pl.DataFrame, window_start: datetime, window_end: datetime, p: SpikeParams) -> pl.DataFrame:
    """``merged`` with the slow waves of ``p.long_scopes`` that the minute scales missed
    (``scales.long_bursts`` over the per-minute counts ``spikes_minutes``)."""
    tz = str(con.sql("SELECT current_setting('TimeZone')").fetchone()[0])
    per_minute = (
        con.sql("SELECT * FROM spikes_minutes")
        .pl()
        .filter(pl.col("scope").str.split(":").list.first().is_in(p.long_scopes))
    )
    long = scales.long_bursts(
        per_minute,
        window_start,
        window_end,
        tz,
        p.baseline_days,
        p.spread_weight,
        p.alpha,
        p.min_history_days,
        reported=merged,
    )
    return scales.with_long(merged, long, tz)


def _drop_shadowed(spikes: pl.DataFrame, share: float = 0.9) -> pl.DataFrame:
    """Leave out a broad-scope spike (``activity``) when a narrower one (``activity:vote``)
    overlaps it and holds at least ``share`` of its accounts: the narrow row says the same, better.
    The family row stays where it says more (campaigns released together, named together)."""
    if spikes.is_empty():
        return spikes
    spikes = spikes.with_row_index("_i").with_columns(pl.col("scope").str.split(":").list.first().alias("_family"))
    narrow = spikes.filter(pl.col("scope").str.contains(":")).select(
        "_family",
        pl.col("window_start").alias("_ns"),
        pl.col("window_end").alias("_ne"),
        pl.col("observed").alias("_nobs"),
        pl.col("explained_by").alias("_nwhy"),
    )
    shadowed = (
        spikes.filter(~pl.col("scope").str.contains(":"))
        .join(narrow, left_on="scope", right_on="_family")
        .filter(
            (pl.col("_ns") < pl.col("window_end"))
            & (pl.col("_ne") > pl.col("window_start"))
            & (pl.col("_nobs") >= share * pl.col("observed"))
            & pl.col("_nwhy").eq_missing(pl.col("explained_by"))
        )
        .get_column("_i")
        .unique()
    )
    return spikes.filter(~pl.col("_i").is_in(shadowed.implode())).drop("_i", "_family")


def _stretches(cand: pl.DataFrame, p: SpikeParams, n_tests: int) -> pl.DataFrame:
    """Flagged single minutes: significant on their own (Poisson against the baseline plus
    its spread, floored), or above their expectation inside a significant wide bin that holds
    no minute significant on its own."""
    col = {c: cand[c].cast(pl.Float64).to_numpy() for c in cand.columns if c not in ("scope", "minute")}
    lam = np.maximum(col["expected"] + p.spread_weight * col["spread"], p.poisson_floor)
    lam_wide = np.maximum(col["expected_wide"] + p.spread_weight * col["spread_wide"], p.poisson_floor * p.wide_min)
    cand = cand.with_columns(
        pl.Series("lam", np.maximum(col["expected"], p.poisson_floor)),
        pl.Series("p_one", np.minimum(poisson.sf(col["observed"] - 1, lam) * n_tests, 1.0)),
        pl.Series("p_wide", np.minimum(poisson.sf(col["observed_wide"] - 1, lam_wide) * n_tests, 1.0)),
        pl.Series("above", col["observed"] > lam),
    )
    wide_flags = cand.filter(pl.col("p_wide") <= p.alpha).select(
        "scope", pl.col("minute").alias("bin"), pl.col("p_wide").alias("p_cover")
    )
    binned = cand.with_columns(pl.col("minute").dt.truncate(f"{p.wide_min}m").alias("bin"))
    lone_bins = binned.group_by("scope", "bin").agg((pl.col("p_one") > p.alpha).all().alias("lone"))
    covered = (
        binned.filter("above").join(wide_flags, on=["scope", "bin"]).join(lone_bins.filter("lone"), on=["scope", "bin"])
    )
    unit: list[str | pl.Expr] = [
        "scope",
        "minute",
        (pl.col("minute") + timedelta(minutes=1)).alias("end"),
        "observed",
        "expected",
        "lam",
        "day_uplift",
    ]
    return pl.concat(
        [
            cand.filter(pl.col("p_one") <= p.alpha).select(*unit, pl.col("p_one").alias("p_value")),
            covered.select(*unit, pl.col("p_cover").alias("p_value")),
        ]
    )


def _merge(stretches: pl.DataFrame, p: SpikeParams, n_tests: int) -> pl.DataFrame:
    """Stretches at most ``merge_gap_min`` apart become one window; ``beyond_sale`` says
    whether the window stands out even against the baseline raised by its day's uplift."""
    gap = timedelta(minutes=p.merge_gap_min)
    merged = (
        stretches.sort("scope", "minute")
        .with_columns(pl.col("end").cum_max().over("scope").alias("reach"))
        .with_columns(
            (pl.col("minute") > pl.col("reach").shift(1).over("scope") + gap)
            .fill_null(True)
            .cum_sum()
            .over("scope")
            .alias("run")
        )
        .group_by("scope", "run")
        .agg(
            pl.col("minute").min().alias("window_start"),
            pl.col("end").max().alias("window_end"),
            pl.col("p_value").min(),
            pl.col("expected").sum(),
            pl.col("observed").sum().alias("minute_sum"),
            pl.col("lam").sum(),
            pl.col("day_uplift").median(),
        )
        .drop("run")
        .sort("window_start", "scope")
    )
    raised = (merged["lam"] * merged["day_uplift"].clip(lower_bound=1.0)).to_numpy()
    p_sale = poisson.sf(merged["minute_sum"].to_numpy() - 1, raised) * n_tests
    return merged.with_columns(pl.Series("beyond_sale", p_sale <= p.alpha))


def drop_events(con) -> None:
    con.execute("DROP VIEW IF EXISTS spikes_minutes")
    con.execute("DROP TABLE IF EXISTS spikes_events")


_WINDOW: Schema = {  # the columns every frame of spike windows starts with
    "scope": pl.String,
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
    "p_value": pl.Float64,
    "expected": pl.Float64,
}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            **_WINDOW,
            "explained_by": pl.String,
            "observed": pl.Int64,
            "top_account_ids": pl.List(pl.String),
        }
    )


def _describe(con, spikes: pl.DataFrame, k: int) -> pl.DataFrame:
    """Add the distinct accounts acting in each spike (observed) and the top ``k`` of them."""
    frame = spikes.select("scope", "window_start", "window_end").with_row_index("spike_id").to_arrow()
    set_variables(con, spikes_top_accounts=k)
    with temp_table(con, "spikes_found", frame):
        described = con.sql(read_sql("features/spikes_described.sql")).pl()
    return (
        spikes.with_row_index("spike_id")
        .join(described.with_columns(pl.col("spike_id").cast(pl.UInt32)), on="spike_id", how="left")
        .drop("spike_id")
        .with_columns(pl.col("observed").fill_null(0))
    )


def _explain(con, spikes: pl.DataFrame, p: SpikeParams) -> list[str | None]:
    """A campaign release shortly before a window's start, else a sales-calendar day whose
    overall uplift accounts for the spike."""
    releases = con.sql(
        "SELECT campaign_id, released_at, strftime(released_at, '%H:%M') AS hhmm FROM stg_campaigns "
        "WHERE released_at IS NOT NULL ORDER BY released_at"
    ).fetchall()
    calendar = (
        dict(con.sql("SELECT date, name FROM seed_sales_calendar").fetchall())
        if _has(con, "seed_sales_calendar")
        else {}
    )
    days = con.sql(
        "SELECT CAST(s AS DATE) FROM (SELECT unnest(?::TIMESTAMPTZ[]) AS s)", params=[spikes["window_start"].to_list()]
    ).fetchall()
    grace = timedelta(minutes=p.release_grace_min)
    out = []
    rows = spikes.select("scope", "window_start", "beyond_sale").iter_rows()
    for (scope, start, beyond_sale), (day,) in zip(rows, days):
        campaign = scope.split(":", 1)[1] if scope.startswith("coupon_claims:") else None
        why = (
            "; ".join(
                f"campaign:{cid} release at {hhmm}"
                for cid, rel, hhmm in releases
                if (campaign is None or cid == campaign) and rel - timedelta(minutes=1) <= start < rel + grace
            )
            or None
        )
        if why is None and day in calendar and not beyond_sale:
            why = f"sales calendar: {calendar[day]}"
        out.append(why)
    return out


def _has(con, table: str) -> bool:
    return bool(con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", params=[table]).fetchone()[0])


@register
class SpikeDetector(DetectorBase):
    name = "spikes"
    patterns = ()
    Params = SpikeParams
    # whose flagged accounts may be what drives a spike (timing reads spikes, so not timing)
    requires = ("brushing", "engagement", "hoarding", "refunds", "rings")

    @classmethod
    def maintain(cls, con, params: BaseModel) -> str | None:
        return daily.maintain(con, cast(SpikeParams, params).wide_min)

    def run(self, ctx: DetectContext) -> DetectorResult:
        p = cast(SpikeParams, ctx.params)
        try:
            found = find_spikes(ctx.con, ctx.window_start, ctx.window_end, p)
            found = incidents.fold_recurring(found, ctx.tz, p.recurring_min, p.recurring_overlap)
            found = incidents.drop_inside_incidents(found, ctx.tz, p.recurring_overlap)
            crowd = incidents.flagged_crowds(ctx.con, found, ctx.upstream, p.crowd_minutes)
            found = found.join(crowd, on=["scope", "window_start"], how="left")
            found = organic.organic(ctx.con, found, ctx.tz, p.alpha)
            spikes = incidents.fold_cases(_spikes(found, p))
            events = handover.burst_events(ctx.con, spikes, p.handover_pad_min)
        finally:
            drop_events(ctx.con)
        return DetectorResult(spikes=spikes, handover={handover.EVENTS: events})


def _spikes(found: pl.DataFrame, p: SpikeParams) -> list[Spike]:
    """One Spike per row of ``found``, with the honest explanation (flagged crowds named)."""
    spikes = []
    for r in found.iter_rows(named=True):
        share = (r["n_flagged"] or 0) / max(r["n_accounts"] or 0, 1)
        keys = [tuple(k.split("|", 1)) for k in (r["cluster_keys"] or [])] if share >= 0.5 else []
        spikes.append(
            Spike(
                scope=r["scope"],
                window_start=r["window_start"],
                window_end=r["window_end"],
                observed=float(r["observed"]),
                expected=round(float(r["expected"]), 3),
                score=_score(r["p_value"]),
                top_account_ids=list(r["top_account_ids"] or []),
                explained_by=incidents.explain_flagged(
                    r["explained_by"], share, r["top_pattern"], p.crowd_minutes, bool(r["whole"])
                ),
                p_value=float(r["p_value"]),
                occurrences=int(r["occurrences"]),
                cadence=r["cadence"],
                flagged_share=round(share, 4) if r["n_accounts"] else None,
                cluster_keys=keys,
            )
        )
    return spikes


def _score(p_value: float) -> float:
    """The one score map (abuse.stats.score) of the spike's corrected surprise."""
    return float(score(surprise_of(p_value)))
