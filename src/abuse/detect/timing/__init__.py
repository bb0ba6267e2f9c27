"""``scripted_timing``: accounts whose clock is a machine's.

Scripts fire on the hour or at one fixed second, repeat one interval to the second, keep
sessions of about a second and spin or claim more than any person. Each account's events of
the window (activity, coupon claims, orders, review actions) are tested against the
population's own clock (see ``stats``); an account is flagged when

- its events on the hour or at one fixed second of the minute are too many for chance,
  after a Bonferroni correction over every account tested (so a handful of events is never
  enough: the p-value needs support), or
- one of its streams repeats a multi-second interval to within a jitter no person keeps, or
- its count of spins or claims is a far outlier of the population on a log scale, or
- it is a lone member of an unexplained activity, order or claim spike whose lone members share
  machines (see ``spikes``). Accounts that only registered in a burst are not machine-timed:
  they are members of their batch (the ``batches`` detector).

Events of one account at the very same instant count once (a checkout split into orders per
shop). Claims in the first minutes after their campaign's release are left out of the clock tests:
the release timed them, not a script (the flash-sale crowd). Time of day is platform-local.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import polars as pl
from pydantic import BaseModel, Field

from abuse.detect.base import DetectContext, DetectorBase, DetectorResult, Finding, register
from abuse.detect.timing import groups as groups
from abuse.detect.timing import stats as st
from abuse.detect.timing import steady as steady
from abuse.detect.timing.spikes import lone_members, member_finding
from abuse.sqlfiles import read_sql, set_variables, use_intermediate
from abuse.stats import corrected, score

PATTERN = "scripted_timing"


@register
class TimingDetector(DetectorBase):
    name = "timing"
    patterns = (PATTERN,)
    requires = ("spikes",)  # the unexplained spikes whose lone members it judges
    reads = "window"  # every event of the window, once (the TEMP table timing_events), each night

    class Params(BaseModel):
        on_hour_s: int = Field(
            3, ge=1, le=60, description="'On the hour' = this many seconds after a local hour starts."
        )
        release_grace_s: float = Field(
            600, ge=0, description="Claims this soon after their campaign's release are timed by it, not by a clock."
        )
        release_before_min: int = Field(
            3,
            ge=0,
            description="Events from this many minutes before a release (to its grace after) are "
            "timed by it: people open the app for it.",
        )
        min_events: int = Field(5, ge=1, description="Accounts with fewer clock-testable events are not tested.")
        min_hits: int = Field(
            5, ge=1, description="At least this many events on the hour / at the fixed second to flag."
        )
        alpha: float = Field(
            0.01, gt=0, lt=1, description="Family-wise error rate of the clock tests (Bonferroni over accounts)."
        )
        min_gaps: int = Field(20, ge=2, description="Gaps needed before regularity is judged.")
        min_regular_gap_s: float = Field(
            10,
            gt=0,
            description="Only intervals at least this long count as regular (timestamps are often whole seconds).",
        )
        max_gap_jitter_s: float = Field(
            2, gt=0, description="Robust spread (1.4826 MAD) of the gaps at most this, in seconds, ..."
        )
        max_gap_rel: float = Field(
            0.02, gt=0, description="... and at most this share of the median gap, to be regular."
        )
        volume_z: float = Field(
            6, gt=0, description="Robust z of log(count) within the stream above which a count is out of human reach."
        )
        volume_min_accounts: int = Field(
            20, ge=2, description="Streams with fewer accounts have no population to compare volume with."
        )
        volume_mad_floor: float = Field(
            1.0,
            gt=0,
            description="Floor of the log-count spread (a stream where everyone does 1 is not a reason to flag 3).",
        )
        spike_min_shared: int = Field(
            3,
            ge=2,
            description="A lone spike member is flagged when this many of them share its device or network block.",
        )
        spike_pad_min: int = Field(
            2, ge=0, description="Minutes either side of a spike in which its members are looked for."
        )
        sleep_h: int = Field(
            8, ge=1, le=12, description="Hours of the day a person sleeps: the quietest run of this many hours."
        )
        sleep_gap_h: float = Field(
            5, gt=0, le=12, description="A break of this many hours without events counts as sleep."
        )
        awake_max: float = Field(
            0.1,
            gt=0,
            lt=1,
            description="At most this share of half days a person goes without such a break (the base rate "
            "is the population's median, capped here: a crew can outnumber the people).",
        )
        min_durations: int = Field(
            10, ge=3, description="Timed activity events needed before session-length steadiness is judged."
        )
        steady_quantile: float = Field(
            0.05,
            gt=0,
            lt=0.5,
            description="Durations are judged steady against this quantile of the population's spread of the same "
            "kind of activity (the steadiest people).",
        )
        steady_min_durations: int = Field(
            5,
            ge=3,
            description="Timed events of one kind needed before its steadiness is judged (the population's "
            "reference is set by accounts with min_durations of them); a short script's few logins count "
            "towards a steady pair with its clicks.",
        )
        steady_min_spread: float = Field(
            0.05,
            ge=0,
            description="A kind of activity whose steadiest people vary less than this (spread of ln duration) "
            "is not judged: the app fixes its duration or logs whole seconds.",
        )
        weak_surprise: float = Field(
            1.3,
            ge=0,
            description="Surprise (-log10 p) at which a supporting trait counts (steady sessions, Poisson gaps).",
        )
        volume_support_z: float = Field(
            3, gt=0, description="Robust z of log(count) at which volume supports a missing daily rhythm."
        )
        max_findings: int = Field(100_000, ge=1, description="Safety cap on findings.")

    def run(self, ctx: DetectContext) -> DetectorResult:
        p, con = cast(TimingDetector.Params, ctx.params), ctx.con
        bind_sql(ctx)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE timing_events AS " + read_sql("features/timing_events.sql"))
            streams = con.sql(read_sql("features/timing_streams.sql")).pl()
            arcs = con.sql(read_sql("features/timing_arcs.sql")).pl()
            rhythm = st.rhythm(
                con.sql(read_sql("features/timing_rhythm.sql")).pl(),
                p.sleep_h,
                p.min_gaps,
                p.min_durations,
                p.sleep_gap_h,
                p.awake_max,
            )
            members = lone_members(con, ctx, p.spike_min_shared)
        finally:
            con.execute("DROP TABLE IF EXISTS timing_events")
        findings = []
        if not streams.is_empty():
            table = score_accounts(streams, arcs, rhythm, p)
            findings = [_finding(r, p) for r in table.head(p.max_findings).iter_rows(named=True)]
        flagged = {f.account_id for f in findings}
        findings += [
            member_finding(r, PATTERN) for r in members.iter_rows(named=True) if r["account_id"] not in flagged
        ]
        clusters = groups.spike_clusters(members, PATTERN, p.spike_min_shared)
        clocked = sorted(flagged - {a for c in clusters.values() for a in c.account_ids})
        clusters |= groups.machine_clusters(con, clocked, PATTERN, p.spike_min_shared)
        groups.attach(findings, clusters)
        return DetectorResult(findings=findings, clusters=list(clusters.values()))


def score_accounts(
    streams: pl.DataFrame, arcs: pl.DataFrame, rhythm: pl.DataFrame, p: TimingDetector.Params
) -> pl.DataFrame:
    """Every flagged account with its test figures, strongest evidence first. Four ways to
    be a machine, each a surprise (-log10 p) corrected for the accounts tested:

    - ``aligned``: an arc of the hour or minute dial at the jitter's own width holds far more of
      its events than people put there (corrected for every arc tried);
    - ``regular``: one stream repeats an interval to within a jitter no person keeps;
    - ``rhythmless``: it does not sleep (events in its quietest hours above a person's share)
      *and* shows one more trait of a timer (steady session lengths, Poisson-like intervals, a
      volume far above the population's), the surprises of sleep, sessions and intervals
      together beyond chance for this many accounts;
    - ``steady``: two kinds of its activity last the same time to a fraction of what the
      steadiest people keep (``steady``, from the streams' duration spreads), however
      human its day looks.
    """
    n_tested = max(rhythm.height, 1)
    table = _verdicts(_figures(streams, arcs, rhythm, p), n_tested, p)
    flagged = table.filter("flag")
    scores = np.atleast_1d(score(corrected(flagged["surprise"].to_numpy(), n_tested))).astype(float)
    return flagged.with_columns(pl.Series("score", scores[: flagged.height], dtype=pl.Float64)).sort(
        "score", descending=True
    )


def _figures(streams: pl.DataFrame, arcs: pl.DataFrame, rhythm: pl.DataFrame, p: TimingDetector.Params) -> pl.DataFrame:
    """Per account of ``rhythm`` the figures of every test: events, alignment, regular gaps,
    volume, session lengths and steady streams (nulls where a test does not apply filled)."""
    per = streams.group_by("account_id").agg(
        pl.col("n").sum().alias("n_events"), pl.col("n_on_hour").sum().alias("on_hour")
    )
    return (
        rhythm.join(per, on="account_id", how="left")
        .join(st.alignment(arcs), on="account_id", how="left")
        .join(
            st.regular_gaps(
                streams.with_columns(pl.col("stream")),
                p.min_gaps,
                p.min_regular_gap_s,
                p.max_gap_jitter_s,
                p.max_gap_rel,
            ),
            on="account_id",
            how="left",
        )
        .join(st.volume_outliers(streams, p.volume_min_accounts, p.volume_mad_floor), on="account_id", how="left")
        .join(st.session_lengths(streams), on="account_id", how="left")
        .join(steadiness(streams, p), on="account_id", how="left")
        .with_columns(
            pl.col("n_events").fill_null(pl.col("n")),
            pl.col("on_hour").fill_null(0),
            pl.col("regular").fill_null(False),
            pl.col("arc_surprise", "volume_z").fill_null(0.0),
            pl.col("arc_hits").fill_null(0),
            pl.col("steady_streams").fill_null(0),
            pl.col("steady_surprise").fill_null(0.0),
            pl.col("steady_pair").fill_null(False),
        )
    )


def _verdicts(table: pl.DataFrame, n_tested: int, p: TimingDetector.Params) -> pl.DataFrame:
    """``table`` (``_figures``) with each way to be a machine decided (aligned, regular,
    rhythmless, steady; ``flag`` any of them) and the strongest decided surprise."""
    need = -math.log10(p.alpha)
    rcv = pl.col("gap_rcv").fill_null(1.0).clip(lower_bound=1e-3)
    table = table.with_columns(
        # a person's gaps spread over about a decade (lognormal sigma ~ 1): the chance that one
        # lands within relative distance r of a given interval is about 0.8 r
        (pl.col("n_gaps").fill_null(0) * -(rcv * 0.8).clip(upper_bound=1.0).log10())
        .clip(upper_bound=300.0)
        .alias("regular_surprise"),
        (
            pl.max_horizontal("sleep_surprise", "coverage_surprise", "awake_surprise")
            + pl.col("duration_surprise")
            + pl.col("gap_surprise")
        ).alias("rhythm_surprise"),
    )
    c = math.log10(n_tested)
    weak = p.weak_surprise
    traits = (
        pl.max_horizontal("sleep_surprise", "coverage_surprise", "awake_surprise").ge(weak).cast(pl.Int32)
        + (pl.col("duration_surprise") >= weak).cast(pl.Int32)
        # Poisson-like intervals say "timer" only for a busy account: sparse visits are Poisson too
        + ((pl.col("gap_surprise") >= weak) & (pl.col("mean_interval") < 3600)).cast(pl.Int32)
        + (pl.col("volume_z") >= p.volume_support_z).cast(pl.Int32)
    )
    return table.with_columns(
        ((pl.col("arc_surprise") - c >= need) & (pl.col("arc_hits") >= p.min_hits)).alias("aligned"),
        # no sleep and another trait of a timer, together beyond chance for this many accounts
        (
            (pl.col("rhythm_surprise") - c >= need)
            & (pl.max_horizontal("sleep_surprise", "coverage_surprise", "awake_surprise") >= weak)
            & (traits >= 2)
        ).alias("rhythmless"),
        (pl.col("steady_streams") >= 2).alias("steady"),
    ).with_columns(
        (pl.col("aligned") | pl.col("regular") | pl.col("rhythmless") | pl.col("steady")).alias("flag"),
        pl.max_horizontal(
            pl.col("arc_surprise") * pl.col("aligned").cast(pl.Float64),
            pl.col("regular_surprise") * pl.col("regular").cast(pl.Float64),
            pl.col("rhythm_surprise") * pl.col("rhythmless").cast(pl.Float64),
            pl.col("steady_surprise") * pl.col("steady").cast(pl.Float64),
        ).alias("surprise"),
    )


def _arc_text(r: dict) -> str:
    width, start = r["arc_width"], r["arc_start"]
    what = f"{r['arc_hits']} of {r['arc_n']} {r['arc_source'].replace('_', ' ')} events"
    if r["arc_dial"] == 60:
        where = f"seconds {start}-{(start + width - 1) % 60} of the minute"
        return f"{what} at {where}"
    if start == 0:
        return f"{what} in the first {width} s of the hour"
    if start % 60 == 0:
        return f"{what} in the first {width} s of the minute :{start // 60:02d} of the hour"
    return (
        f"{what} at {start // 60:02d}:{start % 60:02d}-"
        f"{(start + width - 1) // 60 % 60:02d}:{(start + width - 1) % 60:02d} of the hour"
    )


def _finding(r: dict, p: TimingDetector.Params) -> Finding:
    parts = []
    if r["aligned"]:
        parts.append(_arc_text(r) + f" (people: {r['arc_share']:.2%} of theirs)")
    if r["regular"]:
        parts.append(
            f"{r['n_gaps']} gaps of {r['median_gap']:.0f} s (spread {r['gap_jitter']:.2g} s) in {r['gap_stream']}"
        )
    if r["rhythmless"]:
        if r["awake_surprise"] >= p.weak_surprise:
            parts.append(
                f"up {r['longest_awake_h']:.0f} h at a stretch without a {p.sleep_gap_h:g}-hour break "
                f"({r['sleepless_halves'] / 2:g} days without sleep in {r['span_days']:.0f})"
            )
        parts.append(
            f"{r['quiet']} of {r['n']} events in its quietest {p.sleep_h} hours of the day "
            f"(people: {r['quiet_base']:.0%}), up in {r['coverage']:.0%} of the hours of its {r['active_days']} "
            f"active {'day' if r['active_days'] == 1 else 'days'}"
        )
        if r["duration_surprise"] >= p.weak_surprise:
            parts.append(f"session lengths steady (spread {r['duration_cv']:.0%} of the median)")
        if r["gap_surprise"] >= p.weak_surprise and r["interval_cv"] is not None:
            parts.append(f"intervals like a Poisson timer's (CV {r['interval_cv']:.2f})")
        if r["volume_z"] >= p.volume_support_z and r["volume"] is not None:
            parts.append(f"{r['volume']} {r['volume_stream']} events (population median {r['population_median']:.0f})")
    if r["steady"]:
        parts.append(steady.describe(r))
    if r["median_duration"] is not None and not r["rhythmless"] and not r["steady"]:
        parts.append(f"median session {r['median_duration']:.1f} s")
    evidence = {
        k: (None if isinstance(v, float) and (math.isnan(v) or math.isinf(v)) else v)
        for k, v in r.items()
        if k not in ("flag", "account_id", "score")
    }
    evidence["share_on_hour"] = round(r["on_hour"] / max(r["n_events"], 1), 4)
    return Finding(r["account_id"], PATTERN, r["score"], ", ".join(parts), evidence)


def bind_sql(ctx: DetectContext) -> None:
    """Hand the window and the timing parameters to the feature SQL (``getvariable``), and the
    intermediate views (``ip_block``: the network block, defined once) on ``ctx.con``."""
    p = cast(TimingDetector.Params, ctx.params)
    set_variables(
        ctx.con,
        window_start=ctx.window_start,
        window_end=ctx.window_end,
        timing_on_hour_s=p.on_hour_s,
        timing_release_grace_s=float(p.release_grace_s),
        timing_release_before_min=p.release_before_min,
        timing_member_pad_min=p.spike_pad_min,
        timing_min_events=p.min_events,
        timing_sleep_h=p.sleep_h,
        timing_sleep_gap_h=float(p.sleep_gap_h),
    )
    use_intermediate(ctx.con)


def steadiness(streams: pl.DataFrame, p: TimingDetector.Params) -> pl.DataFrame:
    """Per account the steadiness of its session lengths against the population's (the steady
    durations signal), at the detector's parameters."""
    return steady.steady_streams(
        steady.timed_streams(streams, min(p.steady_min_durations, p.min_durations)),
        p.steady_quantile,
        p.steady_min_spread,
        -math.log10(p.alpha),
        ref_min=p.min_durations,
    )
