"""The shared statistics (abuse.stats): small properties a reader can check by hand."""

import math

import numpy as np
import pytest
from scipy import stats as st

from abuse import stats


def test_step_up_with_one_candidate_is_bonferroni():
    # one discovery among m tests needs surprise log10(m / fdr)
    assert stats.step_up([4.0], 0.01, tests=100).tolist() == [True]
    assert stats.step_up([3.9], 0.01, tests=100).tolist() == [False]


def test_step_up_keeps_many_that_each_fall_short_alone():
    m = 10_000
    alone = -np.log10(0.05 / m)  # the Bonferroni bar, about 5.3
    many = np.full(80, 3.5)  # p = 3e-4 each: none passes alone, 80 of them at 5% FDR do
    assert not stats.step_up(many[:1], 0.05, tests=m).any()
    assert stats.step_up(many, 0.05, tests=m).all()
    assert 3.5 < alone


def test_step_up_keeps_the_most_surprising_prefix():
    s = np.array([0.1, 6.0, 2.0, 5.0])
    keep = stats.step_up(s, 0.05)
    assert keep.tolist() == [False, True, True, True]
    assert not stats.step_up(np.zeros(0), 0.05).any()


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


def test_beyond_rate_leave_one_out_leaves_the_judged_hit_out_and_pays_for_every_unit():
    # 6 of 10 at a 10% rate is far beyond chance once the judged hit is left out (5 of 9)
    # alone, but not when it is one of 10,000 units tested.
    assert stats.beyond_rate_leave_one_out([6], [10], 0.1, 0.01).tolist() == [True]
    assert not stats.beyond_rate_leave_one_out([6] * 10_000, [10] * 10_000, 0.1, 0.01).any()
    # the judged hit alone is never an excess
    assert stats.beyond_rate_leave_one_out([1], [10], 0.1, 0.01).tolist() == [False]
