"""Serial refund and compensation abuse: accounts, alone or in small crews sharing shipping
addresses and devices, that claim a refund or "compensation" on most of what they buy, at
shop after shop, with reasons from a small set of stories and reused texts (the group that
"ate for free" over 1,700 times). No bad-review leverage: they rarely review at all.

Look-alikes that must stay unflagged: honest buyers with bad luck (several legitimate
refunds, all from one bad seller that refunds many of its buyers) and the buyers of a shop
with a product recall (many refunds at one shop from unrelated buyers, in a few days).

Draws from its own stream (``[seed, 16]``); ``w.adversarial`` makes refunders quieter: fewer
orders, lower claim rates, more ordinary purchases without a claim, more varied reasons, repeat
buying at a few home shops and complaint cover (one low review per shop, then more claims
there without a review; own streams ``[seed, 16, 1|2, i]``).
"""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import STATUS, place_orders, post_honest_reviews, refunds
from abuse.generate.background import cheap_orders, honest_orders, pick_weighted
from abuse.generate.columns import OUTCOMES, enum
from abuse.generate.identity import channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, World

APPROVED, REJECTED = enum(OUTCOMES, "approved"), enum(OUTCOMES, "rejected")


def plant_refunders(w: World, people: np.ndarray) -> None:
    saved, w.rng = w.rng, np.random.default_rng([w.seed, 16])
    try:
        rng = w.rng
        w.params["serial_refunders"] = []
        n_single = w.scaled(6, 20, power=0.7)
        n_crews = w.scaled(2, 6, power=0.7)
        for i in range(n_single):
            _refunders(w, "", 1)
        for i in range(n_crews):
            _refunders(w, f"refund_{i + 1:02d}", int(rng.integers(2, 7)))
        seasoned = _unplanted(w, people[w.acc["reg"][people] < w.clock.start])
        _unlucky_buyers(w, seasoned)
        _recall(w, seasoned)
    finally:
        w.rng = saved


def _refunders(w: World, cluster: str, size: int) -> None:
    rng, c, adv = w.rng, w.clock, w.adversarial
    acc = _refunder_accounts(w, size)
    w.plant(acc, "serial_refunder", cluster, "member")
    claim_rate = float(rng.uniform(0.5, 0.75) if adv else rng.uniform(0.6, 0.95))
    pay_rate = float(rng.uniform(0.7, 0.95))
    p_comp = float(rng.uniform(0.2, 0.7))
    stories = rng.choice(len(texts.REFUNDER_REASONS), int(rng.integers(2, 4)), replace=False)
    p_story = 0.6 if adv else 0.9
    n = rng.integers(10, 28, size) if adv else rng.integers(14, 46, size)
    who = np.repeat(acc, n)
    m = len(who)
    shop = pick_weighted(rng, np.sqrt(w.shops["weight"]), m)  # many shops, favouring none
    if adv:  # complaint cover: repeat buying at a few home shops (own stream, see _cover)
        ar = np.random.default_rng([w.seed, 16, 1, len(w.params["serial_refunders"])])
        homes = pick_weighted(ar, np.sqrt(w.shops["weight"]), int(ar.integers(2, 5)))
        shop = np.where(ar.random(m) < ar.uniform(0.3, 0.7), ar.choice(homes, m), shop)
    t = c.human_times(rng, m, lo=c.window_start, hi=c.end - 3 * DAY)
    order, gross = cheap_orders(w, who, shop, t)
    claim = rng.random(m) < claim_rate
    comp = claim & (rng.random(m) < p_comp)
    refund = claim & (~comp | (rng.random(m) < 0.3))  # compensation instead of, or on top of
    paid = rng.random(m) < pay_rate
    story = np.where(rng.random(m) < p_story, rng.choice(stories, m), rng.integers(0, len(texts.REFUNDER_REASONS), m))
    reason = w.texts.codes([texts.REFUNDER_REASONS[i] for i in story.tolist()])
    t_rf = t + np.exp(rng.normal(np.log(20 * HOUR), 0.7, m)).astype(np.int64)
    resolve = rng.integers(2 * HOUR, 2 * DAY, m)
    in_export = t_rf + HOUR < c.end  # claims after the export's end are not in it
    claim &= in_export
    comp &= in_export
    refund &= in_export
    status = np.where(paid, APPROVED, REJECTED)
    _file_claims(w, order, who, shop, gross, t_rf, resolve, status, reason, refund, comp)
    if adv:
        _cover(w, np.random.default_rng([w.seed, 16, 2, len(w.params["serial_refunders"])]), order, who, shop, t, claim)
    if adv:  # ordinary purchases without a claim dilute the rate
        k = rng.integers(3, 12, size)
        life = np.repeat(acc, k)
        honest_orders(
            w,
            life,
            pick_weighted(rng, w.shops["weight"], len(life)),
            c.human_times(rng, len(life), lo=c.window_start),
            review_p=0.1,
            unhappy=np.zeros(len(life), bool),
        )
    w.params["serial_refunders"].append({
        "cluster": cluster, "size": size, "orders": int(m), "claim_rate": round(claim_rate, 3),
        "pay_rate": round(pay_rate, 3), "p_compensation": round(p_comp, 3),
    })  # fmt: skip


