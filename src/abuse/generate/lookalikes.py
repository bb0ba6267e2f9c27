"""Honest behaviour that looks like abuse at first sight and must stay unflagged:
households and a campus NAT sharing devices/IPs, a referral burst, a TV-ad signup wave,
night owls, a genuinely bad shop many buyers complain about, and lone serial complainers.
(The flash-sale crowd is made in coupons.py.)"""

from __future__ import annotations

from datetime import date

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import (
    HUMAN_ACTIONS,
    change_reviews,
    place_orders,
    post_honest_reviews,
    post_reviews,
    refunds,
    sessions,
)
from abuse.generate.background import honest_orders, register_people, shop_items
from abuse.generate.columns import APPROVED, OUTCOMES, PENDING, REJECTED, enum
from abuse.generate.identity import home_ips
from abuse.generate.world import DAY, HOUR, MIN, SEC, World


def register_lookalikes(w: World) -> np.ndarray:
    """Accounts of the look-alike groups that are defined by how they registered; they then
    live like everyone else (returned so the caller adds them to the population)."""
    rng, c = w.rng, w.clock
    made = []
    # households: a shared phone/tablet, home IP and address
    n = w.scaled(10, 30)
    home = np.repeat(np.arange(n), rng.integers(2, 6, n))
    acc = register_people(w, len(home), device=w.new_devices(n)[home], ip=home_ips(rng, n)[home],
                          addr=w.ids.take("addr", n)[home])  # fmt: skip
    for h in range(n):
        w.lookalike(acc[home == h], "household", f"household_{h + 1:03d}")
    made.append(acc)
    # campus NAT: hundreds of students behind one IP or one /24, many joined at term start
    n = w.scaled(200, 500)
    net = (202 << 24) | (int(rng.integers(96, 128)) << 16) | (int(rng.integers(0, 256)) << 8)
    single = rng.random() < 0.5
    ip = np.full(n, net | 1) if single else net | rng.integers(2, 254, n)
    term = c.local_ms(date(c.as_of.year, 2, 23))
    reg = np.where(
        rng.random(n) < 0.7,
        term + rng.integers(0, 21, n) * DAY + rng.integers(8, 23, n) * HOUR,
        c.past_times(rng, n, 200, 700),
    ) // HOUR * HOUR + rng.integers(0, HOUR, n)
    acc = register_people(w, n, reg=reg, ip=ip)
    w.lookalike(acc, "campus_nat", "campus_01")
    made.append(acc)
    w.params["campus_nat"] = {"students": n, "single_ip": bool(single)}
    # referral campaign: one popular inviter, hundreds of invitees over a few days
    inviter = register_people(w, 1, reg=c.past_times(rng, 1, 200, 600, 100), weight=np.array([5.0]))
    n = w.scaled(200, 500)
    day0 = c.window_start + int(rng.integers(1, 20)) * DAY
    reg = c.human_times(rng, n, lo=day0, hi=day0 + int(rng.integers(2, 6)) * DAY)
    acc = register_people(w, n, reg=reg, invited_by=np.full(n, inviter[0]))
    w.lookalike(np.concatenate([inviter, acc]), "referral_burst", "referral_01")
    made += [inviter, acc]
    # a TV ad at 20:00: a wave of signups over about half an hour
    n = w.scaled(200, 600)
    ad = c.window_start + int(rng.integers(1, 28)) * DAY + 20 * HOUR
    reg = ad + (np.exp(rng.normal(np.log(8 * MIN), 0.7, n)) + rng.uniform(20, 90, n) * SEC).astype(np.int64)
    acc = register_people(w, n, reg=reg)
    w.lookalike(acc, "tv_ad_signup", "tv_ad_01")
    made.append(acc)
    w.params["tv_ad"] = {"signups": n, "at": c.iso(ad)}
    return np.concatenate(made)


