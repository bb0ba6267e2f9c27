"""Ordinary behaviour: shopping, reviewing, the odd refund, browsing, and coupon campaigns."""

from __future__ import annotations

import numpy as np

from .world import DAY, DAYS, HOUR, Person, World, day_of

END = DAYS * DAY
_RATINGS = np.array([0.055, 0.035, 0.08, 0.2, 0.63])  # 1..5 stars
_REASONS = ("quality", "not_as_described", "late_delivery", "changed_mind", "wrong_size", "damaged", "七天无理由")


def price(rng: np.random.Generator, median: float = 58.0, spread: float = 0.85) -> float:
    value = float(rng.lognormal(np.log(median), spread))
    return round(value) - 0.1 if value > 5 and rng.random() < 0.4 else round(value, 2)


def aftercare(
    w: World, p: Person, o: dict, *, refund_p: float = 0.05, review_p: float = 0.38, bad: bool = False
) -> float | None:
    """What an ordinary buyer does after an order; returns when a refund was paid, if one was."""
    rng, t = w.rng, o["created_at"]
    if o["status"] == "cancelled":
        return None
    paid = None
    if rng.random() < refund_p:
        outcome = str(rng.choice(["approved", "approved", "approved", "approved", "rejected", "pending"]))
        paid = w.refund(
            p, o, t + float(rng.uniform(0.5, 9)) * DAY, o["amount"], reason=str(rng.choice(_REASONS)), outcome=outcome
        )
    if rng.random() < 0.004:  # the shop apologises for a late parcel
        w.refund(
            p,
            o,
            t + float(rng.uniform(2, 6)) * DAY,
            float(rng.uniform(3, 12)),
            kind="compensation",
            reason="late_delivery",
        )
    if rng.random() < review_p:
        probs = _RATINGS if not (bad or o["status"] == "refunded") else np.array([0.45, 0.25, 0.15, 0.1, 0.05])
        stars = int(rng.choice(5, p=probs)) + 1
        when = t + float(rng.uniform(0.4, 8)) * DAY
        rid = w.review(p, o, o["shop_id"], when, stars)
        if stars <= 3 and rng.random() < 0.06:  # the seller sorted it out; the buyer softens
            w.review(
                p,
                o,
                o["shop_id"],
                when + float(rng.uniform(1, 4)) * DAY,
                stars + 1,
                action="amended",
                review_id=rid,
                text="商家处理了，改一下评价",
            )
    return paid


def shop_for(w: World, p: Person) -> str:
    return p.favourites[int(w.rng.integers(0, len(p.favourites)))] if w.rng.random() < 0.55 else w.shop()


def everyday(w: World, p: Person, orders_per_day: float, sessions_per_day: float, *, spin_p: float = 0.15) -> None:
    rng = w.rng
    first = max(0, day_of(p.registered) + (1 if p.registered >= 0 else 0))
    if first >= DAYS:
        return
    for _ in range(int(rng.poisson(orders_per_day * (DAYS - first)))):
        t = w.at(w.day(first), p.hours)
        status = "cancelled" if rng.random() < 0.03 else "completed"
        o = w.order(p, t, shop_for(w, p), price(rng), status=status)
        aftercare(w, p, o)
    spinner = rng.random() < spin_p
    for _ in range(int(rng.poisson(sessions_per_day * (DAYS - first)))):
        browse(w, p, w.at(w.day(first), p.hours), spinner)


def browse(w: World, p: Person, t: float, spinner: bool = False) -> None:
    rng = w.rng
    session = w.token()
    length = float(np.clip(rng.lognormal(np.log(170), 0.9), 6, 5400))
    device = p.extra_devices[0] if p.extra_devices and rng.random() < 0.3 else p.device
    w.act(p, t, "login", length, session=session, device=device)
    for _ in range(int(rng.poisson(1.4))):
        w.act(
            p,
            t + float(rng.uniform(2, length)),
            "view",
            float(rng.lognormal(np.log(22), 0.8)),
            session=session,
            target=w.shop(),
            device=device,
        )
    if spinner and rng.random() < 0.5:
        for k in range(int(rng.integers(1, 4))):
            w.act(
                p,
                t + float(rng.uniform(5, length)),
                "lottery_spin",
                float(rng.uniform(3.5, 25)),
                session=session,
                device=device,
            )


# coupon campaigns ----------------------------------------------------------------------------
def open_campaigns(w: World) -> None:
    """Six campaigns, each released on the hour, local time. The third is the 20:00 flash sale."""
    plan = [
        (2, 10, 20, 100, 1, 6000),
        (7, 0, 10, 50, 2, 8000),
        (11, 20, 50, 199, 1, 2500),
        (15, 10, 8, 0, 1, 9000),
        (19, 12, 60, 300, 1, 3000),
        (24, 20, 5, 30, 3, 12000),
    ]
    for day, hour, face, threshold, limit, quota in plan:
        w.campaigns.append(
            {
                "campaign_id": "cp" + w.rng.bytes(3).hex(),
                "name": f"{threshold}减{face}",
                "released_at": day * DAY + hour * HOUR,
                "face_value": float(face),
                "threshold": float(threshold),
                "per_account_limit": limit,
                "total_quota": quota,
                "issued": 0,
            }
        )
    w.rows["campaigns"] = [{k: v for k, v in c.items() if k != "issued"} for c in w.campaigns]


def claim_and_use(
    w: World,
    p: Person,
    camp: dict,
    t: float,
    *,
    redeem_p: float = 0.5,
    device: str | None = None,
    ip: str | None = None,
) -> None:
    """An ordinary claim; maybe spent days later on an order above the threshold."""
    rng = w.rng
    if t >= END:
        return
    cid = w.coupon(p, camp, "claim", t, device=device, ip=ip)
    if rng.random() < redeem_p:
        when = t + float(rng.exponential(1.6)) * DAY + float(rng.uniform(60, 3 * HOUR))
        if when < END:
            gross = camp["threshold"] + float(rng.lognormal(np.log(25), 0.9)) if camp["threshold"] else price(rng, 40)
            gross = max(gross, camp["face_value"] + 1)
            o = w.order(
                p,
                when,
                shop_for(w, p),
                gross - camp["face_value"],
                discount=camp["face_value"],
                coupon=cid,
                device=device,
            )
            w.coupon(p, camp, "redeem", when, cid, o, device=device, ip=ip)
            paid = aftercare(w, p, o)
            if paid is not None and paid < END:
                w.coupon(p, camp, "return", paid, cid, o)
            return
    if rng.random() < 0.5:
        w.coupon(p, camp, "expire", camp["released_at"] + 7 * DAY, cid)


def ordinary_claims(w: World, people: list[Person], camp: dict, share: float) -> None:
    """Most people claim hours later; a few eager ones within minutes of the release."""
    rng = w.rng
    for p in people:
        if p.registered >= camp["released_at"] or rng.random() >= share:
            continue
        if rng.random() < 0.07:
            delay = float(np.clip(rng.lognormal(np.log(160), 1.0), 6, 3600))
        else:
            delay = float(rng.exponential(6 * HOUR)) + 600
            hour = ((camp["released_at"] + delay) % DAY) / HOUR
            if 1 <= hour < 7 and rng.random() < 0.8:
                delay += 7 * HOUR
        claim_and_use(w, p, camp, camp["released_at"] + delay)
