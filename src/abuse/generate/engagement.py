"""Engagement with targets (votes, likes, follows, views), bought engagement and its look-alikes.

Everything here draws from its own stream ``np.random.default_rng([seed, 14])`` and writes
rows straight into the sink, so the rows of every earlier scenario stay as they were.

- organic: a share of the population engages with posts, entries and accounts (``target_id``)
  of heavy-tailed popularity, in sessions at human times from their own devices and IPs.
- vote_inflation farms (truth: accounts.csv, inflated_targets.csv), several kinds per seed:
  ``lockstep`` group control (100-200 phones behind a few IPs acting on one target within
  seconds, in bursts over the window), ``slow_drip`` (the same client targets worked over days
  at jittered human-looking times from a few proxy blocks, or over residential proxies: an own
  home address per phone), ``mixed`` (bought real accounts
  with a normal life beside fresh ones, driven through the farm's phones), ``recharge`` (a
  top-up order, then votes in fixed multiples within minutes: one yuan, one diamond, three
  votes). Adversarial farms jitter more, spread over more IPs and blocks, mix in more real
  accounts and add cover likes on popular targets.
- look-alikes (truth: lookalikes.csv): ``viral_target`` (a post that takes off, diverse
  accounts over days), ``office_vote`` (colleagues voting daily for one of their own from one
  NAT IP, at human delays after a reminder), ``fan_base`` (fans liking every post of a star
  within minutes of it going up, from their own devices).
- the device farm burst of ``timing.plant_spikes`` is vote inflation too: its members and
  target are added to the truth of this pattern.
"""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT
from abuse.generate.identity import block_ips, home_ips, mobile_ips, phones, random_blocks
from abuse.generate.world import DAY, HOUR, MIN, SEC, World

PATTERN = "vote_inflation"
TARGET_BASE = 200_000  # printed t_200000...: apart from the app's other target ids
TOPUP_SHOP = 99_000  # the platform's own diamond / top-up counter (s_99000)
TOPUP_ITEM = 9_900_001
KINDS = ("lockstep", "slow_drip", "mixed", "recharge")
ENGAGE = ("vote", "like", "follow", "view")


class _Targets:
    def __init__(self, w: World, rng: np.random.Generator):
        n = max(300, int(round(2500 * w.scale)))
        self.n = n
        self.weight = np.exp(rng.normal(0, 1.6, n)) / (1 + np.arange(n)) ** 0.3  # heavy tail
        self.next = n

    def new(self) -> int:
        self.next += 1
        return TARGET_BASE + self.next - 1

    def pick(self, rng, k: int) -> np.ndarray:
        p = self.weight / self.weight.sum()
        return TARGET_BASE + rng.choice(self.n, k, p=p)


def _events(w: World, rng, acc, t, action, target, device=None, ip=None, dur=None, login=False) -> None:
    """One session per event (a login first when ``login``); device/IP default to the account's."""
    acc = np.asarray(acc, np.int64)
    n = len(acc)
    if n == 0:
        return
    t = np.asarray(t, np.int64)
    action = np.broadcast_to(np.asarray(action, np.int64), (n,))
    target = np.broadcast_to(np.asarray(target, np.int64), (n,))
    device = w.acc["device"][acc] if device is None else np.broadcast_to(np.asarray(device, np.int64), (n,))
    ip = w.acc["ip"][acc] if ip is None else np.broadcast_to(np.asarray(ip, np.int64), (n,))
    dur = np.round(np.exp(rng.normal(np.log(6), 0.8, n)), 3) if dur is None else dur
    sess = w.ids.take("session", n)
    cols = dict(
        account_id=acc, ts=t, action=action, session_id=sess, duration_s=dur, target_id=target, device_id=device, ip=ip
    )
    if login:
        lt = t - rng.integers(2 * SEC, 40 * SEC, n)
        cols = {k: np.concatenate([np.broadcast_to(v, (n,)), np.broadcast_to(v, (n,))]) for k, v in cols.items()}
        cols["ts"][:n] = lt
        cols["action"][:n] = ACT["login"]
        cols["target_id"][:n] = -1
        cols["duration_s"][:n] = np.round(rng.uniform(1.0, 4.0, n), 3)
    keep = (cols["ts"] >= w.clock.start) & (cols["ts"] < w.clock.end)
    cols = {k: np.asarray(v)[keep] for k, v in cols.items()}
    w.sink.add("activity", event_id=w.ids.take("activity", int(keep.sum())), **cols)


