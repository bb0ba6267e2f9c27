"""Extortion crews that adapt (``abuse generate --adversarial``): no shared devices or IPs, a
leader with apprentices recruited in waves weeks apart (some invited by the leader), each member
hitting a few of dozens of victims once over months, 2-star reviews as often as 1-star, money
asked in free text, through plain refunds or off the platform, camouflage buying."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.actions import change_reviews, post_reviews, refunds
from abuse.generate.background import cheap_orders, honest_orders
from abuse.generate.columns import OUTCOMES, enum
from abuse.generate.identity import channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, MIN, World

APPROVED, REJECTED = enum(OUTCOMES, "approved"), enum(OUTCOMES, "rejected")


COMP_WORDS = [
    "要求赔偿",
    "退一赔三",
    "补偿我",
    "赔偿损失",
    "假一赔十",
    "pay compensation",
    "compensate me",
    "精神损失费",
]
PLAIN_REASONS = ["质量问题", "与描述不符", "商品破损", "quality issue", "不想要了", "发错货"]


def plant_adversarial_rings(w: World, dispersed: bool = False) -> None:
    """Crews that adapted to a detector relying on dense co-targeting, shared devices and the
    paid-then-withdrawn signature (``abuse generate --adversarial``; draws from its own
    stream, planted after every default scenario):

    - own devices and home IPs (no shared identifiers);
    - a leader (old account) with apprentices recruited in 1-4 waves weeks apart, registered
      in small cohorts, some invited by the leader (``invited_by``);
    - each member hits only 2-5 of dozens of victims, once each, so the account-shop block
      is sparse (most member pairs share at most one shop); a victim is hit by 2-4 members
      within a campaign whose width is drawn from 1 to 20 days, or (10-60% of the victims,
      per ring: ``lone_victims``) by a single member; victims are drawn by popularity to a
      power in 0..1, so some are busy shops with unhappy buyers of their own
      (``busy_victims``);
    - 1- and 2-star ratings about equally often, in house-style or in their own words;
    - money asked for through the ``kind`` field, in free text (refund reason or review),
      through ordinary refunds, or not on the platform at all (the review is withdrawn with
      no refund record: paid off the platform);
    - camouflage purchases with good reviews at popular shops.

    Every parameter is drawn per ring from a wide range; ``truth/accounts.csv`` names the
    evasions each crew used (column ``evasion``). ``dispersed`` adds one more crew (own
    stream ``[seed, 1102]``, evasion ``dispersed``): 60-90% of its victims hit by a single
    member, members registered over 1-3 years, at most a third invited."""
    rng = np.random.default_rng([w.seed, 1101])
    order = np.argsort(-w.shops["weight"], kind="stable")
    n_shops = len(order)
    popular = order[: max(5, n_shops // 20)]
    taken = np.concatenate([s for _, s in w.ring_shops]) if w.ring_shops else np.empty(0, int)
    candidates = order[int(n_shops * 0.2) : int(n_shops * 0.97)]
    free = candidates[~np.isin(candidates, taken)]
    candidates = free if len(free) >= 40 else candidates
    n_rings = max(2, int(round(rng.integers(2, 5) * w.scale**0.5)))
    w.params["adversarial_rings"] = []
    for r in range(n_rings):
        _adaptive_ring(w, rng, f"aring_{r + 1:02d}", candidates, popular)
        left = candidates[~np.isin(candidates, w.ring_shops[-1][1])]
        candidates = left if len(left) >= 40 else candidates
    if not dispersed:
        return
    # a dispersed crew (own stream): nearly every victim hit by one member only, old bought
    # accounts registered over years (no registration cohort), few invitations. Opt-in: the
    # detector misses its members that share no victim with another (see the README)
    _adaptive_ring(
        w, np.random.default_rng([w.seed, 1102]), f"aring_{n_rings + 1:02d}", candidates, popular, dispersed=True
    )


def _assign_victims(rng: np.random.Generator, hits: np.ndarray, p_lone: float = 0.0) -> list[np.ndarray]:
    """Members per victim (2-4 each, or a single member with probability ``p_lone``; no
    member twice on one victim) so that member ``i`` hits ``hits[i]`` victims: a sparse
    block, in which a lone victim shares no attacker with any other."""
    slots = np.repeat(np.arange(len(hits)), hits)
    rng.shuffle(slots)
    out: list[list[int]] = []
    i = 0
    while i < len(slots):
        k = 1 if rng.random() < p_lone else int(rng.integers(2, 5))
        group: list[int] = []
        for m in slots[i : i + k].tolist():
            if m in group:  # a member twice: its second hit goes to an earlier victim
                for g in out[::-1]:
                    if m not in g:
                        g.append(m)
                        break
            else:
                group.append(m)
        i += k
        if len(group) >= 2 or (k == 1 and group):
            out.append(group)
        elif group and out:
            for g in out[::-1]:
                if group[0] not in g:
                    g.append(group[0])
                    break
    return [np.array(g) for g in out]


def _adaptive_ring(
    w: World,
    rng: np.random.Generator,
    cluster: str,
    candidates: np.ndarray,
    popular: np.ndarray,
    dispersed: bool = False,
) -> None:
    """One adaptive crew (see ``plant_adversarial_rings``). ``dispersed``: the share of lone
    victims is drawn from 0.6-0.9, the members are old accounts registered over 1-3 years
    and at most a third of them were invited (the other crews' draws stay as they were)."""
    c = w.clock
    size = int(rng.integers(8, 36))
    n_waves = int(rng.integers(1, 5))
    wave_gap = float(rng.uniform(7, 28)) * DAY
    width = float(rng.uniform(1, 20)) * DAY  # campaign width at one victim
    p_one = float(rng.uniform(0.35, 0.65))
    ask = rng.dirichlet(np.ones(4) * 0.8)  # kind field, words in text, plain refund, off-platform
    p_withdraw = float(rng.uniform(0.3, 0.9))
    p_own_words = float(rng.uniform(0, 1))
    p_invited = float(rng.uniform(0.2, 0.9))
    p_pay = float(rng.uniform(0.5, 0.95))
    # waves: the last one joins at least 12 days before the end, the first one earlier
    last_join = c.end - int(rng.uniform(12, 20) * DAY)
    joins = last_join - (n_waves - 1 - np.arange(n_waves)) * int(wave_gap)
    joins = np.maximum(joins, c.start - 60 * DAY)
    wave = np.concatenate([[0], np.sort(rng.integers(0, n_waves, size - 1))])
    cohort_days = float(rng.uniform(0.5, 5))
    reg = joins[wave] - int(rng.uniform(1, 10) * DAY) + (rng.random(size) * cohort_days * DAY).astype(np.int64)
    reg[0] = c.past_times(rng, 1, 400, 1200, min_days=90)[0]  # the leader is an old account
    if dispersed:
        p_invited = float(rng.uniform(0.0, 0.35))
        reg = c.past_times(rng, size, 300, int(rng.uniform(365, 1100)), min_days=30)
    leader_code = int(w.ids.next["account"])
    invited = np.where(rng.random(size) < p_invited, leader_code, -1)
    invited[0] = -1
    acc = w.new_accounts(
        reg=reg,
        device=w.new_devices(size),
        ip=home_ips(rng, size),
        phone=phones(rng, size),
        channel=channels(rng, size),
        invited_by=invited,
    )
    assert acc[0] == leader_code
    w.plant(acc[:1], "extortion_ring", cluster, "leader")
    w.plant(acc[1:], "extortion_ring", cluster, "member")
    # camouflage: ordinary purchases with good reviews at popular shops
    n_cam = rng.integers(2, 16, size)
    cam_acc = np.repeat(acc, n_cam)
    cam_lo = np.maximum(np.repeat(reg, n_cam) + DAY, c.start)
    honest_orders(
        w,
        cam_acc,
        rng.choice(popular, len(cam_acc)),
        c.human_times(rng, len(cam_acc), lo=cam_lo),
        unhappy=np.zeros(len(cam_acc), bool),
        review_p=float(rng.uniform(0.5, 0.95)),
    )
    # the sparse block: each member hits 2-5 victims once, in the window, after joining
    hits = rng.integers(2, 6, size)
    # lone victims: a share of the victims is hit by one member only (drawn per ring)
    p_lone = float(rng.uniform(0.1, 0.6)) if not dispersed else float(rng.uniform(0.6, 0.9))
    groups = _assign_victims(rng, hits, p_lone)
    n_targets = min(len(groups), len(candidates))
    groups = groups[:n_targets]
    # victims drawn by popularity to a power: 0 = any small shop alike, 1 = busy shops
    # (many buyers, their own share of unhappy ones) as often as they sell
    tilt = float(rng.uniform(0, 1))
    weight = w.shops["weight"][candidates].astype(float) ** tilt
    targets = rng.choice(candidates, n_targets, replace=False, p=weight / weight.sum())
    style = texts.ring_style(rng)
    att_acc, att_shop, att_t = [], [], []
    for shop, who in zip(targets.tolist(), groups, strict=True):
        lo = max(c.window_start, int(joins[wave[who]].max()))
        hi = c.end - int(width) - 5 * DAY
        c0 = lo + int(rng.random() * max(hi - lo, DAY))
        t = c.human_times(rng, len(who), lo=c0, hi=c0 + int(width) + HOUR)
        att_acc.append(acc[who])
        att_shop.append(np.full(len(who), shop))
        att_t.append(t)
    a, s, t = np.concatenate(att_acc), np.concatenate(att_shop), np.concatenate(att_t)
    mode = rng.choice(4, len(a), p=ask)
    _adaptive_attack(w, rng, a, s, t, mode, style, p_one, p_withdraw, p_own_words, p_pay)
    w.ring_shops.append((cluster, targets))
    tactics = ["no_shared_ids", "sparse_block", "camouflage", "two_star"]
    if n_waves > 1:
        tactics.append("waves")
    if width > 7 * DAY:
        tactics.append("spread_in_time")
    names = ["comp_kind", "comp_in_text", "plain_refunds", "offplatform_pay"]
    tactics += [n for n, share in zip(names[1:], ask[1:], strict=True) if share >= 0.15]
    if p_own_words >= 0.5:
        tactics.append("own_words")
    if p_lone >= 0.3:
        tactics.append("lone_victims")
    if tilt >= 0.5:
        tactics.append("busy_victims")
    if dispersed:
        tactics.append("dispersed")
    w.params.setdefault("evasions", {})[cluster] = ";".join(sorted(tactics))
    w.params["adversarial_rings"].append({
        "cluster": cluster, "size": size, "targets": int(n_targets), "waves": n_waves,
        "wave_gap_days": round(wave_gap / DAY, 1), "campaign_width_days": round(width / DAY, 1),
        "p_one_star": round(p_one, 2), "ask_mix": [round(float(x), 2) for x in ask],
        "p_withdraw": round(p_withdraw, 2), "p_own_words": round(p_own_words, 2),
        "p_invited": round(p_invited, 2), "attacks": int(len(a)),
        "p_lone_victim": round(p_lone, 2), "popularity_tilt": round(tilt, 2),
    })  # fmt: skip


def _adaptive_attack(
    w: World, rng: np.random.Generator, acc, shop, t, mode, style, p_one, p_withdraw, p_own_words, p_pay
) -> None:
    """Order cheaply, review low, then ask for money by ``mode`` (0 compensation kind,
    1 compensation words in a refund reason or the review, 2 a plain refund, 3 nothing on
    the platform), and withdraw or raise the review once paid."""
    end = w.clock.end
    order, gross = cheap_orders(w, acc, shop, t)
    n = len(acc)
    t_rv = t + rng.integers(12 * HOUR, 4 * DAY, n)
    keep = t_rv < end
    acc, shop, t_rv, order, gross, mode = (x[keep] for x in (acc, shop, t_rv, order, gross, mode))
    n = len(acc)
    rating = np.where(rng.random(n) < p_one, 1, 2)
    own = rng.random(n) < p_own_words
    words_in_review = (mode == 1) & (rng.random(n) < 0.5)
    body = []
    for i in range(n):
        txt = texts.NEGATIVE[int(rng.integers(len(texts.NEGATIVE)))] if own[i] else texts.ring_text(rng, style)
        if words_in_review[i]:
            txt += "，" + COMP_WORDS[int(rng.integers(len(COMP_WORDS)))]
        body.append(txt)
    review = post_reviews(w, order, acc, shop, t_rv, rating, w.texts.codes(body))
    t_rf = t_rv + rng.integers(10 * MIN, DAY, n)
    resolve = np.exp(rng.normal(np.log(10 * HOUR), 0.8, n)).astype(np.int64)
    ok = (t_rf + resolve < end) & (mode != 3)
    paid = ok & (rng.random(n) < p_pay)
    reasons = []
    for i in range(n):
        r = PLAIN_REASONS[int(rng.integers(len(PLAIN_REASONS)))]
        if mode[i] == 1 and not words_in_review[i]:
            r += "，" + COMP_WORDS[int(rng.integers(len(COMP_WORDS)))]
        elif mode[i] == 0:
            r = texts.RING_REASONS[int(rng.integers(len(texts.RING_REASONS)))]
        reasons.append(r)
    reason = w.texts.codes(reasons)
    amount = np.where(mode == 1, np.round(gross * rng.uniform(1.0, 3.0, n)), gross).astype(np.int64)
    if ok.any():
        refunds(
            w,
            order[ok],
            acc[ok],
            shop[ok],
            amount[ok],
            t_rf[ok],
            resolve[ok],
            np.where(paid, APPROVED, REJECTED)[ok],
            reason[ok],
        )
    comp = ok & (mode == 0)
    if comp.any():
        k = int(comp.sum())
        camount = np.round(np.maximum(gross * rng.uniform(0.5, 3.0, n), rng.integers(1000, 20000, n)))
        creason = w.texts.codes([texts.COMPENSATION_REASONS[i] for i in rng.integers(0, 5, n)])
        refunds(
            w,
            order[comp],
            acc[comp],
            shop[comp],
            camount[comp].astype(np.int64),
            t_rf[comp] + rng.integers(MIN, 6 * HOUR, k),
            resolve[comp],
            np.where(rng.random(k) < 0.85, APPROVED, REJECTED),
            creason[comp],
            kind="compensation",
        )
    # off the platform: paid in private, the review goes once the money arrived
    settled = paid | (mode == 3)
    t_ch = np.where(mode == 3, t_rv + rng.integers(DAY, 5 * DAY, n), t_rf + resolve + rng.integers(HOUR, 2 * DAY, n))
    change = settled & (rng.random(n) < p_withdraw) & (t_ch < end)
    revise_reviews(w, rng, change, review, order, acc, shop, t_ch, withdrawn=mode == 3)


REVISED = ["问题已解决，好评", "商家处理很好", "resolved, thanks", "已协商解决"]


def revise_reviews(w: World, rng, change, review, order, acc, shop, t_ch, *, withdrawn=None, texts=REVISED) -> None:
    """The reviews in ``change`` withdrawn (those in ``withdrawn`` and half of the others) or
    raised to 4-5 stars with one of ``texts``, at ``t_ch``."""
    coin = rng.random(len(change)) < 0.5
    withdraw = change & (coin if withdrawn is None else (withdrawn | coin))
    amend = change & ~withdraw
    if withdraw.any():
        change_reviews(
            w, review[withdraw], order[withdraw], acc[withdraw], shop[withdraw], t_ch[withdraw], -1, -1, "withdrawn"
        )
    if amend.any():
        k = int(amend.sum())
        txt = w.texts.codes([texts[i] for i in rng.integers(0, len(texts), k)])
        change_reviews(
            w, review[amend], order[amend], acc[amend], shop[amend], t_ch[amend], rng.integers(4, 6, k), txt, "amended"
        )
