"""Push recruits: accounts that engaged a farm's target only during the farm's push on it.

A bought real account (its owner's phone and network, a life of its own on the platform) that a
farm rents for one job casts one vote, like or follow: nothing to share with the rig, no second
target to co-boost. What gives it away is when: the farm's members work a target in a push of
minutes to hours, and a target's organic audience does not crowd into exactly those hours.

Per farm and tested target, the push is the span of the farm's members' events on it; the
target's own rate of engagement by accounts of no farm is measured just around the push (the
span of its length before and after it: a viral post's audience, still arriving afterwards,
raises it) and over the rest of the window (Laplace-smoothed), the larger taken. The events
inside the push beyond that rate are a Poisson tail (Bonferroni over the farm targets tested);
when it is significant and the expected organic events are at most ``member_fdr`` of the events
seen there, the accounts whose every engagement of the target fell inside the push join the
farm: the expected share of ordinary people among them is what ``member_fdr`` bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from abuse import stats
from abuse.detect.engagement.reasons import PUSH_CREW
from abuse.sqlfiles import read_sql


def push_tests(counts: pl.DataFrame, alpha: float, fdr: float) -> pl.DataFrame:
    """``counts`` (engagement_push_counts) with ``expected`` (organic events the push should hold
    at the target's own rate), ``surprise`` (Poisson tail of ``inside`` at it, corrected over the
    rows) and ``passed``."""
    if counts.is_empty():
        return counts.with_columns(expected=pl.lit(0.0), surprise=pl.lit(0.0), passed=pl.lit(False))
    span = counts["span_s"].to_numpy().astype(float)
    n_near, d_near = np.zeros(len(counts)), np.zeros(len(counts))
    for side in ("before", "after"):
        dur = counts[f"{side}_s"].to_numpy().astype(float)
        ok = dur >= 0.5 * span  # a side cut short by the window's edge says too little
        n_near += np.where(ok, counts[side].to_numpy().astype(float), 0.0)
        d_near += np.where(ok, dur, 0.0)
    near = n_near / np.maximum(d_near, 1.0)
    far = (counts["outside"].to_numpy().astype(float) + 1.0) / counts["outside_s"].to_numpy().astype(float)
    expected = span * np.maximum(near, far)
    inside = counts["inside"].to_numpy().astype(float)
    s = stats.corrected(stats.surprise_poisson(inside, expected), len(counts))
    passed = (s >= stats.required_surprise(alpha)) & (expected <= fdr * inside)
    return counts.with_columns(pl.Series("expected", expected), pl.Series("surprise", s), pl.Series("passed", passed))


def recruit(con, farm_list: list[dict[str, Any]], fm: pl.DataFrame, ft: pl.DataFrame, alpha: float, fdr: float):
    """(farms with their push recruits added to ``accounts``, recruit rows [crew, account_id,
    member_surprise, push_*] for the findings' reasons). ``fm``/``ft``: every farm's members
    and tested targets (``farms.farm_frames``)."""
    empty = pl.DataFrame(schema={"crew": pl.Int64, "account_id": pl.Utf8, "member_surprise": pl.Float64})
    if fm.is_empty() or ft.is_empty():
        return farm_list, empty
    con.register("engagement_farm_members", fm.to_arrow())
    con.register("engagement_farm_targets", ft.to_arrow())
    try:
        tests = push_tests(con.sql(read_sql("features/engagement_push_counts.sql")).pl(), alpha, fdr)
        passed = tests.filter("passed")
        if passed.is_empty():
            return farm_list, empty
        con.register("engagement_push_passed", passed.to_arrow())
        try:
            rec = con.sql(read_sql("features/engagement_push_recruits.sql")).pl()
        finally:
            con.unregister("engagement_push_passed")
    finally:
        con.unregister("engagement_farm_members")
        con.unregister("engagement_farm_targets")
    if rec.is_empty():
        return farm_list, empty
    rec = (
        rec.join(passed, on=["farm", "target_id", "action", "run"])
        .sort(["surprise", "farm", "target_id", "account_id"], descending=[True, False, False, False])
        .unique("account_id", keep="first", maintain_order=True)
    )
    out = [dict(f) for f in farm_list]
    for i, part in rec.partition_by("farm", as_dict=True).items():
        farm = int(i[0])  # type: ignore[index]
        out[farm]["accounts"] = sorted(set(out[farm]["accounts"]) | set(part["account_id"].to_list()))
    rows = rec.select(
        pl.lit(PUSH_CREW, pl.Int64).alias("crew"),
        "account_id",
        pl.col("surprise").alias("member_surprise"),
        pl.col("target_id").alias("push_target"),
        pl.col("action").alias("push_action"),
        pl.col("inside").alias("push_inside"),
        pl.col("expected").alias("push_expected"),
        ((pl.col("push_hi") - pl.col("push_lo")) / 3600.0).alias("push_hours"),
        pl.col("farm_events").alias("push_farm_events"),
    )
    return out, rows
