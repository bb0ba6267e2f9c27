"""Extortion rings: bought accounts that buy something cheap from chosen small shops, post a
one- or two-star review, ask for a refund and compensation, and once paid withdraw the review
or amend it to five stars. Members also shop normally at popular shops as camouflage."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import change_reviews, post_reviews, refunds
from abuse.generate.background import cheap_orders, honest_orders
from abuse.generate.columns import OUTCOMES, enum
from abuse.generate.identity import block_ips, channels, home_ips, phones, random_blocks
from abuse.generate.world import DAY, HOUR, MIN, World

APPROVED, REJECTED = enum(OUTCOMES, "approved"), enum(OUTCOMES, "rejected")


def plant_rings(w: World) -> None:
    rng = w.rng
    order = np.argsort(-w.shops["weight"], kind="stable")
    n_shops = len(order)
    popular = order[: max(5, n_shops // 20)]
    candidates = order[int(n_shops * 0.25) : int(n_shops * 0.95)]
    n_rings = max(1, int(round(rng.integers(2, 5) * w.scale**0.5)))
    w.params["extortion_rings"] = []
    for r in range(n_rings):
        _ring(w, f"ring_{r + 1:02d}", candidates, popular)


def _ring(w: World, cluster: str, candidates: np.ndarray, popular: np.ndarray) -> None:
    rng, c = w.rng, w.clock
    size = int(rng.integers(6, 41))
    n_targets = min(int(rng.integers(5, 61)), len(candidates))
    participation = float(rng.uniform(0.3, 0.8))
    weeks = float(rng.uniform(1, 4))
    span = int(min(weeks * 7, 26) * DAY)
    start = c.window_start + int(rng.uniform(0, 27 * DAY - span))
    shares_devices = bool(rng.random() < 0.5)
    p_comp, p_withdraw, p_pay = rng.uniform(0.4, 0.9), rng.uniform(0.4, 0.9), rng.uniform(0.6, 0.95)
    # bought accounts: registered long ago, little history
    reg = c.past_times(rng, size, 300, 1100, min_days=int(rng.integers(60, 300)))
    device = w.new_devices(size)
    ip = home_ips(rng, size)
    if shares_devices:
        pool = w.new_devices(max(1, size // int(rng.integers(3, 8))))
        use = rng.random(size) < rng.uniform(0.3, 0.9)
        device = np.where(use, rng.choice(pool, size), device)
        ip = np.where(use, block_ips(rng, size, random_blocks(rng, int(rng.integers(1, 3)))), ip)
    acc = w.new_accounts(reg=reg, device=device, ip=ip, phone=phones(rng, size, 0.1), channel=channels(rng, size))
    w.plant(acc[:1], "extortion_ring", cluster, "leader")
    w.plant(acc[1:], "extortion_ring", cluster, "member")
    # camouflage: ordinary purchases with good reviews at popular shops
    n_cam = rng.integers(1, 7, size)
    cam_acc = np.repeat(acc, n_cam)
    honest_orders(
        w,
        cam_acc,
        rng.choice(popular, len(cam_acc)),
        c.human_times(rng, len(cam_acc)),
        unhappy=np.zeros(len(cam_acc), bool),
        review_p=0.6,
    )
    # the attacks
    targets = rng.choice(candidates, n_targets, replace=False)
    w.ring_shops.append((cluster, targets))
    style = texts.ring_style(rng)
    n_attacks = 0
    for shop in targets:
        who = acc[rng.random(size) < participation]
        if len(who) < 2:
            who = rng.choice(acc, 2, replace=False)
        day0 = start + int(rng.uniform(0, span - 4 * DAY)) if span > 4 * DAY else start
        t = c.human_times(rng, len(who), lo=day0, hi=day0 + int(rng.uniform(1, 4) * DAY))
        n_attacks += len(who)
        _attack(w, who, np.full(len(who), shop), t, style, p_comp, p_withdraw, p_pay)
    w.params["extortion_rings"].append(
        {
            "cluster": cluster,
            "size": size,
            "targets": n_targets,
            "participation": round(participation, 3),
            "weeks": round(weeks, 2),
            "start": c.iso(start),
            "shares_devices": shares_devices,
            "p_compensation": round(float(p_comp), 3),
            "p_withdraw": round(float(p_withdraw), 3),
            "attacks": n_attacks,
        }
    )


def _attack(w: World, acc, shop, t, style, p_comp, p_withdraw, p_pay) -> None:
    rng, n, end = w.rng, len(acc), w.clock.end
    order, gross = cheap_orders(w, acc, shop, t)
    t_rv = t + rng.integers(20 * HOUR, 4 * DAY, n)
    keep = t_rv < end  # the export ends before some of them got to it
    acc, shop, t, t_rv, order, gross = acc[keep], shop[keep], t[keep], t_rv[keep], order[keep], gross[keep]
    n = len(acc)
    rating = rng.choice([1, 2], n, p=[0.75, 0.25])
    txt = w.texts.codes([texts.ring_text(rng, style) for _ in range(n)])
    review = post_reviews(w, order, acc, shop, t_rv, rating, txt)
    t_rf = t_rv + rng.integers(10 * MIN, DAY, n)
    resolve = np.exp(rng.normal(np.log(10 * HOUR), 0.8, n)).astype(np.int64)
    paid_refund = rng.random(n) < p_pay
    reason = w.texts.codes([texts.RING_REASONS[i] for i in rng.integers(0, len(texts.RING_REASONS), n)])
    ok = t_rf + resolve < end
    refunds(
        w,
        order[ok],
        acc[ok],
        shop[ok],
        gross[ok],
        t_rf[ok],
        resolve[ok],
        np.where(paid_refund, APPROVED, REJECTED)[ok],
        reason[ok],
    )
    comp = ok & (rng.random(n) < p_comp)
    comp_ok = comp & (rng.random(n) < 0.85)
    if comp.any():
        amount = np.round(np.maximum(gross * rng.uniform(0.5, 3.0, n), rng.integers(1000, 20000, n)))
        creason = w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, n)])
        refunds(
            w,
            order[comp],
            acc[comp],
            shop[comp],
            amount[comp].astype(np.int64),
            t_rf[comp] + rng.integers(MIN, 6 * HOUR, int(comp.sum())),
            resolve[comp],
            np.where(comp_ok, APPROVED, REJECTED)[comp],
            creason[comp],
            kind="compensation",
        )
    paid = ok & (paid_refund | comp_ok)
    t_ch = t_rf + resolve + rng.integers(HOUR, 2 * DAY, n) + 6 * HOUR
    change = paid & (rng.random(n) < p_withdraw) & (t_ch < end)
    withdraw = change & (rng.random(n) < 0.5)
    amend = change & ~withdraw
    if withdraw.any():
        change_reviews(
            w,
            review[withdraw],
            order[withdraw],
            acc[withdraw],
            shop[withdraw],
            t_ch[withdraw],
            -1,
            -1,
            "withdrawn",
        )
    if amend.any():
        k = int(amend.sum())
        txt = w.texts.codes(
            [["问题已解决，好评", "商家处理很好", "resolved, thanks", "已协商解决"][i] for i in rng.integers(0, 4, k)]
        )
        change_reviews(w, review[amend], order[amend], acc[amend], shop[amend], t_ch[amend], 5, txt, "amended")


# --------------------------------------------------------------------------- adaptive crews
# Compensation words a crew puts in free text when it avoids the ``kind`` field.
