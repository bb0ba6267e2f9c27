"""Bursts longer than a few minutes: a scan over windows of half an hour to two days.

For every scope the counts per local minute (distinct accounts) are summed over windows of
each scale (30 min to 2 days, sliding by a sixth of the scale); a window's baseline is the
same window of the day on up to ``baseline_days`` earlier days (median plus ``spread_weight``
robust spreads, so a scope whose days vary a lot needs more). The Poisson surprise of the
window's count is corrected for every window of every scale and scope tried; each burst is
reported once, at the scale where it is most significant (and only where the minute scales
found nothing), trimmed to the stretch of minutes
whose excess over half the window's mean rate (at least the baseline) is largest, then grown on
each side while the minutes beside it stand out against the same half hour's mean on the earlier
days (``_grow``): a wave elevated for hours or days, overnight or across midnight, is one burst
with its real start and end, not its strongest few hours. A minute-scale burst inside a wave is
a piece of it (one row).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from abuse.frames import Schema
from abuse.stats import corrected, surprise_poisson

SCALES = (30, 60, 120, 240, 480, 960, 1440, 2880)  # minutes; each divides a day by its stride
DAY = 1440
LULL = 180  # minutes: a wave has ended when its excess over the baseline has not grown for this long


def long_bursts(
    minutes: pl.DataFrame,
    window_start: datetime,
    window_end: datetime,
    tz: str,
    baseline_days: int,
    spread_weight: float,
    alpha: float,
    min_history_days: int,
    reported: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Significant windows: scope, start, end (naive local minutes), observed (count in the
    trimmed stretch), expected, surprise (corrected), scale (minutes). The minutes of
    ``reported`` (scope, window_start, window_end: the minute scales' windows) are left out of
    the scan: it looks for what they missed, and a long window must not swallow a short burst
    (and, dropped for overlapping it, hide the wave beside it)."""
    schema: Schema = {
        "scope": pl.String,
        "start": pl.Datetime("us"),
        "end": pl.Datetime("us"),
        "observed": pl.Float64,
        "expected": pl.Float64,
        "surprise": pl.Float64,
        "scale": pl.Int64,
        "beyond_sale": pl.Boolean,
    }
    if minutes.is_empty():
        return pl.DataFrame(schema=schema)
    w0 = _naive_minute(window_start, tz)
    w1 = _naive_minute(window_end, tz)
    b0 = w0 - timedelta(days=baseline_days)
    total = int((w1 - b0).total_seconds() // 60)
    offset = int((w0 - b0).total_seconds() // 60)
    found, tests, uplift = [], 0, {}
    by_scope = minutes.with_columns(((pl.col("minute") - pl.lit(b0)).dt.total_minutes()).alias("i")).filter(
        (pl.col("i") >= 0) & (pl.col("i") < total)
    )
    masks = _reported_minutes(reported, tz, b0, total)
    refs: dict[str, np.ndarray] = {}
    walls: dict[str, np.ndarray] = {}
    inside: dict[str, np.ndarray] = {}  # the minute scales' bursts: a wave grows across them
    for (scope,), part in by_scope.group_by(["scope"]):
        c = np.zeros(total)
        c[part["i"].to_numpy()] = part["n"].to_numpy()
        wall = np.zeros(total, dtype=bool)
        wall[:offset] = True  # a burst grows inside the window only
        short = np.zeros(total, dtype=bool)
        for i0, i1 in masks.get(scope, []):
            c[i0:i1] = 0.0
            wall[i0:i1] = True
            short[i0:i1] = True
        walls[scope] = wall
        inside[scope] = short
        n_tests, hits, ref = _scan(c, offset, baseline_days, spread_weight, min_history_days, alpha)
        tests += n_tests
        if ref is not None:
            refs[scope] = ref
        found += [(scope, *hit, c) for hit in hits]
        days = c[: total // DAY * DAY].reshape(-1, DAY).sum(axis=1)
        uplift[scope] = days / max(float(np.median(days[: offset // DAY])) if offset >= DAY else 1.0, 1.0)
    if not found:
        return pl.DataFrame(schema=schema)
    need = -np.log10(alpha)
    rows = []
    for scope in {f[0] for f in found}:
        cands = sorted((f for f in found if f[0] == scope and corrected(f[5], tests) >= need), key=lambda f: -f[5])
        rows += _grown(cands, refs[scope], walls[scope], inside[scope], uplift[scope], tests, need, b0)
    return _join_pieces(pl.DataFrame(rows, schema=schema, orient="row"), timedelta(minutes=min(SCALES)))


def _reported_minutes(
    reported: pl.DataFrame | None, tz: str, b0: datetime, total: int
) -> dict[str, list[tuple[int, int]]]:
    """Per scope the minute ranges (from ``b0``, within ``total``) of the windows ``reported``."""
    masks: dict[str, list[tuple[int, int]]] = {}
    if reported is not None and not reported.is_empty():
        for scope, a, b in reported.select("scope", "window_start", "window_end").iter_rows():
            i0 = int((_naive_minute(a, tz) - b0).total_seconds() // 60)
            i1 = int((_naive_minute(b, tz) - b0).total_seconds() // 60) + 1
            masks.setdefault(scope, []).append((max(i0, 0), min(i1, total)))
    return masks


def _scan(
    c: np.ndarray, offset: int, baseline_days: int, spread_weight: float, min_history_days: int, alpha: float
) -> tuple[int, list[tuple[int, int, float, float, float]], np.ndarray | None]:
    """One scope's per-minute counts ``c`` (the window from minute ``offset``) scanned at every
    scale against the same windows of the earlier days: the tests made, the windows beyond
    ``alpha`` before correction (start, scale, observed, expected, surprise), and the finest
    scale's per-minute baseline (what a burst grows against; None when nothing was tested)."""
    total = len(c)
    tests, hits, ref = 0, [], None
    cum = np.concatenate([[0.0], np.cumsum(c)])
    for scale in SCALES:
        stride = max(scale // 6, 5)
        starts = np.arange(0, total - scale + 1, stride)
        sums = cum[starts + scale] - cum[starts]
        per_day = DAY // stride
        mine = np.flatnonzero(starts >= offset)
        if len(mine) == 0:
            continue
        tests += len(mine)
        back = mine[:, None] - per_day * np.arange(1, baseline_days + 1)[None, :]
        ok = back >= 0
        hist = np.where(ok, sums[np.clip(back, 0, None)], np.nan)
        enough = ok.sum(axis=1) >= min_history_days
        q1, med, q3 = row_quantiles(hist, (0.25, 0.5, 0.75))
        lam = np.maximum(np.nan_to_num(med) + spread_weight * np.nan_to_num(q3 - q1) / 1.349, 1.0)
        s = np.where(enough, surprise_poisson(sums[mine], lam), 0.0)
        if scale == SCALES[0]:  # the finest window's mean on earlier days, per minute: what a burst grows against
            at = np.clip((np.arange(total) - starts[mine[0]] - scale // 2) // stride, 0, len(mine) - 1)
            with np.errstate(all="ignore"):
                mean = np.nan_to_num(np.nanmean(hist, axis=1))
            ref = np.maximum(mean[at], 1.0 / baseline_days) / scale
        for j in np.flatnonzero(s >= -np.log10(alpha)):  # (corrected by the caller, once all are counted)
            hits.append((int(starts[mine[j]]), scale, float(sums[mine[j]]), float(lam[j]), float(s[j])))
    return tests, hits, ref


def _grown(
    cands: list,
    ref: np.ndarray,
    wall: np.ndarray,
    inside: np.ndarray,
    uplift: np.ndarray,
    tests: int,
    need: float,
    b0: datetime,
) -> list[tuple]:
    """One scope's significant windows, strongest first, each trimmed to its core, grown over
    the minutes beside it that stay above baseline and kept unless it overlaps one kept
    before: rows of scope, start, end, observed, expected, corrected surprise, scale and
    whether it beats its day's uplift. Marks the minutes taken in ``wall`` and ``inside``."""
    rows = []
    taken: list[tuple[int, int]] = []
    for scope, i, scale, obs, lam_c, s_c, c in cands:
        # trimmed where the rate falls below half the window's mean (and the baseline)
        lo, hi = _trim(c[i : i + scale], max(lam_c, 0.5 * obs) / scale)
        a, b = i + lo, i + hi
        if any(a < y and b > x for x, y in taken):
            continue
        # then grown while the minutes beside it stay above their baseline (a long wave's
        # extent), never into a burst already taken
        a, b, extra = _grow(c, ref, wall & ~inside, inside, a, b, need)
        lam_core = lam_c * (hi - lo) / scale
        taken.append((a, b))
        wall[a:b] = True
        inside[a:b] = False
        # does it stand out even against its whole day's uplift (a sale day is busier)?
        day = min(a // DAY, len(uplift) - 1)
        raised = surprise_poisson(obs, lam_c * max(float(uplift[day]), 1.0))
        rows.append(
            (
                scope,
                b0 + timedelta(minutes=a),
                b0 + timedelta(minutes=b),
                float(c[a:b].sum()),
                lam_core + extra,
                float(corrected(s_c, tests)),
                scale,
                bool(corrected(raised, tests) >= need),
            )
        )
    return rows


def row_quantiles(a: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Per row of ``a`` the quantiles ``qs`` of its non-NaN values (linear interpolation, as
    ``np.nanquantile(a, qs, axis=1)``; NaN for a row with none), in one sort of the whole array
    instead of numpy's loop over rows."""
    s = np.sort(a, axis=1)  # NaN sort last
    last = np.maximum((~np.isnan(a)).sum(axis=1) - 1, 0)
    rows = np.arange(len(a))
    out = []
    for q in qs:
        pos = q * last
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, last)
        t = pos - lo
        x, y = s[rows, lo], s[rows, hi]
        with np.errstate(invalid="ignore"):
            v = np.where(t >= 0.5, y - (y - x) * (1 - t), x + (y - x) * t)  # numpy's lerp
        out.append(np.where(np.isnan(a).all(axis=1), np.nan, v))
    return out


def _join_pieces(rows: pl.DataFrame, gap: timedelta) -> pl.DataFrame:
    """Windows of one scope at most ``gap`` apart are pieces of one burst (the greedy choice
    took its most significant part first): one row, the strongest piece's surprise."""
    if rows.is_empty():
        return rows
    return (
        rows.sort("scope", "start")
        .with_columns(pl.col("end").cum_max().over("scope").alias("_reach"))
        .with_columns(
            (pl.col("start") > pl.col("_reach").shift(1).over("scope") + gap)
            .fill_null(True)
            .cum_sum()
            .over("scope")
            .alias("_run")
        )
        .group_by("scope", "_run")
        .agg(
            pl.col("start").min(),
            pl.col("end").max(),
            pl.col("observed").sum(),
            pl.col("expected").sum(),
            pl.col("surprise").max(),
            pl.col("scale").max(),
            pl.col("beyond_sale").any(),
        )
        .drop("_run")
        .select(list(rows.columns))
    )


def _trim(c: np.ndarray, rate: float) -> tuple[int, int]:
    """The stretch [lo, hi) of minutes with the largest total excess over ``rate`` (Kadane's
    answer, from prefix sums: the latest lowest prefix before the highest one)."""
    if len(c) == 0:
        return 0, 0
    k = np.arange(len(c) + 1)
    counts = np.concatenate([[0.0], np.cumsum(c)])  # whole numbers: exact
    prefix = counts - k * rate
    low = np.minimum.accumulate(prefix[:-1])
    at = np.maximum.accumulate(np.where(prefix[:-1] == low, k[:-1], -1))
    gain = (counts[1:] - counts[at]) - (k[1:] - at) * rate  # each stretch's excess, rounded once
    hi = int(np.argmax(gain)) + 1
    return int(at[hi - 1]), hi


def _grow(
    c: np.ndarray, ref: np.ndarray, wall: np.ndarray, across: np.ndarray, a: int, b: int, need: float
) -> tuple[int, int, float]:
    """[a, b) grown on each side by the stretch beside it that stands out most against the
    baseline ``ref`` (per minute; Kulldorff's likelihood ratio), where that stretch is significant
    (Poisson, corrected as one window of each scale): a wave elevated for hours is one burst over
    its whole extent, not its strongest piece. The reach of each side ends at a ``wall`` (before
    the window, a minute-scale burst, a burst taken before), at the longest scale, or once the
    excess has not grown for ``LULL`` minutes (the wave has ended). The baseline is the mean of the
    same half hour on the earlier days (no spread added: the test guards against noise). The
    minutes of ``across`` (a burst of minutes the finer scales reported, its counts left out of
    this scan) are crossed as neutral: a short burst inside a wave does not cut the wave in two.
    Returns the new bounds and the baseline count they added."""
    added = 0.0
    for side in (1, -1):
        if side == 1:
            idx = np.arange(b, min(b + SCALES[-1], len(c)))
        else:
            idx = np.arange(a - 1, max(a - 1 - SCALES[-1], -1), -1)
        if len(idx) == 0:
            continue
        hit = np.flatnonzero(wall[idx])
        idx = idx[: hit[0]] if len(hit) else idx
        if len(idx) == 0:
            continue
        seen = np.where(across[idx], 0.0, c[idx])  # crossed minutes count neither way
        base = np.where(across[idx], 0.0, ref[idx])
        gain = np.cumsum(seen - base)
        steps = np.arange(len(idx))
        best_at = np.maximum.accumulate(np.where(gain >= np.maximum.accumulate(gain), steps, 0))
        ended = np.flatnonzero(steps - best_at >= LULL)
        reach = gain[: ended[0]] if len(ended) else gain
        if len(reach) == 0 or reach.max() <= 0:
            continue
        # the length where the extension is most surprising (Kulldorff's log likelihood ratio):
        # minutes at the baseline rate lower it, so the edge is not pushed out into noise
        obs_k, lam_k = np.cumsum(seen[: len(reach)]), np.cumsum(base[: len(reach)])
        with np.errstate(divide="ignore", invalid="ignore"):
            llr = np.where(obs_k > lam_k, obs_k * np.log(obs_k / lam_k) - (obs_k - lam_k), 0.0)
        k = int(np.argmax(llr)) + 1
        obs, lam = float(obs_k[k - 1]), float(lam_k[k - 1])
        # nested lengths' tests hang together: corrected as one window of each scale tried
        if corrected(float(surprise_poisson(obs, lam)), len(SCALES)) < need:
            continue
        added += lam
        if side == 1:
            b = int(idx[k - 1]) + 1
        else:
            a = int(idx[k - 1])
    return a, b, added


def _naive_minute(t: datetime, tz: str) -> datetime:
    """A window bound as the naive platform-local minute the SQL grid uses."""
    if t.tzinfo is not None:
        t = t.astimezone(ZoneInfo(tz))
    return t.replace(tzinfo=None, second=0, microsecond=0)


def with_long(merged: pl.DataFrame, long: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Add the long bursts to the minute-scale windows of ``merged`` (the frame find_spikes
    explains next) where no minute-scale window of their scope overlaps them."""
    if long.is_empty():
        return merged
    dtype = merged.schema["window_start"] if not merged.is_empty() else pl.Datetime("us", tz)
    zone = getattr(dtype, "time_zone", None) or tz
    rows = long.select(
        "scope",
        pl.col("start").dt.replace_time_zone(tz).dt.convert_time_zone(zone).cast(dtype).alias("window_start"),
        pl.col("end").dt.replace_time_zone(tz).dt.convert_time_zone(zone).cast(dtype).alias("window_end"),
        (10.0 ** -pl.col("surprise")).alias("p_value"),
        "expected",
        pl.col("observed").alias("minute_sum"),
        pl.col("expected").alias("lam"),
        pl.lit(1.0).alias("day_uplift"),
        "beyond_sale",
    )
    if merged.is_empty():
        return rows.select([pl.col(c).cast(merged.schema[c]) for c in merged.columns])
    short = merged.with_row_index("_s")
    pairs = short.join(rows.with_row_index("_l"), on="scope", suffix="_long").filter(
        (pl.col("window_start") < pl.col("window_end_long")) & (pl.col("window_end") > pl.col("window_start_long"))
    )
    # a long window only adds what the minute scales missed: where their windows cover most of
    # it, theirs stand (sharper edges); a wave of hours around a burst of minutes is a burst and
    # a wave (the scan left the burst's minutes out of the wave's count)
    covered = (
        pairs.with_columns(
            (
                pl.min_horizontal("window_end", "window_end_long")
                - pl.max_horizontal("window_start", "window_start_long")
            ).alias("_cover")
        )
        .group_by("_l")
        .agg(pl.col("_cover").sum(), pl.col("window_start_long").first(), pl.col("window_end_long").first())
    )
    beaten_long = covered.filter(pl.col("_cover") >= 0.5 * (pl.col("window_end_long") - pl.col("window_start_long")))[
        "_l"
    ]
    keep_long = rows.with_row_index("_l").filter(~pl.col("_l").is_in(beaten_long.implode()))
    # a minute-scale window inside a wave that stands is a piece of it: one row, the wave's,
    # as significant as its most significant piece
    inside = pairs.filter(
        pl.col("_l").is_in(keep_long["_l"].implode())
        & (pl.col("window_start") >= pl.col("window_start_long"))
        & (pl.col("window_end") <= pl.col("window_end_long"))
    )
    best = inside.group_by("_l").agg(pl.col("p_value").min().alias("_p"))
    keep_long = (
        keep_long.join(best, on="_l", how="left")
        .with_columns(pl.min_horizontal("p_value", "_p").alias("p_value"))
        .drop("_p")
    )
    kept = short.filter(~pl.col("_s").is_in(inside["_s"].implode())).drop("_s")
    extra = keep_long.drop("_l").select([pl.col(c).cast(kept.schema[c]) for c in kept.columns])
    return pl.concat([kept, extra]).sort("window_start", "scope")
