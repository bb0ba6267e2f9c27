"""Paid-claim rates per account against the base rate of its own shops and items, as a
surprise, and the number of accounts that count as tests (Tarone's correction)."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import polars as pl

from abuse import stats
from abuse.sqlfiles import read_sql


def account_rates(con: duckdb.DuckDBPyConnection, prior_orders: float) -> pl.DataFrame:
    """Accounts with at least one paid order in the window (``refunds_accounts.sql``)."""
    con.execute("SET VARIABLE refunds_prior_orders = ?", [float(prior_orders)])
    df = con.sql(read_sql("features/refunds_accounts.sql")).pl()
    ints = ("n_orders", "n_claimed", "n_paid", "n_comp_claimed", "n_shops", "n_paid_shops",
            "n_top", "k_top", "n_reasons", "top_reason_n")
    return df.with_columns([pl.col(c).cast(pl.Int64) for c in ints]
                           + [pl.col(c).cast(pl.Float64) for c in
                              ("expected_paid", "paid_amount", "comp_amount", "mu_top")])


def _surprise(k: np.ndarray, n: np.ndarray, mu: np.ndarray) -> np.ndarray:
    return stats.surprise_binom(k, n, np.where(n > 0, mu / np.maximum(n, 1), 0.5))


def tarone_tests(max_surprise: np.ndarray, level: float) -> int:
    """Tarone's count of tests: the smallest ``m`` such that at most ``m`` accounts could
    reach ``level + log10 m`` even with every order paid (accounts with too few orders to
    ever be significant are no tests)."""
    top = np.sort(np.asarray(max_surprise, dtype=float))[::-1]
    for m in range(1, len(top) + 1):
        if int((top >= level + math.log10(m)).sum()) <= m:
            return m
    return max(len(top), 1)


def score(acc: pl.DataFrame, level: float = 2.0) -> tuple[pl.DataFrame, int]:
    """Adds ``surprise`` (the smaller of all shops and all but the strongest one),
    ``excess_paid`` (yuan paid beyond the base rate) and returns the Tarone test count."""
    n, k, mu = (acc[c].to_numpy().astype(float) for c in ("n_orders", "n_paid", "expected_paid"))
    nt, kt, mt = (acc[c].to_numpy().astype(float) for c in ("n_top", "k_top", "mu_top"))
    s_all = _surprise(k, n, mu)
    s_rest = _surprise(k - kt, n - nt, mu - mt)
    best_all = _surprise(n, n, mu)
    best_rest = _surprise(n - nt, n - nt, mu - mt)
    tests = tarone_tests(np.minimum(best_all, best_rest), level)
    excess = acc["paid_amount"].to_numpy() * np.clip(1.0 - mu / np.maximum(k, 1), 0.0, 1.0)
    return acc.with_columns(surprise=pl.Series(np.minimum(s_all, s_rest)),
                            surprise_all_shops=pl.Series(s_all),
                            excess_paid=pl.Series(np.round(excess, 2))), tests
