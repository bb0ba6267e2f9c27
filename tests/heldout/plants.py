"""The abuse we plant, written from the threat descriptions only: rings that extort shops,
batches that hoard coupons, bots that keep machine time, and a burst of throwaway sign-ups."""

from __future__ import annotations

import numpy as np

from .life import END, everyday, price
from .world import DAY, DAYS, HOUR, Person, World, local_text

THREATS = (
    "质量太差了，不给个说法就一直差评",
    "假货！已经截图，准备投诉到平台",
    "吃了拉肚子，要求赔偿",
    "收到有虫子，太恶心了",
    "货不对板，商家欺诈消费者",
    "不赔钱就叫朋友一起来评价",
    "包装破损，东西也是坏的",
    "劣质产品，大家别买!!!",
    "客服态度恶劣，要求补偿精神损失",
)


def ring(
    w: World,
    truth: dict,
    name: str,
    size: int,
    n_targets: int,
    start: int,
    span: int,
    shared_devices: int,
    coverage: float,
) -> None:
    """Bought old accounts that order cheaply from chosen shops, slam them and get paid to stop."""
    rng = w.rng
    pop = w.shop_p[60:480] / w.shop_p[60:480].sum()  # small and mid-sized shops
    targets = [w.shops[60 + int(j)] for j in rng.choice(420, size=n_targets, replace=False, p=pop)]
    truth["ring_shops"] += [{"cluster": name, "shop_id": s} for s in targets]
    devices = [w.device() for _ in range(shared_devices)]
    for i in range(size):
        p = w.register(-float(rng.uniform(300, 1500)) * DAY + float(rng.uniform(8, 22)) * HOUR)
        truth["accounts"].append(
            {
                "account_id": p.account_id,
                "pattern": "extortion_ring",
                "cluster": name,
                "role": "leader" if i == 0 else "member",
            }
        )
        everyday(w, p, float(rng.uniform(0.03, 0.12)), float(rng.uniform(0.1, 0.5)))  # a thin cover life
        k = int(np.clip(rng.binomial(n_targets, coverage), 2, n_targets))
        uses_shared = devices and rng.random() < 0.6
        for shop in rng.choice(targets, size=k, replace=False):
            t = w.at(start + int(rng.integers(0, span)), p.hours)
            device = devices[int(rng.integers(0, len(devices)))] if uses_shared and rng.random() < 0.5 else None
            o = w.order(p, t, str(shop), price(rng, 22, 0.5), device=device)
            extort(w, p, o, device)


def extort(w: World, p: Person, o: dict, device: str | None) -> None:
    rng, t = w.rng, o["created_at"]
    posted = t + float(rng.uniform(0.8, 3.5)) * DAY
    stars = 1 if rng.random() < 0.7 else 2
    text = str(THREATS[int(rng.integers(0, len(THREATS)))])
    if rng.random() < 0.25:
        text = ""
    rid = w.review(p, o, o["shop_id"], posted, stars, text=text)
    paid = []
    if rng.random() < 0.7:
        paid.append(
            w.refund(
                p,
                o,
                posted + float(rng.uniform(0.05, 1.5)) * DAY,
                o["amount"],
                reason=str(rng.choice(["quality", "fake", "食品安全", "not_as_described"])),
                outcome="approved" if rng.random() < 0.8 else "rejected",
            )
        )
    if rng.random() < 0.65:
        paid.append(
            w.refund(
                p,
                o,
                posted + float(rng.uniform(0.1, 2.0)) * DAY,
                float(rng.uniform(20, 160)),
                kind="compensation",
                reason="精神损失/赔偿",
                outcome="approved" if rng.random() < 0.75 else "rejected",
            )
        )
    settled = [x for x in paid if x is not None]
    if not settled:
        return
    after = max(settled) + float(rng.uniform(0.5, 30)) * HOUR
    u = rng.random()
    if u < 0.5:
        w.review(p, o, o["shop_id"], after, None, action="withdrawn", review_id=rid, text=None)
    elif u < 0.8:
        w.review(p, o, o["shop_id"], after, 5, action="amended", review_id=rid, text="商家处理很好，好评")


def batch(
    w: World,
    truth: dict,
    name: str,
    size: int,
    reg_start: float,
    reg_span: float,
    n_shared: int,
    shared_share: float,
    nets: list[str],
    segments: list[str],
    campaigns: list[dict],
    n_addrs: int,
    heads: int = 0,
    claim_median: float = 2.2,
    carrier_share: float = 0.0,
) -> None:
    """Accounts made together on a few phones behind proxies, living off campaign coupons."""
    rng = w.rng
    shared = [w.device() for _ in range(n_shared)]
    addrs = [w.token("ad") for _ in range(n_addrs)]
    cursor = {s: int(rng.integers(1000, 9000)) for s in segments}
    times = np.sort(reg_start + rng.random(size) * reg_span)
    members: list[Person] = []
    for t in times:
        seg = str(rng.choice(segments))
        cursor[seg] += int(rng.integers(0, 2))  # number blocks bought in near-sequence
        inviter = (
            members[int(rng.integers(0, heads))].account_id
            if heads and len(members) > heads and rng.random() < 0.35
            else ""
        )
        device = shared[int(rng.integers(0, n_shared))] if rng.random() < shared_share else None
        prefix = w.phone_prefix() if rng.random() < carrier_share else f"{seg}{cursor[seg]:04d}"
        p = w.register(
            float(t),
            prefix=prefix,
            device=device,
            ip=w.ipv4(str(rng.choice(nets))),
            channel="app",
            invited_by=inviter,
            addr=str(rng.choice(addrs)),
        )
        p.extra_devices = []
        members.append(p)
        truth["accounts"].append(
            {"account_id": p.account_id, "pattern": "coupon_hoarding", "cluster": name, "role": "batch"}
        )
    for camp in campaigns:
        release = camp["released_at"]
        for p in members:
            if p.registered < release and rng.random() < 0.9:
                hoard(w, p, camp, release + float(rng.lognormal(np.log(claim_median), 0.55)), addrs, nets)
    for p in members:  # farm workers tapping through the lottery
        for _ in range(int(rng.integers(2, 7))):
            start = float(rng.uniform(max(p.registered, 0), END))
            for _ in range(int(rng.integers(4, 15))):
                start += float(rng.uniform(1.5, 40))
                w.act(
                    p,
                    start,
                    "lottery_spin",
                    float(rng.uniform(0.6, 1.6)),
                    session=w.token(),
                    ip=w.ipv4(str(rng.choice(nets))),
                )