def _human_delay(rng, n: int, median_s: float, sigma: float, floor_s: float = 15) -> np.ndarray:
    return ((floor_s + np.exp(rng.normal(np.log(median_s), sigma, n))) * SEC).astype(np.int64)


def _own_ip(w: World, rng, acc) -> np.ndarray:
    mobile = rng.random(len(acc)) < 0.3
    return np.where(mobile, mobile_ips(rng, len(acc)), w.acc["ip"][acc])


def plant_engagement(w: World, people: np.ndarray) -> None:
    rng = np.random.default_rng([w.seed, 14])
    w.inflated_targets = []  # (cluster, target code, action)
    tg = _Targets(w, rng)
    people = np.asarray(people, np.int64)
    # nobody already cast as a look-alike is bought or mobilised here
    used = np.unique(np.concatenate([np.zeros(0, np.int64)] + [c for c, _, _ in w.lookalikes]))
    _organic(w, rng, people, tg)
    params: dict = {"targets": int(tg.n), "farms": [], "lookalikes": {}}
    # look-alikes first take their people, farms buy from the rest
    for kind, fn in (("viral_target", _viral), ("office_vote", _office), ("fan_base", _fans)):
        for g in range(int(rng.integers(1, 3)) if kind != "fan_base" else 1):
            members, info = fn(w, rng, np.setdiff1d(people, used), tg)
            group = f"{kind}_{g + 1:02d}"
            w.lookalike(members, kind, group)
            used = np.union1d(used, members)
            params["lookalikes"][group] = info
    n_farms = int(rng.integers(4, 8))
    kinds = list(KINDS) + [str(k) for k in rng.choice(KINDS, n_farms - len(KINDS))]
    for i, kind in enumerate(kinds):
        cluster = f"farm_{i + 1:02d}"
        info, bought = _farm(w, rng, cluster, kind, np.setdiff1d(people, used), tg)
        used = np.union1d(used, bought)
        params["farms"].append(info)
    params["spike_farms"] = _spike_farms(w)
    w.params["engagement"] = params


def _organic(w: World, rng, people, tg: _Targets) -> None:
    """Ordinary engagement: half the population, a few sessions each, popular targets more."""
    c = w.clock
    active = people[rng.random(len(people)) < rng.uniform(0.4, 0.6)]
    n_sess = np.maximum(np.exp(rng.normal(np.log(3), 0.9, len(active))).astype(np.int64), 1)
    who = np.repeat(active, n_sess)
    starts = c.human_times(rng, len(who), lo=w.acc["reg"][who] + 10 * MIN)
    per = rng.integers(1, 5, len(who))
    acc = np.repeat(who, per)
    offs = np.concatenate([np.cumsum(rng.integers(5, 90, k)) for k in per]) * SEC
    t = np.repeat(starts, per) + offs
    target = tg.pick(rng, len(acc))
    action = np.array([ACT[a] for a in ENGAGE])[rng.choice(4, len(acc), p=[0.12, 0.33, 0.1, 0.45])]
    ip = _own_ip(w, rng, who)
    _events(w, rng, acc, t, action, target, ip=np.repeat(ip, per))
    # contest voters come back on later days to vote again for their pick
    again = np.flatnonzero((action == ACT["vote"]) & (rng.random(len(acc)) < 0.25))
    k = rng.integers(1, 4, len(again))
    idx = np.repeat(again, k)
    # a later day at another time of day: never the same second of the hour again
    days_later = np.concatenate([np.arange(1, j + 1) for j in k]) * DAY
    t2 = t[idx] + days_later + rng.integers(-6 * HOUR, 6 * HOUR, len(idx))
    _events(w, rng, acc[idx], t2, ACT["vote"], target[idx])


