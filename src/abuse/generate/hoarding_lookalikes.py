"""Honest groups an adaptive hoarding detector must spare (``--adversarial``; own stream
``[seed, 1111]``): an internet cafe (many unrelated accounts on a few devices behind one IP,
human rhythms, ordinary coupon use), a shared work phone (riders or shop staff on one
device), a company's procurement accounts shipping to one address and buying the same
supplies with coupons, and deal hunters who claim every coupon the second it is released
but spend it like anybody else (often topping up to just over the threshold)."""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import HUMAN_ACTIONS, sessions
from abuse.generate.background import honest_orders, pick_weighted, register_people, shop_items
from abuse.generate.coupons import claim, coupon_orders, spend
from abuse.generate.identity import home_ips, mobile_ips
from abuse.generate.world import DAY, HOUR, MIN, SEC, World


def hoarding_lookalikes(w: World, people: np.ndarray) -> None:
    saved, w.rng = w.rng, np.random.default_rng([w.seed, 1111])
    try:
        _lookalikes(w, people)
    finally:
        w.rng = saved


def _camps(w: World) -> list[dict]:
    return [k for k in w.campaigns if not k["flash"] and w.clock.window_start <= k["released"] < w.clock.end - DAY]


def _human_claims(w: World, acc: np.ndarray, device=None, ip=None, per_acc=(1, 3)) -> None:
    """Each account claims a few campaigns at human delays (some within minutes, most hours
    later) and spends them the ordinary way."""
    rng, camps = w.rng, _camps(w)
    if not camps:
        return
    for i, a in enumerate(acc.tolist()):
        for j in rng.choice(len(camps), min(len(camps), int(rng.integers(*per_acc))), replace=False):
            camp = camps[int(j)]
            alert = rng.random() < 0.3
            delay = np.exp(rng.normal(np.log(3 * MIN if alert else 10 * HOUR), 1.0))
            t = np.array([camp["released"] + int(max(delay, 5 * SEC))])
            if t[0] >= min(camp["expires"], w.clock.end):
                continue
            dev = None if device is None else np.array([device[i]])
            coupon = claim(w, camp, np.array([a]), t, device=dev, ip=None if ip is None else np.array([ip[i]]))
            spend(w, camp, np.array([a]), coupon, t, redeem_p=float(rng.uniform(0.4, 0.8)))


def _ordinary_life(w: World, acc: np.ndarray, device=None, ip=None) -> None:
    """Human-timed sessions and a few orders (on the shared device and IP, if any)."""
    rng, c = w.rng, w.clock
    n_sess = rng.integers(2, 10, len(acc))
    idx = np.repeat(np.arange(len(acc)), n_sess)
    who = acc[idx]
    starts = c.human_times(rng, len(who), lo=np.maximum(w.acc["reg"][who] + HOUR, c.start))
    sessions(
        w,
        who,
        starts,
        rng.integers(2, 10, len(who)),
        None,
        action_p=HUMAN_ACTIONS,
        device=None if device is None else device[idx],
        ip=None if ip is None else ip[idx],
    )
    n_orders = rng.integers(1, 6, len(acc))
    buyer = np.repeat(acc, n_orders)
    t = c.human_times(rng, len(buyer), lo=np.maximum(w.acc["reg"][buyer] + HOUR, c.start))
    honest_orders(w, buyer, pick_weighted(rng, w.shops["weight"], len(buyer)), t)


def _lookalikes(w: World, people: np.ndarray) -> None:
    _cafes(w)
    _work_phones(w)
    _procurement(w)
    _deal_hunters(w, people)


def _cafes(w: World) -> None:
    """Internet cafes: unrelated regulars on a few machines behind one IP."""
    rng = w.rng
    for k in range(int(rng.integers(1, 3))):
        n = max(15, int(round(rng.uniform(25, 70) * w.scale**0.5)))
        devices = w.new_devices(int(rng.integers(2, 6)))
        ip = home_ips(rng, 1)
        dev = rng.choice(devices, n)
        acc = register_people(w, n, device=dev, ip=np.full(n, ip[0]))
        _ordinary_life(w, acc, device=dev, ip=np.full(n, ip[0]))
        _human_claims(w, acc, device=dev, ip=np.full(n, ip[0]))
        w.lookalike(acc, "internet_cafe", f"cafe_{k + 1:02d}")


