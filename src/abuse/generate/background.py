"""The honest platform: shops with heavy-tailed popularity, ordinary buyers with a daily rhythm,
their reviews (mostly 4-5 stars), refunds (a few percent, some rejected) and app activity."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import (
    HUMAN_ACTIONS,
    STATUS,
    change_reviews,
    place_orders,
    post_reviews,
    refunds,
    sessions,
)
from abuse.generate.columns import APPROVED, PENDING, REJECTED
from abuse.generate.identity import channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, MIN, World


def build_shops(w: World) -> None:
    rng = w.rng
    n = max(60, int(round(350 * w.scale)))
    n_items = rng.integers(3, 30, n)
    start = np.concatenate([[0], np.cumsum(n_items)[:-1]])
    item_shop = np.repeat(np.arange(n), n_items)
    shop_level = rng.normal(np.log(60), 0.7, n)  # shops sell in their own price band
    price = np.exp(rng.normal(shop_level[item_shop], 0.6))
    w.shops = {
        "weight": np.exp(rng.normal(0, 1.6, n)),
        "bad": rng.beta(1.5, 25, n),  # share of unhappy buyers
        "refund_rate": rng.uniform(0.015, 0.05, n),
        "item_start": start,
        "n_items": n_items,
    }
    w.items = {
        "shop": item_shop,
        "price": np.clip(np.round(price * 100), 290, 500_000).astype(np.int64),
        "code": w.ids.take("item", len(item_shop)) * 7 + 1000,
    }  # sparse, zero-padded ids
    w.params["shops"] = int(n)


def shop_items(w: World, shop: np.ndarray) -> np.ndarray:
    """A random item index of each shop."""
    return w.shops["item_start"][shop] + (w.rng.random(len(shop)) * w.shops["n_items"][shop]).astype(np.int64)


def cheap_items(w: World, shop: np.ndarray) -> np.ndarray:
    """The cheapest of three random items of each shop."""
    cands = np.stack([shop_items(w, shop) for _ in range(3)])
    return cands[np.argmin(w.items["price"][cands], axis=0), np.arange(len(shop))]


def cheap_orders(w: World, acc: np.ndarray, shop: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Completed orders at ``t`` of each shop's cheapest of three random items: (order ids, gross)."""
    item = cheap_items(w, shop)
    gross = w.items["price"][item]
    order = place_orders(w, acc, shop, w.items["code"][item], t, gross, status=np.full(len(acc), STATUS["completed"]))
    return order, gross


def register_people(w: World, n: int, reg=None, **overrides) -> np.ndarray:
    """Ordinary people: own device, home IP, ordinary number segment, some invited by others."""
    rng, c = w.rng, w.clock
    if reg is None:
        old = rng.random(n) < 0.85
        reg = np.where(old, c.past_times(rng, n, 300, 1000), c.human_times(rng, n))
    existing = len(w.acc["id"])
    invited = np.full(n, -1)
    if existing:
        pick = rng.random(n) < 0.06
        invited[pick] = rng.integers(0, existing, int(pick.sum()))
        invited = np.where(w.acc["reg"][np.maximum(invited, 0)] < reg, invited, -1)
    args = dict(
        reg=reg,
        device=w.new_devices(n),
        ip=home_ips(rng, n),
        phone=phones(rng, n),
        channel=channels(rng, n),
        invited_by=invited,
        weight=np.where(rng.random(n) < 0.15, 0.0, np.exp(rng.normal(0, 1.0, n))),
    )
    args.update(overrides)
    return w.new_accounts(**args)


def honest_orders(
    w: World,
    acc: np.ndarray,
    shop: np.ndarray,
    t: np.ndarray,
    unhappy=None,
    item=None,
    review_p: float = 0.32,
    text_pool=None,
) -> np.ndarray:
    """Orders with the reviews and refunds ordinary buyers leave afterwards."""
    rng, n = w.rng, len(acc)
    item = shop_items(w, shop) if item is None else item
    gross = w.items["price"][item] * np.where(rng.random(n) < 0.15, rng.integers(2, 4, n), 1)
    order = place_orders(w, acc, shop, w.items["code"][item], t, gross)
    status = w.sink.parts["orders"][-1]["status"]
    amount = w.sink.parts["orders"][-1]["amount"]
    live = status != STATUS["cancelled"]
    if unhappy is None:
        unhappy = rng.random(n) < w.shops["bad"][shop]
    _buyer_reviews(w, order, acc, shop, t, live, unhappy, review_p, text_pool)
    _buyer_refunds(w, order, acc, shop, t, live, unhappy, amount)
    _goodwill_compensation(w, order, acc, shop, t, live)
    return order


