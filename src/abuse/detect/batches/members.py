"""The idle members of registration bursts, and the bursts whose crowd looks manufactured.

Being in a burst is no evidence against one person: a TV ad brings hundreds of real signups
at once, and most of them go on to use the app. A burst's idle members (registered in it,
then nothing else in the window) are a batch when the crowd itself looks manufactured:

- far more of the burst's accounts stay idle than the window's new accounts do in general
  (binomial tail against that base rate, Bonferroni over the bursts tested), or
- its idle members share devices or network blocks (a few machines registered them), or
- it is part of a slow wave (``waves``): a run of hours around it (up to ``wave_min`` minutes)
  whose signups are idle far beyond the quiet hours' base rate, tested as one excess (binomial
  tail, Bonferroni over every run tried), so a batch that registers a few idle accounts an hour
  for a day is one batch over its whole extent, not only its strongest hours.

An account invited by an established member (its inviter registered before the crowd) is not a
member by the idle crowd or wave alone: an ordinary invitee who happens to stay idle is not
evidence of a batch; it needs its own (a machine it shares).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from abuse.sqlfiles import read_sql, set_variables, temp_table, use_intermediate
from abuse.stats import corrected, surprise_binom

ID_KINDS = {"device": "device_id", "block": "block", "segment": "phone_prefix", "inviter": "invited_by"}


WAVE_SCHEMA = {
    "burst_no": pl.Int64,
    "wave_start": pl.Datetime("us", "UTC"),
    "wave_end": pl.Datetime("us", "UTC"),
    "wave_new": pl.Int64,
    "wave_idle": pl.Int64,
    "wave_surprise": pl.Float64,
}


def waves(
    con,
    bursts: pl.DataFrame,
    spans: pl.DataFrame,
    window_start,
    window_end,
    wave_min: int,
    min_idle: int,
    alpha_surprise: float,
) -> tuple[pl.DataFrame, float]:
    """The slow wave around each burst of ``bursts`` (burst_no, window_start, window_end): of
    every run of whole hours of the window (sql/features/batches_hours.sql) that covers the
    burst's hours and reaches up to ``wave_min`` minutes beyond them (before and after
    together), the one whose signups in the hours beyond the burst are the most idle against
    the quiet hours' idle rate (sql/features/batches_quiet_rate.sql; quiet: no registration
    spike of ``spans`` overlaps the hour), as a binomial tail corrected over every run tried for
    every burst. The extension must carry its own evidence: the burst's own crowd is judged
    apart (``manufactured``), so a short burst does not drag in the ordinary idle signups of its
    hour. A burst's wave (wave_start, wave_end, the new and idle signups beyond the burst's
    hours, the corrected surprise) is kept when that surprise reaches ``alpha_surprise`` and at
    least ``min_idle`` of those signups are idle. Also returns the quiet rate (Laplace-smoothed)."""
    set_variables(con, window_start=window_start, window_end=window_end)
    use_intermediate(con)
    hours = con.sql(read_sql("features/batches_hours.sql")).pl()
    with temp_table(con, "batches_hours", hours), temp_table(con, "batches_spans", spans):
        registered, idle = con.sql(read_sql("features/batches_quiet_rate.sql")).fetchone()
    rate = (idle + 1) / (registered + 2)
    longest = max(int(wave_min) // 60, 1)
    if hours.is_empty() or bursts.is_empty():
        return pl.DataFrame(schema=WAVE_SCHEMA), rate
    new = np.concatenate([[0], np.cumsum(hours["n_new"].to_numpy())])
    idl = np.concatenate([[0], np.cumsum(hours["n_idle"].to_numpy())])
    n_hours = hours.height
    origin = hours["hour_start"][0]
    runs = []
    for r in bursts.iter_rows(named=True):  # the burst's hours [first, last), extended by (before, after)
        first = int((r["window_start"] - origin).total_seconds() // 3600)
        last = int(-(-(r["window_end"] - origin).total_seconds() // 3600))
        first, last = min(max(first, 0), n_hours - 1), min(max(last, first + 1), n_hours)
        before, after = (g.ravel() for g in np.meshgrid(np.arange(longest + 1), np.arange(longest + 1)))
        ok = (before + after >= 1) & (before + after <= longest) & (first >= before) & (last + after <= n_hours)
        lo, hi = first - before[ok], last + after[ok]
        k_out = (idl[first] - idl[lo]) + (idl[hi] - idl[last])
        n_out = (new[first] - new[lo]) + (new[hi] - new[last])
        runs.append((np.full(len(lo), r["burst_no"]), lo, hi, n_out, k_out))
    if not runs:
        return pl.DataFrame(schema=WAVE_SCHEMA), rate
    burst_no, lo, hi, n, k = (np.concatenate(x) for x in zip(*runs, strict=True))
    s = corrected(surprise_binom(k, n, rate), len(k))
    found = (
        pl.DataFrame({"burst_no": burst_no, "lo": lo, "hi": hi, "wave_new": n, "wave_idle": k, "wave_surprise": s})
        .filter((pl.col("wave_surprise") >= alpha_surprise) & (pl.col("wave_idle") >= min_idle))
        .sort("burst_no", "wave_surprise", "lo", descending=[False, True, False])
        .unique("burst_no", keep="first", maintain_order=True)
    )
    origin_at = pl.lit(origin).dt.convert_time_zone("UTC")
    return (
        found.with_columns(
            (origin_at + pl.duration(hours=pl.col("lo"))).alias("wave_start"),
            (origin_at + pl.duration(hours=pl.col("hi"))).alias("wave_end"),
        )
        .select(list(WAVE_SCHEMA))
        .cast(WAVE_SCHEMA)  # type: ignore[arg-type]
    ), rate


def idle_members(
    con, bursts: pl.DataFrame, window_start, window_end, pad_min: int, reach_min: int
) -> tuple[pl.DataFrame, float]:
    """Idle members of ``bursts`` (burst_no, window_start, window_end, wave_start, wave_end)
    with their identifiers and share counts (sql/features/batches_members.sql), those up to
    ``reach_min`` minutes either side or in the burst's wave with ``near`` false, and the
    window's idle rate (Laplace-smoothed)."""
    set_variables(
        con,
        window_start=window_start,
        window_end=window_end,
        batches_pad_min=pad_min,
        batches_reach_min=max(reach_min, pad_min),
    )
    use_intermediate(con)
    registered, idle = con.sql(read_sql("features/batches_idle_rate.sql")).fetchone()
    rate = (idle + 1) / (registered + 2)  # a window with no idle signup is not a 0 rate
    with temp_table(con, "batches_bursts", bursts):
        members = con.sql(read_sql("features/batches_members.sql")).pl()
    return members, rate


