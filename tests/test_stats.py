"""The shared statistics (abuse.stats): small properties a reader can check by hand."""

import numpy as np

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
