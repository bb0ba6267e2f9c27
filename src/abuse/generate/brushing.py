"""Order brushing ("刷单"): crews of part-time or bought accounts paid by client shops to place
fake orders at the shops' own items and post five-star reviews minutes to hours later, in the
crew's templated praise, with parcels going to a few drop addresses (empty parcels) and the
money going back off the platform (usually no refund record). One crew serves many client
shops, each in a burst shortly before the shop's promotion (often the 6.18 sale). Members
also shop normally (part-timers have a life; bought accounts get a little camouflage).

Look-alikes that must stay unflagged: a popular new shop's genuine launch-week burst of
five-star reviews from unrelated buyers, loyal repeat customers of one shop, and households
ordering together to one address.

Draws from its own stream (``[seed, 15]``) so earlier scenarios' rows are unchanged;
``w.adversarial`` makes crews stealthier: slower reviews, fewer templated texts and drop
addresses, longer bursts, some four-star ratings, more ordinary purchases and single-task
members (one fake order and one review at one client; own stream ``[seed, 15, 1, i]``), and
in half the crews a batch of one-task hires for one client's burst, mostly on the crew's hero
items there (``_hired_client``, stream ``[seed, 15, 2, i]``; truth role ``hired``).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import STATUS, place_orders, post_honest_reviews, post_reviews, refunds
from abuse.generate.background import honest_orders, pick_weighted, register_people, shop_items
from abuse.generate.columns import OUTCOMES, enum
from abuse.generate.identity import channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, MIN, World

APPROVED = enum(OUTCOMES, "approved")


def plant_brushing(w: World, people: np.ndarray) -> None:
    """Brushing crews with their client shops, then the look-alikes (``w.rng`` is this
    scenario's own stream while it runs)."""
    saved, w.rng = w.rng, np.random.default_rng([w.seed, 15])
    try:
        rng = w.rng
        w.brushing_shops = []  # (cluster, client shop codes), written to truth/brushing_shops.csv
        order = np.argsort(-w.shops["weight"], kind="stable")
        n = len(order)
        candidates = order[int(n * 0.1) : int(n * 0.95)]
        n_crews = max(1, int(round(rng.integers(2, 5) * w.scale**0.5)))
        w.params["brushing_crews"] = []
        for r in range(n_crews):
            _crew(w, f"brush_{r + 1:02d}", candidates)
        seasoned = _unplanted(w, people[w.acc["reg"][people] < w.clock.start])
        _launch_shops(w, seasoned)
        _loyal_customers(w, seasoned, order)
        _households(w, order)
    finally:
        w.rng = saved


def _promo_day(w: World) -> int:
    """The local midnight of a client shop's promotion: often the 6.18 sale, else a day of
    the window's second half."""
    rng, c = w.rng, w.clock
    if rng.random() < 0.4:
        return c.local_ms(date(c.as_of.year, 6, int(rng.integers(16, 19))))
    return c.window_start + int(rng.integers(8, 29)) * DAY


def _crew(w: World, cluster: str, candidates: np.ndarray) -> None:
    rng, adv = w.rng, w.adversarial
    size = int(rng.integers(6, 61))
    n_clients = min(int(rng.integers(3, 26)), len(candidates))
    participation = float(rng.uniform(0.35, 0.9))
    bought_share = float(rng.uniform(0.0, 1.0))
    n_drop = int(rng.integers(3, 11) if adv else rng.integers(1, 5))
    p_drop = float(rng.uniform(0.2, 0.6) if adv else rng.uniform(0.5, 1.0))
    lag_med = float(
        np.exp(rng.uniform(np.log(6 * HOUR), np.log(2 * DAY)))
        if adv
        else np.exp(rng.uniform(np.log(10 * MIN), np.log(8 * HOUR)))
    )
    p_template = float(rng.uniform(0.2, 0.6) if adv else rng.uniform(0.6, 1.0))
    p_four = float(rng.uniform(0.1, 0.25) if adv else rng.uniform(0.0, 0.05))
    burst_days = (3, 13) if adv else (1, 6)
    p_refund = float(rng.uniform(0.03, 0.15)) if rng.random() < 0.3 else 0.0
    acc = _crew_members(w, cluster, size, bought_share)
    clients = rng.choice(candidates, n_clients, replace=False)
    w.brushing_shops.append((cluster, clients))
    serve, single = _serving(w, size, n_clients, participation)
    drops = w.ids.take("addr", n_drop)
    style = texts.brush_style(rng)
    fake = gmv = 0
    bursts = {}  # client -> (burst start, promotion, hero items)
    plan = {
        "burst_days": burst_days, "p_drop": p_drop, "drops": drops, "lag_med": lag_med,
        "p_four": p_four, "p_template": p_template, "style": style, "p_refund": p_refund,
    }  # fmt: skip
    for j, shop in enumerate(clients.tolist()):
        k = rng.choice([1, 2, 3], int(serve[:, j].sum()), p=[0.75, 0.18, 0.07])
        who = np.repeat(acc[serve[:, j]], np.where(single[serve[:, j]], 1, k))
        bursts[shop], gross = _client_orders(w, shop, who, plan)
        fake += len(who)
        gmv += gross
    extra = {}
    if adv:  # one client's own one-task hires pushing an item of their own (own stream)
        extra["hired"] = _hired_client(w, cluster, bursts, drops, style, lag_med, p_template, p_four, p_drop)
        tactics = ["slow_reviews", "single_task"] + (["hired_client"] if extra["hired"] else [])
        w.params.setdefault("evasions", {})[cluster] = ";".join(tactics)
    w.params["brushing_crews"].append({
        "cluster": cluster, "size": size, "clients": n_clients,
        "participation": round(participation, 3), "bought_share": round(bought_share, 3),
        "drop_addresses": n_drop, "p_drop": round(p_drop, 3),
        "review_lag_median_h": round(lag_med / HOUR, 2), "p_template": round(p_template, 3),
        "p_refund": round(p_refund, 3), "fake_orders": fake, "fake_gmv": gmv / 100, **extra,
    })  # fmt: skip


def _crew_members(w: World, cluster: str, size: int, bought_share: float) -> np.ndarray:
    """A crew's members, planted under ``cluster``: bought accounts (old, barely used, some on
    shared group-control phones) and part-timers (ordinary people with ordinary shopping of
    their own)."""
    rng, c, adv = w.rng, w.clock, w.adversarial
    bought = rng.random(size) < bought_share
    reg = np.where(bought, c.past_times(rng, size, 300, 1100, min_days=60), c.past_times(rng, size, 300, 1000))
    device = w.new_devices(size)
    if bought.any() and rng.random() < 0.5:
        pool = w.new_devices(max(1, int(bought.sum()) // int(rng.integers(3, 8))))
        device = np.where(bought & (rng.random(size) < 0.7), rng.choice(pool, size), device)
    acc = w.new_accounts(
        reg=reg,
        device=device,
        ip=home_ips(rng, size),
        phone=phones(rng, size, 0.08),
        channel=channels(rng, size),
        weight=0.0,
    )
    w.plant(acc, "brushing_ring", cluster, "member")
    n_life = np.where(bought, rng.integers(0, 3, size), rng.integers(2, 12 if adv else 8, size))
    life = np.repeat(acc, n_life)
    if len(life):
        shop = pick_weighted(rng, w.shops["weight"], len(life))
        honest_orders(
            w, life, shop, c.human_times(rng, len(life), lo=w.acc["reg"][life] + DAY), unhappy=np.zeros(len(life), bool)
        )
    return acc


def _serving(w: World, size: int, n_clients: int, participation: float) -> tuple[np.ndarray, np.ndarray]:
    """Which member serves which client (each at least two of them), and, in an adversarial
    world, the single-task members (one fake order and one review at one client)."""
    rng = w.rng
    serve = rng.random((size, n_clients)) < participation
    for i in np.flatnonzero(serve.sum(1) < 2):
        serve[i, rng.choice(n_clients, 2, replace=False)] = True
    single = np.zeros(size, bool)
    if w.adversarial:  # single-task members: one fake order and one review at one client (own stream)
        ar = np.random.default_rng([w.seed, 15, 1, len(w.params["brushing_crews"])])
        single = ar.random(size) < ar.uniform(0.2, 0.5)
        for member in np.flatnonzero(single).tolist():
            serve[member] = False
            serve[member, ar.integers(n_clients)] = True
    return serve, single


def _client_orders(w: World, shop: int, who: np.ndarray, plan: dict) -> tuple[tuple, int]:
    """One client's burst of fake orders by ``who`` (one row an order) before its promotion day,
    their reviews and a few refunds: the burst (start, promotion, hero items) and its GMV."""
    rng, c = w.rng, w.clock
    burst_days, p_drop, drops, lag_med = plan["burst_days"], plan["p_drop"], plan["drops"], plan["lag_med"]
    p_four, p_template, style, p_refund = plan["p_four"], plan["p_template"], plan["style"], plan["p_refund"]
    m = len(who)
    promo = _promo_day(w)
    start = promo - int(rng.integers(*burst_days)) * DAY
    t = c.human_times(rng, m, lo=max(start, c.window_start), hi=promo)
    # the client's items being pushed: one or two hero items, sometimes any
    heroes = shop_items(w, np.full(2, shop))
    burst = (max(start, c.window_start), promo, heroes)
    item = np.where(rng.random(m) < 0.8, rng.choice(heroes, m), shop_items(w, np.full(m, shop)))
    gross = w.items["price"][item]
    addr = np.where(rng.random(m) < p_drop, rng.choice(drops, m), w.acc["addr"][who])
    order = place_orders(
        w, who, np.full(m, shop), w.items["code"][item], t, gross, addr=addr, status=np.full(m, STATUS["completed"])
    )
    lag = np.exp(rng.normal(np.log(lag_med), 0.8, m)).astype(np.int64) + 2 * MIN
    t_rv = t + lag
    ok = t_rv < c.end
    rating = np.where(rng.random(m) < p_four, 4, 5)
    txt = [
        texts.brush_text(rng, style) if rng.random() < p_template else texts.POSITIVE[rng.integers(len(texts.POSITIVE))]
        for _ in range(m)
    ]
    post_reviews(w, order[ok], who[ok], np.full(int(ok.sum()), shop), t_rv[ok], rating[ok], w.texts.codes(txt)[ok])
    back = (rng.random(m) < p_refund) & (t + 3 * DAY < c.end)
    if back.any():  # a few crews take the money back as a refund (a 'refund loop')
        kb = int(back.sum())
        refunds(
            w,
            order[back],
            who[back],
            np.full(kb, shop),
            gross[back],
            t[back] + rng.integers(DAY, 3 * DAY, kb),
            rng.integers(HOUR, DAY, kb),
            APPROVED,
            w.texts.codes(["不想要了"] * kb),
        )
    return burst, int(gross.sum())


def _hired_client(
    w: World,
    cluster: str,
    bursts: dict,
    drops: np.ndarray,
    style: dict,
    lag_med: float,
    p_template: float,
    p_four: float,
    p_drop: float,
) -> int:
    """The first adaptive crew, then half the others, hire a batch of one-task accounts for one
    push day in one client's burst: each places one order there and posts one review, mostly on the crew's hero items there (which
    few regulars may have bought: the crew's items show them only once some hires are
    recognised), else on another item of the client's that no regular pushed; the crew's drop
    addresses and house style as the regulars use them; a little shopping of their own. Own stream ``[seed, 15, 2, crew]``; returns the number hired."""
    saved, w.rng = w.rng, np.random.default_rng([w.seed, 15, 2, len(w.params["brushing_crews"])])
    try:
        rng, c = w.rng, w.clock
        first = not any("hired" in x for x in w.params["brushing_crews"])
        if (rng.random() < 0.5 and not first) or not bursts:  # the first crew always, then half
            return 0
        shop = list(bursts)[int(rng.integers(len(bursts)))]
        start, promo, heroes = bursts[shop]
        if promo <= start:
            return 0
        n = int(rng.integers(6, 26))
        acc = w.new_accounts(
            reg=c.past_times(rng, n, 300, 1000),
            device=w.new_devices(n),
            ip=home_ips(rng, n),
            phone=phones(rng, n, 0.08),
            channel=channels(rng, n),
            weight=0.0,
        )
        w.plant(acc, "brushing_ring", cluster, "hired")
        life = np.repeat(acc, rng.integers(0, 5, n))
        if len(life):
            honest_orders(
                w,
                life,
                pick_weighted(rng, w.shops["weight"], len(life)),
                c.human_times(rng, len(life), lo=w.acc["reg"][life] + DAY),
                unhappy=np.zeros(len(life), bool),
            )
        own = shop_items(w, np.full(2, shop))
        item = np.where(rng.random(n) < 0.7, rng.choice(heroes, n), rng.choice(own, n))
        day = start + int(rng.integers(0, max((promo - start) // DAY, 1))) * DAY  # one push day
        t = c.human_times(rng, n, lo=day, hi=min(day + DAY, c.end))
        gross = w.items["price"][item]
        addr = np.where(rng.random(n) < p_drop, rng.choice(drops, n), w.acc["addr"][acc])
        order = place_orders(
            w, acc, np.full(n, shop), w.items["code"][item], t, gross, addr=addr, status=np.full(n, STATUS["completed"])
        )
        t_rv = t + np.exp(rng.normal(np.log(lag_med), 0.8, n)).astype(np.int64) + 2 * MIN
        ok = t_rv < c.end
        rating = np.where(rng.random(n) < p_four, 4, 5)
        txt = [
            texts.brush_text(rng, style)
            if rng.random() < p_template
            else texts.POSITIVE[rng.integers(len(texts.POSITIVE))]
            for _ in range(n)
        ]
        post_reviews(w, order[ok], acc[ok], np.full(int(ok.sum()), shop), t_rv[ok], rating[ok], w.texts.codes(txt)[ok])
        return n
    finally:
        w.rng = saved


def _launch_shops(w: World, seasoned: np.ndarray) -> None:
    """A popular new shop's launch week: many unrelated buyers, glowing reviews, some fast."""
    rng, c = w.rng, w.clock
    for s in range(int(rng.integers(1, 3))):
        shop = len(w.shops["weight"]) + s  # a shop code no other scenario uses
        n_items = int(rng.integers(3, 12))
        codes = w.ids.take("item", n_items) * 7 + 1000
        price = np.clip(np.round(np.exp(rng.normal(np.log(60), 0.6, n_items)) * 100), 290, 500_000)
        n = w.scaled(60, 160)
        buyers = rng.choice(seasoned, n, replace=False)
        day0 = c.window_start + int(rng.integers(2, 22)) * DAY
        t = np.where(
            rng.random(n) < 0.75,
            c.human_times(rng, n, lo=day0, hi=day0 + 7 * DAY),
            c.human_times(rng, n, lo=day0, hi=c.end),
        )
        item = rng.integers(0, n_items, n)
        order = place_orders(w, buyers, np.full(n, shop), codes[item], t, price[item].astype(np.int64))
        rv = rng.random(n) < 0.7
        lag = np.exp(rng.normal(np.log(20 * HOUR), 1.0, n)).astype(np.int64) + 10 * MIN
        rv &= t + lag < c.end
        rating = rng.choice([3, 4, 5], n, p=[0.03, 0.12, 0.85])
        post_honest_reviews(w, rng, order, buyers, shop, t + lag, rating, rv)
        w.lookalike(buyers, "launch_week_buyer", f"launch_{s + 1:02d}")


def _loyal_customers(w: World, seasoned: np.ndarray, order: np.ndarray) -> None:
    """Fans of one shop: many orders there over two months, mostly five stars."""
    rng, c = w.rng, w.clock
    mid = order[len(order) // 20 : len(order) // 2]
    for g in range(w.scaled(4, 10)):
        shop = int(rng.choice(mid))
        fans = rng.choice(seasoned, int(rng.integers(1, 7)), replace=False)
        k = rng.integers(6, 16, len(fans))
        who = np.repeat(fans, k)
        t = c.human_times(rng, len(who))
        item = shop_items(w, np.full(len(who), shop))
        o = place_orders(w, who, np.full(len(who), shop), w.items["code"][item], t, w.items["price"][item])
        rv = rng.random(len(who)) < 0.75
        lag = np.exp(rng.normal(np.log(10 * HOUR), 1.0, len(who))).astype(np.int64) + 5 * MIN
        rv &= t + lag < c.end
        rating = rng.choice([4, 5], len(who), p=[0.2, 0.8])
        post_honest_reviews(w, rng, o, who, shop, t + lag, rating, rv)
        w.lookalike(fans, "loyal_customer", f"loyal_{g + 1:02d}")


def _households(w: World, order: np.ndarray) -> None:
    """Families ordering to one address from the same few favourite shops, reviewing well."""
    rng, c = w.rng, w.clock
    n = w.scaled(6, 16)
    for h in range(n):
        k = int(rng.integers(2, 6))
        addr = w.ids.take("addr", 1)
        device = w.new_devices(1)
        acc = register_people(
            w,
            k,
            reg=c.past_times(rng, k, 300, 900),
            addr=np.repeat(addr, k),
            device=np.where(rng.random(k) < 0.5, device[0], w.new_devices(k)),
            weight=np.zeros(k),
        )
        favs = pick_weighted(rng, w.shops["weight"], int(rng.integers(3, 7)))
        m = rng.integers(3, 9, k)
        who = np.repeat(acc, m)
        shop = rng.choice(favs, len(who))
        t = c.human_times(rng, len(who), lo=w.acc["reg"][who] + DAY)
        item = shop_items(w, shop)
        o = place_orders(w, who, shop, w.items["code"][item], t, w.items["price"][item])
        rv = rng.random(len(who)) < 0.6
        lag = np.exp(rng.normal(np.log(30 * HOUR), 0.9, len(who))).astype(np.int64)
        rv &= t + lag < c.end
        rating = rng.choice([4, 5], len(who), p=[0.3, 0.7])
        post_honest_reviews(w, rng, o, who, shop, t + lag, rating, rv)
        w.lookalike(acc, "household_orders", f"home_{h + 1:03d}")


def _unplanted(w: World, people: np.ndarray) -> np.ndarray:
    """People no other scenario made abusers (a look-alike must be honest)."""
    if not w.truth_accounts:
        return people
    planted = np.concatenate([codes for codes, *_ in w.truth_accounts])
    return people[~np.isin(people, planted)]