def manufactured(
    members: pl.DataFrame, rate: float, n_bursts: int, min_shared: int, alpha_surprise: float
) -> pl.DataFrame:
    """The idle members that belong to a batch: of a burst whose idle share is beyond chance
    (``idle_crowd``, members inside the burst proper), or on a device or network block that at
    least ``min_shared`` of the burst's idle members share (``machines``); an idle account from
    the hours either side (``near`` false) only on a device that many of them used (a slow wave's
    rise, on the batch's machines; a network block is too common a thing to share that far out).
    Adds the burst's idle surprise (corrected over ``n_bursts``)."""
    if members.is_empty():
        return members.with_columns(
            pl.lit(0.0).alias("idle_surprise"),
            pl.lit(False).alias("idle_crowd"),
            pl.lit(False).alias("machines"),
            pl.lit(0).alias("shared"),
        )
    s = corrected(surprise_binom(members["n_idle"].to_numpy(), members["n_members"].to_numpy(), rate), n_bursts)
    return (
        members.with_columns(pl.Series("idle_surprise", s, dtype=pl.Float64))
        .with_columns(
            pl.max_horizontal("on_device", "on_block").alias("shared"),
            ((pl.col("idle_surprise") >= alpha_surprise) & (pl.col("n_idle") >= min_shared)).alias("idle_crowd"),
        )
        .with_columns(
            pl.when(pl.col("near"))
            .then(pl.col("shared") >= min_shared)
            .otherwise(pl.col("in_reach") & (pl.col("on_device") >= min_shared))
            .alias("machines"),
            (pl.col("invited_by").is_not_null() & ~pl.col("inviter_new")).alias("invited"),
        )
        .filter(
            ((pl.col("idle_crowd") & pl.col("in_core")) | pl.col("in_wave")) & ~pl.col("invited") | pl.col("machines")
        )
    )


def hoarding_ties(con, members: pl.DataFrame, hoarders: pl.DataFrame) -> pl.DataFrame:
    """Per member (account_id) the hoarding batch (cluster_key) it shares the most identifier
    kinds with, those kinds (``tie_kinds``), or no row when it shares none. ``hoarders`` are the
    hoarding detector's members (account_id, cluster_key)."""
    if members.is_empty() or hoarders.is_empty():
        return pl.DataFrame(schema={"account_id": pl.String, "cluster_key": pl.String, "tie_kinds": pl.List(pl.String)})
    con.register("batches_hoarders", hoarders.to_arrow())
    try:
        ids = con.sql(read_sql("features/batches_hoarding_ids.sql")).pl()
    finally:
        con.unregister("batches_hoarders")
    long = (
        pl.concat(
            [
                members.select("account_id", pl.lit(kind).alias("kind"), pl.col(col).cast(pl.String).alias("value"))
                for kind, col in ID_KINDS.items()
            ]
        )
        .drop_nulls("value")
        .unique()
    )
    return (
        long.join(ids, on=["kind", "value"])
        .group_by("account_id", "cluster_key")
        .agg(pl.col("kind").unique().sort().alias("tie_kinds"))
        .sort(pl.col("tie_kinds").list.len(), "cluster_key", descending=[True, False])
        .unique("account_id", keep="first", maintain_order=True)
    )
