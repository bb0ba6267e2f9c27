"""Push days: a batch of one-task hires placing one order each at one shop on one day and
posting one positive review each. No account serves two shops, so co-targeting cannot see
them; the day can.

1. Groups (``sql/features/brushing_push_orders.sql``): the positive reviews of the window
   by the local day their order was placed; a group is one shop's distinct reviewers of one
   order day.
2. Burst: a group's size against the shop's own rate of positive reviewers per order day on
   the other days (plus one), scaled by how busy the platform was that day (its positive
   reviewers that day over its daily mean: a sale day is busy for every shop); Poisson,
   Bonferroni over every (shop, day) that could have burst.
3. Ties (the conjunction that spares a launch week, a hit product, a sale day): the group's
   accounts shipping to an address another of them uses (binomial against the share in all
   other groups) and its near-duplicate review texts (binomial against the platform's rate of
   near duplicates between random positive texts), Fisher-combined, Bonferroni over the
   bursting groups.
Members: the group's reviewers with a tie of their own (a shared address, copied praise,
the item the group pushed); the untied one-task reviewers too when the local false
discovery rate of an untied reviewer (the shop's ordinary expectation of genuine buyers
against the group's untied hires) is below ``fdr``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from abuse import graphs, stats

from .graph import RowIndex, positive_rows


@dataclass
class PushDay:
    shop_id: str
    day: object
    members: list[str]
    bits: dict[str, float] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)


def push_orders(con: duckdb.DuckDBPyConnection, min_rating: int) -> pl.DataFrame:
    return positive_rows(con, min_rating, "brushing_push_orders")


def find_push_days(
    rows: pl.DataFrame,
    *,
    n_days: int,
    min_members: int,
    min_burst_surprise: float,
    min_tie_bits: float,
    base_dup: float,
    threshold: float,
    min_item_surprise: float = 2.0,
    fdr: float = 0.02,
    orders_at_shop: pl.DataFrame | None = None,
) -> tuple[list[PushDay], int]:
    """The (shop, order day) groups that burst beyond the shop's own rate and whose reviewers
    are tied by shared addresses or copied praise; and the number of (shop, day) tests."""
    if rows.is_empty():
        return [], 0
    if orders_at_shop is None:  # one order per positive review: a lower bound of the orders
        orders_at_shop = rows.group_by("account_id", "shop_id").agg(pl.len().alias("n_orders"))
    g = rows.unique(["account_id", "shop_id", "day"])
    group = g.group_by("shop_id", "day").agg(pl.len().alias("k"))
    per_day = g.group_by("day").agg(pl.len().alias("p_day"))
    mean_day = float(g.height) / max(n_days, 1)
    shop = g.group_by("shop_id").agg(pl.len().alias("t_shop"))
    group = (
        group.join(shop, on="shop_id")
        .join(per_day, on="day")
        .with_columns(
            expected=(pl.col("t_shop") - pl.col("k") + 1)
            / max(n_days - 1, 1)
            * pl.max_horizontal(pl.col("p_day") / mean_day, pl.lit(1.0))
        )
    )
    n_tests = shop.height * max(n_days, 1)
    burst = stats.surprise_poisson(group["k"].to_numpy(), group["expected"].to_numpy())
    group = group.with_columns(burst=pl.Series(burst))
    # shared addresses inside a group: the base is every group of two or more accounts
    addr = (
        g.drop_nulls("addr")
        .join(group.filter(pl.col("k") >= 2).select("shop_id", "day"), on=["shop_id", "day"])
        .with_columns(shared=pl.col("account_id").n_unique().over(["shop_id", "day", "addr"]) >= 2)
        .group_by("shop_id", "day", "account_id")
        .agg(pl.col("shared").any())
    )
    all_shared, all_n = float(addr["shared"].sum()), float(addr.height)
    x_addr = addr.group_by("shop_id", "day").agg(pl.col("shared").sum().alias("x_addr"))
    bar = min_burst_surprise + math.log10(max(n_tests, 1))
    hot = (
        group.filter((pl.col("k") >= min_members) & (pl.col("burst") >= bar))
        .join(x_addr, on=["shop_id", "day"], how="left")
        .with_columns(pl.col("x_addr").fill_null(0))
        .sort(["burst", "shop_id", "day"], descending=[True, False, False])
    )
    hot_days = group.filter(pl.col("burst") >= bar).select("shop_id", "day")
    out: list[PushDay] = []
    tie_bar = min_tie_bits + math.log10(max(hot.height, 1))
    # each hot day reads its shop's rows: indexed by shop once, so a day costs its shop's
    # rows, not a pass over the window's (the hot days grow with the platform too)
    g_at, rows_at, orders_at = (RowIndex(x, "shop_id") for x in (g, rows, orders_at_shop))
    for r in hot.iter_rows(named=True):
        at_shop = rows_at.take([r["shop_id"]])
        sub = g_at.take([r["shop_id"]]).filter(pl.col("day") == r["day"])
        k, x = int(r["k"]), int(r["x_addr"])
        pi = (all_shared - x + 1.0) / (all_n - k + 2.0)
        s_addr = float(stats.surprise_binom(x, k, min(max(pi, 1e-6), 0.5)))
        ordinary = at_shop.join(hot_days.filter(pl.col("shop_id") == r["shop_id"]), on=["shop_id", "day"], how="anti")
        # copied praise against the platform's rate of near duplicates, or the shop's own on
        # its other days if higher (reviews of one product resemble each other: a launch's
        # buyers praise the same thing in the same words every day of it)
        others = at_shop.filter(pl.col("day") != r["day"])
        own_texts = [(a, t) for a, t in others.select("account_id", "text").iter_rows() if t]
        shop_dup = graphs.near_duplicate_rate(own_texts, threshold, n=500) if len(own_texts) >= 10 else 0.0
        p_dup = min(max(base_dup, shop_dup, 1e-6), 0.5)
        texts = [(a, t) for a, t in sub.select("account_id", "text").iter_rows() if t]
        dup, compared, copied = graphs.near_duplicate_pairs(texts, threshold)
        # counted in accounts, not pairs (one template shared by many makes many pairs): an
        # account copies another's praise by chance with 1 - (1 - p)^(writers - 1)
        writers = len({a for a, _ in texts})
        p_acc = 1.0 - (1.0 - p_dup) ** max(writers - 1, 0)
        s_text = float(stats.surprise_binom(len(copied), writers, min(max(p_acc, 1e-6), 1 - 1e-6))) if compared else 0.0
        ties = float(stats.combined(s_addr, s_text))
        if ties < tie_bar:
            continue
        figures = {
            "reviewers": k,
            "expected_reviewers": round(float(r["expected"]), 2),
            "shop_reviewers_in_window": int(r["t_shop"]),
            "sharing_addresses": x,
            "base_sharing_addresses": round(pi, 4),
            "dup_text_pairs": int(dup),
            "copying_reviewers": len(copied),
            "dup_text_expected": round(compared * p_dup, 2),
        }
        bits = {"burst": float(r["burst"]), "addresses": s_addr, "texts": s_text, "ties": ties}
        # copied praise ties a member only where the group's copying is itself beyond chance
        # (a genuine buyer in a big group finds a similar text by chance)
        tied = _tied(ordinary, sub, others, min_item_surprise, set(copied) if s_text >= min_tie_bits else set())
        # the rest by local false discovery: a genuine buyer of the day (the shop's ordinary
        # expectation of them) has no tie, a hire has none at the group's untied rate; one-task
        # reviewers only (a regular of the shop with other reviews there is not a hire)
        e = float(r["expected"])
        untied = max(1.0 - len(tied) / k, 1e-9)
        lfdr = e / (e + max(k - e, 0.0) * untied)
        once = set(orders_at.take([r["shop_id"]]).filter(pl.col("n_orders") == 1)["account_id"])
        rest = [a for a in sub["account_id"].unique().to_list() if a not in set(tied) and a in once]
        members = sorted(set(tied) | (set(rest) if lfdr <= fdr else set()))
        if len(members) < min_members:
            continue
        figures["tied_reviewers"] = len(tied)
        figures["local_fdr_untied"] = round(lfdr, 4)
        out.append(PushDay(str(r["shop_id"]), r["day"], members, bits, figures))
    return out, n_tests


def _tied(
    rest: pl.DataFrame, sub: pl.DataFrame, shop_rows: pl.DataFrame, min_item_surprise: float, copied: set
) -> list[str]:
    """The group's reviewers with a tie of their own to the others: an address another
    reviewer of the shop ships to (``shop_rows``: its other days), praise near-duplicating another's, or the item the group pushed (bought by
    more of the group than the shop's ordinary days' share of it allows, Poisson; ``rest``:
    the shop's positive reviews of days that did not burst). The genuine
    buyers of a busy day (the shop's ordinary rate of them) rarely have one. ``copied``: the
    group's reviewers whose praise near-duplicates another's, when that counts."""
    k = sub["account_id"].n_unique()
    base = rest.group_by("item_id").agg(pl.len().alias("n_rest"))
    items = (
        sub.unique(["account_id", "item_id"])
        .filter(pl.col("item_id") != "")
        .group_by("item_id")
        .agg(pl.len().alias("c"))
        .join(base, on="item_id", how="left")
        .with_columns(pl.col("n_rest").fill_null(0))
    )
    # the group's items (two or more of it bought them), tested together: their share of the
    # group against their share of the shop's ordinary days
    mine = items.filter(pl.col("c") >= 2)
    c, n_rest = float(mine["c"].sum()), float(mine["n_rest"].sum())
    mu = k * (n_rest + 1.0) / (rest.height + 2.0)
    pushed = set(mine["item_id"]) if c and float(stats.surprise_poisson(c, mu)) >= min_item_surprise else set()
    # an address another reviewer of the shop ships to, that day or another (a crew's drop
    # addresses serve its push day and its regular members alike)
    at_shop = (
        pl.concat([sub.select("account_id", "addr"), shop_rows.select("account_id", "addr")])
        .drop_nulls("addr")
        .unique()
    )
    multi = at_shop.filter(pl.col("account_id").n_unique().over("addr") >= 2)["addr"]
    shared_addr = set(sub.filter(pl.col("addr").is_in(multi.implode()))["account_id"])
    by_item = set(sub.filter(pl.col("item_id").is_in(list(pushed)))["account_id"])
    return sorted(shared_addr | set(copied) | by_item)


__all__ = ["PushDay", "find_push_days", "push_orders", "np"]