def hoard(w: World, p: Person, camp: dict, t: float, addrs: list[str], nets: list[str]) -> None:
    rng = w.rng
    ip = w.ipv4(str(rng.choice(nets)))
    cid = w.coupon(p, camp, "claim", t, ip=ip)
    u = rng.random()
    if u < 0.35:
        return  # held for resale, never spent here
    face, threshold = camp["face_value"], camp["threshold"]
    when = t + float(rng.uniform(0.2, 40)) * HOUR
    shop = w.shop(0, 40)
    gross = threshold if threshold else face + float(rng.choice([0.01, 0.1, 0.5, 1.0]))
    o = w.order(p, when, shop, gross - face, discount=face, coupon=cid, ip=ip, addr=str(rng.choice(addrs)))
    w.coupon(p, camp, "redeem", when, cid, o, ip=ip)
    if u < 0.78:
        return
    for _ in range(int(rng.integers(1, 3))):  # refund, get the coupon back, spend it again
        back = w.refund(
            p,
            o,
            o["created_at"] + float(rng.uniform(0.5, 6)) * HOUR,
            o["amount"],
            reason="changed_mind",
            delay=float(rng.uniform(0.2, 3)) * HOUR,
        )
        if back is None or back >= END:
            return
        w.coupon(p, camp, "return", back, cid, o, ip=ip)
        again = back + float(rng.uniform(60, 2 * HOUR))
        tiny = face + float(rng.choice([0.01, 0.5, 1.0, 2.0])) if not threshold else threshold
        o = w.order(p, again, w.shop(0, 40), tiny - face, discount=face, coupon=cid, ip=ip, addr=str(rng.choice(addrs)))
        w.coupon(p, camp, "redeem", again, cid, o, ip=ip)


def bots(w: World, truth: dict, n: int) -> None:
    """Half spin at second 0-2 of every hour; half act on a fixed second at a fixed period."""
    rng = w.rng
    for i in range(n):
        p = w.register(-float(rng.uniform(20, 400)) * DAY + float(rng.uniform(9, 23)) * HOUR)
        truth["accounts"].append(
            {"account_id": p.account_id, "pattern": "scripted_timing", "cluster": "", "role": "bot"}
        )
        if rng.random() < 0.5:
            everyday(w, p, 0.03, 0.0)
        first = int(rng.integers(0, 10))
        if i % 2 == 0:
            hours = sorted(rng.choice(24, size=int(rng.integers(10, 25)), replace=False))
            for day in range(first, DAYS):
                for h in hours:
                    if rng.random() < 0.93:
                        t = day * DAY + h * HOUR + float(rng.uniform(0, 2.4))
                        w.act(p, t, "lottery_spin", float(rng.uniform(0.7, 1.4)), session=w.token())
        else:
            second, period = float(rng.integers(0, 60)), float(rng.choice([5, 10, 12, 15, 20, 30])) * 60
            action = str(rng.choice(["lottery_spin", "vote", "like"]))
            target = w.token("t")
            for day in range(first, DAYS, int(rng.integers(1, 3))):
                t = day * DAY + float(rng.integers(6, 12)) * HOUR + float(rng.integers(0, 60)) * 60 + second
                stop = t + float(rng.uniform(6, 14)) * HOUR
                while t < stop:
                    w.act(
                        p,
                        t + float(rng.uniform(0, 0.4)),
                        action,
                        float(rng.uniform(0.8, 1.3)),
                        session=w.token(),
                        target=target if action != "lottery_spin" else None,
                    )
                    t += period


def signup_burst(w: World, day: int, hour: int, minute: int, size: int) -> list[str]:
    """Throwaway registrations in two minutes at an odd hour; they do nothing afterwards."""
    rng = w.rng
    start = day * DAY + hour * HOUR + minute * 60
    nets = [f"{w.ipv4().rsplit('.', 1)[0]}" for _ in range(2)]
    ids = []
    for t in np.sort(start + rng.random(size) * 110):
        p = w.register(
            float(t), prefix=w.phone_prefix(virtual=rng.random() < 0.6), ip=w.ipv4(str(rng.choice(nets))), channel="h5"
        )
        ids.append(p.account_id)
    return ids


def spike_row(scope: str, start: float, end: float, kind: str, campaign: str = "") -> dict:
    return {
        "scope": scope,
        "window_start": local_text(start),
        "window_end": local_text(end),
        "kind": kind,
        "campaign_id": campaign,
    }
