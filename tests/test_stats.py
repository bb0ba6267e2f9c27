"""abuse.stats: the shared vocabulary of surprise, correction and significance."""

import math

import numpy as np
import pytest
from scipy import stats as st

from abuse import stats


@pytest.mark.parametrize("alpha, tests", [(0.01, 1), (0.01, 1000), (1e-6, 37), (0.05, 0)])
def test_required_surprise_is_bonferroni_at_alpha(alpha: float, tests: int) -> None:
    need = stats.required_surprise(alpha, tests)
    assert need == pytest.approx(-math.log10(alpha / max(tests, 1)))
    # the same verdict as correcting first and testing at alpha
    s = np.array([need - 0.01, need + 0.01])
    assert list(s >= need) == list(stats.corrected(s, tests) >= stats.required_surprise(alpha)) == [False, True]


def test_required_surprise_matches_a_binomial_tail() -> None:
    """A count whose one-sided p-value is below alpha / tests reaches it; the count below does not."""
    n, p, alpha, tests = 200, 0.05, 0.01, 50
    k = int(st.binom.isf(alpha / tests, n, p)) + 1  # smallest k with P(X >= k) <= alpha / tests
    assert st.binom.sf(k - 1, n, p) <= alpha / tests < st.binom.sf(k - 2, n, p)
    need = stats.required_surprise(alpha, tests)
    assert stats.surprise_binom(k, n, p) >= need > stats.surprise_binom(k - 1, n, p)