def _buyer_reviews(w: World, order, acc, shop, t, live, unhappy, review_p: float, text_pool) -> None:
    """Reviews of live orders, some days later; unhappy buyers review more often and lower."""
    rng, n = w.rng, len(acc)
    rv = live & (rng.random(n) < np.where(unhappy, review_p * 1.8, review_p))
    rating = np.where(
        unhappy, rng.choice([1, 2, 3], n, p=[0.55, 0.3, 0.15]), rng.choice([3, 4, 5], n, p=[0.06, 0.24, 0.70])
    )
    t_rv = t + (np.exp(rng.normal(np.log(2.5 * DAY), 0.8, n))).astype(np.int64)
    rv &= t_rv < w.clock.end
    if rv.any():
        pool = text_pool or texts.background_review
        txt = w.texts.codes(pool(rng, rating[rv]))
        rid = post_reviews(w, order[rv], acc[rv], shop[rv], t_rv[rv], rating[rv], txt)
        _second_thoughts(w, rid, order[rv], acc[rv], shop[rv], t_rv[rv], rating[rv])


def _buyer_refunds(w: World, order, acc, shop, t, live, unhappy, amount) -> None:
    """Refund requests (whole or partial), more likely when unhappy; late ones still pending."""
    rng, n = w.rng, len(acc)
    rf = live & (rng.random(n) < np.where(unhappy, 0.45, w.shops["refund_rate"][shop]))
    t_rf = t + np.exp(rng.normal(np.log(2 * DAY), 0.9, n)).astype(np.int64)
    rf &= t_rf < w.clock.end
    if rf.any():
        k = int(rf.sum())
        late = t_rf[rf] > w.clock.end - 2 * DAY
        outcome = np.where(
            late & (rng.random(k) < 0.5),
            PENDING,
            rng.choice([APPROVED, REJECTED, PENDING], k, p=[0.84, 0.13, 0.03]),
        )
        partial = rng.random(k) < 0.15
        amt = np.where(partial, np.maximum(amount[rf] * rng.uniform(0.2, 0.8, k), 1).astype(np.int64), amount[rf])
        reason = w.texts.codes([texts.REFUND_REASONS[i] for i in rng.integers(0, len(texts.REFUND_REASONS), k)])
        refunds(
            w,
            order[rf],
            acc[rf],
            shop[rf],
            amt,
            t_rf[rf],
            np.exp(rng.normal(np.log(20 * HOUR), 1.0, k)).astype(np.int64),
            outcome,
            reason,
        )


def _goodwill_compensation(w: World, order, acc, shop, t, live) -> None:
    """Occasional goodwill compensation (late delivery, price difference)."""
    rng, n = w.rng, len(acc)
    cp = live & (rng.random(n) < 0.006)
    t_cp = t + rng.integers(DAY, 6 * DAY, n)
    cp &= t_cp < w.clock.end
    if cp.any():
        k = int(cp.sum())
        reason = w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, k)])
        refunds(
            w,
            order[cp],
            acc[cp],
            shop[cp],
            rng.integers(300, 3000, k),
            t_cp[cp],
            rng.integers(HOUR, 2 * DAY, k),
            rng.choice([APPROVED, REJECTED], k, p=[0.8, 0.2]),
            reason,
            kind="compensation",
        )


def _second_thoughts(w: World, review, order, acc, shop, t, rating) -> None:
    """A few reviewers come back: a follow-up with a better rating, or (mostly unhappy
    ones, once their problem was sorted out) a withdrawn review."""
    rng, n = w.rng, len(review)
    low = rating <= 2
    change = rng.random(n) < np.where(low, 0.12, 0.02)
    t_ch = t + rng.integers(HOUR, 6 * DAY, n)
    change &= t_ch < w.clock.end
    withdraw = change & (rng.random(n) < np.where(low, 0.35, 0.1))
    amend = change & ~withdraw
    if withdraw.any():
        s = withdraw
        change_reviews(w, review[s], order[s], acc[s], shop[s], t_ch[s], -1, -1, "withdrawn")
    if amend.any():
        s, k = amend, int(amend.sum())
        follow = w.texts.codes([texts.FOLLOW_UPS[i] for i in rng.integers(0, len(texts.FOLLOW_UPS), k)])
        better = np.minimum(rating[s] + rng.integers(1, 4, k), 5)
        change_reviews(w, review[s], order[s], acc[s], shop[s], t_ch[s], better, follow, "amended")


def pick_weighted(rng: np.random.Generator, weight: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weight)
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(weight) - 1)


def background(w: World, people: np.ndarray) -> None:
    """Orders, reviews, refunds and activity of the ordinary population `people`."""
    rng = w.rng
    n_orders = int(round(52_000 * w.scale))
    acc = people[pick_weighted(rng, w.acc["weight"][people], n_orders)]
    shop = pick_weighted(rng, w.shops["weight"], n_orders)
    t = w.clock.human_times(rng, n_orders, lo=w.acc["reg"][acc] + 10 * MIN)
    honest_orders(w, acc, shop, t)
    # app activity for a share of them
    active = people[rng.random(len(people)) < 0.35]
    n_sess = np.maximum(np.exp(rng.normal(np.log(4), 0.9, len(active))).astype(np.int64), 1)
    who = np.repeat(active, n_sess)
    starts = w.clock.human_times(rng, len(who), lo=w.acc["reg"][who] + 10 * MIN)
    n_ev = rng.integers(2, 10, len(who))
    sessions(w, who, starts, n_ev, None, action_p=HUMAN_ACTIONS)
