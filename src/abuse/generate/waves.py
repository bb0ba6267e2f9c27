"""Incidents at every time scale, with the truth of each in truth/spikes.csv (issue 12).

Abusive (``kind`` abusive):
- registration waves of a batch lasting 20 minutes to two days, some overnight, some across a
  day boundary: a few devices and proxy blocks, virtual number segments, then nothing else
  (``batch_registration``, cluster ``wave_XX``);
- a release-time claim burst dominated by a batch: accounts registered together days before
  claim a campaign's coupons within seconds of its release and never use them
  (``coupon_hoarding``, cluster ``release_batch_01``); the release's truth row says ``planted``
  when the batch is most of its first ten minutes' claimers (truth.mark_release_spikes);
- recurring bot ticks: a handful of accounts spin the lottery every hour at one minute for a few
  days (``scripted_timing``, cluster ``ticks_01``; one incident).

Benign (``kind`` benign_*; look-alikes that must stay unflagged):
- ``benign_tv_ad``: a TV ad at night brings a surge of real signups within the hour; most go on
  to browse and some order at once (``tv_ad_signup``, group ``tv_ad_02``);
- ``benign_referral``: a referral push over most of a day, invitees of one popular inviter who
  then use the app (``referral_burst``, group ``referral_02``).
(The flash sale and the campaign releases are benign_campaign rows of coupons.people_claims.)

Adversarial mode adds slow waves (own stream ``[seed, 1202]``, cluster ``wave_slow_XX``): a batch
registered over 6 to 40 hours at only 1.2 to 2.5 times the platform's mean hourly rate, rising and
falling, sometimes pausing for an hour or two, on many devices and home addresses (nothing a
machine shares), then idle: only the idle crowd over the whole extent gives it away.

Draws only from its own stream (``[seed, 1201]``, lent to the shared helpers as ``w.rng`` while
it runs), so every earlier scenario's rows stay as they were.
"""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT, HUMAN_ACTIONS, coupon_events, sessions
from abuse.generate.background import honest_orders, pick_weighted, register_people
from abuse.generate.coupons import claim
from abuse.generate.identity import VIRTUAL_PREFIXES, block_ips, home_ips, phones, random_blocks
from abuse.generate.world import DAY, HOUR, MIN, SEC, World

TAG = 1201


def plant_waves(w: World) -> None:
    rng = np.random.default_rng([w.seed, TAG])
    saved, w.rng = w.rng, rng
    try:
        days = _days(rng, w)
        w.params["waves"] = {
            "registration_waves": [_registration_wave(w, i, days[i]) for i in range(3)],
            "release_batch": _release_batch(w),
            "ticks": _ticks(w, days[3]),
            "tv_ad": _tv_ad(w, days[4]),
            "referral": _referral(w, days[5]),
        }
        if w.adversarial:  # slow waves that hide in the daily rhythm (own stream [seed, 1202])
            w.rng = np.random.default_rng([w.seed, TAG + 1])
            w.params["waves"]["slow_waves"] = _slow_waves(w)
    finally:
        w.rng = saved


