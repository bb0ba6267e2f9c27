"""An extortion crew scattered over hundreds of small shops (``abuse generate --adversarial``,
own stream ``[seed, 1105]``, planted last): each member hits one or two shops once, so two
members almost never share a victim; demands in a script of threats in several languages
(amounts varied) or in the member's own words; money through the ``kind`` field, ordinary
refunds or off the platform; the review withdrawn or raised once paid; old bought accounts
registered over years; a few members on a shared phone or home network."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import change_reviews, post_reviews, refunds
from abuse.generate.background import cheap_orders, honest_orders
from abuse.generate.columns import OUTCOMES, enum
from abuse.generate.identity import block_ips, channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, MIN, World

APPROVED, REJECTED = enum(OUTCOMES, "approved"), enum(OUTCOMES, "rejected")

# threats in several languages; {amt} is the sum asked for
THREATS = [
    "商品坏了，赔我{amt}元，不然全网差评",
    "Product arrived broken. Pay {amt} yuan or I post this everywhere.",
    "商品が壊れていました。{amt}元補償しなければ通報します。",
    "상품이 불량입니다. {amt}위안 보상해 주지 않으면 신고하겠습니다.",
    "Товар бракованный. Верните {amt} юаней, иначе будут отзывы везде.",
    "Hàng giả, bồi thường {amt} tệ ngay, nếu không sẽ đánh giá 1 sao khắp nơi.",
    "Produk rusak, minta ganti rugi {amt} yuan atau saya laporkan ke platform.",
    "Mauvaise qualité, remboursez {amt} yuans, sinon d'autres avis arrivent.",
    "Fake goods. I want {amt} yuan or more bad reviews will come.",
    "Ware kaputt. Zahlen Sie {amt} Yuan, sonst folgen weitere Bewertungen.",
]
REASONS = ["quality", "质量问题", "damaged", "商品破损", "not as described"]


def long_tail_shops(w: World, rng: np.random.Generator, people: np.ndarray) -> np.ndarray:
    """Hundreds of small shops (the marketplace's long tail), each with a few ordinary
    buyers over the last months (their own reviews, refunds and goodwill compensations);
    their codes start past those other scenarios add (launch shops)."""
    c = w.clock
    n0 = len(w.shops["weight"])
    base = n0 + 8
    n_new = max(60, int(rng.integers(300, 900) * w.scale))
    n_items = rng.integers(2, 10, n_new)
    start = len(w.items["shop"]) + np.concatenate([[0], np.cumsum(n_items)[:-1]])
    item_shop = np.repeat(np.arange(base, base + n_new), n_items)
    price = np.exp(rng.normal(np.log(60), 0.8, len(item_shop)))
    w.items = {
        "shop": np.concatenate([w.items["shop"], item_shop]),
        "price": np.concatenate([w.items["price"], np.clip(np.round(price * 100), 290, 500_000).astype(np.int64)]),
        "code": np.concatenate([w.items["code"], w.ids.take("item", len(item_shop)) * 7 + 1000]),
    }
    pad = np.zeros(base - n0)
    w.shops = {
        "weight": np.concatenate([w.shops["weight"], pad, np.exp(rng.normal(-2.5, 0.7, n_new))]),
        "bad": np.concatenate([w.shops["bad"], pad, rng.beta(1.5, 25, n_new)]),
        "refund_rate": np.concatenate([w.shops["refund_rate"], pad, rng.uniform(0.015, 0.05, n_new)]),
        "item_start": np.concatenate([w.shops["item_start"], pad.astype(np.int64), start]),
        "n_items": np.concatenate([w.shops["n_items"], pad.astype(np.int64), n_items]),
    }
    shops = np.arange(base, base + n_new)
    n_orders = rng.integers(1, 30, n_new)
    shop = np.repeat(shops, n_orders)
    buyers = rng.choice(people, len(shop))
    t = c.human_times(rng, len(shop), lo=max(c.start, c.window_start - 90 * DAY))
    honest_orders(w, buyers, shop, t)
    w.params["long_tail_shops"] = int(n_new)
    ask_rate = _honest_askers(w, rng, people, shops)
    w.params["honest_comp_askers"] = round(ask_rate, 3)
    return shops


def _honest_askers(w: World, rng: np.random.Generator, people: np.ndarray, shops: np.ndarray) -> float:
    """Ordinary unhappy buyers of the long tail: a low review and, at a rate drawn per seed
    from a wide range, a compensation request in the ``kind`` field (a shop's goodwill
    gesture is common there), so that asking for compensation is no rare act by itself;
    some come back later and withdraw or raise the review as everyone does. Their share of
    the long tail's shops and buyers is drawn per seed too. Returns the asking rate."""
    c = w.clock
    rate = float(rng.uniform(0.05, 0.45))
    n = int(len(shops) * rng.uniform(0.3, 1.5))
    acc = rng.choice(people, n)
    shop = rng.choice(shops, n)
    t = c.human_times(rng, n, lo=c.window_start - 20 * DAY, hi=c.end - 5 * DAY)
    order = honest_orders(w, acc, shop, t, unhappy=np.ones(n, bool), review_p=0.55)
    ask = rng.random(n) < rate
    if ask.any():
        k = int(ask.sum())
        reason = w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, k)])
        refunds(
            w,
            order[ask],
            acc[ask],
            shop[ask],
            rng.integers(300, 3000, k),
            t[ask] + rng.integers(DAY, 5 * DAY, k),
            rng.integers(HOUR, 2 * DAY, k),
            np.where(rng.random(k) < 0.7, APPROVED, REJECTED),
            reason,
            kind="compensation",
        )
    return rate


