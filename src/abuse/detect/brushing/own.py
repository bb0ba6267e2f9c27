"""Own-staff brushing: a shop's own staff accounts order from it every few days and review it
well, on real addresses with varied texts. No crew spans client shops, so the co-targeting
graph sees nothing; the signal is the shop's own concentration.

1. Buyers (``sql/features/brushing_shop_buyers.sql``): one row per (account, shop) with an
   order in the window. Shops are put in bands of similar size (their buyers in the window;
   each band holds about the same number of buyer rows), and within its band an account's
   orders at the shop get an empirical tail p-value (the share of the band's buyers with as
   many orders there or more): rank-based, no distribution assumed.
2. Devoted buyers: the band's top ``devoted_q`` by that tail who also placed most of their
   window orders at the shop. Concentration: the shop's positive reviews from its devoted
   buyers against the share the shops of its band see (binomial), Bonferroni over the shops
   tried (those with ``min_members`` devoted buyers or more).
3. Collusion (the conjunction that spares a shop's loyal regulars): among the devoted
   buyers, how many share an order device with another of them, how many share an order IP
   (binomial each, against the chance ``1 - (1 - rho)^(v v (m - 1))``, ``rho`` the share of
   the pairs of values of two buyers of one shop that are one, ``v`` the values per buyer), and how much more they review than buyers
   do (binomial against the platform's review rate), Fisher-combined. Shared addresses are not
   evidence (a household ships to one address); each address counts the members behind it
   as one, so a household cannot make a crew of staff.
4. Members: the shop's repeat buyers whose orders there (band tail), positive reviews
   (binomial against the platform's reviews per order) and shared devices or IPs with the
   devoted group are together beyond chance, kept by a Benjamini-Hochberg step-up over the
   shop's buyers (``stats.step_up``).
Cost: a few group-bys over the buyer rows (linear in the window's orders).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from abuse import stats

from .graph import positive_rows


@dataclass
class OwnCrew:
    shop_id: str
    members: dict[str, float]  # account -> member surprise
    concentration_bits: float
    bits: dict[str, float] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)


def shop_buyers(con: duckdb.DuckDBPyConnection, min_rating: int) -> pl.DataFrame:
    return positive_rows(con, min_rating, "brushing_shop_buyers")


def _bands(buyers: pl.DataFrame, n_bands: int) -> pl.DataFrame:
    """Each row's size band: shops ordered by buyers, cut into ``n_bands`` runs of about the
    same number of buyer rows (so every band's tail rests on many buyers)."""
    shops = buyers.group_by("shop_id").agg(pl.len().alias("b")).sort(["b", "shop_id"])
    cum = shops["b"].cum_sum().to_numpy()
    per = max(float(cum[-1]) / max(n_bands, 1), 1.0)
    band = np.minimum(((cum - shops["b"].to_numpy()) // per).astype(np.int64), n_bands - 1)
    return buyers.join(shops.select("shop_id").with_columns(band=pl.Series(band)), on="shop_id")


def score_buyers(buyers: pl.DataFrame, n_bands: int) -> pl.DataFrame:
    """Adds ``band``, ``p_orders`` (empirical tail of the orders at the shop within the band)
    and ``share`` (the account's orders at the shop over its window orders)."""
    b = _bands(buyers, n_bands)
    return b.with_columns(
        p_orders=(
            (pl.len().over("band") - pl.col("n_orders").rank("min").over("band") + 1) / pl.len().over("band")
        ).cast(pl.Float64),
        share=pl.col("n_orders") / pl.col("n_all"),
    )


def _pair_rate(b: pl.DataFrame, col: str) -> float:
    """The chance that two of one shop's buyers' ``col`` values (order devices, IPs) are one:
    pairs of (account, value) of different accounts of a shop with the same value, over all
    such pairs, plus one smoothed. Linear, from counts per (shop, value) and per shop. An
    account using ``v`` values then meets one of ``V`` others' with ``1 - (1 - rate)^(v V)``:
    a buyer on many mobile networks meets more of them."""
    per = b.select("shop_id", "account_id", col).explode(col, empty_as_null=True).drop_nulls(col).unique()
    if per.is_empty():
        return 1e-9
    n = per.group_by("shop_id", col).agg(pl.len().alias("n"))["n"].cast(pl.Float64)
    shared = float((n * (n - 1) / 2).sum())
    # value pairs of different accounts at a shop: (V^2 - sum v_a^2) / 2
    per_acc = per.group_by("shop_id", "account_id").agg(pl.len().alias("v"))
    per_shop = per_acc.group_by("shop_id").agg(
        pl.col("v").sum().cast(pl.Float64).alias("V"), (pl.col("v").cast(pl.Float64) ** 2).sum().alias("v2")
    )
    pairs = float(((per_shop["V"] ** 2 - per_shop["v2"]) / 2).sum())
    return (shared + 1.0) / (pairs + 2.0)


def _shared(rows: pl.DataFrame, col: str) -> pl.DataFrame:
    """(shop_id, account_id) of the rows whose ``col`` list has a value another row of the same
    shop uses too."""
    ex = rows.select("shop_id", "account_id", col).explode(col, empty_as_null=True).drop_nulls(col)
    if ex.is_empty():
        return pl.DataFrame(schema={"shop_id": pl.Utf8, "account_id": pl.Utf8})
    ex = ex.unique().filter(pl.col("account_id").n_unique().over(["shop_id", col]) >= 2)
    return ex.select("shop_id", "account_id").unique()


def find_own_crews(
    buyers: pl.DataFrame,
    *,
    devoted_q: float,
    min_members: int,
    min_shop_surprise: float,
    min_behaviour_bits: float,
    min_infra_bits: float,
    fdr: float,
    n_bands: int = 8,
) -> tuple[list[OwnCrew], int]:
    """The shops whose devoted buyers are too many, too colluding and too reviewing for the
    shops of their size, with their members; and the number of shops tried."""
    if buyers.is_empty():
        return [], 0
    b = score_buyers(buyers, n_bands)
    b = b.with_columns(devoted=(pl.col("p_orders") <= devoted_q) & (pl.col("share") > 0.5) & (pl.col("n_orders") >= 2))
    # the base rates: positive reviews per order on the platform, the devoted buyers' share of
    # the positive reviews in each band
    rate = float(b["n_pos"].sum()) / max(float(b["n_orders"].sum()), 1.0)
    band = b.group_by("band").agg(
        pl.col("n_pos").filter(pl.col("devoted")).sum().alias("band_dev_pos"), pl.col("n_pos").sum().alias("band_pos")
    )
    dev = b.filter(pl.col("devoted"))
    dev_shop = dev.group_by("shop_id").agg(pl.len().alias("m"))
    tried = dev_shop.filter(pl.col("m") >= min_members)
    n_tried = tried.height
    if not n_tried:
        return [], 0
    # infrastructure shared among a shop's devoted buyers, base over shops with >= 2 of them
    pool = dev.join(dev_shop.filter(pl.col("m") >= 2).select("shop_id"), on="shop_id")
    sh_dev = _shared(pool, "devices").with_columns(dev_shared=pl.lit(True))
    sh_ip = _shared(pool, "ips").with_columns(ip_shared=pl.lit(True))
    pool = (
        pool.join(sh_dev, on=["shop_id", "account_id"], how="left")
        .join(sh_ip, on=["shop_id", "account_id"], how="left")
        .with_columns(pl.col("dev_shared").fill_null(False), pl.col("ip_shared").fill_null(False))
    )
    # the chance that two buyers of one shop share an order device (an IP), over every shop's
    # buyer pairs: crews are a speck among them, households and internet cafes are in it
    rho_dev, rho_ip = _pair_rate(b, "devices"), _pair_rate(b, "ips")

    shop = (
        b.group_by("shop_id")
        .agg(
            pl.col("band").first(),
            pl.len().alias("buyers"),
            pl.col("n_orders").sum().alias("orders"),
            pl.col("n_pos").sum().alias("pos"),
            pl.col("n_orders").filter(pl.col("devoted")).sum().alias("dev_orders"),
            pl.col("n_pos").filter(pl.col("devoted")).sum().alias("dev_pos"),
        )
        .join(tried, on="shop_id")
        .join(band, on="band")
        # every base rate leaves the shop itself out (plus-one smoothed): a shop cannot make
        # the base it is tested against
        .with_columns(p0=(pl.col("band_dev_pos") - pl.col("dev_pos") + 1) / (pl.col("band_pos") - pl.col("pos") + 2))
    )
    conc = stats.surprise_binom(
        shop["dev_pos"].to_numpy(), shop["pos"].to_numpy(), np.clip(shop["p0"].to_numpy(), 1e-6, 1 - 1e-6)
    )
    shop = shop.with_columns(conc=pl.Series(conc))
    col = pool.group_by("shop_id").agg(
        pl.col("dev_shared").sum().alias("x_dev"),
        pl.col("ip_shared").sum().alias("x_ip"),
        pl.col("addrs").list.explode(keep_nulls=False, empty_as_null=False).n_unique().alias("n_addrs"),
        pl.col("addrs").list.len().eq(0).sum().alias("no_addr"),
        pl.col("devices").list.len().mean().alias("v_dev"),
        pl.col("ips").list.len().mean().alias("v_ip"),
    )
    shop = shop.join(col, on="shop_id", how="left")
    out: list[OwnCrew] = []
    bar = math.log10(max(n_tried, 1))
    for r in shop.sort("conc", descending=True).iter_rows(named=True):
        if r["conc"] < min_shop_surprise + bar:
            continue
        m = int(r["m"])
        x_dev, x_ip = int(r["x_dev"] or 0), int(r["x_ip"] or 0)
        # a devoted buyer with v values shares one with the m - 1 others' (v each) by chance
        # with 1 - (1 - rho)^(v v (m - 1))
        v_dev, v_ip = float(r["v_dev"] or 0.0), float(r["v_ip"] or 0.0)
        pi_dev = min(max(1.0 - (1.0 - rho_dev) ** (v_dev * v_dev * (m - 1)), 1e-9), 1 - 1e-9)
        pi_ip = min(max(1.0 - (1.0 - rho_ip) ** (v_ip * v_ip * (m - 1)), 1e-9), 1 - 1e-9)
        s_dev = float(stats.surprise_binom(x_dev, m, pi_dev))
        s_ip = float(stats.surprise_binom(x_ip, m, pi_ip))
        s_rev = float(stats.surprise_binom(r["dev_pos"], r["dev_orders"], rate))
        infra = float(stats.combined(s_dev, s_ip))
        behaviour = float(stats.combined(s_dev, s_ip, s_rev))
        units = min(m, int(r["n_addrs"] or 0) + int(r["no_addr"] or 0))
        figures = {
            "buyers": int(r["buyers"]),
            "orders": int(r["orders"]),
            "positive_reviews": int(r["pos"]),
            "devoted_buyers": m,
            "devoted_orders": int(r["dev_orders"]),
            "devoted_positive_reviews": int(r["dev_pos"]),
            "band_devoted_share": round(float(r["p0"]), 4),
            "devoted_sharing_devices": x_dev,
            "devoted_sharing_ips": x_ip,
            "base_sharing_devices": round(pi_dev, 4),
            "base_sharing_ips": round(pi_ip, 4),
            "platform_reviews_per_order": round(rate, 4),
            "addresses": units,
        }
        bits = {
            "concentration": float(r["conc"]),
            "devices": s_dev,
            "ips": s_ip,
            "reviewing": s_rev,
            "infra": infra,
            "behaviour": behaviour,
        }
        if behaviour < min_behaviour_bits + bar or infra < min_infra_bits or units < min_members:
            continue
        members = _members(b.filter(pl.col("shop_id") == r["shop_id"]), pool, rate, pi_dev, pi_ip, fdr)
        if len(members) < min_members:
            continue
        out.append(OwnCrew(str(r["shop_id"]), members, float(r["conc"]), bits, figures))
    return out, n_tried


def _members(
    rows: pl.DataFrame, pool: pl.DataFrame, rate: float, pi_dev: float, pi_ip: float, fdr: float
) -> dict[str, float]:
    """The shop's repeat buyers beyond chance: band tail of their orders there, their positive
    reviews per order against the platform's, and whether they share an order device (or an
    IP) with another of the shop's devoted buyers (surprise of the base rate of that),
    Fisher-combined; BH over the shop's buyers."""
    cand = rows.filter(pl.col("n_orders") >= 2)
    if cand.is_empty():
        return {}
    devs = pool.filter(pl.col("shop_id") == rows["shop_id"][0])

    def shares(col: str) -> np.ndarray:
        used = (
            devs.select(pl.col("account_id").alias("other"), col)
            .explode(col, empty_as_null=True)
            .drop_nulls(col)
            .unique()
        )
        hit = (
            cand.select("account_id", col)
            .explode(col, empty_as_null=True)
            .drop_nulls(col)
            .join(used, on=col)
            .filter(pl.col("other") != pl.col("account_id"))
            .select("account_id")
            .unique()
        )
        return cand["account_id"].is_in(hit["account_id"].implode()).to_numpy()

    s_orders = stats.surprise_of(cand["p_orders"].to_numpy())
    s_rev = stats.surprise_binom(cand["n_pos"].to_numpy(), cand["n_orders"].to_numpy(), rate)
    s_dev = np.where(shares("devices"), -math.log10(pi_dev), 0.0)
    s_ip = np.where(shares("ips"), -math.log10(pi_ip), 0.0)
    s = stats.combined(s_orders, s_rev, np.maximum(s_dev, s_ip))
    keep = stats.step_up(s, fdr, tests=cand.height)
    return {a: round(float(x), 3) for a, x, k in zip(cand["account_id"].to_list(), s, keep, strict=True) if k}