def _days(rng, w: World) -> list[int]:
    """Six window days (local midnights) three days apart (a wave lasts up to two), far from campaign releases and clear of
    the signup waves already planted, so each incident has a truth row of its own: the abusive
    waves and ticks (the first four) clear of the look-alike signup waves, the benign TV ad and
    referral push (the last two) clear of those and of every crew's registrations too."""
    c = w.clock
    releases = np.array([k["released"] for k in w.campaigns])
    look = [w.acc["reg"][codes] for codes, kind, _ in w.lookalikes if kind in ("tv_ad_signup", "referral_burst")]
    clusters: dict[str, list] = {}
    for codes, _, cluster, _ in w.truth_accounts:
        clusters.setdefault(cluster, []).append(w.acc["reg"][codes])
    crews = [np.concatenate(v) for k, v in clusters.items() if k]

    def spans(regs: list) -> list[tuple[int, int]]:
        regs = [r[r >= c.window_start] for r in regs]
        return [(int(r.min()), int(r.max())) for r in regs if len(r)]

    def free(d: int, busy: list[tuple[int, int]]) -> bool:
        lo, hi = c.window_start + (d - 1) * DAY, c.window_start + (d + 3) * DAY
        return all(b1 < lo or b0 > hi for b0, b1 in busy) and (
            not len(releases) or bool(np.abs(releases - (c.window_start + d * DAY + DAY // 2)).min() > DAY)
        )

    days = rng.permutation(np.arange(2, 27)).tolist()
    quiet = [d for d in days if free(d, spans(look) + spans(crews))]
    calm = [d for d in days if free(d, spans(look))]
    picked: list[int] = []

    def pick(order: list[int], k: int) -> list[int]:
        got: list[int] = []
        for d in order:
            if len(got) == k:
                break
            if all(abs(d - p) >= 3 for p in picked + got):
                got.append(d)
        while len(got) < k:  # a crowded calendar: allow neighbours
            got.append(int(rng.integers(2, 27)))
        picked.extend(got)
        return got

    benign = pick(quiet + [d for d in calm if d not in quiet] + days, 2)
    abusive = pick(calm + days, 4)
    return [c.window_start + d * DAY for d in abusive + benign]


def _spike(w: World, scope: str, start: int, end: int, kind: str) -> None:
    w.spikes.append({"scope": scope, "start": int(start), "end": int(end), "kind": kind, "campaign": -1})


def _batch_identity(w: World, n: int) -> dict:
    rng = w.rng
    devices = w.new_devices(int(rng.integers(1, 6)), emulator=bool(rng.random() < 0.5))
    blocks = random_blocks(rng, int(rng.integers(1, 4)))
    p7 = int(rng.choice(VIRTUAL_PREFIXES)) * 10_000 + int(rng.integers(0, 10_000))
    seq = p7 * 10_000 + int(rng.integers(0, 5_000)) + np.cumsum(rng.integers(1, 4, n))
    phone = np.where(rng.random(n) < rng.uniform(0.5, 0.95), seq, phones(rng, n))
    return {
        "device": rng.choice(devices, n),
        "ip": block_ips(rng, n, blocks),
        "phone": phone,
        "channel": np.full(n, int(rng.integers(0, 3))),
    }


def _registration_wave(w: World, i: int, day: int) -> dict:
    """Wave 0 starts late at night and runs past midnight; wave 1 is short (20-60 min); wave 2
    lasts half a day to two days. Rate: a few times the platform's own registrations."""
    rng = w.rng
    if i == 0:
        start = day + int(rng.uniform(21.5, 23.5) * HOUR)
        span = int(rng.uniform(3, 9) * HOUR)
    elif i == 1:
        start = day + int(rng.uniform(0, 24) * HOUR)
        span = int(rng.uniform(20, 60) * MIN)
    else:
        start = day + int(rng.uniform(0, 24) * HOUR)
        span = int(np.exp(rng.uniform(np.log(12), np.log(48))) * HOUR)
    span = min(span, w.clock.end - start - HOUR)
    hours = span / HOUR
    regs = w.acc["reg"]
    per_hour = float(((regs >= w.clock.window_start) & (regs < w.clock.end)).sum()) / (w.clock.window_days * 24)
    n = int(round(rng.uniform(40, 90) * w.scale**0.7 + rng.uniform(2, 4) * per_hour * hours)) + 15
    reg = start + np.sort(rng.integers(0, span, n))
    ident = _batch_identity(w, n)
    acc = w.new_accounts(reg=reg, **ident)
    cluster = f"wave_{i + 1:02d}"
    w.plant(acc, "batch_registration", cluster, "wave")
    _spike(w, "registrations", reg.min() // MIN * MIN, -(-int(reg.max() + 1) // MIN) * MIN, "abusive")
    return {"cluster": cluster, "accounts": n, "start": w.clock.iso(int(reg.min())), "hours": round(hours, 2)}


def _release_batch(w: World) -> dict | None:
    """A batch registered together days before a window release claims its coupons within
    seconds of it and leaves them unused."""
    rng, c = w.rng, w.clock
    taken = {
        name
        for key in ("coupon_hoarding", "coupon_hoarding_adaptive")  # every crew's campaigns stay its own
        for b in w.params.get(key, [])
        for name in b.get("campaigns", [])
    }
    camps = [
        k
        for k in w.campaigns
        if not k["flash"]
        and c.window_start + 4 * DAY < k["released"] < c.end - DAY
        and f"cmp_{k['code']:03d}" not in taken
    ]
    if not camps:
        return None
    camp = camps[int(rng.integers(len(camps)))]
    ev = w.sink.frame("coupon_events")  # the people who claim in its first ten minutes: the batch outnumbers them
    early = (
        (ev["campaign_id"] == camp["code"]) & (ev["ts"] >= camp["released"]) & (ev["ts"] < camp["released"] + 10 * MIN)
    )
    crowd = len(np.unique(ev["account_id"][early]))
    n = max(int(round(rng.uniform(60, 160) * w.scale**0.7)) + 20, int(crowd * rng.uniform(1.5, 3.0)))
    reg_start = camp["released"] - int(rng.uniform(2, 6) * DAY)
    reg = reg_start + np.sort(rng.integers(0, int(rng.uniform(10, 40) * MIN), n))
    ident = _batch_identity(w, n)
    acc = w.new_accounts(reg=reg, **ident)
    w.plant(acc, "coupon_hoarding", "release_batch_01", "batch")
    who = np.repeat(acc, camp["limit"])
    t = camp["released"] + (np.clip(rng.lognormal(np.log(2.5), 0.6, len(who)), 0.5, 9.0) * SEC).astype(np.int64)
    coupon = claim(w, camp, who, t, device=w.acc["device"][who], ip=w.acc["ip"][who])
    late = rng.random(len(who)) < 0.2  # a few expire unused, most just sit there
    coupon_events(w, camp["code"], coupon[late], who[late], "expire", np.minimum(camp["expires"], c.end - 1))
    return {"cluster": "release_batch_01", "accounts": n, "campaign": f"cmp_{camp['code']:03d}"}


def _ticks(w: World, day: int) -> dict:
    """A few accounts spin the lottery every hour at minute ``mm`` for two to five days."""
    rng, c = w.rng, w.clock
    n = int(rng.integers(15, 40))  # each tick must stand out on its own (no phase scan across ticks yet)
    mm = int(rng.integers(3, 57))
    hours = int(rng.integers(2, 6)) * 24
    first = day + int(rng.integers(0, 24)) * HOUR + mm * MIN
    hours = min(hours, int((c.end - first) // HOUR) - 1)
    reg = c.past_times(rng, n, 100, 400)
    ident = _batch_identity(w, n)
    acc = w.new_accounts(
        reg=reg, device=ident["device"], ip=ident["ip"], phone=phones(rng, n), channel=ident["channel"]
    )
    w.plant(acc, "scripted_timing", "ticks_01", "hourly_tick")
    ticks = first + np.arange(hours) * HOUR
    who = np.tile(acc, hours)
    t = np.repeat(ticks, n) + (rng.uniform(0, 20, len(who)) * SEC).astype(np.int64)
    sessions(
        w,
        who,
        t,
        np.ones(len(who), np.int64),
        None,
        actions=np.full(len(who), ACT["lottery_spin"]),
        duration_s=np.round(rng.uniform(0.6, 1.4, len(who)), 3),
        target=np.full(len(who), 900_777),
    )
    _spike(w, "activity:lottery_spin", first, int(ticks[-1]) + MIN, "abusive")
    return {"cluster": "ticks_01", "accounts": n, "minute": mm, "hours": hours}


def _live(w: World, acc: np.ndarray, reg: np.ndarray, order_now: float) -> None:
    """What real new accounts do: browse over the next days, some order at once."""
    rng, c = w.rng, w.clock
    active = rng.random(len(acc)) < rng.uniform(0.7, 0.9)
    a, r = acc[active], reg[active]
    k = rng.integers(1, 5, len(a))
    who, base = np.repeat(a, k), np.repeat(r, k)
    starts = np.minimum(base + (rng.exponential(2 * DAY, len(who)) + 5 * MIN).astype(np.int64), c.end - MIN)
    sessions(w, who, starts, rng.integers(2, 8, len(who)), None, action_p=HUMAN_ACTIONS)
    buy = rng.random(len(acc)) < order_now
    if buy.any():
        b = acc[buy]
        t = np.minimum(reg[buy] + (rng.lognormal(np.log(15 * MIN), 0.6, len(b))).astype(np.int64), c.end - MIN)
        honest_orders(w, b, pick_weighted(rng, w.shops["weight"], len(b)), t)


def _tv_ad(w: World, day: int) -> dict:
    rng = w.rng
    n = int(round(rng.uniform(150, 400) * w.scale**0.7)) + 30
    ad = day + int(rng.choice([19, 20, 21, 22])) * HOUR + int(rng.integers(0, 4)) * 15 * MIN
    reg = ad + np.sort((rng.lognormal(np.log(9 * MIN), 0.7, n) + rng.uniform(20, 90, n) * SEC).astype(np.int64))
    reg = np.minimum(reg, ad + 2 * HOUR)
    acc = register_people(w, n, reg=reg)
    _live(w, acc, reg, order_now=rng.uniform(0.2, 0.4))
    w.lookalike(acc, "tv_ad_signup", "tv_ad_02")
    _spike(w, "registrations", ad, ad + HOUR, "benign_tv_ad")
    return {"signups": n, "at": w.clock.iso(int(ad))}


def _referral(w: World, day: int) -> dict:
    rng, c = w.rng, w.clock
    inviter = register_people(w, 1, reg=c.past_times(rng, 1, 200, 600, 100), weight=np.array([5.0]))
    n = int(round(rng.uniform(150, 350) * w.scale**0.7)) + 30
    start = day + int(rng.uniform(8, 12) * HOUR)
    span = int(rng.uniform(8, 14) * HOUR)
    reg = start + np.sort(rng.integers(0, span, n))
    acc = register_people(w, n, reg=reg, invited_by=np.full(n, inviter[0]), ip=home_ips(rng, n))
    _live(w, acc, reg, order_now=rng.uniform(0.05, 0.15))
    w.lookalike(np.concatenate([inviter, acc]), "referral_burst", "referral_02")
    _spike(w, "registrations", start, start + span, "benign_referral")
    return {"invitees": n, "start": c.iso(int(start)), "hours": round(span / HOUR, 1)}


def _slow_waves(w: World) -> list[dict]:
    """Two slow registration waves (see the module doc) on days clear of every other incident."""
    rng, c = w.rng, w.clock
    regs = w.acc["reg"]
    per_hour = float(((regs >= c.window_start) & (regs < c.end)).sum()) / (c.window_days * 24)
    busy = [(s["start"], s["end"]) for s in w.spikes]
    out = []
    for i in range(2):
        hours = float(np.exp(rng.uniform(np.log(6), np.log(40))))
        span = int(hours * HOUR)
        for _ in range(60):  # a start clear of the incidents already planted (a day either side)
            start = c.window_start + int(rng.uniform(1, c.window_days - 1) * DAY) - span // 2
            start = int(min(max(start, c.window_start + DAY), c.end - span - 2 * HOUR))
            if all(start + span + DAY < b0 or start - DAY > b1 for b0, b1 in busy):
                break
        n = max(int(round(rng.uniform(1.2, 2.5) * per_hour * hours)), 25)
        # rising and falling (a triangle peaking somewhere inside), maybe paused for an hour or two
        peak = rng.uniform(0.2, 0.8)
        u = rng.triangular(0, peak, 1, n)
        if rng.random() < 0.5:
            at, gap = rng.uniform(0.3, 0.7), rng.uniform(1, 2) * HOUR / span
            u = np.where(u < at, u * (1 - gap), u * (1 - gap) + gap)
        reg = start + np.sort((u * span).astype(np.int64))
        devices = w.new_devices(max(int(n * rng.uniform(0.5, 1.0)), 1), emulator=False)
        acc = w.new_accounts(
            reg=reg,
            device=rng.choice(devices, n, replace=len(devices) < n),
            ip=home_ips(rng, n),
            phone=phones(rng, n),
            channel=np.full(n, int(rng.integers(0, 3))),
        )
        cluster = f"wave_slow_{i + 1:02d}"
        w.plant(acc, "batch_registration", cluster, "slow_wave")
        lo, hi = int(reg.min()) // MIN * MIN, -(-int(reg.max() + 1) // MIN) * MIN
        _spike(w, "registrations", lo, hi, "abusive")
        busy.append((lo, hi))
        out.append({"cluster": cluster, "accounts": n, "start": c.iso(lo), "hours": round(hours, 2)})
    return out