def plant_scattered_ring(w: World, people: np.ndarray) -> None:
    """One scattered crew (see the module docstring) over the marketplace's long tail of
    small shops (``long_tail_shops``); every parameter drawn per seed from a wide range, the
    evasions it used written to ``truth`` (``evasion``)."""
    rng = np.random.default_rng([w.seed, 1105])
    c = w.clock
    cluster = "sring_01"
    size = max(8, int(round(rng.integers(15, 41) * w.scale**0.5)))
    n_old = len(w.shops["weight"])
    popular = np.argsort(-w.shops["weight"], kind="stable")[: max(5, n_old // 20)]
    tail = long_tail_shops(w, rng, people)
    pool = tail[: max(20, int(len(tail) * rng.uniform(0.4, 1.0)))]
    p_two = float(rng.uniform(0.3, 0.7))
    p_script = float(rng.uniform(0.3, 0.9))
    ask = rng.dirichlet(np.ones(3))  # the kind field, an ordinary refund, off the platform
    p_withdraw = float(rng.uniform(0.4, 0.9))
    p_pay = float(rng.uniform(0.6, 0.95))
    p_shared = float(rng.uniform(0.0, 0.7))
    script = rng.choice(len(THREATS), int(rng.integers(2, 6)), replace=False)
    # old bought accounts: registered over 1-3 years, no cohort, few invitations
    reg = c.past_times(rng, size, 200, int(rng.uniform(365, 1100)), min_days=30)
    device = w.new_devices(size)
    ip = home_ips(rng, size)
    share = np.flatnonzero(rng.random(size) < p_shared)
    n_groups = 0
    if len(share) >= 2:  # members on a few shared phones, home networks or one provider's block
        n_groups = int(rng.integers(1, max(2, min(4, len(share) // 2 + 1))))
        group = rng.integers(0, n_groups, len(share))
        for j in range(n_groups):
            mine = share[group == j]
            if len(mine) < 2:
                continue
            how = rng.choice(["device", "network", "block"])
            if how == "device":  # one phone passed around (its home network with it)
                device[mine] = device[mine[0]]
                ip[mine] = ip[mine[0]]
            elif how == "network":
                ip[mine] = ip[mine[0]]
            else:  # own phones and addresses in one /24
                ip[mine] = block_ips(rng, len(mine), np.array([ip[mine[0]] >> 8]))
    acc = w.new_accounts(reg=reg, device=device, ip=ip, phone=phones(rng, size), channel=channels(rng, size))
    w.plant(acc, "extortion_ring", cluster, "member")
    # camouflage: ordinary purchases with good reviews at popular shops
    n_cam = rng.integers(1, 8, size)
    cam_acc = np.repeat(acc, n_cam)
    honest_orders(
        w,
        cam_acc,
        rng.choice(popular, len(cam_acc)),
        c.human_times(rng, len(cam_acc), lo=np.maximum(np.repeat(reg, n_cam) + DAY, c.start)),
        unhappy=np.zeros(len(cam_acc), bool),
        review_p=0.6,
    )
    hits = np.where(rng.random(size) < p_two, 2, 1)
    a = np.repeat(acc, hits)
    s = np.concatenate([rng.choice(pool, k, replace=False) for k in hits])
    t = c.human_times(rng, len(a), lo=c.window_start, hi=c.end - 6 * DAY)
    _attack(w, rng, a, s, t, script, p_script, ask, p_withdraw, p_pay)
    w.ring_shops.append((cluster, np.unique(s)))
    tactics = ["one_or_two_shops", "foreign_script", "no_cohort"]
    names = ["comp_kind", "plain_refunds", "offplatform_pay"]
    tactics += [n for n, x in zip(names[1:], ask[1:], strict=True) if x >= 0.15]
    if n_groups:
        tactics.append("shared_traits")
    w.params.setdefault("evasions", {})[cluster] = ";".join(sorted(tactics))
    w.params["scattered_ring"] = {
        "size": size, "pool": int(len(pool)), "victims": int(len(np.unique(s))), "p_two": round(p_two, 2),
        "p_script": round(p_script, 2), "ask_mix": [round(float(x), 2) for x in ask],
        "p_withdraw": round(p_withdraw, 2), "p_pay": round(p_pay, 2), "shared": int(len(share)),
        "share_groups": n_groups,
    }  # fmt: skip


def _attack(w: World, rng, acc, shop, t, script, p_script, ask, p_withdraw, p_pay) -> None:
    """Order cheaply, review low (a threat from the script or the member's own words), ask
    for money (0 compensation kind, 1 ordinary refund, 2 off the platform), and withdraw or
    raise the review once paid."""
    end = w.clock.end
    order, gross = cheap_orders(w, acc, shop, t)
    n = len(acc)
    t_rv = t + rng.integers(6 * HOUR, 3 * DAY, n)
    keep = t_rv < end
    acc, shop, t_rv, order, gross = (x[keep] for x in (acc, shop, t_rv, order, gross))
    n = len(acc)
    mode = rng.choice(3, n, p=ask)
    amt = np.round(gross / 100 * rng.uniform(1.0, 4.0, n)).astype(int)
    body = [
        THREATS[int(rng.choice(script))].format(amt=amt[i])
        if rng.random() < p_script
        else texts.NEGATIVE[int(rng.integers(len(texts.NEGATIVE)))]
        for i in range(n)
    ]
    review = post_reviews(w, order, acc, shop, t_rv, np.where(rng.random(n) < 0.5, 1, 2), w.texts.codes(body))
    t_rf = t_rv + rng.integers(10 * MIN, DAY, n)
    resolve = np.exp(rng.normal(np.log(10 * HOUR), 0.8, n)).astype(np.int64)
    ok = (t_rf + resolve < end) & (mode != 2)
    paid = ok & (rng.random(n) < p_pay)
    outcome = np.where(paid, APPROVED, REJECTED)
    reason = w.texts.codes([REASONS[i] for i in rng.integers(0, len(REASONS), n)])
    for m, kind, amount in ((0, "compensation", amt * 100), (1, "refund", gross)):
        sel = ok & (mode == m)
        if sel.any():
            refunds(
                w,
                order[sel],
                acc[sel],
                shop[sel],
                amount[sel].astype(np.int64),
                t_rf[sel],
                resolve[sel],
                outcome[sel],
                reason[sel],
                **({"kind": kind} if kind == "compensation" else {}),
            )
    settled = paid | (mode == 2)
    t_ch = np.where(mode == 2, t_rv + rng.integers(DAY, 5 * DAY, n), t_rf + resolve + rng.integers(HOUR, 2 * DAY, n))
    change = settled & (rng.random(n) < p_withdraw) & (t_ch < end)
    withdraw = change & (rng.random(n) < 0.6)
    amend = change & ~withdraw
    if withdraw.any():
        change_reviews(
            w, review[withdraw], order[withdraw], acc[withdraw], shop[withdraw], t_ch[withdraw], -1, -1, "withdrawn"
        )
    if amend.any():
        k = int(amend.sum())
        txt = w.texts.codes([["已解决", "resolved, thanks", "商家处理很好"][i] for i in rng.integers(0, 3, k)])
        change_reviews(
            w, review[amend], order[amend], acc[amend], shop[amend], t_ch[amend], rng.integers(4, 6, k), txt, "amended"
        )
