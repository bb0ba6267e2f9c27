"""``batch_registration``: accounts registered together in a burst that then do nothing else.

The ``spikes`` detector finds the registration bursts (at every scale, one minute to two days);
this detector reads them (``requires``) and looks at who registered in each: its idle members
(no order, review, refund, coupon event or activity in the window) are a batch when the crowd
looks manufactured (see ``members``: idle far beyond the window's base rate, or run from shared
devices or network blocks), and so are the idle signups of a slow wave near it: hours on end
whose signups stay idle far beyond the quiet hours' rate. A TV ad's signups go on to use the
app, so they are never a batch.

An idle member that shares an identifier (device, network block, number segment, inviter) with
a batch the ``hoarding`` detector found (its result, never recomputed) is a member of that
``coupon_hoarding`` batch: the reserve accounts a hoarding crew registered and has not used
yet. The others of a burst are one ``batch_registration`` cluster. Such accounts are not
``scripted_timing``: registering in a burst says who ran them, not that a clock did.
"""

from __future__ import annotations

import math
from typing import cast

import polars as pl
from pydantic import BaseModel, Field

from abuse.detect.base import Cluster, DetectContext, DetectorBase, DetectorResult, Finding, register
from abuse.detect.batches import members as mb
from abuse.detect.spikes.handover import spike_frame
from abuse.frames import instant, integer, number
from abuse.report_text import plural
from abuse.stats import combined, score, surprise_of

PATTERN = "batch_registration"
HOARDING = "coupon_hoarding"


@register
class BatchDetector(DetectorBase):
    name = "batches"
    patterns = (PATTERN, HOARDING)
    requires = ("spikes", "hoarding")  # the registration bursts; the hoarding batches to tie to

    class Params(BaseModel):
        alpha: float = Field(
            0.01, gt=0, lt=1, description="Error rate of the idle-share test (Bonferroni over the bursts tested)."
        )
        min_shared: int = Field(
            3,
            ge=2,
            description="Idle members of a burst on one device or network block that make it a machine batch; "
            "also the smallest batch reported.",
        )
        pad_min: int = Field(2, ge=0, description="Minutes either side of a burst in which its members are looked for.")
        reach_min: int = Field(
            240,
            ge=0,
            description="Minutes either side of a burst in which idle accounts join it on a device at least "
            "min_shared of its idle members used (a slow wave rises before its burst stands out).",
        )
        wave_min: int = Field(
            1440,
            ge=60,
            description="The longest slow wave considered (minutes): runs of whole hours up to this long, near "
            "a burst, are tested for idle signups beyond the quiet hours' rate (Bonferroni over the runs tried).",
        )

    def run(self, ctx: DetectContext) -> DetectorResult:
        p = cast(BatchDetector.Params, ctx.params)
        bursts = _bursts(ctx)
        if bursts.is_empty():
            return DetectorResult()
        hours, quiet = mb.quiet_hours(ctx.con, _spans(ctx), ctx.window_start, ctx.window_end)
        alpha_s = -math.log10(p.alpha)
        frame = bursts.select("burst_no", "window_start", "window_end")

        def members(runs: pl.DataFrame) -> tuple[pl.DataFrame, float]:
            extent = runs.group_by("burst_no").agg(
                pl.col("run_start").min().alias("wave_start"), pl.col("run_end").max().alias("wave_end")
            )
            found, rate = mb.idle_members(
                ctx.con,
                frame.join(extent, on="burst_no", how="left"),
                ctx.window_start,
                ctx.window_end,
                p.pad_min,
                p.reach_min,
            )
            return mb.manufactured(mb.in_runs(found, runs), rate, bursts.height, p.min_shared, alpha_s), rate

        batch, rate = members(pl.DataFrame(schema=mb.RUN_SCHEMA))
        taken = batch.unique("account_id").select("account_id", "registered_at")
        runs = mb.waves(hours, quiet, taken, frame, p.wave_min, p.min_shared, alpha_s)
        if not runs.is_empty():
            batch, rate = members(runs)
        bursts = bursts.join(_wave_figures(runs, ctx.tz), on="burst_no", how="left")
        hoarding = ctx.upstream.get("hoarding") or DetectorResult()
        flagged = {f.account_id for f in hoarding.findings if f.pattern == HOARDING}
        batch = batch.filter(~pl.col("account_id").is_in(list(flagged))).sort("burst_no", "registered_at", "account_id")
        batch = batch.unique("account_id", keep="first", maintain_order=True)
        hoarders = pl.DataFrame(
            [(a, c.cluster_key) for c in hoarding.clusters if c.pattern == HOARDING for a in c.account_ids],
            schema={"account_id": pl.String, "cluster_key": pl.String},
            orient="row",
        )
        ties = mb.hoarding_ties(ctx.con, batch, hoarders)
        batch = batch.join(bursts, on="burst_no").join(ties, on="account_id", how="left")
        return _result(batch, rate, quiet, p.min_shared, {c.cluster_key: c for c in hoarding.clusters})


