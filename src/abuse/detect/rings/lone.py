"""Lone extorters: crew members that hit one or two shops each, share no device, address,
inviter, victim or text with anyone, and are therefore invisible to every test that links
accounts (``graph``, ``covictims``, ``scattered``). What is left is the script itself.

An extortion script does two things on the same shop: it gets money beyond a refund (it
demands a compensation, in the ``kind`` field or in words, the shop pays it back more than
it ever spent there, or it asks, in a refund or a compensation, for more than the order
cost) and, once paid, it withdraws the low review or raises it. Honest
unhappy buyers do either now and then, but the two are not tied together by a plan: whether
a buyer gets a goodwill payment and whether a buyer takes the review back after being paid
are, for honest buyers, close to independent acts. For each money act ``A`` (``ACTS``):

- among the paid low-review edges ``N`` of the accounts no ring holds (a shop's regular
  customers left out), an edge's chance of carrying both ``A`` and the reversal is
  ``pi = r_A r_v``, each rate the larger of its shop's and its account's, both leave-one-out
  (the edge's own acts are not its own baseline) and shrunk toward the platform's with
  ``prior`` pseudo-edges (empirical Bayes): a shop whose unhappy buyers get money and take
  reviews back once paid, or a loud complainer who does both everywhere, explains its own
  conjunctions; an edge alone at a quiet shop, of an account with one or two, borrows the
  platform's rates, each act's measured among the edges without the other act (under
  independence the same, and the conjunctions counted never inflate their own baseline);
- ``E = sum pi`` edges are expected to carry both under independence, ``X`` do, and
  ``-log10 P(Poisson(E) >= X)``, less ``log10`` of the acts tried, is the crew's evidence;
- the crew's excess ``lambda = (X - E) / N`` per edge against an edge's ``pi`` are the
  posterior odds that its conjunction is the crew's: the members are the accounts with an
  edge at odds ``>= min_odds`` for an act whose evidence reaches ``min_bits``.

A crew runs a campaign: its conjunctions fall within a few weeks, honest buyers' over the whole
window. The count is therefore also taken over each interval of ``CAMPAIGN_DAYS`` (starting at
each day of the window) against the ``pi`` of the edges in it (a sales peak brings more edges
and so more expected conjunctions), every interval tried paid for (Bonferroni with the whole
window); in the interval chosen the crew's excess is ``lambda = (X - E) / N`` over that
interval's edges, and its members are found there.

The shops of a complaint wave (``complaint_waves``) leave the test: their conjunctions are
explained there, and counted they would raise the platform's rates every quiet shop borrows.

The crew's own edges stay in every rate, which only makes the test harder to pass. Where
honest buyers often get goodwill money and revise their reviews (the conjunction common),
the test finds nothing: the acts are then no script."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from abuse import stats

from .scattered import Scattered

# money beyond a refund: a compensation demanded (the kind field or words), or paid back more
# than the account ever spent at the shop
ACTS = {
    "compensation": (pl.col("n_comp") > 0) | (pl.col("n_comp_words") > 0),
    "paid_beyond_price": (pl.col("refund_paid") + pl.col("comp_paid")) > pl.col("spent_all") + 0.005,
}
# opt-in (``RingDetector.Params.lone_asked_beyond_price``): a request for more than its order cost
ASKED = {"asked_beyond_price": pl.col("n_ask_beyond_price") > 0}
# the lengths of a campaign tried besides the whole window (days; each from every day's start)
CAMPAIGN_DAYS = (7.0, 14.0, 21.0)
_DAY = 86400.0


def campaign(t: np.ndarray, x: np.ndarray, pi: np.ndarray) -> tuple[float, float, float, int]:
    """The interval of the edges' times ``t`` (seconds) whose count of conjunctions ``x`` is
    the most surprising against the sum of their chance rates ``pi``: the whole span or any
    ``CAMPAIGN_DAYS`` long one starting at a day's start. Returns (surprise less ``log10`` of
    the intervals tried, start, end, intervals tried). Linear after one sort: prefix sums."""
    order = np.argsort(t, kind="stable")
    ts, cx, cp = t[order], np.concatenate([[0.0], np.cumsum(x[order])]), np.concatenate([[0.0], np.cumsum(pi[order])])
    lo_t, hi_t = float(ts[0]), float(ts[-1]) + 1.0
    starts, ends = [np.array([lo_t])], [np.array([hi_t])]
    day0 = math.floor(lo_t / _DAY) * _DAY
    for d in CAMPAIGN_DAYS:
        if d * _DAY < hi_t - lo_t:
            s = np.arange(day0, hi_t - d * _DAY + _DAY, _DAY)
            starts.append(s)
            ends.append(s + d * _DAY)
    s_all, e_all = np.concatenate(starts), np.concatenate(ends)
    lo, hi = np.searchsorted(ts, s_all, "left"), np.searchsorted(ts, e_all, "left")
    bits = stats.surprise_poisson(cx[hi] - cx[lo], cp[hi] - cp[lo])
    i = int(np.argmax(bits))
    return float(bits[i]) - math.log10(len(s_all)), float(s_all[i]), float(e_all[i]), len(s_all)


def complaint_waves(edges: pl.DataFrame, alpha: float = 0.01) -> set[str]:
    """Shops whose hostile accounts in the window are far beyond their buyers at the
    platform's rate (binomial, the account's own left out: ``P(Binomial(b - 1, r) >= h - 1)``,
    Bonferroni over the shops at level ``alpha``): a quality problem or a crowd mobilised
    around one target. Such a wave explains a complaint there, with whatever money and
    revision came of it; a lone extorter's victim has no wave of its own."""
    if "shop_buyers" not in edges.columns:
        return set()
    shops = edges.filter(pl.col("n_low") > 0).group_by("shop_id").agg(h=pl.len(), b=pl.col("shop_buyers").max())
    shops = shops.with_columns(b=pl.max_horizontal("b", "h"))
    r = float(shops["h"].sum()) / max(float(shops["b"].sum()), 1.0)
    waves = stats.beyond_rate_leave_one_out(shops["h"].to_numpy(), shops["b"].to_numpy(), r, alpha)
    return set(shops.filter(pl.Series(waves))["shop_id"])


