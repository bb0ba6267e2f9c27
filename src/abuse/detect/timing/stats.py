"""Statistics behind ``scripted_timing``: how unlikely an account's clock is for a person.

Every test compares an account with a null taken from the population itself, pooled over
the lighter half of the accounts (so bots, which are heavy, cannot shape it; a source whose
timestamps are rounded is rounded for them too) and never below the uniform clock:

- on the hour: events in the first seconds of a local hour, binomial tail;
- fixed second: the busiest 3-second arc of the second-of-minute dial, binomial tail times
  the 60 arcs tried;
- regular gaps: consecutive gaps repeated to within a jitter no person keeps up;
- volume: a count of spins or claims far above the population on a log scale (median/MAD).

Several streams (activity actions, claims, orders, reviews) pool into one account test. Their
nulls differ, so the expected count is the sum of per-stream expectations and the tail is
that of a binomial with the mean probability: by Hoeffding (1956) this bounds the upper tail
of the true (Poisson-binomial) count, so the p-values err on the safe side.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import binom

from abuse.stats import corrected, surprise_binom

ARC = 3  # width of the fixed-second arc, in seconds
SECONDS = 60


def on_hour_null(streams: pl.DataFrame, on_hour_s: int) -> dict[str, float]:
    """Per stream: the chance one event falls in the first ``on_hour_s`` seconds of the hour,
    pooled over the lighter half of its accounts (bots are heavy), never below uniform."""
    floor = on_hour_s / 3600.0
    null = {}
    for (stream,), part in streams.filter(pl.col("n") > 0).group_by(["stream"]):
        light = part.filter(pl.col("n") <= pl.col("n").median())
        null[stream] = max(floor, light["n_on_hour"].sum() / max(light["n"].sum(), 1))
    return null


def arc_counts(hist: np.ndarray) -> np.ndarray:
    """Counts in each circular arc of ARC seconds starting at each second (rows: accounts)."""
    return sum(np.roll(hist, -k, axis=1) for k in range(ARC))


def second_null(seconds: pl.DataFrame) -> dict[str, np.ndarray]:
    """Per stream: the chance one event falls in each 3-second arc of the minute, pooled over
    the lighter half of its accounts, never below uniform (a stream whose timestamps are cut
    to the minute has everyone at second 0)."""
    floor = ARC / SECONDS
    null = {}
    for (stream,), part in seconds.group_by(["stream"]):
        n = part.group_by("account_id").agg(pl.col("n").sum().alias("total"))
        light = n.filter(pl.col("total") <= pl.col("total").median())["account_id"]
        _, hist = pivot_seconds(part.filter(pl.col("account_id").is_in(light.implode())))
        pooled = hist.sum(axis=0, keepdims=True)
        null[stream] = np.maximum(arc_counts(pooled)[0] / max(pooled.sum(), 1), floor)
    return null


def pivot_seconds(seconds: pl.DataFrame) -> tuple[list[str], np.ndarray]:
    """(account ids, accounts x 60 matrix of event counts per second of the minute)."""
    summed = seconds.group_by(["account_id", "sec_of_minute"]).agg(pl.col("n").sum())
    accounts = summed["account_id"].unique().sort().to_list()
    index = {a: i for i, a in enumerate(accounts)}
    hist = np.zeros((len(accounts), SECONDS))
    rows = np.fromiter((index[a] for a in summed["account_id"]), dtype=np.int64)
    np.add.at(hist, (rows, summed["sec_of_minute"].to_numpy() % SECONDS), summed["n"].to_numpy())
    return accounts, hist


def binomial_tail(hits: np.ndarray, n: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """P(X >= hits) for X ~ Binomial(n, expected / n); 1 where there are no hits."""
    p = np.clip(expected / np.maximum(n, 1), 0.0, 1.0)
    tail = binom.sf(hits - 1, n, p)
    return np.where(hits > 0, tail, 1.0)


def on_hour_test(streams: pl.DataFrame, null: dict[str, float]) -> pl.DataFrame:
    """Per account: events, events on the hour, expected on the hour, one-sided p-value."""
    per = (
        streams.with_columns((pl.col("n") * pl.col("stream").replace_strict(null, default=1.0)).alias("exp"))
        .group_by("account_id")
        .agg(
            pl.col("n").sum().alias("n_events"),
            pl.col("n_on_hour").sum().alias("on_hour"),
            pl.col("exp").sum().alias("on_hour_expected"),
        )
    )
    p = binomial_tail(per["on_hour"].to_numpy(), per["n_events"].to_numpy(), per["on_hour_expected"].to_numpy())
    return per.with_columns(pl.Series("p_on_hour", p))


def fixed_second_test(seconds: pl.DataFrame, null: dict[str, np.ndarray]) -> pl.DataFrame:
    """Per account: its busiest 3-second arc of the minute, the events in it and the p-value
    of that concentration, corrected for the 60 arcs tried."""
    accounts, total = pivot_seconds(seconds)
    if not accounts:
        return pl.DataFrame(
            schema={
                "account_id": pl.String,
                "fixed_second": pl.Int64,
                "fixed_hits": pl.Int64,
                "p_fixed_second": pl.Float64,
            }
        )
    index = {a: i for i, a in enumerate(accounts)}
    expected = np.zeros_like(total)
    for (stream,), part in seconds.group_by(["stream"]):
        n = part.group_by("account_id").agg(pl.col("n").sum())
        rows = np.fromiter((index[a] for a in n["account_id"]), dtype=np.int64)
        expected[rows] += np.outer(n["n"].to_numpy(), null[stream])
    n = total.sum(axis=1)
    hits = arc_counts(total)
    p = binomial_tail(hits, np.repeat(n[:, None], SECONDS, axis=1), expected)
    best = p.argmin(axis=1)
    rows = np.arange(len(accounts))
    return pl.DataFrame(
        {
            "account_id": accounts,
            "fixed_second": best.astype(np.int64),
            "fixed_hits": hits[rows, best].astype(np.int64),
            "p_fixed_second": np.minimum(1.0, p[rows, best] * SECONDS),
        }
    )


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
    tries = (
        sum(d * k for d, k in WIDTHS.items())
        * arcs.group_by("account_id").agg(pl.col("source").n_unique())["source"].max()
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
        return rows.with_columns(
            *(
                pl.lit(0.0).alias(c)
                for c in (
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
            )
        )
    uniform = sleep_h / 24
    share = (pl.col("quiet") / pl.col("n")).alias("quiet_share")
    rows = rows.with_columns(share)
    judged = rows.filter(pl.col("n") >= 50)
    base = judged["quiet_share"].quantile(0.75) if judged.height >= 20 else None
    base = float(np.clip(base if base is not None else uniform / 3, uniform / 6, uniform * 0.75))
    s_sleep = surprise_binom(rows["quiet"].to_numpy(), rows["n"].to_numpy(), base)
    # half days without sleep, against a person's rate per half day of activity span
    # (judged only where a break means something: accounts that otherwise act at least every
    # sleep_gap / 4 on average; a sparse visitor's gaps are long and short by chance)
    dense = pl.col("mean_interval").fill_null(1e12) <= sleep_gap_h * 3600 / 4
    halves = pl.when(dense).then((pl.col("span_days").fill_null(0) * 2).floor()).otherwise(0.0)
    # the typical (median) dense account's rate, within [1%, awake_max]: a crew of timers can
    # be most of the dense accounts, but people sleep on most days whatever the crowd does
    spans = rows.filter(halves >= 2).select((pl.col("sleepless_halves") / halves).alias("rate"))
    day_rate = float(np.clip(spans["rate"].median() if spans.height >= 10 else awake_max, 0.01, awake_max))
    s_awake = surprise_binom(
        rows["sleepless_halves"].fill_null(0).to_numpy(), rows.select(halves.alias("h"))["h"].to_numpy(), day_rate
    )
    rows = rows.with_columns(
        pl.lit(base).alias("quiet_base"),
        pl.Series("sleep_surprise", s_sleep),
        pl.lit(day_rate).alias("sleepless_base"),
        pl.Series("awake_surprise", s_awake),
        ((pl.col("dur_q3") - pl.col("dur_q1")) / pl.col("dur_median").clip(lower_bound=1e-3)).alias("duration_cv"),
        (pl.col("sd_interval") / pl.col("mean_interval")).alias("interval_cv"),
        (pl.col("hour_cells") / (24 * pl.col("active_days"))).alias("coverage"),
    )
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