def _viral(w: World, rng, people, tg: _Targets):
    """A post that takes off: hundreds of diverse accounts over a few days, decaying."""
    c = w.clock
    target = tg.new()
    n = min(len(people) // 4, int(rng.uniform(300, 1500) * w.scale**0.7))
    fans = rng.choice(people, n, replace=False)
    t0 = c.window_start + int(rng.integers(1, 24)) * DAY + int(rng.integers(8, 22)) * HOUR
    delay = (np.exp(rng.normal(np.log(rng.uniform(3, 20) * HOUR), 1.2, n))).astype(np.int64)
    t = t0 + delay + rng.integers(0, 60, n) * SEC
    _events(w, rng, fans, t - rng.integers(10, 120, n) * SEC, ACT["view"], target, ip=_own_ip(w, rng, fans))
    act = rng.choice([ACT["like"], ACT["vote"], ACT["follow"]], n, p=[0.6, 0.25, 0.15])
    _events(w, rng, fans, t, act, target, ip=_own_ip(w, rng, fans))
    return fans, {"target": f"t_{target}", "accounts": int(n)}


def _office(w: World, rng, people, tg: _Targets):
    """Colleagues asked to vote daily for one of their own, from the office's one NAT IP."""
    c = w.clock
    target = tg.new()
    n = int(rng.integers(15, 61))
    staff = rng.choice(people, n, replace=False)
    nat = int(home_ips(rng, 1)[0])
    days = int(rng.integers(3, 9))
    d0 = c.window_start + int(rng.integers(1, 30 - days)) * DAY
    rows_a, rows_t = [], []
    for d in range(days):
        remind = d0 + d * DAY + int(rng.integers(9, 18)) * HOUR + int(rng.integers(0, 60)) * MIN
        go = staff[rng.random(n) < rng.uniform(0.5, 0.9)]
        rows_a.append(go)
        rows_t.append(remind + _human_delay(rng, len(go), rng.uniform(300, 1500), 1.0, 30))
    acc, t = np.concatenate(rows_a), np.concatenate(rows_t)
    _events(w, rng, acc, t, ACT["vote"], target, ip=nat)
    return staff, {"target": f"t_{target}", "accounts": int(n), "days": days}


def _fans(w: World, rng, people, tg: _Targets):
    """A star's fan base likes every post within minutes of it going up."""
    c = w.clock
    n = min(len(people) // 4, int(rng.uniform(100, 500) * w.scale**0.5))
    fans = rng.choice(people, n, replace=False)
    posts = int(rng.integers(5, 16))
    for _ in range(posts):
        target = tg.new()
        t0 = c.human_times(rng, 1, lo=c.window_start, hi=c.end - DAY)[0]
        go = fans[rng.random(n) < rng.uniform(0.5, 0.9)]
        t = t0 + _human_delay(rng, len(go), rng.uniform(20, 400), 0.9, 5)
        _events(w, rng, go, t, ACT["like"], target, ip=_own_ip(w, rng, go))
    return fans, {"accounts": int(n), "posts": posts}


def _fresh_accounts(w: World, rng, n: int, blocks: np.ndarray) -> np.ndarray:
    """Accounts the farm registered itself (weeks before), one phone each, on its proxies."""
    c = w.clock
    reg = c.window_start - rng.integers(3, 90, n) * DAY + rng.integers(0, DAY, n)
    return w.new_accounts(
        reg=reg,
        device=w.new_devices(n),
        ip=block_ips(rng, n, blocks),
        phone=phones(rng, n, 0.4),
        channel=np.zeros(n, np.int64),
    )


def _client_targets(rng, tg: _Targets, k: int) -> np.ndarray:
    """Contest entries or posts that paid: some new, most of modest organic popularity."""
    order = np.argsort(-tg.weight)
    mid = order[int(0.05 * tg.n) : int(0.9 * tg.n)]
    out = [TARGET_BASE + int(x) for x in rng.choice(mid, k, replace=False)]
    return np.array([tg.new() if rng.random() < 0.3 else t for t in out], np.int64)


def _farm(w: World, rng, cluster: str, kind: str, people, tg: _Targets):
    adv = w.adversarial
    s = max(w.scale, 0.05) ** 0.5
    lo, hi = {"lockstep": (100, 201), "slow_drip": (30, 121), "mixed": (40, 151), "recharge": (20, 81)}[kind]
    size = max(12, int(rng.integers(lo, hi) * s))
    real_share = {"lockstep": 0.0, "slow_drip": 0.0, "mixed": rng.uniform(0.3, 0.6), "recharge": 0.0}[kind]
    if adv:
        real_share = min(0.7, real_share + rng.uniform(0.1, 0.3))
    n_real = min(int(round(size * real_share)), len(people) // 10)
    n_blocks = int(rng.integers(1, 3) if not adv else rng.integers(2, 6))
    blocks = random_blocks(rng, n_blocks)
    fresh = _fresh_accounts(w, rng, size - n_real, blocks)
    bought = rng.choice(people, n_real, replace=False) if n_real else np.zeros(0, np.int64)
    members = np.concatenate([fresh, bought])
    w.plant(fresh, PATTERN, cluster, "farm_account")
    if n_real:
        w.plant(bought, PATTERN, cluster, "bought_account")
    # the rig: a phone per member (some reused), few host IPs on its blocks
    n_phones = max(1, int(len(members) / rng.uniform(1.0, 1.6)))
    phone_of = rng.choice(w.new_devices(n_phones), len(members))
    hosts = block_ips(rng, int(rng.integers(1, 5) if not adv else rng.integers(4, 17)), blocks)
    host_of = rng.choice(hosts, len(members))
    n_targets = int(rng.integers(1, 7))
    # residential proxies: every phone exits on its own home-broadband address (no shared block)
    residential = kind == "slow_drip" and rng.random() < (0.6 if adv else 0.3)
    if residential:
        host_of = home_ips(rng, len(members))
        hosts = np.unique(host_of)
        n_targets = max(n_targets, 2)  # one target over residential proxies: see README (a gap)
    targets = _client_targets(rng, tg, n_targets)
    acts = rng.choice([ACT["vote"], ACT["like"], ACT["follow"], ACT["view"]], n_targets, p=[0.5, 0.25, 0.15, 0.1])
    info = {
        "cluster": cluster,
        "kind": kind,
        "accounts": int(len(members)),
        "bought": int(n_real),
        "blocks": n_blocks,
        "hosts": int(len(hosts)),
        "residential": bool(residential),
        "targets": [f"t_{t}" for t in targets.tolist()],
    }
    if kind in ("lockstep",) or (kind == "mixed" and rng.random() < 0.6):
        info.update(_lockstep(w, rng, members, phone_of, host_of, targets, acts, adv))
    elif kind == "recharge":
        info.update(_recharge(w, rng, members, phone_of, host_of, targets, adv))
        acts = np.full(n_targets, ACT["vote"])
    else:
        info.update(_slow_drip(w, rng, members, phone_of, host_of, targets, acts, adv))
    if adv:
        _cover(w, rng, members, phone_of, host_of, tg)
    names = {v: k for k, v in ACT.items()}
    for t, a in zip(targets.tolist(), acts.tolist()):
        w.inflated_targets.append((cluster, int(t), names[int(a)]))
    return info, bought


def _cover(w: World, rng, members: np.ndarray, phone_of: np.ndarray, host_of: np.ndarray, tg: _Targets) -> None:
    """Cover: likes and views on popular targets, as real users would."""
    c = w.clock
    k = int(len(members) * rng.uniform(1, 4))
    who = rng.integers(0, len(members), k)
    _events(
        w,
        rng,
        members[who],
        c.human_times(rng, k, lo=c.window_start),
        rng.choice([ACT["like"], ACT["view"]], k),
        tg.pick(rng, k),
        device=phone_of[who],
        ip=host_of[who],
    )


def _lockstep(w, rng, members, phone_of, host_of, targets, acts, adv) -> dict:
    """Group control: one PC fires every phone at one target within seconds, burst after burst."""
    c = w.clock
    n_bursts = int(rng.integers(6, 21))
    jitter = rng.uniform(0.5, 3.0) if not adv else rng.uniform(3.0, 15.0)
    lo = c.window_start + int(rng.integers(0, 10)) * DAY
    starts = np.sort(c.human_times(rng, n_bursts, lo=lo))
    which = np.concatenate([np.arange(len(targets)), rng.integers(0, len(targets), n_bursts)])[:n_bursts]
    followed: set[tuple[int, int]] = set()
    for t0, j in zip(starts.tolist(), which.tolist()):
        go = np.flatnonzero(rng.random(len(members)) < rng.uniform(0.6, 0.95))
        if acts[j] == ACT["follow"]:  # a follow counts once per account
            go = np.array([g for g in go if (g, j) not in followed], np.int64)
            followed.update((int(g), j) for g in go)
        t = t0 + (np.abs(rng.normal(0, jitter, len(go))) * SEC).astype(np.int64)
        _events(
            w,
            rng,
            members[go],
            t,
            acts[j],
            targets[j],
            device=phone_of[go],
            ip=host_of[go],
            dur=np.round(rng.uniform(0.8, 3.0, len(go)), 3),
            login=rng.random() < 0.5,
        )
    return {"bursts": n_bursts, "jitter_s": round(float(jitter), 2)}


def _slow_drip(w, rng, members, phone_of, host_of, targets, acts, adv) -> dict:
    """The same client targets worked over days at jittered, human-looking times."""
    c = w.clock
    span = int(rng.integers(3, 21))
    d0 = c.window_start + int(rng.integers(0, 30 - span)) * DAY
    per = int(rng.integers(1, 4))  # daily votes per member and target
    rows_a, rows_t, rows_j = [], [], []
    joins = rng.random((len(targets), len(members))) < rng.uniform(0.6, 1.0, (len(targets), 1))
    joins[rng.integers(0, len(targets), len(members)), np.arange(len(members))] = True  # everyone works
    for j in range(len(targets)):
        go = np.flatnonzero(joins[j])
        reps = per * (span if acts[j] == ACT["vote"] else 1) if acts[j] != ACT["follow"] else 1
        reps = max(1, int(reps * rng.uniform(0.3, 1.0)))
        a = np.repeat(go, reps)
        rows_a.append(a)
        rows_t.append(c.human_times(rng, len(a), lo=d0, hi=d0 + span * DAY))
        rows_j.append(np.full(len(a), j))
    a, t, which = np.concatenate(rows_a), np.concatenate(rows_t), np.concatenate(rows_j)
    _events(
        w,
        rng,
        members[a],
        t,
        acts[which],
        targets[which],
        device=phone_of[a],
        ip=host_of[a],
        dur=np.round(rng.uniform(1.0, 8.0, len(a)), 3),
        login=True,
    )
    return {"days": span, "events": int(len(a))}


def _recharge(w, rng, members, phone_of, host_of, targets, adv) -> dict:
    """A top-up, then the diamonds spent at once: three votes per yuan, seconds apart."""
    c = w.clock
    rounds = rng.integers(1, 5, len(members))
    who = np.repeat(np.arange(len(members)), rounds)
    n = len(who)
    t = c.human_times(rng, n, lo=c.window_start, hi=c.end - HOUR)
    yuan = rng.choice([1, 2, 3, 5, 10], n, p=[0.3, 0.25, 0.15, 0.2, 0.1])
    per_yuan = int(rng.choice([3, 5, 10]))
    order = w.ids.take("order", n)
    w.sink.add(
        "orders",
        order_id=order,
        account_id=members[who],
        shop_id=TOPUP_SHOP,
        item_id=TOPUP_ITEM,
        amount=yuan * 100,
        discount=0,
        created_at=t,
        device_id=phone_of[who],
        ip=host_of[who],
        ship_addr_hash=-1,
        status=2,
    )
    votes = yuan * per_yuan
    idx = np.repeat(np.arange(n), votes)
    first = t + _human_delay(rng, n, rng.uniform(20, 200), 0.6, 5)
    step = np.concatenate([np.arange(v) for v in votes]) * int(rng.uniform(1.5, 6) * SEC)
    tv = first[idx] + step + rng.integers(0, 900, len(idx))
    tgt = targets[rng.integers(0, len(targets), n)][idx]
    _events(
        w,
        rng,
        members[who][idx],
        tv,
        ACT["vote"],
        tgt,
        device=phone_of[who][idx],
        ip=host_of[who][idx],
        dur=np.round(rng.uniform(0.5, 2.0, len(idx)), 3),
    )
    return {"topups": int(n), "votes_per_yuan": per_yuan}


def _spike_farms(w: World) -> list[dict]:
    """The timing scenario's device-farm burst is bought votes too: plant it under this pattern."""
    out = []
    parts = w.sink.parts.get("activity", [])
    for codes, pattern, cluster, role in list(w.truth_accounts):
        if role != "vote_farm":
            continue
        w.plant(codes, PATTERN, cluster, "burst_account")
        hits: dict[tuple[int, int], int] = {}
        for p in parts:
            m = np.isin(p["account_id"], codes) & (p["target_id"] >= 0)
            for tt, aa in zip(p["target_id"][m].tolist(), p["action"][m].tolist()):
                hits[(tt, aa)] = hits.get((tt, aa), 0) + 1
        names = {v: k for k, v in ACT.items()}
        for (tt, aa), k in hits.items():
            if k >= len(codes) // 2:
                w.inflated_targets.append((cluster, int(tt), names[int(aa)]))
                out.append({"cluster": cluster, "target": f"t_{tt}", "events": k})
    return out
