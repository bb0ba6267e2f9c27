"""A quiet extortion crew and its hard look-alikes (``abuse generate --adversarial``, own
stream ``[seed, 1106]``, planted last: its victims come from the whole long tail of small
shops, ``rings_scattered``'s included, those of other crews excepted).

The crew shares nothing: own devices and home IPs, no inviter, registrations spread over
years (no cohort), one or two victims per member drawn from a pool of hundreds of small
shops, each victim hit by one member only (no co-victims), all within one campaign of a few
weeks. Each member keeps one habit, the mix drawn per crew:

- ``plain``: an ordinary refund, a low review only now and then, nothing withdrawn: the
  money comes through the channel every unhappy buyer uses (no signal of its own);
- ``script``: a low review, a compensation claim (the ``kind`` field), and once paid the
  review withdrawn or raised;
- ``script_words``: the same with the compensation asked for in the refund's reason.

The look-alikes test the other side:

- ``generous_seller``: a shop with a genuine quality problem that pays its unhappy buyers a
  compensation, or an ordinary refund, and asks them to revise the review; many do, all at
  one shop;
- ``class_complaint``: an office or school class on one campus network, registered in one
  week, mobilised around one target (a canteen supplier, a school-uniform shop): 1-star
  reviews within a day or two, refunds, some compensation asked for in words, a few reviews
  withdrawn once refunded."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import place_orders, post_reviews, refunds
from abuse.generate.background import cheap_orders, honest_orders, register_people, shop_items
from abuse.generate.columns import OUTCOMES, enum
from abuse.generate.identity import block_ips, channels, home_ips, phones
from abuse.generate.rings_adversarial import COMP_WORDS, PLAIN_REASONS, revise_reviews
from abuse.generate.world import DAY, HOUR, MIN, World

APPROVED, REJECTED = enum(OUTCOMES, "approved"), enum(OUTCOMES, "rejected")
HABITS = ("plain", "script", "script_words")
REVISED = ["问题已解决，好评", "商家处理很好", "resolved, thanks", "已协商解决", "客服态度好，改好评"]


def plant_quiet_ring(w: World, people: np.ndarray) -> None:
    """The quiet crew (see the module) and its look-alikes; parameters drawn per world from
    wide ranges, written to ``params["quiet_ring"]``."""
    rng = np.random.default_rng([w.seed, 1106])
    c = w.clock
    order = np.argsort(-w.shops["weight"], kind="stable")
    n_shops = len(order)
    popular = order[: max(5, n_shops // 20)]
    taken = np.concatenate([s for _, s in w.ring_shops]) if w.ring_shops else np.empty(0, int)
    tail = order[int(n_shops * 0.3) :]
    tail = tail[~np.isin(tail, taken)]
    size = max(10, int(round(rng.integers(15, 41) * w.scale**0.5)))
    p_two = float(rng.uniform(0.2, 0.7))
    hits = np.where(rng.random(size) < p_two, 2, 1)
    hits = hits[np.cumsum(hits) <= len(tail)]  # a small world: fewer members
    size = len(hits)
    pool = rng.choice(tail, min(len(tail), max(int(hits.sum()), int(rng.uniform(150, 900)))), replace=False)
    targets = rng.choice(pool, int(hits.sum()), replace=False)  # each victim hit by one member only
    mix = rng.dirichlet(np.ones(3) * 1.5) * 0.7 + np.array([0.0, 0.15, 0.15])  # some of each script
    mix = mix / mix.sum()
    habit = rng.choice(3, size, p=mix)
    reg = c.past_times(rng, size, 300, int(rng.uniform(400, 1500)), min_days=30)
    acc = w.new_accounts(
        reg=reg,
        device=w.new_devices(size),
        ip=home_ips(rng, size),
        phone=phones(rng, size),
        channel=channels(rng, size),
        invited_by=np.full(size, -1),
    )
    cluster = "qring_01"
    for h, name in enumerate(HABITS):
        if (habit == h).any():
            w.plant(acc[habit == h], "extortion_ring", cluster, name)
    # camouflage: ordinary purchases with good reviews at popular shops
    n_cam = rng.integers(2, 12, size)
    cam_acc = np.repeat(acc, n_cam)
    honest_orders(
        w,
        cam_acc,
        rng.choice(popular, len(cam_acc)),
        c.human_times(rng, len(cam_acc), lo=c.start),
        unhappy=np.zeros(len(cam_acc), bool),
        review_p=float(rng.uniform(0.4, 0.9)),
    )
    width = int(rng.uniform(7, 25) * DAY)
    c0 = c.window_start + int(rng.random() * max(c.end - 8 * DAY - width - c.window_start, DAY))
    a = np.repeat(acc, hits)
    t = c.human_times(rng, len(a), lo=c0, hi=c0 + width)
    p_review = float(rng.uniform(0.2, 0.8))
    p_pay = float(rng.uniform(0.7, 0.97))
    p_withdraw = float(rng.uniform(0.6, 1.0))
    _attack(w, rng, a, targets, t, np.repeat(habit, hits), p_review, p_pay, p_withdraw)
    w.ring_shops.append((cluster, targets))
    w.params.setdefault("evasions", {})[cluster] = "no_shared_traits;one_or_two_victims;plain_refunds;quiet"
    w.params["quiet_ring"] = {
        "size": size, "attacks": len(a), "pool": len(pool), "p_two_shops": round(p_two, 2),
        "habit_mix": [round(float(x), 2) for x in mix], "campaign_days": round(width / DAY, 1),
        "p_review_plain": round(p_review, 2), "p_pay": round(p_pay, 2), "p_withdraw": round(p_withdraw, 2),
    }  # fmt: skip
    seasoned = people[w.acc["reg"][people] < c.start]
    honest = order[~np.isin(order, np.concatenate([s for _, s in w.ring_shops]))]  # no crew's victims
    _generous_seller(w, rng, seasoned, honest)
    _class_complaint(w, rng, honest)


def _attack(w: World, rng: np.random.Generator, acc, shop, t, habit, p_review, p_pay, p_withdraw) -> None:
    """Order cheaply, then by habit: a plain refund (a low review now and then), or a low
    review, a compensation claim (``kind``, or words in the refund reason) and, once paid,
    the review withdrawn or raised."""
    end = w.clock.end
    order, gross = cheap_orders(w, acc, shop, t)
    n = len(acc)
    t_rv = t + rng.integers(12 * HOUR, 4 * DAY, n)
    keep = t_rv + 2 * DAY < end
    acc, shop, t, t_rv, order, gross, habit = (x[keep] for x in (acc, shop, t, t_rv, order, gross, habit))
    n = len(acc)
    plain = habit == 0
    reviewed = ~plain | (rng.random(n) < p_review)
    rating = rng.choice([1, 2], n)
    body = w.texts.codes([texts.NEGATIVE[int(i)] for i in rng.integers(0, len(texts.NEGATIVE), n)])
    review = np.full(n, -1, np.int64)
    if reviewed.any():
        review[reviewed] = post_reviews(
            w, order[reviewed], acc[reviewed], shop[reviewed], t_rv[reviewed], rating[reviewed], body[reviewed]
        )
    t_rf = np.where(reviewed, t_rv, t) + rng.integers(10 * MIN, DAY, n)
    resolve = np.exp(rng.normal(np.log(10 * HOUR), 0.8, n)).astype(np.int64)
    ok = t_rf + resolve < end
    paid = ok & (rng.random(n) < p_pay)
    words = habit == 2
    reason = w.texts.codes([
        PLAIN_REASONS[int(rng.integers(len(PLAIN_REASONS)))]
        + ("，" + COMP_WORDS[int(rng.integers(len(COMP_WORDS)))] if words[i] else "")
        for i in range(n)
    ])  # fmt: skip
    amount = np.where(words, np.round(gross * rng.uniform(1.0, 3.0, n)), gross).astype(np.int64)
    refunds(w, order[ok], acc[ok], shop[ok], amount[ok], t_rf[ok], resolve[ok],
            np.where(paid, APPROVED, REJECTED)[ok], reason[ok])  # fmt: skip
    comp = ok & (habit == 1)
    if comp.any():
        k = int(comp.sum())
        camount = np.round(np.maximum(gross * rng.uniform(0.5, 3.0, n), rng.integers(1000, 20000, n)))
        creason = w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, n)])
        refunds(w, order[comp], acc[comp], shop[comp], camount[comp].astype(np.int64),
                t_rf[comp] + rng.integers(MIN, 6 * HOUR, k), resolve[comp],
                np.where(rng.random(k) < 0.9, APPROVED, REJECTED), creason[comp], kind="compensation")  # fmt: skip
    t_ch = t_rf + resolve + rng.integers(HOUR, 2 * DAY, n)
    change = paid & ~plain & reviewed & (rng.random(n) < p_withdraw) & (t_ch < end)
    revise_reviews(w, rng, change, review, order, acc, shop, t_ch, texts=REVISED)


def _complaints(
    w: World, rng: np.random.Generator, acc, shop, t, *, p_words: float, p_comp: float, p_pay: float, p_revise: float
) -> None:
    """Honest complaints at one shop: an order, a 1-2 star review (some asking for
    compensation in words), a refund asked for, a compensation paid by the shop now and then
    (``p_comp``), and the review revised once paid (``p_revise``)."""
    n, end = len(acc), w.clock.end
    item = shop_items(w, shop)
    price = w.items["price"][item]
    order = place_orders(w, acc, shop, w.items["code"][item], t, price)
    t_rv = t + rng.integers(DAY, 4 * DAY, n)
    ok = t_rv + 3 * DAY < end
    acc, shop, order, price, t_rv = acc[ok], shop[ok], order[ok], price[ok], t_rv[ok]
    n = len(acc)
    words = rng.random(n) < p_words
    body = w.texts.codes([
        texts.BAD_SHOP[int(rng.integers(len(texts.BAD_SHOP)))]
        + ("，" + COMP_WORDS[int(rng.integers(len(COMP_WORDS)))] if words[i] else "")
        for i in range(n)
    ])  # fmt: skip
    review = post_reviews(w, order, acc, shop, t_rv, rng.choice([1, 2], n, p=[0.6, 0.4]), body)
    t_rf = t_rv + rng.integers(HOUR, DAY, n)
    resolve = rng.integers(2 * HOUR, 2 * DAY, n)
    paid = rng.random(n) < p_pay
    reason = w.texts.codes([texts.REFUND_REASONS[i] for i in rng.integers(0, len(texts.REFUND_REASONS), n)])
    refunds(w, order, acc, shop, price, t_rf, resolve, np.where(paid, APPROVED, REJECTED), reason)
    comp = rng.random(n) < p_comp
    if comp.any():
        k = int(comp.sum())
        creason = w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, k)])
        refunds(w, order[comp], acc[comp], shop[comp], rng.integers(500, 3000, k), t_rf[comp] + HOUR,
                resolve[comp], np.full(k, APPROVED), creason, kind="compensation")  # fmt: skip
        paid = paid | comp
    t_ch = t_rf + resolve + 2 * HOUR + rng.integers(HOUR, 2 * DAY, n)
    revise_reviews(
        w, rng, paid & (rng.random(n) < p_revise) & (t_ch < end), review, order, acc, shop, t_ch, texts=REVISED
    )


def _generous_seller(w: World, rng: np.random.Generator, seasoned: np.ndarray, order: np.ndarray) -> None:
    """One or two mid-sized shops (``order``: shops no crew targets, busiest first) with a bad
    batch that settle generously and ask for revised reviews."""
    c, n_shops = w.clock, len(order)
    for s, shop in enumerate(
        rng.choice(order[n_shops // 10 : n_shops // 3], int(rng.integers(1, 3)), replace=False).tolist()
    ):
        n = max(12, int(round(rng.uniform(20, 60) * w.scale)))
        buyers = rng.choice(seasoned, n, replace=False)
        day0 = c.window_start + int(rng.integers(0, 12)) * DAY
        t = c.human_times(rng, n, lo=day0, hi=day0 + int(rng.integers(4, 16)) * DAY)
        _complaints(
            w,
            rng,
            buyers,
            np.full(n, shop),
            t,
            p_words=float(rng.uniform(0.1, 0.5)),
            p_comp=float(rng.uniform(0.3, 0.8)),
            p_pay=float(rng.uniform(0.6, 0.9)),
            p_revise=float(rng.uniform(0.3, 0.7)),
        )
        w.lookalike(buyers, "generous_seller", f"generous_shop_{s + 1:02d}")


def _class_complaint(w: World, rng: np.random.Generator, order: np.ndarray) -> None:
    """A class on one campus network, registered in one week, complaining at one target."""
    c, n_shops = w.clock, len(order)
    n = int(rng.integers(20, 46))
    week = c.start - int(rng.integers(60, 400)) * DAY
    reg = week + (rng.random(n) * 7 * DAY).astype(np.int64)
    block = rng.integers(1 << 23, 1 << 24, 1)
    acc = register_people(w, n, reg=reg, ip=block_ips(rng, n, block), invited_by=np.full(n, -1))
    target = int(rng.choice(order[n_shops // 5 : n_shops // 2]))
    day0 = c.window_start + int(rng.integers(3, 20)) * DAY
    t = c.human_times(rng, n, lo=day0, hi=day0 + int(rng.integers(1, 3)) * DAY)
    _complaints(
        w,
        rng,
        acc,
        np.full(n, target),
        t,
        p_words=float(rng.uniform(0.2, 0.6)),
        p_comp=float(rng.uniform(0.0, 0.3)),
        p_pay=float(rng.uniform(0.4, 0.8)),
        p_revise=float(rng.uniform(0.05, 0.3)),
    )
    w.lookalike(acc, "class_complaint", "class_01")
