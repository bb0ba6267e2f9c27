"""The statistics every detector speaks: tails as *surprise*, multiple testing, and the one map
from evidence to a 0..1 score.

Vocabulary: the **surprise** of an observation is ``-log10 p`` of its one-sided tail under the
baseline (0 = not surprising at all, 6 = one in a million). Surprises add across independent
tests, a Bonferroni correction over ``m`` tests subtracts ``log10 m``, and ``score`` maps a
(corrected) surprise to 0..1. Every detector's scores come from ``score``, so sorting any report
view by score puts the strongest evidence first, across patterns.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from scipy import stats as _st

LN10 = math.log(10.0)
MAX_SURPRISE = 300.0  # p = 1e-300: beyond this the figures are not meaningful


def surprise_binom(k, n, p) -> np.ndarray:
    """``-log10 P(X >= k)`` for ``X ~ Binomial(n, p)``, elementwise (0 where ``k <= 0``). Where
    the exact tail underflows it uses the Chernoff bound ``n KL(k/n || p)``, tight that far out."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = -_st.binom.logsf(k - 1, n, p) / LN10
        q = np.clip(k / np.maximum(n, 1), 1e-12, 1 - 1e-12)
        kl = q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))
    bound = np.where(q > p, n * kl / LN10, 0.0)
    out = np.where(np.isfinite(exact), exact, bound)
    return np.where((k <= 0) | (n <= 0), 0.0, np.maximum(out, 0.0))  # no cap: the bound is exact enough


def surprise_poisson(k, mu) -> np.ndarray:
    """``-log10 P(X >= k)`` for ``X ~ Poisson(mu)``, elementwise (0 where ``k <= 0``)."""
    k = np.asarray(k, dtype=float)
    lam = np.maximum(np.asarray(mu, dtype=float), 1e-12)
    with np.errstate(divide="ignore"):
        out = -_st.poisson.logsf(k - 1, lam) / LN10
    out = np.where(np.isfinite(out), out, MAX_SURPRISE)
    return np.where(k <= 0, 0.0, np.clip(out, 0.0, MAX_SURPRISE))


def surprise_of(p_value) -> np.ndarray:
    """``-log10 p`` of p-values, 0 for p >= 1 and ``MAX_SURPRISE`` for p = 0."""
    p = np.clip(np.asarray(p_value, dtype=float), 10.0**-MAX_SURPRISE, 1.0)
    return -np.log10(p)


def combined(*surprises) -> np.ndarray:
    """Fisher's combination of independent tests given as surprises: the surprise of
    ``-2 sum ln p`` under a chi-square with ``2 * len(surprises)`` degrees of freedom."""
    x = 2.0 * LN10 * np.sum(np.asarray(surprises, dtype=float), axis=0)
    return np.minimum(-_st.chi2.logsf(x, 2 * len(surprises)) / LN10, MAX_SURPRISE)


def corrected(surprise, tests: int | float) -> np.ndarray:
    """Bonferroni over ``tests`` tests: the surprise left after paying ``log10 tests``."""
    return np.maximum(np.asarray(surprise, dtype=float) - math.log10(max(float(tests), 1.0)), 0.0)


def required_surprise(alpha: float, tests: int | float = 1) -> float:
    """The surprise one of ``tests`` tests must reach to be significant at family-wise level
    ``alpha`` (Bonferroni): ``-log10 alpha + log10 tests``. ``corrected(s, tests) >=
    required_surprise(alpha)`` and ``s >= required_surprise(alpha, tests)`` say the same."""
    return -math.log10(alpha) + math.log10(max(float(tests), 1.0))


def beyond_rate_leave_one_out(k, n, rate: float, alpha: float) -> np.ndarray:
    """Per unit (a shop, say) with ``k`` hits among ``n`` (the account being judged among them),
    whether the others' hits are far beyond ``rate``: ``P(Binomial(n - 1, rate) >= k - 1)``
    significant at family-wise level ``alpha``, Bonferroni over the units."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    return surprise_binom(k - 1, n - 1, rate) >= required_surprise(alpha, len(k))


def least_significant_poisson(mu: float, surprise: float) -> int:
    """The smallest count ``k`` whose Poisson(mu) surprise reaches ``surprise``."""
    return least_significant_poisson_at(mu, 10.0**-surprise)


def least_significant_poisson_at(mu: float, level: float) -> int:
    """The smallest count ``k >= 1`` with ``P(X >= k) <= level`` for ``X ~ Poisson(mu)``: the
    bar a count must reach at significance ``level`` (e.g. alpha over the tests made)."""
    k = int(_st.poisson.isf(level, mu))
    while _st.poisson.sf(k - 1, mu) > level:
        k += 1
    while k > 1 and _st.poisson.sf(k - 2, mu) <= level:
        k -= 1
    return max(k, 1)


def step_up(surprise, fdr: float, tests: int | float | None = None) -> np.ndarray:
    """Benjamini-Hochberg at false-discovery rate ``fdr``, in surprises: a boolean mask of the
    ``k`` most surprising, for the largest ``k`` whose ``k``-th surprise reaches
    ``-log10(fdr * k / m)``. ``m`` is ``tests`` (every candidate that could have been
    discovered, even those not scored) or the number of surprises. With one discovery this is
    the Bonferroni bar; many discoveries each short of that bar alone pass when their number
    is itself beyond chance."""
    s = np.asarray(surprise, dtype=float)
    m = max(float(tests if tests is not None else len(s)), float(len(s)), 1.0)
    keep = np.zeros(len(s), bool)
    if not len(s):
        return keep
    order = np.argsort(-s, kind="stable")
    bar = -np.log10(fdr * np.arange(1, len(s) + 1) / m)
    ok = np.nonzero(s[order] >= bar)[0]
    if len(ok):
        keep[order[: int(ok.max()) + 1]] = True
    return keep


HALF = 6.0  # the corrected surprise that scores 0.5: one in a million after correction


@overload
def score(surprise: float) -> float: ...
@overload
def score(surprise: np.ndarray) -> np.ndarray: ...
@overload
def score(surprise: object) -> float | np.ndarray: ...


def score(surprise: object) -> float | np.ndarray:
    """The one score map: a corrected surprise ``s >= 0`` to ``s / (s + 6)``, so 1e-6 -> 0.50,
    1e-12 -> 0.67, 1e-30 -> 0.83, 1e-60 -> 0.91. Strictly increasing and never saturating, so
    scores keep ranking the strongest evidence first. Rounded to 4 places."""
    s = np.maximum(np.asarray(surprise, dtype=float), 0.0)
    out = np.round(s / (s + HALF), 4)
    return float(out) if out.ndim == 0 else out
