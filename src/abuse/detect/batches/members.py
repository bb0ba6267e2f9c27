"""The idle members of registration bursts, and the bursts whose crowd looks manufactured.

Being in a burst is no evidence against one person: a TV ad brings hundreds of real signups
at once, and most of them go on to use the app. A burst's idle members (registered in it,
then nothing else in the window) are a batch when the crowd itself looks manufactured:

- far more of the burst's accounts stay idle than the window's new accounts do in general
  (binomial tail against that base rate, Bonferroni over the bursts tested), or
- its idle members share devices or network blocks (a few machines registered them).
"""

from __future__ import annotations

import polars as pl

from abuse.sqlfiles import read_sql, set_variables, temp_table, use_intermediate
from abuse.stats import corrected, surprise_binom

ID_KINDS = {"device": "device_id", "block": "block", "segment": "phone_prefix", "inviter": "invited_by"}


def idle_members(
    con, bursts: pl.DataFrame, window_start, window_end, pad_min: int, reach_min: int
) -> tuple[pl.DataFrame, float]:
    """Idle members of ``bursts`` (burst_no, window_start, window_end) with their identifiers and
    share counts (sql/features/batches_members.sql), those up to ``reach_min`` minutes either
    side with ``near`` false, and the window's idle rate (Laplace-smoothed)."""
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
            .otherwise(pl.col("on_device") >= min_shared)
            .alias("machines")
        )
        .filter((pl.col("idle_crowd") & pl.col("in_core")) | pl.col("machines"))
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
