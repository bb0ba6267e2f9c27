"""Coupon-hoarding batches: accounts registered in a burst (or, stealthily, over days) on
virtual-operator number blocks, a few group-control devices and proxy IP ranges, that claim a
campaign's coupons seconds after release, leave most unused or redeem at exactly the
threshold, ship to a few drop addresses and run refund loops; plus lottery spins."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import ACT, coupon_events, refunds, sessions
from abuse.generate.background import pick_weighted
from abuse.generate.columns import CHANNELS, OUTCOMES, enum
from abuse.generate.coupons import claim, coupon_orders
from abuse.generate.identity import (
    VIRTUAL_PREFIXES,
    block_ips,
    phones,
    random_blocks,
)
from abuse.generate.world import DAY, HOUR, MIN, SEC, World


def plant_hoarding(w: World) -> None:
    rng = w.rng
    targets = [
        k
        for k in w.campaigns
        if not k["flash"]
        and k["threshold"] > 0
        and k["released"] > w.clock.window_start + 3 * DAY
        and k["released"] < w.clock.end - 3 * DAY
    ]
    if not targets:
        targets = [k for k in w.campaigns if k["released"] > w.clock.window_start + 2 * DAY]
    n_batches = max(1, int(round(rng.integers(1, 4) * w.scale**0.5)))
    hi = min(2000, int(600 * w.scale**0.5))
    w.params["coupon_hoarding"] = []
    for b in range(n_batches):
        size = int(rng.integers(50, hi + 1))
        chosen = [
            targets[i]
            for i in sorted(rng.choice(len(targets), min(len(targets), int(rng.integers(1, 3))), replace=False))
        ]
        _batch(w, f"batch_{b + 1:02d}", size, chosen)


def _batch(w: World, cluster: str, size: int, camps: list[dict]) -> None:
    rng = w.rng
    stealthy = bool(rng.random() < 0.35)
    reg, span = _registrations(w, size, camps[0]["released"], stealthy)
    phone, virtual_share = _batch_phones(w, size)
    # stealthy crews spoof device ids (emulators, reset phones): a few accounts per id
    per_device = rng.uniform(100, 200) if not stealthy else rng.uniform(1.5, 6)
    emulator = bool(rng.random() < 0.4)
    pool = w.new_devices(int(np.ceil(size / per_device)), emulator=emulator)
    device = rng.choice(pool, size)
    blocks = random_blocks(rng, int(rng.integers(1, 4) if not stealthy else rng.integers(3, 10)))
    ip = block_ips(rng, size, blocks)
    common_channel = bool(rng.random() < 0.8)
    channel = np.full(size, rng.integers(len(CHANNELS))) if common_channel else rng.integers(0, len(CHANNELS), size)
    acc = w.new_accounts(reg=reg, device=device, ip=ip, phone=phone, channel=channel)
    inviter = bool(rng.random() < 0.5)
    if inviter:  # re-deliver the registrations with the batch leader as inviter
        w.sink.parts["accounts"][-1]["invited_by"][1:] = acc[0]
    w.plant(acc[:1], "coupon_hoarding", cluster, "leader")
    w.plant(acc[1:], "coupon_hoarding", cluster, "batch")
    drops = w.ids.take("addr", int(rng.integers(1, 6)))
    shops = pick_weighted(rng, w.shops["weight"], int(rng.integers(1, 6)))
    never_use, exact, loop = rng.uniform(0.4, 0.8), rng.uniform(0.3, 0.9), rng.uniform(0.1, 0.4)
    median_delay = rng.uniform(1, 4)
    for camp in camps:
        who = acc[(rng.random(size) < rng.uniform(0.85, 1.0)) & (reg < camp["released"])]
        who = np.repeat(who, camp["limit"])
        delay = np.clip(np.exp(rng.normal(np.log(median_delay), 0.6, len(who))), 0.5, 10.0)
        t = camp["released"] + (delay * SEC).astype(np.int64)
        dev = w.acc["device"][who]
        coupon = claim(w, camp, who, t, device=dev, ip=block_ips(rng, len(who), blocks))
        _extract(w, camp, who, coupon, t, dev, blocks, drops, shops, never_use, exact, loop)
    scripted = bool(rng.random() < 0.4)
    _spins(w, acc, reg, blocks, scripted)
    if scripted:
        w.plant(acc, "scripted_timing", cluster, "batch")
    w.params["coupon_hoarding"].append(
        {
            "cluster": cluster,
            "size": size,
            "stealthy": stealthy,
            "reg_span_min": round(span / MIN, 1),
            "virtual_share": round(float(virtual_share), 3),
            "devices": len(pool),
            "emulator": emulator,
            "ip_blocks": len(blocks),
            "common_inviter": inviter,
            "common_channel": common_channel,
            "drop_addresses": len(drops),
            "campaigns": [f"cmp_{k['code']:03d}" for k in camps],
            "never_use": round(float(never_use), 3),
            "exact_threshold": round(float(exact), 3),
            "refund_loop": round(float(loop), 3),
            "median_claim_delay_s": round(float(median_delay), 2),
            "scripted_spins": scripted,
        }
    )


def _registrations(w: World, size: int, first: int, stealthy: bool) -> tuple[np.ndarray, int]:
    """(registration times, their span): in minutes before the first release, or spread over
    days at human times by a stealthy crew."""
    rng, c = w.rng, w.clock
    reg_start = max(c.window_start + HOUR, first - int(rng.uniform(1, 8) * DAY))
    if stealthy:
        span = int(min(rng.uniform(1, 5) * DAY, first - reg_start - HOUR))
        return np.sort(c.human_times(rng, size, lo=reg_start, hi=reg_start + span)), span
    span = int(rng.uniform(3, 60) * MIN)
    return reg_start + np.sort(rng.integers(0, span, size)), span


def _batch_phones(w: World, size: int) -> tuple[np.ndarray, float]:
    """(phone numbers, the share in the run): number segments, a near-sequential run inside a
    virtual operator's block, for most members."""
    rng = w.rng
    p7 = int(rng.choice(VIRTUAL_PREFIXES)) * 10_000 + int(rng.integers(0, 10_000))
    seq = p7 * 10_000 + int(rng.integers(0, 5_000)) + np.cumsum(rng.integers(1, 6, size))
    virtual_share = rng.uniform(0.6, 0.95)
    return np.where(rng.random(size) < virtual_share, seq, phones(rng, size)), virtual_share


