"""Coupon campaigns released on the hour, and how ordinary people claim and spend them,
including a 20:00 flash sale that thousands claim within minutes (a benign spike)."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import coupon_events, place_orders, refunds
from abuse.generate.background import pick_weighted, shop_items
from abuse.generate.columns import OUTCOMES, enum
from abuse.generate.world import DAY, HOUR, MIN, SEC, World

THRESHOLDS = np.array([0, 39, 59, 99, 100, 159, 199, 299])


def build_campaigns(w: World) -> None:
    rng, c = w.rng, w.clock
    n = int(rng.integers(8, 13))
    day = np.sort(rng.choice(np.arange(1, 57), n, replace=False))
    hour = rng.choice([0, 10, 12, 20], n, p=[0.2, 0.35, 0.15, 0.3])
    for i in range(n):
        threshold = int(rng.choice(THRESHOLDS))
        face = int(rng.integers(3, 11)) if threshold == 0 else int(round(threshold * rng.uniform(0.1, 0.3)))
        _campaign(
            w,
            c.start + int(day[i]) * DAY + int(hour[i]) * HOUR,
            face,
            threshold,
            int(rng.choice([1, 1, 1, 2, 3])),
            flash=False,
        )
    flash_day = int(rng.integers(33, 58))
    _campaign(
        w,
        c.start + flash_day * DAY + 20 * HOUR,
        int(rng.choice([20, 30, 50])),
        int(rng.choice([99, 199])),
        1,
        flash=True,
    )
    w.campaigns.sort(key=lambda k: k["released"])
    for i, k in enumerate(w.campaigns):
        k["code"] = i + 1


def _campaign(w: World, released: int, face: int, threshold: int, limit: int, flash: bool) -> None:
    rng = w.rng
    names = texts.CAMPAIGN_NAMES if threshold else texts.CAMPAIGN_NAMES_NO_THRESHOLD
    tpl = "限时闪购 满{t}减{f}" if flash else names[rng.integers(len(names))]
    w.campaigns.append(
        {
            "released": released,
            "face": face * 100,
            "threshold": threshold * 100,
            "limit": limit,
            "expires": released + int(rng.integers(5, 15)) * DAY,
            "flash": flash,
            "name": tpl.format(t=threshold, f=face),
            "claims": 0,
        }
    )


def claim(w: World, camp: dict, acc: np.ndarray, t: np.ndarray, device=None, ip=None) -> np.ndarray:
    """Claim events; returns the new coupon codes."""
    coupon = w.ids.take("coupon", len(acc))
    coupon_events(w, camp["code"], coupon, acc, "claim", t, device=device, ip=ip)
    camp["claims"] += len(acc)
    return coupon


def people_claims(w: World, people: np.ndarray) -> None:
    """Ordinary claimers of every campaign; the flash-sale crowd is a look-alike."""
    rng = w.rng
    for camp in w.campaigns:
        eligible = people[w.acc["reg"][people] < camp["released"] - HOUR]
        if camp["flash"]:
            n = min(w.scaled(1500, 3000), int(0.4 * len(eligible)))
            median = rng.uniform(30, 90)
            delay = np.exp(rng.normal(np.log(median), rng.uniform(0.8, 1.2), n)) * SEC
            delay = np.maximum(delay, rng.uniform(1.5, 4.0, n) * SEC)
            w.params.setdefault("flash_sale", {}).update(claimers=n, median_delay_s=round(float(median), 1))
        else:
            n = int(len(eligible) * rng.uniform(0.03, 0.10))
            alert = rng.random(n) < 0.2
            delay = np.where(
                alert,
                np.exp(rng.normal(np.log(4 * MIN), 1.0, n)),
                np.exp(rng.normal(np.log(14 * HOUR), 1.0, n)),
            )
            delay = np.maximum(delay, 3 * SEC)
        acc = rng.choice(eligible, n, replace=False)
        t = camp["released"] + delay.astype(np.int64)
        keep = t < min(camp["expires"], w.clock.end)
        acc, t = acc[keep], t[keep]
        coupon = claim(w, camp, acc, t)
        spend(w, camp, acc, coupon, t, redeem_p=rng.uniform(0.4, 0.7))
        if camp["flash"]:
            w.lookalike(acc, "flash_sale_crowd", f"cmp_{camp['code']:03d}")
        if camp["released"] >= w.clock.window_start:
            span = 10 * MIN if camp["flash"] else 5 * MIN
            w.spikes.append(
                {
                    "scope": "coupon_claims",
                    "start": camp["released"],
                    "end": camp["released"] + span,
                    "kind": "benign_campaign",
                    "campaign": camp["code"],
                }
            )


def spend(w: World, camp: dict, acc: np.ndarray, coupon: np.ndarray, t_claim: np.ndarray, redeem_p: float) -> None:
    """Ordinary use: redeem on an order above the threshold, sometimes refund and get the
    coupon back (and use it again later); unused coupons expire."""
    rng, n, end = w.rng, len(acc), w.clock.end
    t = t_claim + np.exp(rng.normal(np.log(DAY), 1.0, n)).astype(np.int64)
    used = (rng.random(n) < redeem_p) & (t < min(camp["expires"], end))
    exp_ok = ~used & (camp["expires"] < end)
    if exp_ok.any():
        coupon_events(w, camp["code"], coupon[exp_ok], acc[exp_ok], "expire", camp["expires"])
    if not used.any():
        return
    acc, coupon, t = acc[used], coupon[used], t[used]
    order, amount, shop = coupon_orders(w, camp, acc, coupon, t)
    refunded = rng.random(len(acc)) < 0.06
    t_rf = t + rng.integers(HOUR, 4 * DAY, len(acc))
    t_res = t_rf + rng.integers(HOUR, DAY, len(acc))
    refunded &= t_res < end
    if refunded.any():
        k = int(refunded.sum())
        reason = w.texts.codes([texts.REFUND_REASONS[i] for i in rng.integers(0, 8, k)])
        refunds(
            w,
            order[refunded],
            acc[refunded],
            shop[refunded],
            amount[refunded],
            t_rf[refunded],
            (t_res - t_rf)[refunded],
            enum(OUTCOMES, "approved"),
            reason,
        )
        coupon_events(
            w, camp["code"], coupon[refunded], acc[refunded], "return", t_res[refunded], order=order[refunded]
        )
        again = refunded & (rng.random(len(acc)) < 0.5)
        t2 = t_res + np.exp(rng.normal(np.log(DAY), 1.0, len(acc))).astype(np.int64)
        again &= t2 < min(camp["expires"], end)
        if again.any():
            coupon_orders(w, camp, acc[again], coupon[again], t2[again])


def coupon_orders(w: World, camp: dict, acc, coupon, t, gross=None, shop=None, addr=None, device=None, ip=None):
    rng, n = w.rng, len(acc)
    if shop is None:
        shop = pick_weighted(rng, w.shops["weight"], n)
    item = shop_items(w, shop)
    if gross is None:
        base = w.items["price"][item]
        gross = np.maximum(base, camp["threshold"] + np.exp(rng.normal(np.log(3000), 1.0, n)).astype(np.int64))
    discount = np.minimum(camp["face"], np.maximum(gross - 1, 0))
    order = place_orders(
        w,
        acc,
        shop,
        w.items["code"][item],
        t,
        gross,
        discount=discount,
        coupon=coupon,
        device=device,
        ip=ip,
        addr=addr,
    )
    coupon_events(w, camp["code"], coupon, acc, "redeem", t, order=order, device=device, ip=ip)
    return order, gross - discount, shop
