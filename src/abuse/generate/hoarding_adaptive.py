"""Coupon-hoarding crews with maintained accounts (``abuse generate --adversarial``): registered
in small waves over months on emulator devices and residential proxies, mostly real numbers,
light fake activity to look alive, claims spread over the first minutes after a release and
redemption over days, at or just above the threshold, to a few drop addresses."""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import coupon_events, place_orders, sessions
from abuse.generate.background import pick_weighted, shop_items
from abuse.generate.coupons import claim
from abuse.generate.identity import (
    channels,
    home_ips,
    phones,
)
from abuse.generate.world import DAY, HOUR, SEC, World

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