def _work_phones(w: World) -> None:
    """Shared work phones: riders or shop staff taking turns on one phone."""
    rng = w.rng
    for k in range(int(rng.integers(1, 4))):
        n = int(rng.integers(4, 13))
        dev = np.full(n, w.new_devices(1)[0])
        ip = mobile_ips(rng, n)
        acc = register_people(w, n, device=dev, ip=ip)
        _ordinary_life(w, acc, device=dev, ip=ip)
        _human_claims(w, acc, device=dev, ip=ip)
        w.lookalike(acc, "shared_work_phone", f"work_phone_{k + 1:02d}")


def _procurement(w: World) -> None:
    """One company's accounts, one address, the same supplies bought with coupons."""
    rng, c = w.rng, w.clock
    camps = [k for k in _camps(w) if k["threshold"] > 0]
    for k in range(int(rng.integers(1, 4))):
        n = int(rng.integers(5, 16))
        addr = w.ids.take("addr", 1)
        acc = register_people(w, n, reg=c.past_times(rng, n, 200, 700, 30), addr=np.full(n, addr[0]))
        _ordinary_life(w, acc)
        supplier = pick_weighted(rng, w.shops["weight"], 1)
        supplies = shop_items(w, np.repeat(supplier, 3))
        for camp in camps[: int(rng.integers(1, len(camps) + 1))] if camps else []:
            who = acc[rng.random(n) < 0.6]
            if not len(who):
                continue
            t = camp["released"] + (rng.uniform(1, 30, len(who)) * HOUR).astype(np.int64)
            ok = t < min(camp["expires"], c.end)
            who, t = who[ok], t[ok]
            if not len(who):
                continue
            coupon = claim(w, camp, who, t)
            it = rng.choice(supplies, len(who))
            qty = rng.integers(2, 12, len(who))
            gross = np.maximum(w.items["price"][it] * qty, camp["threshold"] + 5000)
            t2 = t + (rng.uniform(0.1, 3, len(who)) * DAY).astype(np.int64)
            live = t2 < min(camp["expires"], c.end)
            if live.any():
                coupon_orders(
                    w,
                    camp,
                    who[live],
                    coupon[live],
                    t2[live],
                    gross=gross[live],
                    shop=w.items["shop"][it[live]],
                    addr=np.full(int(live.sum()), addr[0]),
                )
        w.lookalike(acc, "procurement_accounts", f"procurement_{k + 1:02d}")


def _deal_hunters(w: World, people: np.ndarray) -> None:
    """Claim everything at release, spend like people (often just over the threshold)."""
    rng, c = w.rng, w.clock
    seasoned = people[w.acc["reg"][people] < c.start]
    hunters = rng.choice(seasoned, max(10, int(round(rng.uniform(20, 60) * w.scale))), replace=False)
    for camp in _camps(w):
        who = hunters[rng.random(len(hunters)) < 0.9]
        delay = np.exp(rng.normal(np.log(rng.uniform(4, 40)), 0.8, len(who))) * SEC
        t = camp["released"] + np.maximum(delay, 0.8 * SEC).astype(np.int64)
        coupon = claim(w, camp, who, t)
        t2 = t + np.exp(rng.normal(np.log(DAY), 1.0, len(who))).astype(np.int64)
        used = (rng.random(len(who)) < 0.7) & (t2 < min(camp["expires"], c.end))
        if not used.any():
            continue
        m = int(used.sum())
        top_up = np.where(
            rng.random(m) < 0.12, 0, np.round(camp["threshold"] * rng.uniform(0.01, 0.3, m)).astype(np.int64)
        )
        gross = (camp["threshold"] + top_up) if camp["threshold"] else None
        coupon_orders(w, camp, who[used], coupon[used], t2[used], gross=gross)
    w.lookalike(hunters, "deal_hunter", "deal_hunters")
