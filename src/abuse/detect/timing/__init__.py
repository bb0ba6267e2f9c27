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
- it is a lone member of an unexplained spike whose crowd looks manufactured (see
  ``spikes``: the burst of throwaway registrations that never do anything else).

Events of one account at the very same instant count once (a checkout split into orders per
shop). Claims in the first minutes after their campaign's release are left out of the clock tests:
the release timed them, not a script (the flash-sale crowd). Time of day is platform-local.
"""

from __future__ import annotations

import math

import polars as pl
from pydantic import BaseModel, Field

from abuse.detect.timing import groups as groups
from abuse.detect.timing import stats as st
from abuse.detect.timing.spikes import lone_members, member_finding
from abuse.detect.base import DetectContext, DetectorResult, Finding, DetectorBase, register
from abuse.detect.spikes import SpikeParams
from abuse.sqlfiles import read_sql, set_variables

PATTERN = "scripted_timing"


@register
class TimingDetector(DetectorBase):
    name = "timing"
    patterns = (PATTERN,)

    class Params(BaseModel):
        on_hour_s: int = Field(
            3, ge=1, le=60,
            description="'On the hour' = this many seconds after a local hour starts."
        )
        release_grace_s: float = Field(
            600, ge=0,
            description="Claims this soon after their campaign's release are timed by it, not by a clock."
        )
        min_events: int = Field(
            5, ge=1, description="Accounts with fewer clock-testable events are not tested."
        )
        min_hits: int = Field(
            5, ge=1,
            description="At least this many events on the hour / at the fixed second to flag."
        )
        alpha: float = Field(
            0.01, gt=0, lt=1,
            description="Family-wise error rate of the clock tests (Bonferroni over accounts)."
        )
        min_gaps: int = Field(20, ge=2, description="Gaps needed before regularity is judged.")
        min_regular_gap_s: float = Field(
            10, gt=0,
            description="Only intervals at least this long count as regular (timestamps are often whole "
            "seconds)."
        )
        max_gap_jitter_s: float = Field(
            2, gt=0,
            description="Robust spread (1.4826 MAD) of the gaps at most this, in seconds, ..."
        )
        max_gap_rel: float = Field(
            0.02, gt=0, description="... and at most this share of the median gap, to be regular."
        )
        volume_z: float = Field(
            6, gt=0,
            description="Robust z of log(count) within the stream above which a count is out of human reach."
        )
        volume_min_accounts: int = Field(
            20, ge=2,
            description="Streams with fewer accounts have no population to compare volume with."
        )
        volume_mad_floor: float = Field(
            1.0, gt=0,
            description="Floor of the log-count spread (a stream where everyone does 1 is not a reason to "
            "flag 3)."
        )
        spike_min_shared: int = Field(
            3, ge=2,
            description="A lone spike member is flagged when this many of them share its device or network "
            "block."
        )
        spike_pad_min: int = Field(
            2, ge=0,
            description="Minutes either side of a spike in which its members are looked for."
        )
        spikes: SpikeParams = Field(
            default_factory=SpikeParams,
            description="How unexplained spikes are found; their lone participants are flagged."
        )
        max_findings: int = Field(100_000, ge=1, description="Safety cap on findings.")

    def run(self, ctx: DetectContext) -> DetectorResult:
        p, con = ctx.params, ctx.con
        set_variables(
            con, window_start=ctx.window_start, window_end=ctx.window_end,
            timing_on_hour_s=p.on_hour_s, timing_release_grace_s=float(p.release_grace_s),
            timing_member_pad_min=p.spike_pad_min,
        )
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE timing_events AS " + read_sql("features/timing_events.sql"))
            streams = con.sql(read_sql("features/timing_streams.sql")).pl()
            seconds = con.sql(read_sql("features/timing_seconds.sql")).pl()
            members = lone_members(con, ctx, p.spikes, p.spike_min_shared, p.alpha)
        finally:
            for table in ("timing_events", "timing_spikes", "spikes_events"):
                con.execute(f"DROP TABLE IF EXISTS {table}")
        findings = []
        if not streams.is_empty():
            table = score_accounts(streams, seconds, p)
            findings = [_finding(r, p) for r in table.head(p.max_findings).iter_rows(named=True)]
        flagged = {f.account_id for f in findings}
        findings += [member_finding(r, PATTERN) for r in members.iter_rows(named=True)
                     if r["account_id"] not in flagged]
        clusters = groups.spike_clusters(members, PATTERN, p.spike_min_shared)
        clocked = sorted(flagged - {a for c in clusters.values() for a in c.account_ids})
        clusters |= groups.machine_clusters(con, clocked, PATTERN, p.spike_min_shared)
        groups.attach(findings, clusters)
        return DetectorResult(findings=findings, clusters=list(clusters.values()))


def score_accounts(streams: pl.DataFrame, seconds: pl.DataFrame, p: BaseModel) -> pl.DataFrame:
    """Every account with its test figures and a ``flag``; flagged ones first, by score."""
    # The clock tests judge each source (activity, claims, orders, reviews) against its own
    # null: a source whose timestamps are rounded is rounded for everyone.
    source = pl.col("stream").str.split(":").list.first()
    testable = (
        streams.filter(pl.col("n") > 0).with_columns(source)
        .group_by("account_id", "stream").agg(pl.col("n", "n_on_hour").sum())
    )
    seconds = seconds.with_columns(source).group_by("account_id", "stream", "sec_of_minute").agg(pl.col("n").sum())
    hour = st.on_hour_test(testable, st.on_hour_null(testable, p.on_hour_s))
    enough = hour.filter(pl.col("n_events") >= p.min_events)["account_id"]
    fixed = st.fixed_second_test(
        seconds.filter(pl.col("account_id").is_in(enough.implode())),
        st.second_null(seconds),
    )
    n_tested = max(len(enough), 1)
    table = (
        hour.join(fixed, on="account_id", how="left")
        .join(st.regular_gaps(streams, p.min_gaps, p.min_regular_gap_s, p.max_gap_jitter_s, p.max_gap_rel),
              on="account_id", how="left")
        .join(st.volume_outliers(streams, p.volume_min_accounts, p.volume_mad_floor), on="account_id", how="left")
        .join(st.session_lengths(streams), on="account_id", how="left")
        .with_columns(
            # two clock tests per account, Bonferroni over them and over every account tested
            (pl.min_horizontal("p_on_hour", pl.col("p_fixed_second").fill_null(1.0)) * 2 * n_tested)
            .clip(upper_bound=1.0).alias("p_value"),
        )
    )
    on_clock = (
        (pl.col("n_events") >= p.min_events)
        & (pl.col("p_value") <= p.alpha)
        & (pl.max_horizontal("on_hour", pl.col("fixed_hits").fill_null(0)) >= p.min_hits)
    )
    table = table.with_columns(
        on_clock.alias("on_clock"),
        pl.col("regular").fill_null(False),
        (pl.col("volume_z").fill_null(0) >= p.volume_z).alias("extreme_volume"),
    ).with_columns((pl.col("on_clock") | pl.col("regular") | pl.col("extreme_volume")).alias("flag"))
    return table.filter("flag").with_columns(
        pl.struct(pl.all()).map_elements(_score, return_dtype=pl.Float64).alias("score")
    ).sort("score", descending=True)


def _score(r: dict) -> float:
    """0..1: 0.5 at the edge of significance, rising with -log10 of the corrected p-value;
    a regular interval or an extreme volume alone count as strong evidence."""
    s = 0.0
    if r["on_clock"]:
        s = max(s, 0.5 + 0.05 * -math.log10(max(r["p_value"], 1e-300)))
    if r["regular"]:
        s = max(s, 0.8)
    if r["extreme_volume"]:
        s = max(s, 0.5 + 0.05 * r["volume_z"])
    if r["duration_rank"] is not None and r["duration_rank"] <= 0.05:
        s += 0.1  # sessions among the shortest of the population
    return round(min(s, 1.0), 4)


def _finding(r: dict, p: BaseModel) -> Finding:
    parts = []
    if r["on_clock"]:
        p_fixed = r["p_fixed_second"]
        if p_fixed is None or math.isnan(p_fixed):  # (a p-value of 0.0 is strong, not missing)
            p_fixed = 1.0
        if r["p_on_hour"] < p_fixed or (r["p_on_hour"] == p_fixed and r["on_hour"] >= r["fixed_hits"]):
            parts.append(f"{r['on_hour']} of {r['n_events']} events in the first {p.on_hour_s} s of the hour")
        else:
            s = r["fixed_second"]
            parts.append(f"{r['fixed_hits']} of {r['n_events']} events at second {s}-{(s + 2) % 60} of the minute")
        parts.append(f"chance {r['p_value']:.1g}" if r["p_value"] > 0 else "chance below 1e-300")
    if r["regular"]:
        parts.append(f"{r['n_gaps']} gaps of {r['median_gap']:.0f} s (spread {r['gap_jitter']:.2g} s) in {r['gap_stream']}")
    if r["extreme_volume"]:
        parts.append(f"{r['volume']} {r['volume_stream']} events (population median {r['population_median']:.0f})")
    if r["median_duration"] is not None:
        parts.append(f"median session {r['median_duration']:.1f} s")
    evidence = {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in r.items()
        if k not in ("flag", "account_id", "score")
    }
    evidence["share_on_hour"] = round(r["on_hour"] / max(r["n_events"], 1), 4)
    return Finding(r["account_id"], PATTERN, r["score"], ", ".join(parts), evidence)