def night_owls(w: World, people: np.ndarray) -> None:
    """People who use the app late at night, on a steady but human schedule."""
    rng, c = w.rng, w.clock
    owls = rng.choice(people[w.acc["reg"][people] < c.start], w.scaled(20, 50), replace=False)
    for a in owls.tolist():
        habit = rng.uniform(0.5, 3.5) * HOUR
        days = np.arange(c.start, c.end - DAY, DAY)
        days = days[rng.random(len(days)) < rng.uniform(0.3, 0.8)]
        starts = days + int(habit) + rng.normal(0, 40 * MIN, len(days)).astype(np.int64)
        n_ev = rng.integers(3, 15, len(days))
        gaps = np.exp(rng.normal(np.log(40 * SEC), 0.9, int(n_ev.sum()))).astype(np.int64)
        sessions(w, np.full(len(days), a), starts, n_ev, gaps, action_p=HUMAN_ACTIONS)
    w.lookalike(owls, "night_owl", "night_owls")


def bad_shops(w: World, people: np.ndarray) -> None:
    """A genuinely bad shop: many unrelated buyers complain and ask for refunds at once."""
    rng, c = w.rng, w.clock
    order = np.argsort(-w.shops["weight"], kind="stable")
    mid = order[len(order) // 10 : len(order) // 2]
    seasoned = people[w.acc["reg"][people] < c.start]
    for s, shop in enumerate(rng.choice(mid, int(rng.integers(1, 3)), replace=False).tolist()):
        n = w.scaled(20, 60)
        buyers = rng.choice(seasoned, n, replace=False)
        day0 = c.window_start + int(rng.integers(1, 14)) * DAY
        t = c.human_times(rng, n, lo=day0, hi=day0 + int(rng.integers(7, 15)) * DAY)
        unhappy = rng.random(n) < 0.85
        order_codes = honest_orders(
            w, buyers, np.full(n, shop), t, unhappy=unhappy, review_p=0.5, text_pool=_bad_shop_texts
        )
        # the shop pays some of them a little to calm things down
        comp = unhappy & (rng.random(n) < 0.2) & (t + 4 * DAY < c.end)
        if comp.any():
            k = int(comp.sum())
            reason = w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, k)])
            refunds(
                w,
                order_codes[comp],
                buyers[comp],
                np.full(k, shop),
                rng.integers(500, 3000, k),
                t[comp] + rng.integers(DAY, 3 * DAY, k),
                rng.integers(HOUR, DAY, k),
                enum(OUTCOMES, "approved"),
                reason,
                kind="compensation",
            )
        w.lookalike(buyers, "bad_shop_complainer", f"bad_shop_{s + 1:02d}")


def _bad_shop_texts(rng, rating):
    return [
        texts.BAD_SHOP[i] if r <= 2 else "一般"
        for i, r in zip(rng.integers(0, len(texts.BAD_SHOP), len(rating)).tolist(), rating.tolist(), strict=True)
    ]


def serial_complainers(w: World, people: np.ndarray) -> None:
    """Lone buyers who complain a lot, everywhere, on their own: each posts 3-10 one- or
    two-star reviews on different shops over the two months, asks for refunds on most of
    them (many paid), now and then demands compensation, and sometimes raises or withdraws a
    review once refunded. Their own accounts and devices, no co-members: what a naive
    ">= 3 one-star reviews" rule trips over."""
    rng, c = w.rng, w.clock
    who = rng.choice(people[w.acc["reg"][people] < c.start], w.scaled(20, 40), replace=False)
    p_shop = w.shops["weight"] / w.shops["weight"].sum()
    for a in who.tolist():
        n = int(rng.integers(3, 11))
        shop = rng.choice(len(p_shop), n, replace=False, p=p_shop)
        t = c.human_times(rng, n, lo=c.start, hi=c.end - 4 * DAY)
        item = shop_items(w, shop)
        order = place_orders(w, np.full(n, a), shop, w.items["code"][item], t, w.items["price"][item])
        acc = np.full(n, a)
        rating = np.where(rng.random(n) < 0.8, 1, 2)
        t_rv = t + rng.integers(DAY, 3 * DAY, n)
        review = post_honest_reviews(w, rng, order, acc, shop, t_rv, rating)
        ask = rng.random(n) < 0.7
        t_rf = t_rv + rng.integers(HOUR, DAY, n)
        outcome = rng.choice([APPROVED, REJECTED, PENDING], n, p=[0.55, 0.4, 0.05])
        resolve = rng.integers(2 * HOUR, 2 * DAY, n)
        reason = w.texts.codes([texts.REFUND_REASONS[i] for i in rng.integers(0, len(texts.REFUND_REASONS), n)])
        refunds(
            w,
            order[ask],
            acc[ask],
            shop[ask],
            w.items["price"][item][ask],
            t_rf[ask],
            resolve[ask],
            outcome[ask],
            reason[ask],
        )
        comp = rng.random(n) < 0.1
        if comp.any():
            k = int(comp.sum())
            refunds(
                w,
                order[comp],
                acc[comp],
                shop[comp],
                rng.integers(500, 5000, k),
                t_rf[comp] + HOUR,
                rng.integers(2 * HOUR, 2 * DAY, k),
                rng.choice([APPROVED, REJECTED], k),
                w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, k)]),
                kind="compensation",
            )
        # once in a while, satisfied by the refund, they raise or withdraw the review
        happy = ask & (outcome == APPROVED) & (rng.random(n) < 0.15)
        if happy.any():
            k = int(happy.sum())
            t_ch = t_rf[happy] + resolve[happy] + rng.integers(HOUR, 2 * DAY, k)
            follow = w.texts.codes([texts.FOLLOW_UPS[i] for i in rng.integers(0, len(texts.FOLLOW_UPS), k)])
            change_reviews(
                w, review[happy], order[happy], acc[happy], shop[happy], t_ch, rng.integers(3, 6, k), follow, "amended"
            )
    w.lookalike(who, "serial_complainer", "serial")


