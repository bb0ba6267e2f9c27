"""Crews that adapt (``make_heldout --adaptive``), written from the threat descriptions only:
rings that share no device or network, recruit in waves and hit each victim once; scripts whose
timer is jittered, or a Poisson process with no clock at all; and the human look-alikes that
such detectors must leave alone (night-shift workers, an internet cafe)."""

from __future__ import annotations

import numpy as np

from .life import everyday, price
from .plants import THREATS
from .world import DAY, DAYS, HOUR, NIGHT, World

COMPLAINTS = (
    "东西有问题，你们看着办吧，要给个交代",
    "不处理我就一直追评",
    "要求补偿，否则投诉到底",
    "quality problem, I want compensation",
    "吃出异物了，要赔偿，不然曝光",
)


def sparse_ring(w: World, truth: dict, name: str, size: int, n_targets: int, hits: tuple[int, int], waves: int) -> None:
    """A leader and apprentices recruited in waves, no shared device or IP, each apprentice hitting a
    few of many victims once; 2-star as often as 1-star; compensation asked for in words, through
    ordinary refunds, or paid off the platform (the review withdrawn with no refund record)."""
    rng = w.rng
    pop = w.shop_p[80:600] / w.shop_p[80:600].sum()
    targets = [w.shops[80 + int(j)] for j in rng.choice(520, size=n_targets, replace=False, p=pop)]
    truth["ring_shops"] += [{"cluster": name, "shop_id": s} for s in targets]
    leader = None
    wave_days = np.sort(rng.choice(np.arange(0, DAYS - 6), size=waves, replace=False))
    for i in range(size):
        wave = int(wave_days[i % waves])
        invited = leader.account_id if leader is not None and rng.random() < 0.4 else None
        registered = (
            -float(rng.uniform(200, 1200)) * DAY if rng.random() < 0.6 else (wave - float(rng.uniform(1, 20))) * DAY
        ) + float(rng.uniform(8, 22)) * HOUR
        p = w.register(registered, invited_by=invited or "")
        if leader is None:
            leader = p
        truth["accounts"].append(
            {
                "account_id": p.account_id,
                "pattern": "extortion_ring",
                "cluster": name,
                "role": "leader" if i == 0 else f"wave{i % waves}",
            }
        )
        everyday(w, p, float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.1, 0.6)))  # camouflage life
        for _ in range(int(rng.integers(1, 4))):  # good reviews at popular shops
            o = w.order(p, w.at(w.day(0), p.hours), w.shop(0, 30), price(rng))
            w.review(p, o, o["shop_id"], o["created_at"] + float(rng.uniform(1, 5)) * DAY, 5)
        k = int(rng.integers(hits[0], hits[1] + 1))
        for shop in rng.choice(targets, size=min(k, n_targets), replace=False):
            day = int(np.clip(wave + rng.integers(0, DAYS - wave), 0, DAYS - 4))
            o = w.order(p, w.at(day, p.hours), str(shop), price(rng, 30, 0.6))
            _extort_quietly(w, p, o)


def _extort_quietly(w: World, p, o: dict) -> None:
    rng, t = w.rng, o["created_at"]
    posted = t + float(rng.uniform(0.5, 3.0)) * DAY
    stars = 1 if rng.random() < 0.5 else 2
    text = str(rng.choice(COMPLAINTS)) if rng.random() < 0.6 else str(rng.choice(THREATS))
    rid = w.review(p, o, o["shop_id"], posted, stars, text=text)
    u = rng.random()
    paid_at = None
    if u < 0.35:  # an ordinary refund, the compensation asked for in words
        paid_at = w.refund(
            p,
            o,
            posted + float(rng.uniform(0.1, 1.5)) * DAY,
            o["amount"],
            reason=str(rng.choice(["商品质量问题，要求赔偿", "quality", "not_as_described"])),
        )
    elif u < 0.55:  # a partial refund that is really the payoff
        paid_at = w.refund(
            p,
            o,
            posted + float(rng.uniform(0.1, 1.5)) * DAY,
            round(float(rng.uniform(0.3, 1.0)) * o["amount"], 2),
            reason="协商补偿",
        )
    elif u < 0.85:  # paid off the platform: no refund record at all
        paid_at = posted + float(rng.uniform(0.3, 2.5)) * DAY
    if paid_at is None:
        return
    after = paid_at + float(rng.uniform(0.5, 20)) * HOUR
    if rng.random() < 0.75:
        w.review(p, o, o["shop_id"], after, None, action="withdrawn", review_id=rid, text=None)
    else:
        w.review(p, o, o["shop_id"], after, 4, action="amended", review_id=rid, text="已协商解决")


