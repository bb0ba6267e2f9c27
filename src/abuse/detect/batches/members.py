"""The idle members of registration bursts, and the bursts whose crowd looks manufactured.

Being in a burst is no evidence against one person: a TV ad brings hundreds of real signups
at once, and most of them go on to use the app. A burst's idle members (registered in it,
then nothing else in the window) are a batch when the crowd itself looks manufactured:

- far more of the burst's accounts stay idle than the window's new accounts do in general
  (binomial tail against that base rate, Bonferroni over the bursts tested), or
- its idle members share devices or network blocks (a few machines registered them), or
- it is part of a slow wave (``waves``): a run of hours near it (up to ``wave_min`` minutes long)
  whose signups, less the bursts' own batches, are idle far beyond the quiet hours' base rate,
  tested as one excess (binomial tail, Bonferroni over every run of the window), so a batch
  that registers a few idle accounts an hour for a day is one batch over its whole extent, not
  only its strongest hours.

An account invited by an established member (its inviter registered before the crowd) is not a
member by the idle crowd or wave alone: an ordinary invitee who happens to stay idle is not
evidence of a batch; it needs its own (a machine it shares).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from abuse.frames import Schema
from abuse.sqlfiles import read_sql, set_variables, temp_table, use_intermediate
from abuse.stats import corrected, surprise_binom

ID_KINDS = {"device": "device_id", "block": "block", "segment": "phone_prefix", "inviter": "invited_by"}


RUN_SCHEMA: Schema = {
    "burst_no": pl.Int64,
    "run_start": pl.Datetime("us", "UTC"),
    "run_end": pl.Datetime("us", "UTC"),
    "run_new": pl.Int64,
    "run_idle": pl.Int64,
    "run_surprise": pl.Float64,
}


def quiet_hours(con, spans: pl.DataFrame, window_start, window_end) -> tuple[pl.DataFrame, float]:
    """The window's hours with their new and idle signups (sql/features/batches_hours.sql), and
    the idle rate of the quiet ones (sql/features/batches_quiet_rate.sql: no registration spike
    of ``spans`` overlaps the hour; Laplace-smoothed)."""
    set_variables(con, window_start=window_start, window_end=window_end)
    use_intermediate(con)
    hours = con.sql(read_sql("features/batches_hours.sql")).pl()
    with temp_table(con, "batches_hours", hours), temp_table(con, "batches_spans", spans):
        registered, idle = con.sql(read_sql("features/batches_quiet_rate.sql")).fetchone()
    return hours, (idle + 1) / (registered + 2)


def waves(
    hours: pl.DataFrame,
    rate: float,
    taken: pl.DataFrame,
    bursts: pl.DataFrame,
    wave_min: int,
    min_idle: int,
    alpha_surprise: float,
) -> pl.DataFrame:
    """The slow waves: runs of whole hours (``hours``: hour_start, n_new, n_idle) lasting at
    most ``wave_min`` minutes whose signups are idle far beyond the quiet hours' ``rate``, as a
    binomial tail corrected over every run of the window tried. The idle signups already
    ``taken`` (account_id, registered_at: the bursts' own batches) are left out of the counts,
    so a run must carry evidence of its own: a short burst does not drag in the ordinary idle
    signups of its hour, while a slow wave whose burst covers only part of it (or whose long
    burst's crowd is not idle as a whole) still stands out hour after hour. The most surprising
    runs are kept, none overlapping another, while they reach ``alpha_surprise`` with at least
    ``min_idle`` idle signups; each goes to the burst of ``bursts`` (burst_no, window_start,
    window_end) nearest it, within ``wave_min`` minutes (a run near no burst is left: the spikes
    detector saw no registrations out of the ordinary there)."""
    empty = pl.DataFrame(schema=RUN_SCHEMA)
    if hours.is_empty() or bursts.is_empty():
        return empty
    origin = hours["hour_start"][0]
    longest = max(int(wave_min) // 60, 1)
    n_hours = hours.height
    gone = np.zeros(n_hours, np.int64)
    if not taken.is_empty():
        at = ((taken["registered_at"] - origin).dt.total_seconds() // 3600).to_numpy().astype(np.int64)
        at = at[(at >= 0) & (at < n_hours)]
        np.add.at(gone, at, 1)
    new = np.concatenate([[0], np.cumsum(hours["n_new"].to_numpy() - gone)])
    idl = np.concatenate([[0], np.cumsum(hours["n_idle"].to_numpy() - gone)])
    lo, length = (g.ravel() for g in np.meshgrid(np.arange(n_hours), np.arange(1, longest + 1)))
    ok = lo + length <= n_hours
    lo, hi = lo[ok], lo[ok] + length[ok]
    k, n = idl[hi] - idl[lo], new[hi] - new[lo]
    s = corrected(surprise_binom(k, n, rate), len(k))
    keep = np.nonzero((s >= alpha_surprise) & (k >= min_idle))[0]
    used = np.zeros(n_hours, bool)
    picked = []
    for i in keep[np.lexsort((lo[keep], -s[keep]))]:
        if not used[lo[i] : hi[i]].any():
            used[lo[i] : hi[i]] = True
            picked.append(i)
    if not picked:
        return empty
    reach = timedelta(hours=longest)
    spans = list(zip(bursts["burst_no"], bursts["window_start"], bursts["window_end"], strict=True))
    rows = []
    for i in picked:
        r0, r1 = origin + timedelta(hours=int(lo[i])), origin + timedelta(hours=int(hi[i]))
        gap, no = min((max(b0 - r1, r0 - b1, timedelta(0)), no) for no, b0, b1 in spans)
        if gap <= reach:
            rows.append((int(no), r0, r1, int(n[i]), int(k[i]), float(s[i])))
    if not rows:
        return empty
    return pl.DataFrame(rows, schema=RUN_SCHEMA, orient="row")


def in_runs(members: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """``members`` with ``in_wave``: registered in one of its burst's ``runs`` (``waves``)."""
    inside = (
        members.select("burst_no", "account_id", "registered_at")
        .join(runs.select("burst_no", "run_start", "run_end"), on="burst_no")
        .filter(
            (pl.col("registered_at").dt.convert_time_zone("UTC") >= pl.col("run_start"))
            & (pl.col("registered_at").dt.convert_time_zone("UTC") < pl.col("run_end"))
        )
        .select("burst_no", "account_id", pl.lit(True).alias("in_wave"))
        .unique()
    )
    return members.join(inside, on=["burst_no", "account_id"], how="left").with_columns(
        pl.col("in_wave").fill_null(False)
    )


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
    rise, on the batch's machines; a network block is too common a thing to share that far out),
    or registered in one of the burst's slow waves (``in_wave``: ``waves``, ``in_runs``). An
    account an established member invited (``invited_by`` set, ``inviter_new`` false) belongs by
    a machine only: an ordinary invitee who stays idle is no evidence of a batch.
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
            (pl.col("idle_crowd") & pl.col("in_core") | pl.col("in_wave")) & ~pl.col("invited") | pl.col("machines")
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
