"""The shared text and scalar helpers: polars aggregates read with their types, one plural."""

import math
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from abuse.frames import instant, integer, number
from abuse.report_text import plural
from abuse.stats import least_significant_poisson, least_significant_poisson_at, surprise_poisson


def test_aggregates_keep_their_values_and_refuse_what_they_are_not():
    s = pl.Series([3, 1, 2])
    assert number(s.max()) == 3.0 and isinstance(number(s.max()), float)
    assert integer(pl.Series([2.9]).max()) == 2  # truncated, as int() does
    assert number(Decimal("1.5")) == 1.5
    assert number(pl.Series([], dtype=pl.Float64).max(), default=0.0) == 0.0
    with pytest.raises(TypeError):
        number(pl.Series([], dtype=pl.Float64).max())  # empty and no default
    with pytest.raises(TypeError):
        integer(pl.Series(["a"]).max())
    t = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert instant(pl.Series([t]).min()) == t
    assert instant(pl.Series([], dtype=pl.Datetime("us", "UTC")).min()) is None
    with pytest.raises(TypeError):
        instant(pl.Series([1]).min())


@pytest.mark.parametrize(
    ("n", "word", "text"),
    [
        (1, "shipping address", "1 shipping address"),
        (2, "shipping address", "2 shipping addresses"),
        (3, "batch", "3 batches"),
        (2, "activity spike", "2 activity spikes"),
        (2, "person", "2 people"),
        (4, "city", "4 cities"),
        (5, "day", "5 days"),
        (1200, "account", "1,200 accounts"),
    ],
)
def test_plural_agrees(n, word, text):
    assert plural(n, word) == text


@pytest.mark.parametrize("mu", [0.05, 1.0, 7.5, 40.0])
def test_least_significant_count_is_the_first_to_reach_the_level(mu):
    for level in (1e-2, 1e-4, 1e-7):
        k = least_significant_poisson_at(mu, level)
        need = -math.log10(level)
        assert surprise_poisson(k, mu) >= need - 1e-9
        assert k == 1 or surprise_poisson(k - 1, mu) < need
    assert least_significant_poisson(mu, 3.0) == least_significant_poisson_at(mu, 1e-3)
