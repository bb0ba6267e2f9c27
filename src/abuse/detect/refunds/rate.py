"""Paid-claim rates per account against the base rate of its own shops and items, as a
surprise, and the number of accounts that count as tests (Tarone's correction)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import numpy as np
import polars as pl

from abuse import stats
from abuse.sqlfiles import read_sql

UNITS = "refunds_units"


@contextmanager
def window_units(con: duckdb.DuckDBPyConnection, complaint_rating: int = 3) -> Iterator[None]:
    """The window's order and claim units (``refunds_units.sql``) as the TEMP table
    ``refunds_units`` while the block runs: built once, read by every ``account_rates`` of
    the block (the passes differ only in their base rates' leave-outs)."""
    con.execute("SET VARIABLE refunds_complaint_rating = ?", [int(complaint_rating)])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {UNITS} AS " + read_sql("features/refunds_units.sql"))
    try:
        yield
    finally:
        con.execute(f"DROP TABLE IF EXISTS {UNITS}")


def _has_units(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [UNITS]).fetchone()
    return bool(row and row[0])


def account_rates(
    con: duckdb.DuckDBPyConnection,
    prior_orders: float,
    exclude: list[str] | None = None,
    complaint_rating: int = 3,
    groups: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Accounts with at least one paid order in the window (``refunds_accounts.sql``), base
    rates without the orders of ``exclude``, an account's own orders being those of its group
    (``groups``: account_id, grp; default every account alone). Reads the units of an
    enclosing ``window_units`` (its ``complaint_rating``), else builds them for this call."""
    if not _has_units(con):
        with window_units(con, complaint_rating):
            return account_rates(con, prior_orders, exclude, complaint_rating, groups)
    con.execute("SET VARIABLE refunds_prior_orders = ?", [float(prior_orders)])
    con.register(
        "refunds_exclude", pl.DataFrame({"account_id": exclude or []}, schema={"account_id": pl.Utf8}).to_arrow()
    )
    if groups is None:
        groups = pl.DataFrame(schema={"account_id": pl.Utf8, "grp": pl.Utf8})
    con.register("refunds_groups", groups.select("account_id", "grp").to_arrow())
    try:
        df = con.sql(read_sql("features/refunds_accounts.sql")).pl()
    finally:
        con.unregister("refunds_exclude")
        con.unregister("refunds_groups")
    ints = (
        "n_orders",
        "n_claimed",
        "n_paid",
        "n_comp_claimed",
        "n_shops",
        "n_paid_shops",
        "n_top",
        "k_top",
        "n_reasons",
        "top_reason_n",
        "n_reasoned",
        "n_paid_leveraged",
        "n_paid_coupon",
        "kc_top",
        "n_claimed_clean",
        "ka_top",
        "n_claimed_leveraged",
    )
    return df.with_columns(
        [pl.col(c).cast(pl.Int64) for c in ints]
        + [
            pl.col(c).cast(pl.Float64)
            for c in (
                "expected_paid",
                "paid_amount",
                "comp_amount",
                "mu_top",
                "top_reason_share",
                "expected_claimed",
                "muc_top",
                "platform_approval",
                "expected_claimed_all",
                "muca_top",
            )
        ]
    )


def _surprise(k: np.ndarray, n: np.ndarray, mu: np.ndarray) -> np.ndarray:
    return stats.surprise_binom(k, n, np.where(n > 0, mu / np.maximum(n, 1), 0.5))


def tarone_tests(max_surprise: np.ndarray, level: float) -> int:
    """Tarone's count of tests: the smallest ``m`` such that at most ``m`` accounts could
    reach ``level + log10 m`` even with every order paid (accounts with too few orders to
    ever be significant are no tests). One sort and one binary search per ``m`` (the count
    reaching each level at once), not a pass over the accounts per ``m``."""
    vals = np.asarray(max_surprise, dtype=float)
    asc = np.sort(vals[~np.isnan(vals)])  # NaN reaches no level
    m = np.arange(1, len(vals) + 1)
    reach = len(asc) - np.searchsorted(asc, level + np.log10(m), side="left")  # how many >= each level
    ok = np.flatnonzero(reach <= m)
    return int(m[ok[0]]) if ok.size else max(len(vals), 1)


def _breadth(full: np.ndarray, rest: np.ndarray, min_rest: float | None) -> np.ndarray:
    """The count's surprise over all shops when the shops other than the strongest one are
    evidence on their own (``rest >= min_rest``), else only theirs: one bad seller cannot
    make a serial refunder, and a refunder's home shops still count once it claims elsewhere
    too. Without ``min_rest``: the smaller of the two."""
    if min_rest is None:
        return np.minimum(full, rest)
    return np.where(rest >= min_rest, np.maximum(full, rest), rest)


def score(
    acc: pl.DataFrame,
    level: float = 2.0,
    max_rejected_surprise: float = 2.0,
    min_rest_surprise: float | None = None,
    min_paid_for_claims: float = 0.0,
    max_leveraged_share: float | None = None,
) -> tuple[pl.DataFrame, int]:
    """Adds ``paid_surprise`` (the smaller of all shops and all but the strongest one), the
    same for claims (``claim_surprise``) and the better of the two paying for both tries
    (``count_surprise``),
    ``reason_surprise`` (the most used reason against its share of all claims, paying for
    the reasons tried), their Fisher combination (``stats.combined``) ``surprise``, ``excess_paid`` (yuan paid
    beyond the base rate) and returns the Tarone count of tests for ``surprise``."""
    n, k, mu = (acc[c].to_numpy().astype(float) for c in ("n_orders", "n_paid", "expected_paid"))
    nt, kt, mt = (acc[c].to_numpy().astype(float) for c in ("n_top", "k_top", "mu_top"))
    rest = min_rest_surprise
    s_paid = _breadth(_surprise(k, n, mu), _surprise(k - kt, n - nt, mu - mt), rest)
    best_paid = _breadth(_surprise(n, n, mu), _surprise(n - nt, n - nt, mu - mt), rest)
    kc, muc = (acc[c].to_numpy().astype(float) for c in ("n_claimed_clean", "expected_claimed"))
    kct, mct = (acc[c].to_numpy().astype(float) for c in ("kc_top", "muc_top"))
    if max_leveraged_share is not None:
        # every claim counts, against the rate of all claims, unless the account rated most of
        # its claimed orders low (a complainer): a refunder's one low review per shop is cover
        nca, ncl = (acc[c].to_numpy().astype(float) for c in ("n_claimed", "n_claimed_leveraged"))
        every = ncl <= max_leveraged_share * np.maximum(nca, 1)
        kc = np.where(every, nca, kc)
        muc = np.where(every, acc["expected_claimed_all"].to_numpy(), muc)
        kct = np.where(every, acc["ka_top"].to_numpy().astype(float), kct)
        mct = np.where(every, acc["muca_top"].to_numpy(), mct)
    s_claim = _breadth(_surprise(kc, n, muc), _surprise(kc - kct, n - nt, muc - mct), rest)
    best_claim = _breadth(_surprise(n, n, muc), _surprise(n - nt, n - nt, muc - mct), rest)
    # the paid count or the claimed count (two tries): claiming is the account's doing, paying
    # the shop's, so a refunder whose shops reject some claims still shows in its claims
    # unless the shops reject its claims far more often than the platform's claims (a
    # complainer whose claims the shops judge unfounded, not a refunder they pay)
    nc = acc["n_claimed"].to_numpy().astype(float)
    a0 = float(acc["platform_approval"][0]) if acc.height else 0.5
    s_rej = stats.surprise_binom(nc - k, nc, min(max(1.0 - a0, 1e-6), 1.0))
    s_claim = np.where(s_rej >= max_rejected_surprise, 0.0, s_claim)
    # claims the shops did not pay are weak evidence alone: the paid count has to agree
    s_claim = np.where(s_paid >= min_paid_for_claims, s_claim, 0.0)
    s_count = np.maximum(np.maximum(s_paid, s_claim) - math.log10(2), 0.0)
    best_count = np.maximum(np.maximum(best_paid, best_claim) - math.log10(2), 0.0)
    c = acc["n_reasoned"].fill_null(0).to_numpy().astype(float)
    top = acc["top_reason_n"].fill_null(0).to_numpy().astype(float)
    share = acc["top_reason_share"].fill_null(1.0).to_numpy()
    tried = np.log10(np.maximum(acc["n_reasons"].fill_null(1).to_numpy().astype(float), 1))
    s_reason = np.maximum(stats.surprise_binom(top, c, share) - tried, 0.0)
    rarest = float(np.clip(share.min(), 1e-6, 1.0)) if len(share) else 1.0
    best_reason = np.asarray(stats.surprise_binom(n, n, np.full(len(n), rarest)))
    tests = tarone_tests(stats.combined(best_count, best_reason), level)
    excess = acc["paid_amount"].to_numpy() * np.clip(1.0 - mu / np.maximum(k, 1), 0.0, 1.0)
    return acc.with_columns(
        paid_surprise=pl.Series(s_paid),
        claim_surprise=pl.Series(s_claim),
        rejected_surprise=pl.Series(np.round(s_rej, 3)),
        count_surprise=pl.Series(s_count),
        reason_surprise=pl.Series(s_reason),
        surprise=pl.Series(stats.combined(s_count, s_reason)),
        excess_paid=pl.Series(np.round(excess, 2)),
    ), tests
