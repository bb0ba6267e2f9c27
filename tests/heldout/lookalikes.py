"""Honest people who look like abusers at first glance. None of them may be flagged."""

from __future__ import annotations

import numpy as np

from .life import aftercare, claim_and_use, everyday, price
from .world import DAY, HOUR, NIGHT, Person, World


def _lives(w: World, people: list[Person]) -> None:
    for p in people:
        everyday(w, p, float(w.rng.lognormal(np.log(0.14), 0.7)), float(w.rng.lognormal(np.log(0.3), 0.6)))


def _old(w: World) -> float:
    return -float(w.rng.uniform(30, 1000)) * DAY + float(w.rng.uniform(8, 23)) * HOUR


def bad_shop(w: World, out: list[dict], pool: list[Person], n: int, start: int, taken: set[str]) -> str:
    """A shop that really ships junk for a week: unrelated buyers complain, some get refunds."""
    rng = w.rng
    shop = next(s for s in (w.shop(40, 200) for _ in range(100)) if s not in taken)
    for p in pool[:n]:
        t = w.at(start + int(rng.integers(0, 7)), p.hours)
        o = w.order(p, t, shop, price(rng, 45, 0.6))
        aftercare(w, p, o, refund_p=0.55, review_p=0.9, bad=True)
        if rng.random() < 0.1:
            w.refund(
                p,
                o,
                t + float(rng.uniform(2, 6)) * DAY,
                float(rng.uniform(5, 20)),
                kind="compensation",
                reason="quality",
            )
        out.append({"account_id": p.account_id, "lookalike": "bad_shop_complainer", "group": shop})
    return shop


def serial_complainers(w: World, out: list[dict], n: int) -> None:
    """Lone grumblers: low stars and refund requests everywhere, on their own devices, alone."""
    rng = w.rng
    for _ in range(n):
        p = w.register(_old(w))
        everyday(w, p, 0.05, 0.3)
        for _ in range(int(rng.integers(8, 16))):
            t = w.at(w.day(), p.hours)
            o = w.order(p, t, w.shop(), price(rng, 70))
            stars = int(rng.choice([1, 2, 2, 3]))
            w.review(p, o, o["shop_id"], t + float(rng.uniform(1, 5)) * DAY, stars)
            if rng.random() < 0.6:
                w.refund(
                    p,
                    o,
                    t + float(rng.uniform(1, 6)) * DAY,
                    o["amount"],
                    reason="not_as_described",
                    outcome="approved" if rng.random() < 0.6 else "rejected",
                )
            if rng.random() < 0.15:
                w.refund(
                    p,
                    o,
                    t + float(rng.uniform(2, 7)) * DAY,
                    float(rng.uniform(5, 30)),
                    kind="compensation",
                    reason="quality",
                )
        out.append({"account_id": p.account_id, "lookalike": "serial_complainer", "group": p.account_id})


def households(w: World, out: list[dict], n: int) -> list[Person]:
    rng, people = w.rng, []
    for h in range(n):
        device, ip, addr = w.device(), w.ipv4(), w.token("ad")
        for _ in range(int(rng.integers(2, 5))):
            p = w.register(_old(w), device=device, ip=ip, addr=addr)
            p.extra_devices = [device]
            people.append(p)
            out.append({"account_id": p.account_id, "lookalike": "household", "group": f"home{h:03d}"})
    _lives(w, people)
    return people


def campus(w: World, out: list[dict], n: int, fresh_day: int) -> list[Person]:
    """Students behind one NAT address, parcels to two pickup points. Most registered when the
    last term began; a freshman cohort signs up together at an orientation evening in the window."""
    rng = w.rng
    nat, lockers = w.ipv4(), [w.token("ad"), w.token("ad")]
    people = []
    for i in range(n):
        if i < int(n * 0.4):
            t = fresh_day * DAY + 19 * HOUR + float(rng.gamma(2.0, 1800))
        else:
            t = -float(rng.uniform(320, 340)) * DAY + float(rng.uniform(8, 24)) * HOUR
        p = w.register(t, ip=nat, addr=str(rng.choice(lockers)), channel="mini_program")
        p.ip = nat
        people.append(p)
        out.append({"account_id": p.account_id, "lookalike": "campus_nat", "group": "campus"})
    _lives(w, people)
    return people


def referral(w: World, out: list[dict], n: int, day: int) -> list[Person]:
    """An influencer posts an invite link; followers trickle in over a day and a half."""
    rng = w.rng
    star = w.register(_old(w))
    people = [star]
    for delay in np.sort(rng.exponential(9 * HOUR, n) + rng.uniform(0, 600, n)):
        people.append(w.register(day * DAY + 19 * HOUR + float(delay), invited_by=star.account_id))
    for p in people:
        out.append({"account_id": p.account_id, "lookalike": "referral_burst", "group": star.account_id})
    _lives(w, people)
    return people


def flash_crowd(w: World, out: list[dict], pool: list[Person], camp: dict, median: float = 75) -> None:
    """The 20:00 flash sale: people tap within minutes, with human reaction times."""
    rng = w.rng
    for p in pool:
        delay = float(np.clip(rng.lognormal(np.log(median), 0.85), median / 30, 1200)) + float(rng.random())
        claim_and_use(w, p, camp, camp["released_at"] + delay, redeem_p=0.65)
        out.append({"account_id": p.account_id, "lookalike": "flash_sale_crowd", "group": camp["campaign_id"]})


def tv_ad(w: World, out: list[dict], n: int, day: int) -> tuple[list[Person], float, float]:
    rng = w.rng
    start = day * DAY + 20 * HOUR
    people = []
    for delay in np.sort(rng.lognormal(np.log(240), 0.7, n)):
        p = w.register(start + float(delay), channel=str(rng.choice(["app", "web"])))
        people.append(p)
        out.append({"account_id": p.account_id, "lookalike": "tv_ad_signup", "group": f"tv-day{day}"})
    _lives(w, people)
    return people, start, start + 900


def night_owls(w: World, out: list[dict], n: int) -> list[Person]:
    people = [w.register(_old(w), hours=NIGHT) for _ in range(n)]
    for p in people:
        everyday(w, p, float(w.rng.lognormal(np.log(0.2), 0.5)), float(w.rng.lognormal(np.log(0.9), 0.4)), spin_p=0.5)
        out.append({"account_id": p.account_id, "lookalike": "night_owl", "group": "night"})
    return people
