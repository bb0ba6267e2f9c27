"""Statistics behind ``scripted_timing``: how unlikely an account's clock is for a person.

Every test compares an account with a null taken from the population itself (pooled over
the lighter half of the accounts, so bots, which are heavy, cannot shape it; a source whose
timestamps are rounded is rounded for them too):

- alignment: the arc of the hour or minute dial, at the jitter's own width, holding far more
  of an account's events than people put there (arcs counted in sql/features/timing_arcs.sql),
  binomial surprise corrected for every arc tried;
- regular gaps: consecutive gaps repeated to within a jitter no person keeps up;
- volume: a count of spins or claims far above the population on a log scale (median/MAD);
- rhythm: events in the account's quietest hours and days without a sleep-length break,
  against a person's share.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from abuse.frames import integer, number
from abuse.stats import corrected, surprise_binom


def regular_gaps(
    streams: pl.DataFrame, min_gaps: int, min_gap_s: float, max_jitter_s: float, max_rel: float
) -> pl.DataFrame:
    """Per account: its most regular stream (robust jitter of the gaps relative to their
    median) and whether that stream repeats one interval to within a jitter nobody keeps."""
    jitter = 1.4826 * pl.col("mad_gap")
    rows = (
        streams.filter((pl.col("n_gaps") >= min_gaps) & (pl.col("median_gap") > 0))
        .with_columns(
            jitter.alias("gap_jitter"),
            (jitter / pl.col("median_gap")).alias("gap_rcv"),
            (pl.col("sd_gap") / pl.col("mean_gap")).alias("gap_cv"),
        )
        .sort("gap_rcv")
        .group_by("account_id", maintain_order=True)
        .first()
    )
    regular = (
        (pl.col("median_gap") >= min_gap_s) & (pl.col("gap_jitter") <= max_jitter_s) & (pl.col("gap_rcv") <= max_rel)
    )
    return rows.select(
        "account_id",
        pl.col("stream").alias("gap_stream"),
        "n_gaps",
        "median_gap",
        "gap_jitter",
        "gap_rcv",
        "gap_cv",
        regular.alias("regular"),
    )


def volume_outliers(streams: pl.DataFrame, min_accounts: int, mad_floor: float) -> pl.DataFrame:
    """Per (account, stream) of activity and claims: the robust z of log(count) within the
    stream's population and the account's percentile rank there; best stream per account."""
    x = pl.col("n_all").cast(pl.Float64).log()
    scored = (
        streams.filter(pl.col("stream").str.starts_with("activity:") | (pl.col("stream") == "coupon_claim"))
        .with_columns(x.alias("logn"))
        .with_columns(
            pl.col("logn").median().over("stream").alias("med"),
            pl.col("n_all").median().over("stream").alias("population_median"),
            pl.len().over("stream").alias("population"),
            pl.col("n_all").rank("max").over("stream").alias("rank"),
        )
        .with_columns((pl.col("logn") - pl.col("med")).abs().median().over("stream").alias("mad"))
        .filter(pl.col("population") >= min_accounts)
        .with_columns(
            ((pl.col("logn") - pl.col("med")) / pl.max_horizontal(1.4826 * pl.col("mad"), mad_floor)).alias("volume_z"),
            (pl.col("rank") / pl.col("population")).alias("volume_rank"),
        )
        .sort("volume_z", descending=True)
        .group_by("account_id", maintain_order=True)
        .first()
    )
    return scored.select(
        "account_id",
        pl.col("stream").alias("volume_stream"),
        pl.col("n_all").alias("volume"),
        "population_median",
        "volume_z",
        "volume_rank",
    )


def session_lengths(streams: pl.DataFrame) -> pl.DataFrame:
    """Per account: the median session length of its activity stream with the most timed
    events, and the share of that stream's accounts whose median is as short or shorter."""
    timed = streams.filter(pl.col("n_durations") > 0).with_columns(
        (pl.col("median_duration").rank("max").over("stream") / pl.len().over("stream")).alias("duration_rank")
    )
    return (
        timed.sort("n_durations", descending=True)
        .group_by("account_id", maintain_order=True)
        .first()
        .select("account_id", "median_duration", "duration_rank", pl.col("stream").alias("duration_stream"))
    )