def adaptive_bots(w: World, truth: dict, n: int) -> dict:
    """Scripts that learnt not to fire at second 0: a random second within the first J seconds of
    chosen hours (J 5..30), a fixed minute with jitter, a Poisson timer with a fixed mean and no
    clock at all, some active only a few days, some rotating residential proxy IPs."""
    rng = w.rng
    kinds = ["hour_jitter", "minute_jitter", "poisson", "poisson"]
    drawn = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        p = w.register(-float(rng.uniform(10, 300)) * DAY + float(rng.uniform(9, 23)) * HOUR)
        truth["accounts"].append(
            {"account_id": p.account_id, "pattern": "scripted_timing", "cluster": "", "role": kind}
        )
        if rng.random() < 0.5:
            everyday(w, p, 0.03, 0.0)
        short = rng.random() < 0.25
        first = int(rng.integers(0, DAYS - 5))
        last = min(DAYS, first + int(rng.integers(3, 6))) if short else DAYS
        proxies = rng.random() < 0.4
        action = str(rng.choice(["lottery_spin", "vote", "like", "view", "login"]))
        target = w.token("t") if action in ("vote", "like") else None
        length = float(rng.uniform(0.8, 6.0))

        def act(t: float) -> None:
            w.act(
                p,
                t,
                action,
                length * float(rng.uniform(0.93, 1.07)),
                session=w.token(),
                target=target,
                ip=w.ipv4() if proxies else None,
            )

        if kind == "hour_jitter":
            jitter = float(rng.uniform(5, 30))
            hours = sorted(rng.choice(24, size=int(rng.integers(8, 24)), replace=False))
            for day in range(first, last):
                for h in hours:
                    if rng.random() < 0.9:
                        act(day * DAY + h * HOUR + float(rng.uniform(0, jitter)))
        elif kind == "minute_jitter":
            jitter = float(rng.uniform(5, 30))
            minute = int(rng.integers(1, 59))
            for day in range(first, last):
                for h in range(24):
                    if rng.random() < 0.8:
                        act(day * DAY + h * HOUR + minute * 60 + float(rng.uniform(0, jitter)))
        else:
            mean = float(rng.uniform(8, 45)) * 60
            t = first * DAY + float(rng.uniform(0, DAY))
            while t < last * DAY:
                act(t)
                t += float(rng.exponential(mean))
        drawn.append({"kind": kind, "short": short, "proxies": proxies, "action": action})
    return {"bots": drawn}


def night_shift(w: World, out: list[dict], n: int) -> None:
    """Heavy but human night workers: many sessions, irregular, a day off now and then."""
    for _ in range(n):
        p = w.register(-float(w.rng.uniform(60, 900)) * DAY, hours=NIGHT)
        everyday(w, p, float(w.rng.uniform(0.2, 0.6)), float(w.rng.uniform(4, 9)), spin_p=0.7)
        out.append({"account_id": p.account_id, "lookalike": "night_shift", "group": "night_shift"})


def internet_cafe(w: World, out: list[dict], n: int) -> None:
    """Unrelated people on a few cafe machines behind one IP, each with a human rhythm."""
    ip = w.ipv4()
    machines = [w.device() for _ in range(max(2, n // 8))]
    for _ in range(n):
        p = w.register(
            -float(w.rng.uniform(30, 700)) * DAY, device=machines[int(w.rng.integers(0, len(machines)))], ip=ip
        )
        everyday(w, p, float(w.rng.uniform(0.05, 0.25)), float(w.rng.uniform(0.5, 2.0)))
        out.append({"account_id": p.account_id, "lookalike": "internet_cafe", "group": "cafe"})
