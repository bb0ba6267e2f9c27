"""The lone members of unexplained spikes (found by the ``spikes`` detector, which ``timing``
requires): accounts that appear in a burst and do nothing
else in the window ("a sudden increase in registered users with no further behaviour").

Being in a spike is no evidence against one person: a TV ad brings hundreds of real
signups at once. A lone member is flagged only when the crowd itself looks manufactured:

- its lone members share devices or network blocks (a few machines ran them), or
- for registrations, far more of the spike's accounts stay idle than the window's new
  accounts do in general (binomial tail against that base rate, Bonferroni over spikes);
  then its idle members inside the spike proper (not its padding) are flagged.
"""

from __future__ import annotations

import math

import polars as pl
from scipy.stats import binom

from abuse.detect.base import DetectContext, Finding
from abuse.sqlfiles import read_sql


def lone_members(con, ctx: DetectContext, min_shared: int, alpha: float) -> pl.DataFrame:
    """Flagged lone members of the window's unexplained spikes (the results of the ``spikes``
    detector, in ``ctx.upstream``), with the figures behind them. Needs the TEMP table
    ``timing_events``; leaves ``timing_spikes`` and ``spikes_events``."""
    found = ctx.upstream["spikes"].spikes
    spikes = pl.DataFrame(
        [{"scope": s.scope, "window_start": s.window_start, "window_end": s.window_end,
          "observed": float(s.observed), "expected": float(s.expected),
          "p_value": float(s.p_value if s.p_value is not None else 1.0)}
         for s in found if s.explained_by is None],
        schema={"scope": pl.String, "window_start": pl.Datetime("us", ctx.tz),
                "window_end": pl.Datetime("us", ctx.tz), "observed": pl.Float64,
                "expected": pl.Float64, "p_value": pl.Float64},
    )
    con.register("timing_spikes_frame", spikes.to_arrow())
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE timing_spikes AS SELECT * FROM timing_spikes_frame")
    finally:
        con.unregister("timing_spikes_frame")
    con.execute("CREATE OR REPLACE TEMP TABLE spikes_events AS " + read_sql("features/timing_spike_events.sql"))
    members = con.sql(read_sql("features/timing_spike_members.sql")).pl()
    registered, idle = con.sql(read_sql("features/timing_idle_rate.sql")).fetchone()
    idle_rate = (idle + 1) / (registered + 2)  # Laplace: a window with no idle signup is not a 0 rate
    p_idle = binom.sf(members["n_lone"].to_numpy() - 1, members["n_members"].to_numpy(), idle_rate)
    return (
        members.with_columns(
            pl.Series("p_idle", p_idle * max(len(spikes), 1)).clip(upper_bound=1.0),
            pl.lit(idle_rate).alias("idle_rate"),
            pl.max_horizontal("on_device", "on_block").alias("shared"),
        )
        .with_columns(
            (pl.col("shared") >= min_shared).alias("machines"),
            ((pl.col("scope") == "registrations") & (pl.col("p_idle") <= alpha)
             & (pl.col("n_lone") >= min_shared) & pl.col("in_core")).alias("idle_crowd"),
        )
        .filter(pl.col("machines") | pl.col("idle_crowd"))
        .sort(["idle_crowd", "machines", "observed"], descending=True)
        .unique("account_id", keep="first", maintain_order=True)
    )


def member_finding(r: dict, pattern: str) -> Finding:
    what = r["scope"].replace("registrations", "registration")
    parts = [
        f"one of {r['observed']:.0f} accounts in an unexplained {what} spike at "
        f"{r['spike_start']:%Y-%m-%d %H:%M}-{r['spike_end']:%H:%M} (expected {r['expected']:.1f}) "
        f"with no other behaviour in the window"
    ]
    if r["machines"]:
        on = "device" if r["on_device"] >= r["on_block"] else "network block"
        parts.append(f"{r['shared']} such accounts on its {on}")
    if r["idle_crowd"]:
        parts.append(f"{r['n_lone']} of the spike's {r['n_members']} accounts idle "
                     f"(new accounts in general: {r['idle_rate']:.0%})")
    evidence = {
        "spike_scope": r["scope"], "spike_start": r["spike_start"].isoformat(),
        "spike_end": r["spike_end"].isoformat(), "spike_observed": r["observed"],
        "spike_expected": round(r["expected"], 3), "spike_p_value": r["p_value"],
        "n_events_elsewhere": 0, "accounts_on_device": r["on_device"],
        "accounts_on_network_block": r["on_block"], "spike_members": r["n_members"],
        "spike_idle_members": r["n_lone"], "idle_rate": round(r["idle_rate"], 4),
        "p_idle": r["p_idle"],
    }
    score = round(min(0.9, 0.5 + 0.02 * -math.log10(max(r["p_value"], 1e-300))), 4)
    return Finding(r["account_id"], pattern, score, ", ".join(parts), evidence)
