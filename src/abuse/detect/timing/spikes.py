"""The lone members of unexplained activity, order, review or claim spikes (found by the
``spikes`` detector, which ``timing`` requires): accounts that appear in a burst and do nothing
else in the window.

Being in a spike is no evidence against one person: a flash sale brings hundreds of real
people at once. A lone member is flagged only when the crowd itself looks manufactured: its
lone members share devices or network blocks (a few machines ran them).

Registration bursts are left out: accounts that only registered in a burst and then did nothing
are members of their batch (``batch_registration`` or ``coupon_hoarding``, the ``batches``
detector), not machine-timed.
"""

from __future__ import annotations

import math

import polars as pl

from abuse.detect.base import DetectContext, Finding
from abuse.detect.spikes.handover import events_of, spike_frame
from abuse.sqlfiles import read_sql, temp_table


def lone_members(con, ctx: DetectContext, min_shared: int) -> pl.DataFrame:
    """Flagged lone members of the window's unexplained spikes (the results of the ``spikes``
    detector, in ``ctx.upstream``: its spikes and the burst events it hands over), with the
    figures behind them. Needs the TEMP table ``timing_events``."""
    spikes = spike_frame(
        ctx.upstream,
        ctx.tz,
        # a recurring incident's members recur: none of them is a lone member of one burst;
        # idle registrants of a burst are a batch (the batches detector), not machine-timed
        lambda s: s.explained_by is None and s.occurrences == 1 and s.scope.split(":", 1)[0] != "registrations",
    )
    with temp_table(con, "timing_spikes", spikes), temp_table(con, "timing_spike_events", events_of(ctx.upstream)):
        members = con.sql(read_sql("features/timing_spike_members.sql")).pl()
    return (
        members.with_columns(pl.max_horizontal("on_device", "on_block").alias("shared"))
        .with_columns((pl.col("shared") >= min_shared).alias("machines"))
        .filter(pl.col("machines"))
        .sort(["observed"], descending=True)
        .unique("account_id", keep="first", maintain_order=True)
    )


def member_finding(r: dict, pattern: str) -> Finding:
    what = r["scope"].replace("registrations", "registration")
    parts = [
        f"one of {r['observed']:.0f} accounts in an unexplained {what} spike at "
        f"{r['spike_start']:%Y-%m-%d %H:%M}-{r['spike_end']:%H:%M} (expected {r['expected']:.1f}) "
        f"with no other behaviour in the window"
    ]
    on = "device" if r["on_device"] >= r["on_block"] else "network block"
    parts.append(f"{r['shared']} such accounts on its {on}")
    evidence = {
        "spike_scope": r["scope"],
        "spike_start": r["spike_start"].isoformat(),
        "spike_end": r["spike_end"].isoformat(),
        "spike_observed": r["observed"],
        "spike_expected": round(r["expected"], 3),
        "spike_p_value": r["p_value"],
        "n_events_elsewhere": 0,
        "accounts_on_device": r["on_device"],
        "accounts_on_network_block": r["on_block"],
        "spike_members": r["n_members"],
        "spike_lone_members": r["n_lone"],
    }
    score = round(min(0.9, 0.5 + 0.02 * -math.log10(max(r["p_value"], 1e-300))), 4)
    return Finding(r["account_id"], pattern, score, ", ".join(parts), evidence)
