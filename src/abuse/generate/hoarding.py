"""Coupon-hoarding batches: accounts registered in a burst (or, stealthily, over days) on
virtual-operator number blocks, a few group-control devices and proxy IP ranges, that claim a
campaign's coupons seconds after release, leave most unused or redeem at exactly the
threshold, ship to a few drop addresses and run refund loops; plus lottery spins."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import ACT, coupon_events, place_orders, refunds, sessions
from abuse.generate.background import pick_weighted, shop_items
from abuse.generate.columns import CHANNELS, OUTCOMES, enum
from abuse.generate.coupons import claim, coupon_orders
from abuse.generate.identity import (
    VIRTUAL_PREFIXES,
    block_ips,
    channels,
    home_ips,
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
MAINTAINED = ("clean_devices", "residential_proxy", "waves", "real_numbers", "fake_activity")


def plant_adaptive_hoarding(w: World) -> None:
    """``--adversarial``: maintained accounts (own stream ``[seed, 1110]``). Registered in
    small waves over months, mostly real-operator numbers, one emulator device id and one
    residential proxy address per account (no shared device, no shared /24), a little fake
    browsing and a plain order or two to look alive; they claim a campaign's coupons spread
    over the first minutes after release and redeem them over the following days on the same
    few resale items at (or just above) the threshold, shipped to a handful of drop
    addresses. Truth: ``evasion`` names the tactics (see ``MAINTAINED``; ``slow_claims``,
    ``above_threshold``, ``many_drops``, ``some_unused`` where drawn)."""
    saved, w.rng = w.rng, np.random.default_rng([w.seed, 1110])
    try:
        _adaptive(w)
    finally:
        w.rng = saved


def _adaptive(w: World) -> None:
    rng, c = w.rng, w.clock
    targets = [
        k
        for k in w.campaigns
        if not k["flash"] and k["threshold"] > 0 and w.clock.window_start <= k["released"] < c.end - 4 * DAY
    ]
    if not targets:
        return
    n_crews = max(2, int(round(rng.integers(2, 5) * w.scale**0.5)))
    w.params["coupon_hoarding_adaptive"] = []
    for b in range(n_crews):
        cluster = f"maintained_{b + 1:02d}"
        size = int(rng.integers(30, max(31, int(220 * w.scale**0.5))))
        n_camp = int(rng.integers(1, min(len(targets), 4) + 1))
        camps = [targets[i] for i in sorted(rng.choice(len(targets), n_camp, replace=False))]
        _maintained(w, cluster, size, camps)


def _maintained(w: World, cluster: str, size: int, camps: list[dict]) -> None:
    rng, c = w.rng, w.clock
    # waves: a few accounts every few weeks, over months before the campaigns
    n_waves = int(rng.integers(3, 9))
    centre = c.window_start - (rng.uniform(3, 150, n_waves) * DAY).astype(np.int64)
    wave = rng.integers(0, n_waves, size)
    reg = centre[wave] + (rng.uniform(0, 2, size) * DAY).astype(np.int64)
    reg = np.minimum(reg, camps[0]["released"] - DAY)
    virtual_share = float(rng.uniform(0.05, 0.5))
    per_drop = float(rng.uniform(3, 14))
    drops = w.ids.take("addr", int(np.ceil(size / per_drop)))
    addr = rng.choice(drops, size)
    acc = w.new_accounts(
        reg=reg,
        device=w.new_devices(size, emulator=True),
        ip=home_ips(rng, size),
        phone=phones(rng, size, virtual_share=virtual_share),
        channel=channels(rng, size),
        addr=addr,
    )
    w.plant(acc, "coupon_hoarding", cluster, "batch")
    _look_alive(w, acc)
    _claim_and_redeem(
        w,
        cluster,
        acc,
        camps,
        {"virtual_share": virtual_share, "per_drop": per_drop, "drops": len(drops), "waves": n_waves},
    )


def _look_alive(w: World, acc: np.ndarray) -> None:
    """A few human-timed browsing sessions and a plain order or two per account."""
    rng, c, size = w.rng, w.clock, len(acc)
    n_sess = rng.integers(2, 9, size)
    who = np.repeat(acc, n_sess)
    starts = c.human_times(rng, len(who), lo=np.maximum(w.acc["reg"][who] + HOUR, c.start))
    sessions(w, who, starts, rng.integers(2, 7, len(who)), None, action_p={"view": 0.8, "like": 0.1, "checkin": 0.1})
    n_plain = rng.integers(0, 3, size)
    buyer = np.repeat(acc, n_plain)
    shop = pick_weighted(rng, w.shops["weight"], len(buyer))
    t = c.human_times(rng, len(buyer), lo=np.maximum(w.acc["reg"][buyer] + HOUR, c.start))
    item = shop_items(w, shop)
    place_orders(w, buyer, shop, w.items["code"][item], t, w.items["price"][item])


def _redeem(w: World, camp: dict, u: np.ndarray, coupon: np.ndarray, t_use: np.ndarray, exact: float, resale) -> None:
    """Coupons redeemed on resale items, at the threshold (share `exact`) or just above it."""
    rng, k = w.rng, len(u)
    at = rng.random(k) < exact
    over = np.round(camp["threshold"] * rng.uniform(0.02, 0.08, k)).astype(np.int64)
    gross = camp["threshold"] + np.where(at, 0, over)
    it = rng.choice(resale, k)
    order = place_orders(
        w,
        u,
        w.items["shop"][it],
        w.items["code"][it],
        t_use,
        gross,
        discount=camp["face"],
        coupon=coupon,
        device=w.acc["device"][u],
        ip=w.acc["ip"][u],
    )
    coupon_events(
        w, camp["code"], coupon, u, "redeem", t_use, order=order, device=w.acc["device"][u], ip=w.acc["ip"][u]
    )


def _claim_and_redeem(w: World, cluster: str, acc: np.ndarray, camps: list[dict], drawn: dict) -> None:
    """Claims spread over the first minutes after each release; redemptions over the next
    days on the same few resale items, at or just above the threshold. Names the tactics."""
    rng, c, size = w.rng, w.clock, len(acc)
    claim_span = float(rng.uniform(45, 900))
    use_p = float(rng.uniform(0.8, 0.97))
    exact = float(rng.uniform(0.55, 0.95))
    resale_shop = pick_weighted(rng, w.shops["weight"], int(rng.integers(1, 3)))
    resale = shop_items(w, np.repeat(resale_shop, int(rng.integers(1, 3))))
    joins = rng.random((len(camps), size)) < rng.uniform(0.85, 1.0, (len(camps), 1))
    joins[rng.integers(0, len(camps), size), np.arange(size)] |= ~joins.any(axis=0)  # each at least once
    for camp, part in zip(camps, joins):
        who = acc[part]
        delay = rng.uniform(0.8, claim_span, len(who)) * SEC
        t_claim = camp["released"] + delay.astype(np.int64)
        coupon = claim(w, camp, who, t_claim, device=w.acc["device"][who], ip=w.acc["ip"][who])
        t_use = t_claim + (rng.uniform(0.2, 6, len(who)) * DAY).astype(np.int64)
        used = (rng.random(len(who)) < use_p) & (t_use < min(camp["expires"], c.end))
        lapse = ~used & (camp["expires"] < c.end)
        if lapse.any():
            coupon_events(w, camp["code"], coupon[lapse], who[lapse], "expire", camp["expires"])
        if used.any():
            _redeem(w, camp, who[used], coupon[used], t_use[used], exact, resale)
    tactics = set(MAINTAINED)
    if claim_span > 300:
        tactics.add("slow_claims")
    if exact < 0.75:
        tactics.add("above_threshold")
    if drawn["per_drop"] < 6:
        tactics.add("many_drops")
    if use_p < 0.9:
        tactics.add("some_unused")
    w.params.setdefault("evasions", {})[cluster] = ";".join(sorted(tactics))
    w.params["coupon_hoarding_adaptive"].append({
        "cluster": cluster, "size": size, "waves": drawn["waves"],
        "virtual_share": round(drawn["virtual_share"], 3), "drop_addresses": drawn["drops"], "claim_span_s": round(claim_span, 1), "use_p": round(use_p, 3),
        "exact_threshold": round(exact, 3), "resale_items": len(set(resale.tolist())),
        "campaigns": [f"cmp_{k['code']:03d}" for k in camps],
    })  # fmt: skip
