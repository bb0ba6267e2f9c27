"""vote_inflation farms (``lockstep``, ``slow_drip``, ``mixed``, ``recharge``) and the device farm
burst of ``timing.plant_spikes``, as truth of this pattern (see ``engagement``)."""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT
from abuse.generate.engagement_events import (
    PATTERN,
    TARGET_BASE,
    TOPUP_ITEM,
    TOPUP_SHOP,
    Targets,
    cover,
    engage,
    human_delay,
)
from abuse.generate.identity import block_ips, home_ips, phones, random_blocks
from abuse.generate.world import DAY, HOUR, SEC, World


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


def _client_targets(rng, tg: Targets, k: int) -> np.ndarray:
    """Contest entries or posts that paid: some new, most of modest organic popularity."""
    order = np.argsort(-tg.weight)
    mid = order[int(0.05 * tg.n) : int(0.9 * tg.n)]
    out = [TARGET_BASE + int(x) for x in rng.choice(mid, k, replace=False)]
    return np.array([tg.new() if rng.random() < 0.3 else t for t in out], np.int64)


def farm(w: World, rng, cluster: str, kind: str, people, tg: Targets):
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
        cover(w, rng, members, tg, (1, 4), [ACT["like"], ACT["view"]], device=phone_of, ip=host_of)
    names = {v: k for k, v in ACT.items()}
    for t, a in zip(targets.tolist(), acts.tolist()):
        w.inflated_targets.append((cluster, int(t), names[int(a)]))
    return info, bought


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
        engage(
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
    engage(
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
    first = t + human_delay(rng, n, rng.uniform(20, 200), 0.6, 5)
    step = np.concatenate([np.arange(v) for v in votes]) * int(rng.uniform(1.5, 6) * SEC)
    tv = first[idx] + step + rng.integers(0, 900, len(idx))
    tgt = targets[rng.integers(0, len(targets), n)][idx]
    engage(
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


def spike_farms(w: World) -> list[dict]:
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
