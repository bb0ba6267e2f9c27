"""Own-staff brushing (adversarial mode): a small shop's own staff, a dozen accounts or so,
order from it every few days over the whole window and review it well, each to the staff
member's own real address, in varied everyday words, days after delivery; the shop's few
work phones and its office network show on part of the orders. No crew spans client shops.

Look-alikes that must stay unflagged: a small shop's regulars (many orders each, reviewing
more than most, but each on their own phone and network), a company's procurement accounts
buying from one supplier over the office network (rarely reviewing), a family shop whose
owners buy a little from it on the family phone.

Own stream ``[seed, 15, 3]``; called last (after every other scenario), so nothing else
moves, and only in adversarial mode (the default output is unchanged). Truth: pattern
``brushing_ring``, cluster ``own_NN``, role ``staff``, evasion
``own_staff;real_addresses;varied_texts;days_between_orders``; look-alikes
``small_shop_regular``, ``procurement_buyer``, ``family_shop_owner``.
"""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import place_orders, post_honest_reviews
from abuse.generate.background import honest_orders, pick_weighted, shop_items
from abuse.generate.identity import channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, World

EVASION = "days_between_orders;own_staff;real_addresses;varied_texts"


def plant_own_brushing(w: World) -> None:
    saved, w.rng = w.rng, np.random.default_rng([w.seed, 15, 3])
    try:
        rng = w.rng
        order = np.argsort(-w.shops["weight"], kind="stable")
        n = len(order)
        small = order[int(n * 0.6) : int(n * 0.97)]  # the long tail: shops few people buy from
        # not a crew's client: each shop here tests one thing (a procurement buyer at a crew's
        # client is recruited by the crews' one-hit family: a known weakness, left to them)
        clients = {int(x) for _, shops in w.brushing_shops for x in np.asarray(shops).tolist()}
        small = small[~np.isin(small, list(clients))]
        picks = rng.choice(small, 8, replace=False)
        n_shops = max(1, int(round(rng.integers(2, 4) * w.scale**0.5)))
        w.params["own_brushing"] = []
        for k in range(n_shops):
            _own_shop(w, f"own_{k + 1:02d}", int(picks[k]))
        _regulars(w, int(picks[4]))
        _procurement(w, int(picks[5]))
        _family_shop(w, int(picks[6]))
    finally:
        w.rng = saved


def _people(w: World, n: int, device=None, ip=None) -> np.ndarray:
    rng, c = w.rng, w.clock
    acc = w.new_accounts(
        reg=c.past_times(rng, n, 300, 1000, min_days=30),
        device=w.new_devices(n) if device is None else device,
        ip=home_ips(rng, n) if ip is None else ip,
        phone=phones(rng, n, 0.03),
        channel=channels(rng, n),
        weight=0.0,
    )
    life = np.repeat(acc, rng.integers(0, 6, n))  # some shopping of their own
    if len(life):
        shop = pick_weighted(rng, w.shops["weight"], len(life))
        honest_orders(w, life, shop, c.human_times(rng, len(life), lo=w.acc["reg"][life] + DAY))
    return acc