def lone_extorters(
    edges: pl.DataFrame,
    taken: set,
    *,
    customer_orders: int,
    prior: float,
    min_odds: float,
    min_members: int,
    min_bits: float,
    asked_beyond_price: bool = False,
    drop_waves: bool = False,
) -> Scattered | None:
    """The accounts outside ``taken`` whose one edge both got money beyond a refund and
    reversed the low review after payment, when there are far more such edges than the two
    acts' rates predict; ``None`` otherwise."""
    paid = (pl.col("n_refund_paid") + pl.col("n_comp_paid")) > 0
    e = edges.filter(
        (pl.col("n_orders_all") < customer_orders)
        & (pl.col("n_low") > 0)
        & paid
        & ~pl.col("account_id").is_in(list(taken))
    )
    n = e.height
    if n == 0:
        return None
    # ``drop_waves``: a complaint wave explains the complaints at its shop, with whatever money and
    # revision came of them: its edges are neither counted nor part of the rates (a generous seller's settled
    # and revised reviews would otherwise raise every quiet shop's expected conjunctions)
    waves = complaint_waves(edges)
    if drop_waves:
        e = e.filter(~pl.col("shop_id").is_in(sorted(waves)))
        n = e.height
        if n == 0:
            return None
    acts = {**ACTS, **ASKED} if asked_beyond_price and "n_ask_beyond_price" in e.columns else ACTS
    e = e.with_columns(v=(pl.col("n_reversed_after_pay") > 0).cast(pl.Float64))
    n_rev = int(e["v"].sum())

    def rate(by: str, hit: str, prior_rate: float) -> pl.Expr:
        """The share of ``hit`` among the edges of the edge's ``by`` (shop or account), its own
        edge left out, shrunk toward ``prior_rate``."""
        return (pl.col(hit).sum().over(by) - pl.col(hit) + prior * prior_rate) / (pl.len().over(by) - 1 + prior)

    per_act: dict[str, dict] = {}
    members: set[str] = set()
    shops: set[str] = set()
    best = 0.0
    for name, act in acts.items():
        a = e.with_columns(c=act.cast(pl.Float64)).with_columns(x=(pl.col("c") * pl.col("v")).cast(pl.Int64))
        n_act = int(a["c"].sum())
        # the platform's rates: each act among the edges without the other (under independence
        # the same as overall), so the crew's conjunctions never inflate their own baseline
        no_v, no_c = a.filter(pl.col("v") == 0), a.filter(pl.col("c") == 0)
        r_a = (float(no_v["c"].sum()) + 0.5) / (no_v.height + 1.0)
        r_v = (float(no_c["v"].sum()) + 0.5) / (no_c.height + 1.0)
        a = a.with_columns(
            pi=pl.max_horizontal(rate("shop_id", "c", r_a), rate("account_id", "c", r_a))
            * pl.max_horizontal(rate("shop_id", "v", r_v), rate("account_id", "v", r_v))
        )
        if "first_at" in a.columns:
            t = a["first_at"].dt.epoch("ms").to_numpy().astype(float) / 1000.0
            raw, t_lo, t_hi, n_intervals = campaign(t, a["x"].to_numpy().astype(float), a["pi"].to_numpy())
            a = a.filter(pl.Series((t >= t_lo) & (t < t_hi)))
        else:  # no times: the whole window
            raw, n_intervals = float(stats.surprise_poisson(int(a["x"].sum()), float(a["pi"].sum()))), 1
        x, expected = int(a["x"].sum()), float(a["pi"].sum())
        bits = raw - math.log10(len(acts))
        excess = max(x - expected, 0.0) / max(a.height, 1)
        sig = a.filter(
            (pl.col("x") == 1) & (excess >= min_odds * pl.col("pi")) & ~pl.col("shop_id").is_in(sorted(waves))
        )
        per_act[name] = {
            "edges": n_act,
            "campaign_edges": a.height,
            "intervals_tried": n_intervals,
            "script_edges": x,
            "script_expected": round(expected, 3),
            "bits": round(bits, 2),
            "members": sig["account_id"].n_unique(),
        }
        if bits >= min_bits:
            members |= set(sig["account_id"])
            shops |= set(sig["shop_id"])
            best = max(best, bits)
    if len(members) < min_members:
        return None
    top = max((k for k in per_act if per_act[k]["bits"] >= min_bits), key=lambda k: per_act[k]["bits"])
    return Scattered(
        members=sorted(members),
        shops=sorted(shops),
        bits=best,
        figures={
            "paid_low_edges": n,
            "reversed_edges": n_rev,
            "script_act": top,
            "script_edges": per_act[top]["script_edges"],
            "script_expected": per_act[top]["script_expected"],
            "script_bits": round(best, 2),
            "script_acts": per_act,
        },
    )