def _bursts(ctx: DetectContext) -> pl.DataFrame:
    """The registration bursts of the spikes detector not explained by a benign cause (or whose
    accounts are mostly flagged), numbered, with their figures."""
    frame = spike_frame(
        ctx.upstream,
        ctx.tz,
        lambda s: (
            s.scope.split(":", 1)[0] == "registrations" and (s.explained_by is None or (s.flagged_share or 0) >= 0.5)
        ),
    ).drop("scope")
    return frame.sort("window_start").with_row_index("burst_no").with_columns(pl.col("burst_no").cast(pl.Int64))


def _wave_figures(runs: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Per burst the extent of its slow waves (wave_start, wave_end in ``tz``), their new and idle
    signups (less the burst's own batch) and the strongest wave's corrected surprise."""
    return runs.group_by("burst_no").agg(
        pl.col("run_start").min().dt.convert_time_zone(tz).alias("wave_start"),
        pl.col("run_end").max().dt.convert_time_zone(tz).alias("wave_end"),
        pl.col("run_new").sum().alias("wave_new"),
        pl.col("run_idle").sum().alias("wave_idle"),
        pl.col("run_surprise").max().alias("wave_surprise"),
    )


def _spans(ctx: DetectContext) -> pl.DataFrame:
    """Every registration spike of the spikes detector, explained or not (window_start,
    window_end): the hours they touch are not quiet."""
    return spike_frame(ctx.upstream, ctx.tz, lambda s: s.scope.split(":", 1)[0] == "registrations").select(
        "window_start", "window_end"
    )


def _burst_text(r: dict) -> str:
    start, end = r["window_start"], r["window_end"]
    until = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return (
        f"the registration burst of {start:%Y-%m-%d %H:%M}-{until} "
        f"({plural(int(r['observed']), 'account')}, expected {r['expected']:.1f})"
    )


def _result(
    batch: pl.DataFrame, rate: float, quiet: float, min_size: int, hoarding: dict[str, Cluster]
) -> DetectorResult:
    findings: list[Finding] = []
    clusters: list[Cluster] = []
    for (burst_no,), part in batch.group_by(["burst_no"], maintain_order=True):
        r = part.row(0, named=True)
        spike_s = float(surprise_of(r["p_value"]))
        idle_s = max(number(part["idle_surprise"].max()), float(r["wave_surprise"] or 0.0))
        s = float(combined([spike_s], [idle_s])[0])
        sc = float(score(s))
        base = _evidence(r, rate, quiet)
        tied = part.filter(pl.col("cluster_key").is_not_null())
        for m in tied.iter_rows(named=True):
            kinds = [k if k != "segment" else "number segment" for k in m["tie_kinds"]]
            findings.append(
                Finding(
                    m["account_id"],
                    HOARDING,
                    sc,
                    f"registered in {_burst_text(r)} and did nothing else in the window; shares its "
                    f"{' and '.join(kinds)} with coupon_hoarding batch members (a reserve account)",
                    {**base, "tied_by": list(m["tie_kinds"])},
                    m["cluster_key"],
                )
            )
        rest = part.filter(pl.col("cluster_key").is_null())
        if rest.height < min_size:
            continue
        key = f"regs:{r['window_start']:%Y-%m-%dT%H:%M}"
        ids = sorted(rest["account_id"].to_list())
        devices, blocks = rest["device_id"].n_unique(), rest["block"].drop_nulls().n_unique()
        segments = rest["phone_prefix"].drop_nulls().n_unique()
        shared = {
            "devices": int(devices),
            "network_blocks": int(blocks),
            "number_segments": int(segments),
            "most_on_one_device": integer(rest["on_device"].max()),
            "most_on_one_block": integer(rest["on_block"].max()),
            "most_on_one_segment": integer(rest["on_segment"].max()),
            "most_by_one_inviter": integer(rest["on_inviter"].max()),
        }
        evidence = {**base, "shared": shared, "n_batch": len(ids)}
        ties = [(k, hoarding[k]) for k in tied["cluster_key"].unique().sort().to_list() if k in hoarding]
        summary = (
            f"{plural(len(ids), 'account')} registered in {_burst_text(r)} and did nothing else in the window "
            f"({r['n_idle']} of its {plural(r['n_members'], 'account')} idle; new accounts in general: "
            f"{rate:.0%}), on {plural(devices, 'device')} and {plural(blocks, 'network block')}"
        )
        if ties:
            evidence["tied_to_hoarding"] = [k for k, _ in ties]
        clusters.append(
            Cluster(
                cluster_key=key,
                pattern=PATTERN,
                account_ids=ids,
                score=sc,
                summary=summary,
                first_seen=instant(rest["registered_at"].min()),
                last_seen=instant(rest["registered_at"].max()),
                loss_estimate=None,
                evidence=evidence,
            )
        )
        findings += [_member_finding(m, r, key, sc, base, rate, quiet) for m in rest.iter_rows(named=True)]
    return DetectorResult(findings=findings, clusters=clusters)


def _member_finding(m: dict, r: dict, key: str, sc: float, base: dict, rate: float, quiet: float) -> Finding:
    """The finding of batch member ``m`` of the burst ``r`` (cluster ``key``): which of the
    burst's tells it shows, in words."""
    parts = [f"registered in {_burst_text(r)} and did nothing else in the window"]
    if m["idle_crowd"]:
        parts.append(
            f"{r['n_idle']} of the burst's {plural(r['n_members'], 'account')} idle (new accounts in general: {rate:.0%})"
        )
    if m["in_wave"]:
        parts.append(
            f"in the slow wave of {_wave_text(r)} ({r['wave_idle']} of its other "
            f"{plural(int(r['wave_new']), 'signup')} idle; in quiet hours: {quiet:.0%})"
        )
    if m["machines"]:
        on = "device" if m["on_device"] >= m["on_block"] else "network block"
        parts.append(f"{m['shared']} such accounts on its {on}")
    return Finding(
        m["account_id"],
        PATTERN,
        sc,
        ", ".join(parts),
        {
            **base,
            "accounts_on_device": int(m["on_device"]),
            "accounts_on_network_block": int(m["on_block"]),
            "accounts_on_number_segment": int(m["on_segment"]),
        },
        key,
    )


def _wave_text(r: dict) -> str:
    start, end = r["wave_start"], r["wave_end"]
    until = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}-{until}"


def _evidence(r: dict, rate: float, quiet: float) -> dict:
    wave = (
        {}
        if r["wave_start"] is None
        else {
            "wave_start": r["wave_start"].isoformat(),
            "wave_end": r["wave_end"].isoformat(),
            "wave_signups": int(r["wave_new"]),
            "wave_idle": int(r["wave_idle"]),
            "wave_surprise": round(float(r["wave_surprise"]), 3),
            "quiet_idle_rate": round(quiet, 4),
        }
    )
    return {
        **wave,
        "burst_start": r["window_start"].isoformat(),
        "burst_end": r["window_end"].isoformat(),
        "burst_observed": r["observed"],
        "burst_expected": round(r["expected"], 3),
        "burst_p_value": r["p_value"],
        "burst_members": int(r["n_members"]),
        "burst_idle": int(r["n_idle"]),
        "idle_rate": round(rate, 4),
        "idle_surprise": round(float(r["idle_surprise"]), 3),
        "n_events_elsewhere": 0,
    }


__all__ = ["BatchDetector", "PATTERN"]
