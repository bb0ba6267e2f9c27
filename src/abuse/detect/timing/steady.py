"""Steady durations: an account whose sessions (or spins, likes, views) of one kind last the
same time to a fraction of a percent, over many of them, keeps a machine's clock even when it
sleeps at night, wakes at a jittered time and rests at weekends like a person.

Per stream (activity action), the reference is the population itself: ``sigma0`` is the
``quantile`` of the robust spread of ln(duration) among the accounts with enough timed events
of that stream whose durations vary at all (spread at least ``min_spread``: the steadiest
people). Accounts whose durations do not vary are left out of the reference, so that a crowd
of them (a kiosk app's users logged out after a fixed time, a farm of scripts) cannot drag it to
zero and hide everyone. A stream where most accounts' durations do not vary is not judged: the
app fixes that duration for everyone (a 30-second ad) or logs it in whole seconds.

An account's spread ``s`` over ``n`` durations is tested as a sample variance: under a person
at least as variable as ``sigma0``, ``n_eff s^2 / sigma0^2`` is at least a chi-square with
``n_eff`` degrees of freedom, ``n_eff = 0.37 (n - 1)`` (the efficiency of the interquartile
estimate). The surprise is that lower tail, Bonferroni-corrected over every (account, stream)
judged. An account is ``steady`` with two such streams (its logins and its spins): one steady
stream alone can be a feature of the app that only some people use.

Evidence also accumulates across an account's streams: a script active for three days has a
few logins and a few hundred clicks, neither enough alone after the correction over every
stream judged. Its *pair* is tested instead: under a person, the chance that two of its ``m``
judged streams are both at least as steady as its second steadiest (p-value ``p2``) is at most
``C(m, 2) p2^2`` (independent streams), so the pair's surprise is ``2 s2 - log10 C(m, 2)``,
Bonferroni-corrected over the accounts with two streams judged (not over streams). A pair
still needs two steady kinds: one steady stream, however steady, never makes one. Streams
with fewer durations than the reference needs (``ref_min``) are judged, not used to set it.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats as st

from abuse.frames import Schema
from abuse.stats import LN10, MAX_SURPRISE, corrected

IQR_EFFICIENCY = 0.37
MIN_ACCOUNTS = 20  # fewer accounts with a stream's durations: no reference to judge it by


def timed_streams(streams: pl.DataFrame, min_durations: int) -> pl.DataFrame:
    """The (account, stream) rows of ``timing_streams.sql`` with at least ``min_durations``
    positive durations, as ``steady_streams`` reads them (n_durations, median_duration, spread)."""
    return streams.filter(pl.col("n_timed") >= min_durations).select(
        "account_id",
        "stream",
        pl.col("n_timed").alias("n_durations"),
        pl.col("median_timed").alias("median_duration"),
        pl.col("duration_spread").alias("spread"),
    )


STEADY_SCHEMA: Schema = {
    "account_id": pl.Utf8,
    "steady_streams": pl.Int64,
    "steady_surprise": pl.Float64,
    "steady_pair": pl.Boolean,
    "steady_stream": pl.List(pl.Utf8),
    "steady_n_durations": pl.List(pl.Int64),
    "steady_median_duration": pl.List(pl.Float64),
    "steady_spread": pl.List(pl.Float64),
    "steady_reference": pl.List(pl.Float64),
}


def steady_streams(
    rows: pl.DataFrame, quantile: float, min_spread: float, need: float, ref_min: int = 0
) -> pl.DataFrame:
    """Per account with at least one steady stream, or a steady pair: ``steady_streams`` (how
    many pass ``need`` after a Bonferroni correction over every stream judged; 2 at least when
    its pair passes, see the module), ``steady_surprise`` (the larger of their surprises summed
    and the pair's, capped: the caller corrects it for the accounts it tests, like its others),
    ``steady_pair`` (the pair passed) and lists of the figures of its two steadiest
    (``steady_stream``, ``steady_n_durations``, ``steady_median_duration``, ``steady_spread``,
    ``steady_reference``). The reference is set by the rows with ``ref_min`` durations or more."""
    empty = pl.DataFrame(schema=STEADY_SCHEMA)
    if rows.is_empty():
        return empty
    judged = rows.join(_references(rows, quantile, min_spread, ref_min), on="stream")
    if judged.is_empty():
        return empty
    out = _per_account(_stream_surprises(judged, need), need)
    if out.is_empty():
        return empty
    return out.select(
        "account_id",
        pl.when("steady_pair")
        .then(pl.max_horizontal("n_passing", pl.lit(2, dtype=pl.Int64)))
        .otherwise("n_passing")
        .cast(pl.Int64)
        .alias("steady_streams"),
        pl.max_horizontal("passing_surprise", pl.when("steady_pair").then("pair_surprise").otherwise(0.0)).alias(
            "steady_surprise"
        ),
        "steady_pair",
        "steady_stream",
        "steady_n_durations",
        "steady_median_duration",
        "steady_spread",
        "steady_reference",
    ).sort("account_id")


def _stream_surprises(judged: pl.DataFrame, need: float) -> pl.DataFrame:
    """Each judged stream's surprise at a spread this far below its reference (chi-square on
    the IQR's effective degrees of freedom) and whether it passes ``need`` corrected over them."""
    n_eff = np.maximum(IQR_EFFICIENCY * (judged["n_durations"].to_numpy() - 1.0), 1.0)
    ratio = (judged["spread"].to_numpy() / judged["reference"].to_numpy()) ** 2
    with np.errstate(divide="ignore"):
        s = -st.chi2.logcdf(n_eff * ratio, n_eff) / LN10
    s = np.clip(np.where(np.isfinite(s), s, MAX_SURPRISE), 0.0, MAX_SURPRISE)
    return judged.with_columns(
        pl.Series("surprise", s), pl.Series("passes", corrected(s, max(judged.height, 1)) >= need)
    )


def _per_account(judged: pl.DataFrame, need: float) -> pl.DataFrame:
    """Per account with a passing stream or a passing pair (its two steadiest streams tested
    together, corrected over the pairs): counts, surprises and its two steadiest streams' figures."""
    best = judged.sort(["surprise", "n_durations", "stream"], descending=[True, True, False]).group_by(
        "account_id", maintain_order=True
    )
    per = best.agg(
        pl.col("passes").sum().cast(pl.Int64).alias("n_passing"),
        pl.col("surprise").filter("passes").sum().clip(upper_bound=MAX_SURPRISE).alias("passing_surprise"),
        pl.len().alias("m"),
        pl.col("surprise").get(1, null_on_oob=True).alias("s2"),
        *(pl.col(c).head(2).alias(f"steady_{c}") for c in ("stream", "n_durations", "median_duration")),
        pl.col("spread").head(2).alias("steady_spread"),
        pl.col("reference").head(2).alias("steady_reference"),
    )
    m = per["m"].to_numpy().astype(float)
    pair = 2.0 * per["s2"].fill_null(0.0).to_numpy() - np.log10(np.maximum(m * (m - 1) / 2, 1.0))
    pair = np.clip(pair, 0.0, MAX_SURPRISE)
    pair_ok = (m >= 2) & (corrected(pair, max(int((m >= 2).sum()), 1)) >= need)
    per = per.with_columns(pl.Series("pair_surprise", pair), pl.Series("steady_pair", pair_ok))
    return per.filter((pl.col("n_passing") >= 1) | pl.col("steady_pair"))


def _references(rows: pl.DataFrame, quantile: float, min_spread: float, ref_min: int) -> pl.DataFrame:
    """Per stream the reference spread (``quantile`` of the spreads that vary, among rows with
    ``ref_min`` durations or more), where enough accounts, and most, vary."""
    varies = pl.col("spread") >= min_spread
    return (
        rows.filter(pl.col("n_durations") >= ref_min)
        .group_by("stream")
        .agg(
            pl.col("spread").filter(varies).quantile(quantile).alias("reference"),
            varies.sum().alias("varying"),
            pl.len().alias("accounts"),
        )
        .filter((pl.col("varying") >= MIN_ACCOUNTS) & (2 * pl.col("varying") > pl.col("accounts")))
        .select("stream", "reference")
    )


def describe(r: dict) -> str:
    """'durations held steady in 2 kinds of activity: 300 login events of 264 s within 0.4% and
    1080 lottery spin events of 1 s within 3% (the steadiest people: 79% and 24%)'."""
    parts, refs = [], []
    for stream, n, median, spread, ref in zip(
        r["steady_stream"],
        r["steady_n_durations"],
        r["steady_median_duration"],
        r["steady_spread"],
        r["steady_reference"],
    ):
        kind = str(stream).split(":", 1)[-1].replace("_", " ")
        parts.append(f"{n} {kind} events of {median:.3g} s within {_pct(spread)}")
        refs.append(_pct(ref))
    return (
        f"durations held steady in {r['steady_streams']} kinds of activity: {' and '.join(parts)} "
        f"(the steadiest people: {' and '.join(refs)})"
    )


def _pct(spread: float) -> str:
    """A spread of ln(duration) as a relative one, in percent."""
    return f"{(math.exp(spread) - 1) * 100:.2g}%"