# --------------------------------------------------------------------------- hard look-alikes
COMP_WORDS = ["要求赔偿", "补偿一下吧", "compensation please", "赔偿损失"]


def adversarial_lookalikes(w: World, people: np.ndarray) -> None:
    """Honest groups an adaptive ring detector must still spare (``--adversarial``; own
    stream): a shop with a genuine quality problem (a bad batch: many unrelated 1-2 star
    reviews, refunds, words asking for compensation, some reviews withdrawn once refunded),
    loud serial complainers (lone, many shops, compensation words, withdrawals after
    refunds), and a company's procurement accounts that ship to one address and complain
    together about a bad delivery from a regular supplier."""
    rng = np.random.default_rng([w.seed, 1102])
    c = w.clock
    seasoned = people[w.acc["reg"][people] < c.start]
    order = np.argsort(-w.shops["weight"], kind="stable")
    _quality_problem_shops(w, rng, seasoned, order)
    _loud_complainers(w, rng, seasoned)
    _procurement(w, rng, order)


def _quality_problem_shops(w: World, rng: np.random.Generator, seasoned: np.ndarray, order: np.ndarray) -> None:
    """A genuine quality problem at one or two mid-sized shops (`order`: shops, busiest first)."""
    c, n_shops = w.clock, len(order)
    for s, shop in enumerate(
        rng.choice(order[n_shops // 10 : n_shops // 2], int(rng.integers(1, 3)), replace=False).tolist()
    ):
        n = max(10, int(round(rng.uniform(25, 80) * w.scale)))
        buyers = rng.choice(seasoned, n, replace=False)
        day0 = c.window_start + int(rng.integers(0, 15)) * DAY
        t = c.human_times(rng, n, lo=day0, hi=day0 + int(rng.integers(3, 20)) * DAY)
        _complain(
            w,
            rng,
            buyers,
            np.full(n, shop),
            t,
            p_words=float(rng.uniform(0, 0.4)),
            p_withdraw=float(rng.uniform(0.05, 0.3)),
            text=texts.BAD_SHOP,
        )
        w.lookalike(buyers, "quality_problem_shop", f"quality_shop_{s + 1:02d}")


def _loud_complainers(w: World, rng: np.random.Generator, seasoned: np.ndarray) -> None:
    """Loud serial complainers: alone, but everywhere."""
    c, n_shops = w.clock, len(w.shops["weight"])
    who = rng.choice(seasoned, max(5, int(round(rng.uniform(15, 35) * w.scale))), replace=False)
    p_shop = w.shops["weight"] ** rng.uniform(0.3, 1.0)
    p_shop /= p_shop.sum()
    for a in who.tolist():
        n = int(rng.integers(4, 16))
        shop = rng.choice(n_shops, n, replace=False, p=p_shop)
        t = c.human_times(rng, n, lo=c.start, hi=c.end - 3 * DAY)
        _complain(
            w,
            rng,
            np.full(n, a),
            shop,
            t,
            p_words=float(rng.uniform(0.1, 0.6)),
            p_withdraw=float(rng.uniform(0.1, 0.4)),
            text=texts.NEGATIVE,
        )
    w.lookalike(who, "loud_complainer", "loud")


def _procurement(w: World, rng: np.random.Generator, order: np.ndarray) -> None:
    """Procurement: one company's accounts, one shipping address, regular suppliers."""
    c, n_shops = w.clock, len(order)
    for k in range(int(rng.integers(1, 4))):
        n = int(rng.integers(5, 16))
        addr = w.ids.take("addr", 1)
        acc = register_people(
            w, n, reg=c.past_times(rng, n, 200, 700, 30), addr=np.full(n, addr[0]), weight=np.zeros(n)
        )
        suppliers = rng.choice(order[n_shops // 20 : n_shops // 2], int(rng.integers(4, 13)), replace=False)
        m = int(n * rng.integers(8, 25))
        buyer = rng.choice(acc, m)
        honest_orders(
            w, buyer, rng.choice(suppliers, m), c.human_times(rng, m), unhappy=np.zeros(m, bool), review_p=0.3
        )
        for _ in range(int(rng.integers(2, 5))):  # a bad delivery: several complain together
            shop = int(rng.choice(suppliers))
            day0 = c.window_start + int(rng.integers(0, 26)) * DAY
            who_k = rng.choice(acc, int(rng.integers(2, min(n, 6) + 1)), replace=False)
            t = c.human_times(rng, len(who_k), lo=day0, hi=day0 + DAY)
            _complain(w, rng, who_k, np.full(len(who_k), shop), t, p_words=0.1, p_withdraw=0.1, text=texts.NEGATIVE)
        w.lookalike(acc, "procurement", f"company_{k + 1:02d}")


def _complain(
    w: World, rng: np.random.Generator, acc, shop, t, *, p_words: float, p_withdraw: float, text: list[str]
) -> None:
    """Honest complaints: an order, a 1-2 star review (some with words asking for
    compensation), a refund request most of the time, now and then a withdrawal once
    refunded."""
    n, end = len(acc), w.clock.end
    item = shop_items(w, shop)
    price = w.items["price"][item]
    order = place_orders(w, acc, shop, w.items["code"][item], t, price)
    t_rv = t + rng.integers(DAY, 4 * DAY, n)
    ok = t_rv < end
    acc, shop, order, price, t_rv = acc[ok], shop[ok], order[ok], price[ok], t_rv[ok]
    n = len(acc)
    body = [
        text[int(rng.integers(len(text)))]
        + ("，" + COMP_WORDS[int(rng.integers(len(COMP_WORDS)))] if rng.random() < p_words else "")
        for _ in range(n)
    ]
    review = post_reviews(w, order, acc, shop, t_rv, rng.choice([1, 2], n), w.texts.codes(body))
    ask = rng.random(n) < 0.7
    t_rf = t_rv + rng.integers(HOUR, DAY, n)
    resolve = rng.integers(2 * HOUR, 2 * DAY, n)
    outcome = rng.choice([APPROVED, REJECTED, PENDING], n, p=[0.6, 0.35, 0.05])
    reason = w.texts.codes([texts.REFUND_REASONS[i] for i in rng.integers(0, len(texts.REFUND_REASONS), n)])
    if ask.any():
        refunds(w, order[ask], acc[ask], shop[ask], price[ask], t_rf[ask], resolve[ask], outcome[ask], reason[ask])
    happy = ask & (outcome == APPROVED) & (rng.random(n) < p_withdraw)
    t_ch = t_rf + resolve + rng.integers(HOUR, 2 * DAY, n)
    happy &= t_ch < end
    if happy.any():
        change_reviews(w, review[happy], order[happy], acc[happy], shop[happy], t_ch[happy], -1, -1, "withdrawn")