def _refunder_accounts(w: World, size: int) -> np.ndarray:
    """`size` new accounts; a crew (size > 1) shares drop-off addresses and some phones."""
    rng, c = w.rng, w.clock
    reg = c.past_times(rng, size, 300, 1000)
    device = w.new_devices(size)
    addr = w.ids.take("addr", size)
    if size > 1:  # a crew: shared drop-off addresses and some shared phones
        pool = w.ids.take("addr", int(rng.integers(1, 3)))
        addr = np.where(rng.random(size) < 0.8, rng.choice(pool, size), addr)
        addr[:2] = pool[0]  # at least two members meet at an address
        if rng.random() < 0.6:
            dev = w.new_devices(max(1, size // 2))
            device = np.where(rng.random(size) < 0.6, rng.choice(dev, size), device)
    return w.new_accounts(
        reg=reg,
        device=device,
        ip=home_ips(rng, size),
        addr=addr,
        phone=phones(rng, size, 0.05),
        channel=channels(rng, size),
        weight=0.0,
    )


def _file_claims(w: World, order, who, shop, gross, t_rf, resolve, status, reason, refund, comp) -> None:
    """The refund claims (most for the full price) and the compensation claims an hour later,
    each paid or rejected by `status`."""
    rng, m = w.rng, len(order)
    if refund.any():
        s = refund
        amt = np.where(rng.random(m) < 0.7, gross, (gross * rng.uniform(0.3, 0.9, m)).astype(np.int64))
        refunds(w, order[s], who[s], shop[s], np.maximum(amt[s], 1), t_rf[s], resolve[s], status[s], reason[s])
    if comp.any():
        s = comp
        amt = rng.integers(500, 5000, m)
        refunds(
            w, order[s], who[s], shop[s], amt[s], t_rf[s] + HOUR, resolve[s], status[s], reason[s], kind="compensation"
        )


def _cover(w: World, ar: np.random.Generator, order, who, shop, t, claim) -> None:
    """Complaint cover (adversarial): at some shops the refunder posts one low review, on its
    first claimed order there, then keeps claiming on later orders with no review at all;
    elsewhere an occasional good review. A detector that calls every claim at a shop once
    rated low a complaint lets the refunder pass as a complainer."""
    first = np.zeros(len(order), bool)
    seen: set = set()
    for i in np.argsort(t, kind="stable").tolist():
        key = (int(who[i]), int(shop[i]))
        if claim[i] and key not in seen:
            seen.add(key)
            first[i] = True
    low = first & (ar.random(len(order)) < ar.uniform(0.3, 0.8))
    good = ~claim & (ar.random(len(order)) < 0.3)
    for sel, ratings in ((low, [1, 2]), (good, [4, 5])):
        k = int(sel.sum())
        if not k:
            continue
        rating = ar.choice(ratings, k)
        tr = t[sel] + ar.integers(6 * HOUR, 3 * DAY, k)
        ok = tr < w.clock.end
        post_honest_reviews(w, ar, order[sel], who[sel], shop[sel], tr, rating, ok)


def _unlucky_buyers(w: World, seasoned: np.ndarray) -> None:
    """A bad seller refunds many of its buyers; a few honest regulars of it get refunded
    again and again there (and nowhere else)."""
    rng, c = w.rng, w.clock
    order = np.argsort(-w.shops["weight"], kind="stable")
    mid = order[len(order) // 10 : len(order) // 2]
    for s, shop in enumerate(rng.choice(mid, int(rng.integers(1, 3)), replace=False).tolist()):
        n = w.scaled(30, 80)
        crowd = rng.choice(seasoned, n, replace=False)
        t = c.human_times(rng, n, lo=c.window_start, hi=c.end - 3 * DAY)
        unhappy = rng.random(n) < rng.uniform(0.35, 0.6)
        honest_orders(w, crowd, np.full(n, shop), t, unhappy=unhappy, review_p=0.4)
        k = w.scaled(3, 8, power=0.5)
        unlucky = rng.choice(np.setdiff1d(seasoned, crowd), k, replace=False)
        for a in unlucky.tolist():
            m = int(rng.integers(4, 9))
            tt = c.human_times(rng, m, lo=c.window_start, hi=c.end - 3 * DAY)
            honest_orders(w, np.full(m, a), np.full(m, shop), tt, unhappy=rng.random(m) < 0.9, review_p=0.3)
            elsewhere = int(rng.integers(3, 10))
            honest_orders(
                w,
                np.full(elsewhere, a),
                pick_weighted(rng, w.shops["weight"], elsewhere),
                c.human_times(rng, elsewhere, lo=c.window_start),
                unhappy=np.zeros(elsewhere, bool),
            )
        w.lookalike(unlucky, "unlucky_buyer", f"bad_seller_{s + 1:02d}")


def _recall(w: World, seasoned: np.ndarray) -> None:
    """A product recall: the shop refunds everyone who bought the recalled item, in days."""
    rng, c = w.rng, w.clock
    order = np.argsort(-w.shops["weight"], kind="stable")
    shop = int(rng.choice(order[: len(order) // 4]))
    item = int(w.shops["item_start"][shop] + rng.integers(w.shops["n_items"][shop]))
    n = w.scaled(40, 120)
    buyers = rng.choice(seasoned, n, replace=False)
    recall_at = c.window_start + int(rng.integers(12, 24)) * DAY
    t = c.human_times(rng, n, lo=c.window_start, hi=recall_at)
    o = place_orders(
        w,
        buyers,
        np.full(n, shop),
        np.full(n, w.items["code"][item]),
        t,
        np.full(n, w.items["price"][item]),
        status=np.full(n, STATUS["completed"]),
    )
    ask = rng.random(n) < 0.9
    k = int(ask.sum())
    t_rf = recall_at + rng.integers(0, 4 * DAY, k)
    refunds(
        w,
        o[ask],
        buyers[ask],
        np.full(k, shop),
        np.full(k, w.items["price"][item]),
        t_rf,
        rng.integers(HOUR, DAY, k),
        APPROVED,
        w.texts.codes([texts.RECALL_REASONS[i] for i in rng.integers(0, 4, k)]),
    )
    w.lookalike(buyers, "recall_buyer", "recall_01")


def _unplanted(w: World, people: np.ndarray) -> np.ndarray:
    """People no other scenario made abusers (a look-alike must be honest)."""
    if not w.truth_accounts:
        return people
    planted = np.concatenate([codes for codes, *_ in w.truth_accounts])
    return people[~np.isin(people, planted)]
