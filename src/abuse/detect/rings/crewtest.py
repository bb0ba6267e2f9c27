"""Sparse crews, step 4: the group test, each part -log10 p against a base rate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from abuse import stats

from .evidence import _dup_texts
from .links import cohort_rate
from .members import BG_TIERS

_DAY = 86400.0
_TIERS = (0.002, 0.01, 0.05, 0.2, 1.0)  # P(>= 2 of the group's edges at a shop) by chance


def _p2(lam: np.ndarray) -> np.ndarray:
    """P(Poisson(lam) >= 2)."""
    return -np.expm1(-lam) - lam * np.exp(-lam)


@dataclass
class Baselines:
    """The base rates a group is tested against, over all hostile accounts and edges."""

    h_all: np.ndarray  # hostile edges per shop
    shop_index: dict  # shop_id -> index into h_all
    rates: dict  # payment flag -> its rate over hostile edges
    reg_of: dict  # account_id -> registration time (epoch seconds)
    inv_set: set  # invitation pairs (a, b), a < b
    p_inv: float  # share of hostile account pairs linked by an invitation
    p_cohort: float  # share of hostile account pairs registered within cohort_days

    @classmethod
    def measure(
        cls, e: pl.DataFrame, links: pl.DataFrame, inv: pl.DataFrame, shop_h: pl.DataFrame, cohort_days: float
    ) -> Baselines:
        reg = links.select("account_id", reg=pl.col("registered_at").dt.epoch("ms") / 1000.0)
        n_host = float(links.height)
        return cls(
            h_all=shop_h["h_s"].to_numpy().astype(float),
            shop_index={s: i for i, s in enumerate(shop_h["shop_id"])},
            rates=payment_flags(e).select(pl.exclude("account_id", "shop_id")).mean().row(0, named=True),
            reg_of=dict(zip(reg["account_id"], reg["reg"], strict=True)),
            inv_set=set(zip(inv["a"], inv["b"], strict=True)),
            p_inv=inv.height / max(n_host * (n_host - 1) / 2, 1.0),
            p_cohort=cohort_rate(reg["reg"].drop_nulls().to_numpy().astype(float), cohort_days),
        )


def reported(
    bits: dict,
    figures: dict,
    n_groups: int,
    *,
    leave_out: int,
    min_shared: int,
    min_covictim_bits: float,
    min_total_bits: float,
) -> bool:
    """Whether a tested group is a crew: coordinated through its victims, or recruited
    (invitations among its members beyond base rate and, independently of them, the crew's
    behaviour (shared victims, timing, payment, copied texts) too, spread over many victims,
    not one target that an office or a class was mobilised against), with enough evidence
    once the groups tested are paid for. Records ``linked_by`` in ``figures``."""
    corrected = sum(bits.values()) - math.log10(max(n_groups, 1))
    coordinated = figures["shared_victims"] - leave_out >= min_shared and bits["co_victims"] >= min_covictim_bits
    behaviour = sum(bits[k] for k in ("co_victims", "timing", "payment", "dup_texts"))
    recruited = (
        figures["hostile_shops"] - leave_out >= min_shared
        and bits["invitations"] >= min_covictim_bits
        and behaviour >= min_covictim_bits
    )
    figures["linked_by"] = "victims" if coordinated else "recruitment"
    return (coordinated or recruited) and corrected >= min_total_bits


def payment_flags(e: pl.DataFrame) -> pl.DataFrame:
    return e.select(
        "account_id",
        "shop_id",
        comp=((pl.col("n_comp") > 0) | (pl.col("n_comp_words") > 0)),
        refund=pl.col("n_refund") > 0,
        reversed=pl.col("n_reversed") > 0,
        reversed_unpaid=(pl.col("n_reversed") > 0) & (pl.col("n_refund") + pl.col("n_comp") == 0),
    )


def group_test(
    e: pl.DataFrame,
    members: list[str],
    base: Baselines,
    H: float,
    window_seconds: float,
    leave_out: int,
    cohort_days: float,
    text_threshold: float,
    base_dup: float,
) -> tuple[dict, dict, list[str]]:
    """(bits, figures, shops named) of the group test (step 4 of the module docstring)."""
    sub = e.filter(pl.col("account_id").is_in(members))
    D = float(sub.height)
    # sorted: shops tied in surprise are left out by id, not by the group_by's order
    per = (
        sub.group_by("shop_id")
        .agg(pl.len().alias("k"), pl.col("t").min().alias("t0"), pl.col("t").max().alias("t1"))
        .sort("shop_id")
    )
    vic = per.filter(pl.col("k") >= 2)
    # each shop's background: its hostile edges, the group's own taken out
    bg = base.h_all.copy()
    idx = np.array([base.shop_index[s] for s in per["shop_id"]], dtype=np.int64)
    bg[idx] -= per["k"].to_numpy()
    lam_all = D * (bg + 1.0) / H
    k = vic["k"].to_numpy().astype(float)
    lam_v = lam_all[np.array([base.shop_index[s] for s in vic["shop_id"]], dtype=np.int64)]
    per_shop = stats.surprise_poisson(k, lam_v)
    kept = np.argsort(-per_shop, kind="stable")[leave_out:]
    co, expected = _covictim_bits(lam_all, lam_v, kept)
    timing = _timing_bits(vic, k, kept, window_seconds)
    pay, pay_bits = _payment_bits(sub, base.rates)
    n_inv, n_coh, inv_bits, coh_bits = _linkage_bits(members, base, cohort_days)
    m = len(members)
    n_pairs = m * (m - 1) / 2
    dup, compared, _ = _dup_texts(sub.filter(pl.col("shop_id").is_in(vic["shop_id"].implode())), text_threshold)
    dup_bits = float(stats.surprise_poisson(dup, compared * base_dup))
    bits = {
        "co_victims": co,
        "timing": timing,
        "payment": pay_bits,
        "invitations": inv_bits,
        "cohorts": coh_bits,
        "dup_texts": dup_bits,
    }
    figures = {
        "shared_victims": int(vic.height),
        "expected_shared": round(expected, 3),
        "hostile_shops": int(per.height),
        "hostile_edges": int(D),
        "invitation_pairs": n_inv,
        "invitation_expected": round(n_pairs * base.p_inv, 3),
        "cohort_pairs": n_coh,
        "cohort_expected": round(n_pairs * base.p_cohort, 3),
        "dup_text_pairs": dup,
        **{f"n_{k}": v for k, v in pay.items()},
    }
    return bits, figures, _named_shops(per, vic, bg, base.shop_index)


def _covictim_bits(lam_all: np.ndarray, lam_v: np.ndarray, kept: np.ndarray) -> tuple[float, float]:
    """(bits, expected) of the co-victims, stratified by how rarely a shop meets the group by
    chance: the count of shared victims (``kept`` of them) among the shops where a meeting is
    rarer than each tier, vs its expectation there; the best tier pays for the tiers tried."""
    p2_all = _p2(lam_all)
    p2_v = _p2(lam_v)
    co, expected = 0.0, float(p2_all.sum())
    for tier in _TIERS:
        obs = int((p2_v[kept] <= tier).sum())
        exp_t = float(p2_all[p2_all <= tier].sum())
        s_t = float(stats.surprise_poisson(obs, exp_t))
        if s_t > co:
            co, expected = s_t, exp_t
    return float(stats.corrected(co, len(_TIERS))), expected


def _timing_bits(vic: pl.DataFrame, k: np.ndarray, kept: np.ndarray, window_seconds: float) -> float:
    """Timing at each shared victim (``kept`` of them) vs uniform over the window, capped
    per shop."""
    span = (vic["t1"] - vic["t0"]).to_numpy()
    r = np.clip(np.maximum(span, _DAY) / window_seconds, 0, 1)
    p_t = np.clip(k * r ** (k - 1) - (k - 1) * r**k, 1e-12, 1.0)
    t_bits = np.minimum(-np.log10(p_t), 2.0)
    return float(t_bits[kept].sum())


def _payment_bits(sub: pl.DataFrame, rates: dict) -> tuple[dict, float]:
    """(count of each payment flag, bits): payment behaviour vs its rate over all hostile
    edges."""
    flags = payment_flags(sub)
    pay = {name: int(flags[name].sum()) for name in ("comp", "refund", "reversed", "reversed_unpaid")}
    bits = sum(float(stats.surprise_binom(pay[n], sub.height, rates[n])) for n in pay)
    return pay, bits


def _linkage_bits(members: list[str], base: Baselines, cohort_days: float) -> tuple[int, int, float, float]:
    """(invitation pairs, cohort pairs, their bits): invitations and registration cohorts
    among the members vs their rate among hostile accounts."""
    m = len(members)
    n_pairs = m * (m - 1) / 2
    mset = sorted(members)
    n_inv = sum(1 for i, a in enumerate(mset) for b in mset[i + 1 :] if (a, b) in base.inv_set)
    regs = np.sort(np.array([base.reg_of.get(a, np.nan) for a in members], dtype=float))
    regs = regs[np.isfinite(regs)]
    n_coh = (
        int((np.searchsorted(regs, regs + cohort_days * _DAY, side="right") - np.arange(len(regs)) - 1).sum())
        if len(regs)
        else 0
    )
    inv_bits = float(stats.surprise_poisson(n_inv, n_pairs * base.p_inv))
    coh_bits = float(stats.surprise_poisson(n_coh, n_pairs * base.p_cohort))
    return n_inv, n_coh, inv_bits, coh_bits


def _named_shops(per: pl.DataFrame, vic: pl.DataFrame, bg: np.ndarray, shop_index: dict) -> list[str]:
    """The victims named: shared ones, and a member's single hits at shops that are not busy
    with other hostility (a bad seller's crowd is not the crew's doing)."""
    lone = per.filter((pl.col("k") == 1)).with_columns(
        bg=pl.Series([bg[shop_index[s]] for s in per.filter(pl.col("k") == 1)["shop_id"]], dtype=pl.Float64)
    )
    return sorted(set(vic["shop_id"]) | set(lone.filter(pl.col("bg") <= BG_TIERS[-2])["shop_id"]))