def _extract(w: World, camp, acc, coupon, t_claim, device, blocks, drops, shops, never_use, exact, loop) -> None:
    """Turn claimed coupons into value: most lapse, the rest go to pooled orders."""
    rng, n, end = w.rng, len(acc), w.clock.end
    t = t_claim + rng.integers(10 * MIN, 3 * DAY, n)
    used = (rng.random(n) >= never_use) & (t < min(camp["expires"], end))
    lapse = ~used & (camp["expires"] < end)
    if lapse.any():
        coupon_events(
            w,
            camp["code"],
            coupon[lapse],
            acc[lapse],
            "expire",
            camp["expires"],
            device=device[lapse],
            ip=block_ips(rng, int(lapse.sum()), blocks),
        )
    if not used.any():
        return
    acc, coupon, t, device = acc[used], coupon[used], t[used], device[used]
    k = len(acc)
    is_loop = rng.random(k) < loop
    at_threshold = ~is_loop & (rng.random(k) < exact)
    gross = np.where(
        at_threshold,
        camp["threshold"],
        camp["threshold"] + rng.integers(0, max(camp["threshold"] // 2, 200), k),
    )
    addr = rng.choice(drops, k)
    ip = block_ips(rng, k, blocks)
    order, amount, shop = coupon_orders(
        w, camp, acc, coupon, t, gross=gross, shop=rng.choice(shops, k), addr=addr, device=device, ip=ip
    )
    t_rf = t + rng.integers(2 * HOUR, 2 * DAY, k)
    t_res = t_rf + rng.integers(10 * MIN, 12 * HOUR, k)
    is_loop &= t_res + DAY < end
    if not is_loop.any():
        return
    _return_and_reuse(w, camp, acc, coupon, order, amount, shop, t_rf, t_res, device, ip, is_loop, blocks, drops, shops)


def _return_and_reuse(
    w: World, camp, acc, coupon, order, amount, shop, t_rf, t_res, device, ip, sel, blocks, drops, shops
) -> None:
    """The loop: the order refunded and the coupon returned, then the same coupon again on a
    tiny order far below the threshold (`sel`: the orders that loop)."""
    rng = w.rng
    m = int(sel.sum())
    reason = w.texts.codes([texts.REFUND_REASONS[i] for i in rng.integers(0, 8, m)])
    refunds(
        w,
        order[sel],
        acc[sel],
        shop[sel],
        amount[sel],
        t_rf[sel],
        (t_res - t_rf)[sel],
        enum(OUTCOMES, "approved"),
        reason,
    )
    coupon_events(
        w,
        camp["code"],
        coupon[sel],
        acc[sel],
        "return",
        t_res[sel],
        order=order[sel],
        device=device[sel],
        ip=ip[sel],
    )
    # the same coupon again, on a tiny order far below the threshold
    t2 = t_res[sel] + rng.integers(5 * MIN, DAY, m)
    coupon_orders(
        w,
        camp,
        acc[sel],
        coupon[sel],
        t2,
        gross=rng.integers(100, 1500, m),
        shop=rng.choice(shops, m),
        addr=rng.choice(drops, m),
        device=device[sel],
        ip=block_ips(rng, m, blocks),
    )


def _spins(w: World, acc, reg, blocks, scripted: bool) -> None:
    """Lottery spins in one-second sessions, far more than people bother with."""
    rng, n = w.rng, len(acc)
    per = rng.integers(10, 150, n)
    if scripted:  # one script drives them all: a spin at the same second of every hour
        first = -(-np.maximum(reg, w.clock.window_start) // HOUR) * HOUR
        per = np.clip(np.minimum(per, (w.clock.end - HOUR - first) // HOUR), 0, None)
        who = np.repeat(acc, per)
        nth = np.arange(len(who)) - np.repeat(np.cumsum(per) - per, per)
        t = np.repeat(first, per) + nth * HOUR + int(rng.integers(0, 3)) * SEC
        t += rng.integers(0, 900, len(who))
        keep = rng.random(len(who)) > 0.08  # occasional downtime
        _one_second_sessions(w, who[keep], t[keep], ACT["lottery_spin"], blocks)
        return
    who = np.repeat(acc, per)
    lo = np.repeat(np.maximum(reg, w.clock.window_start), per)
    t = lo + (rng.random(len(who)) * (w.clock.end - lo)).astype(np.int64)
    _one_second_sessions(w, who, t, ACT["lottery_spin"], blocks)


def _one_second_sessions(w: World, acc, t, action, blocks) -> None:
    rng, n = w.rng, len(acc)
    sessions(
        w,
        acc,
        t,
        np.ones(n, np.int64),
        None,
        actions=np.full(n, action),
        duration_s=np.round(rng.uniform(0.5, 1.5, n), 3),
        target=rng.integers(900_000, 900_010, n),
        device=w.acc["device"][acc],
        ip=block_ips(rng, n, blocks),
    )


# --------------------------------------------------------------------------- adaptive crews
#: The tactics every maintained crew uses; per-crew extras are named from the drawn parameters.