# --- conjunction of weak signals (surprises, abuse.stats) ---------------------------------

DIALS = {3600: "hour", 60: "minute"}
WIDTHS = {3600: 8, 60: 3}  # arc widths tried per dial (sql/features/timing_arcs.sql)


def alignment(arcs: pl.DataFrame) -> pl.DataFrame:
    """Per account: the arc of the hour or minute dial, at whatever width the jitter has, that
    is least likely for a person: the binomial surprise of its hits against the population's
    share of that arc, less log10 of every arc tried (each start of each dial at each width)."""
    if arcs.is_empty():
        return pl.DataFrame(
            schema={
                "account_id": pl.String,
                "arc_dial": pl.Int64,
                "arc_width": pl.Int64,
                "arc_start": pl.Int64,
                "arc_source": pl.String,
                "arc_hits": pl.Int64,
                "arc_n": pl.Int64,
                "arc_share": pl.Float64,
                "arc_surprise": pl.Float64,
            }
        )
    # every start of each dial at each width, on each source an account has
    tries = sum(d * k for d, k in WIDTHS.items()) * integer(
        arcs.group_by("account_id").agg(pl.col("source").n_unique())["source"].max()
    )
    s = surprise_binom(arcs["hits"].to_numpy(), arcs["n"].to_numpy(), arcs["null_share"].to_numpy())
    return (
        arcs.with_columns(pl.Series("s", corrected(s, tries)))
        # ties (an unaligned account scores 0 on many arcs) broken by dial, width, source, start
        .sort(
            ["account_id", "s", "dial", "width", "source", "arc_start"],
            descending=[False, True, False, False, False, False],
        )
        .group_by("account_id", maintain_order=True)
        .first()
        .select(
            "account_id",
            pl.col("dial").alias("arc_dial"),
            pl.col("width").alias("arc_width"),
            "arc_start",
            pl.col("source").alias("arc_source"),
            pl.col("hits").alias("arc_hits"),
            pl.col("n").alias("arc_n"),
            pl.col("null_share").alias("arc_share"),
            pl.col("s").alias("arc_surprise"),
        )
    )


def empirical_surprise(values: pl.Expr) -> pl.Expr:
    """-log10 of the share of the population at or below each value (rank-based, ties share
    the highest rank): how unusual a low value is among these accounts."""
    return -((values.rank("max") / (values.count() + 1)).log10())


def rhythm(
    rows: pl.DataFrame,
    sleep_h: int,
    min_gaps: int,
    min_durations: int,
    sleep_gap_h: float = 5.0,
    awake_max: float = 0.1,
) -> pl.DataFrame:
    """Per account, three surprises against the population's own base rates:

    - ``sleep_surprise``: events in its quietest ``sleep_h`` hours of the day, binomial against
      the share a person keeps there (the population's upper quartile among accounts with
      enough events to tell; never below 1/6 of uniform), so a timer that never sleeps stands out;
    - ``awake_surprise``: half days without a sleep-sized gap, binomial over the half days of its
      activity span against the median dense account's rate (1% to ``awake_max``): a timer runs
      for days;
    - ``duration_surprise``: how few accounts keep session lengths as steady (robust spread
      IQR / median, rank among accounts with ``min_durations`` timed events);
    - ``coverage_surprise``: how few accounts (of those with 50 events or more) are up in as
      large a share of the clock hours of the days they are active (around the clock);
    - ``gap_surprise``: how few accounts have gaps as close to a Poisson timer's (coefficient of
      variation near 1; people act in sessions, CV far above 1), rank among accounts with
      ``min_gaps`` gaps.
    """
    if rows.is_empty():
        return rows.with_columns(*(pl.lit(0.0).alias(c) for c in RHYTHM_COLUMNS))
    rows = rows.with_columns((pl.col("quiet") / pl.col("n")).alias("quiet_share"))
    base = _quiet_base(rows, sleep_h)
    s_sleep = surprise_binom(rows["quiet"].to_numpy(), rows["n"].to_numpy(), base)
    day_rate, s_awake = _sleepless(rows, sleep_gap_h, awake_max)
    rows = rows.with_columns(
        pl.lit(base).alias("quiet_base"),
        pl.Series("sleep_surprise", s_sleep),
        pl.lit(day_rate).alias("sleepless_base"),
        pl.Series("awake_surprise", s_awake),
        ((pl.col("dur_q3") - pl.col("dur_q1")) / pl.col("dur_median").clip(lower_bound=1e-3)).alias("duration_cv"),
        (pl.col("sd_interval") / pl.col("mean_interval")).alias("interval_cv"),
        (pl.col("hour_cells") / (24 * pl.col("active_days"))).alias("coverage"),
    )
    return _ranked(rows, min_gaps, min_durations)