def _every_few_days(w: World, acc: np.ndarray, lo_days: float, hi_days: float) -> tuple[np.ndarray, np.ndarray]:
    """(account, time) of orders every ``lo_days``..``hi_days`` over the window, daytime."""
    rng, c = w.rng, w.clock
    who, when = [], []
    for a in acc.tolist():
        t = c.window_start + float(rng.uniform(0, hi_days)) * DAY
        while t < c.end - DAY:
            day = c.window_start + ((int(t) - c.window_start) // DAY) * DAY
            who.append(a)
            when.append(day + int(rng.uniform(9, 23) * HOUR))
            t += float(rng.uniform(lo_days, hi_days)) * DAY
    return np.array(who, np.int64), np.array(when, np.int64)


def _reviews(w: World, orders, who, shop: int, t, p_review: float, lag_days: tuple[float, float], p_five: float):
    rng, c = w.rng, w.clock
    m = len(who)
    lag = (rng.uniform(*lag_days, m) * DAY).astype(np.int64)
    rv = (rng.random(m) < p_review) & (t + lag < c.end)
    rating = np.where(rng.random(m) < p_five, 5, 4)
    post_honest_reviews(w, rng, orders, who, shop, t + lag, rating, rv)
    return int(rv.sum())


def _own_shop(w: World, cluster: str, shop: int) -> None:
    rng = w.rng
    size = int(rng.integers(5, 19))
    work_phones = w.new_devices(int(rng.integers(2, 5)))
    office = home_ips(rng, 1)[0]
    acc = _people(w, size)
    w.plant(acc, "brushing_ring", cluster, "staff")
    w.params.setdefault("evasions", {})[cluster] = EVASION
    w.brushing_shops.append((cluster, np.array([shop])))
    who, t = _every_few_days(w, acc, 2.0, float(rng.uniform(5, 9)))
    m = len(who)
    p_phone, p_office = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.2, 0.6))
    device = np.where(rng.random(m) < p_phone, rng.choice(work_phones, m), w.acc["device"][who])
    ip = np.where(rng.random(m) < p_office, office, w.acc["ip"][who])
    item = shop_items(w, np.full(m, shop))
    price = (w.items["price"][item] * rng.uniform(0.9, 1.2, m)).astype(np.int64)
    o = place_orders(w, who, np.full(m, shop), w.items["code"][item], t, price, device=device, ip=ip)
    n_rv = _reviews(w, o, who, shop, t, float(rng.uniform(0.7, 0.95)), (1.0, 5.0), 0.85)
    w.params["own_brushing"].append({
        "cluster": cluster, "shop": shop, "staff": size, "orders": m, "reviews": n_rv,
        "p_work_phone": round(p_phone, 3), "p_office_ip": round(p_office, 3),
    })  # fmt: skip


def _regulars(w: World, shop: int) -> None:
    """A small shop's regulars: each on their own phone and home network."""
    rng = w.rng
    acc = _people(w, int(rng.integers(8, 21)))
    who, t = _every_few_days(w, acc, 3.0, 10.0)
    item = shop_items(w, np.full(len(who), shop))
    o = place_orders(w, who, np.full(len(who), shop), w.items["code"][item], t, w.items["price"][item])
    _reviews(w, o, who, shop, t, float(rng.uniform(0.5, 0.8)), (0.5, 5.0), 0.85)
    w.lookalike(acc, "small_shop_regular", f"regulars_{shop}")


def _procurement(w: World, shop: int) -> None:
    """A company's buyers ordering supplies from one shop over the office network, to the office."""
    rng = w.rng
    n = int(rng.integers(6, 16))
    office = home_ips(rng, 1)[0]
    pcs = w.new_devices(int(rng.integers(1, 4)))
    acc = _people(w, n, device=rng.choice(pcs, n), ip=np.full(n, office))
    addr = w.ids.take("addr", 1)[0]
    who, t = _every_few_days(w, acc, 3.0, 9.0)
    m = len(who)
    item = shop_items(w, np.full(m, shop))
    o = place_orders(
        w, who, np.full(m, shop), w.items["code"][item], t, w.items["price"][item] * rng.integers(2, 8, m),
        device=w.acc["device"][who], ip=np.full(m, office), addr=np.full(m, addr),
    )  # fmt: skip
    _reviews(w, o, who, shop, t, 0.08, (1.0, 6.0), 0.7)
    w.lookalike(acc, "procurement_buyer", f"company_{shop}")


def _family_shop(w: World, shop: int) -> None:
    """A family shop's owners buying a little from their own shop on the family phone."""
    rng = w.rng
    n = int(rng.integers(2, 4))
    phone = w.new_devices(1)
    acc = _people(w, n, device=np.repeat(phone, n), ip=np.repeat(home_ips(rng, 1), n))
    who = np.repeat(acc, rng.integers(1, 4, n))
    t = w.clock.human_times(rng, len(who), lo=w.clock.window_start)
    item = shop_items(w, np.full(len(who), shop))
    o = place_orders(w, who, np.full(len(who), shop), w.items["code"][item], t, w.items["price"][item])
    _reviews(w, o, who, shop, t, 0.6, (0.5, 4.0), 0.9)
    w.lookalike(acc, "family_shop_owner", f"family_shop_{shop}")