RHYTHM_COLUMNS = (  # what ``rhythm`` adds
    "quiet_share",
    "quiet_base",
    "sleep_surprise",
    "duration_cv",
    "duration_surprise",
    "interval_cv",
    "gap_surprise",
    "coverage",
    "coverage_surprise",
    "sleepless_base",
    "awake_surprise",
)


def _quiet_base(rows: pl.DataFrame, sleep_h: int) -> float:
    """The share of its events a person keeps in its quietest ``sleep_h`` hours: the upper
    quartile among accounts with 50 events or more (20 of them at least), within 1/6 and 3/4
    of uniform."""
    uniform = sleep_h / 24
    judged = rows.filter(pl.col("n") >= 50)
    base = judged["quiet_share"].quantile(0.75) if judged.height >= 20 else None
    return float(np.clip(base if base is not None else uniform / 3, uniform / 6, uniform * 0.75))


def _sleepless(rows: pl.DataFrame, sleep_gap_h: float, awake_max: float) -> tuple[float, np.ndarray]:
    """A person's rate of half days without a ``sleep_gap_h`` break, and each account's
    surprise at its own sleepless half days against it."""
    # half days without sleep, against a person's rate per half day of activity span
    # (judged only where a break means something: accounts that otherwise act at least every
    # sleep_gap / 4 on average; a sparse visitor's gaps are long and short by chance)
    dense = pl.col("mean_interval").fill_null(1e12) <= sleep_gap_h * 3600 / 4
    halves = pl.when(dense).then((pl.col("span_days").fill_null(0) * 2).floor()).otherwise(0.0)
    # the typical (median) dense account's rate, within [1%, awake_max]: a crew of timers can
    # be most of the dense accounts, but people sleep on most days whatever the crowd does
    spans = rows.filter(halves >= 2).select((pl.col("sleepless_halves") / halves).alias("rate"))
    day_rate = float(np.clip(number(spans["rate"].median()) if spans.height >= 10 else awake_max, 0.01, awake_max))
    s_awake = surprise_binom(
        rows["sleepless_halves"].fill_null(0).to_numpy(), rows.select(halves.alias("h"))["h"].to_numpy(), day_rate
    )
    return day_rate, s_awake


def _ranked(rows: pl.DataFrame, min_gaps: int, min_durations: int) -> pl.DataFrame:
    """``rows`` with the rank surprises of steady sessions, Poisson-like gaps and round-the-clock
    coverage among the accounts each can be judged on (0 for the rest)."""
    timed = pl.col("n_durations") >= min_durations
    gapped = pl.col("n_intervals").fill_null(0) >= min_gaps
    busy = rows.filter(pl.col("n") >= 50).select(
        "account_id", empirical_surprise(-pl.col("coverage")).alias("coverage_surprise")
    )
    dur = rows.filter(timed).select("account_id", empirical_surprise(pl.col("duration_cv")).alias("duration_surprise"))
    gap = rows.filter(gapped).select(
        "account_id", empirical_surprise(pl.col("interval_cv").log().abs()).alias("gap_surprise")
    )
    return (
        rows.join(dur, on="account_id", how="left")
        .join(gap, on="account_id", how="left")
        .join(busy, on="account_id", how="left")
        .with_columns(pl.col("duration_surprise", "gap_surprise", "coverage_surprise").fill_null(0.0))
    )
