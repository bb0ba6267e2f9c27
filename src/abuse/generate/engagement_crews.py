"""Adaptive vote_inflation crews (adversarial mode only) and their hardest look-alike.

Everything draws from its own stream ``np.random.default_rng([seed, 1402])``, so the default
output and every earlier scenario's rows stay as they were.

- ``drip_crew``: aged real accounts (the platform's own browsing users, bought or rented) that
  drip votes, likes and follows on a client's 4-8 targets over two to four weeks, at human times,
  each from its own phone and network: no shared block, no lockstep, nothing idle about them.
- ``mixed_crew``: a small farm (25-40 accounts it registered itself weeks before, on 3-5 phones
  and 4-6 IPs, that also browse) plus 60-100 bought real accounts, on 5-7 obscure targets (a
  trickle of organic engagement of their own) worked in bursts of a few hours or dripped.
- ``relay_crew`` (its own stream ``[seed, 1403]``, evasion ``one_job_accounts``): a small rig
  (8-35 accounts on 2-4 phones) pushes 2-4 new targets (an organic trickle of their own), each
  in one push of minutes to hours, and 40-120 bought real accounts are rented for the push, most
  for a single job: one vote, like or follow on one target, from their own phone and network,
  among their ordinary browsing. No block, no second target, no lockstep: only the moment.
- look-alike ``fandom``: fans of a few related, popular creators follow several of them over the
  window and like each creator's new posts within hours of their going up, from their own
  devices. The creators' audiences are mostly other people; the posts are fresh content.
"""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT
from abuse.generate.engagement_events import PATTERN, TARGET_BASE, Targets, cover, engage, human_delay, own_ip
from abuse.generate.identity import block_ips, phones, random_blocks
from abuse.generate.world import DAY, HOUR, World

NAMES = {v: k for k, v in ACT.items()}


def plant_adaptive_crews(w: World, people: np.ndarray, tg: Targets, used: np.ndarray) -> dict:
    rng = np.random.default_rng([w.seed, 1402])
    people = np.setdiff1d(np.asarray(people, np.int64), used)
    info: dict = {"crews": [], "lookalikes": {}}
    fans, la = _fandom(w, rng, people, tg)
    w.lookalike(fans, "fandom", "fandom_01")
    info["lookalikes"]["fandom_01"] = la
    people = np.setdiff1d(people, fans)
    for i in range(int(rng.integers(1, 3))):
        cluster = f"drip_crew_{i + 1:02d}"
        members, ci = _drip_crew(w, rng, cluster, people, tg)
        people = np.setdiff1d(people, members)
        info["crews"].append(ci)
    cluster = "mixed_crew_01"
    members, ci = _mixed_crew(w, rng, cluster, people, tg)
    info["crews"].append(ci)
    people = np.setdiff1d(people, members)
    members, ci = _relay_crew(w, np.random.default_rng([w.seed, 1403]), "relay_crew_01", people, tg)
    info["crews"].append(ci)
    return info


def _mid_targets(rng, tg: Targets, k: int) -> np.ndarray:
    """Client targets of modest organic popularity (never the platform's top ones)."""
    order = np.argsort(-tg.weight)
    mid = order[int(0.2 * tg.n) : int(0.9 * tg.n)]
    return TARGET_BASE + rng.choice(mid, k, replace=False).astype(np.int64)


def _acts(rng, k: int) -> np.ndarray:
    return rng.choice([ACT["vote"], ACT["like"], ACT["follow"]], k, p=[0.45, 0.35, 0.2])


def _browse(w: World, rng, members: np.ndarray, tg: Targets, device=None, ip=None) -> None:
    """Cover: the members' own browsing of popular targets over the window, mostly views."""
    cover(w, rng, members, tg, (5, 20), [ACT["view"], ACT["like"]], [0.8, 0.2], device, ip)


def _work(w, rng, members, targets, acts, joins, days: tuple[int, int], burst: np.ndarray, device=None, ip=None):
    """Each member works the targets it joined: a burst of a few hours on one day, or a drip of
    human-timed events over the span (votes come back on several days)."""
    c = w.clock
    d0, d1 = days
    for j in range(len(targets)):
        go = np.flatnonzero(joins[j])
        if not len(go):
            continue
        if burst[j]:
            t0 = c.window_start + int(rng.integers(d0, d1)) * DAY + int(rng.integers(9, 20)) * HOUR
            reps = np.ones(len(go), np.int64)
            t = t0 + human_delay(rng, len(go), rng.uniform(600, 3 * 3600), 0.8, 30)
        else:
            reps = rng.integers(1, 4, len(go)) if acts[j] == ACT["vote"] else np.ones(len(go), np.int64)
            lo = c.window_start + d0 * DAY
            t = c.human_times(rng, int(reps.sum()), lo=lo, hi=c.window_start + d1 * DAY)
        a = np.repeat(go, reps)
        engage(
            w,
            rng,
            members[a],
            t,
            acts[j],
            targets[j],
            device=None if device is None else device[a],
            ip=own_ip(w, rng, members[a]) if ip is None else ip[a],
        )


def _drip_crew(w: World, rng, cluster: str, people: np.ndarray, tg: Targets):
    s = max(w.scale, 0.05) ** 0.5
    n = min(max(20, int(rng.integers(60, 151) * s)), len(people) // 8)
    members = rng.choice(people, n, replace=False)
    k = int(rng.integers(4, 9))
    targets, acts = _mid_targets(rng, tg, k), _acts(rng, k)
    joins = rng.random((k, n)) < rng.uniform(0.5, 0.9, (k, 1))
    span = int(rng.integers(14, 29))
    start = int(rng.integers(0, 30 - span + 1))
    _work(w, rng, members, targets, acts, joins, (start, start + span), np.zeros(k, bool))
    _browse(w, rng, members, tg)
    w.plant(members, PATTERN, cluster, "drip_account")
    for t, a in zip(targets.tolist(), acts.tolist()):
        w.inflated_targets.append((cluster, int(t), NAMES[int(a)]))
    return members, {"cluster": cluster, "kind": "drip_crew", "accounts": int(n), "targets": int(k), "days": span}


def _rig(w: World, rng, people: np.ndarray, tg: Targets, *, farm, real, blocks, phones_, ips, k, trickle):
    """A group-control rig's fresh accounts (registered 20-90 days before the window on the rig's
    phones and network blocks), the real accounts it buys, its new targets and their actions, and
    each target's own organic trickle of a few people over the window. Each argument is a range
    drawn from (``farm``: least, then integers' low/high; the others: integers' low/high)."""
    c = w.clock
    s = max(w.scale, 0.05) ** 0.5
    n_farm = max(farm[0], int(rng.integers(farm[1], farm[2]) * s))
    n_real = min(max(20, int(rng.integers(*real) * s)), len(people) // 8)
    net = random_blocks(rng, int(rng.integers(*blocks)))
    reg = c.window_start - rng.integers(20, 90, n_farm) * DAY + rng.integers(0, DAY, n_farm)
    rig_phones = w.new_devices(int(rng.integers(*phones_)))
    rig_ips = block_ips(rng, int(rng.integers(*ips)), net)
    farm_dev = rng.choice(rig_phones, n_farm)
    farm_ip = rng.choice(rig_ips, n_farm)
    fresh = w.new_accounts(
        reg=reg, device=farm_dev, ip=farm_ip, phone=phones(rng, n_farm, 0.4), channel=np.zeros(n_farm, np.int64)
    )
    bought = rng.choice(people, n_real, replace=False)
    n_targets = int(rng.integers(*k))
    targets = np.array([tg.new() for _ in range(n_targets)], np.int64)
    acts = _acts(rng, n_targets)
    for t, a in zip(targets.tolist(), acts.tolist()):
        m = int(rng.integers(*trickle))
        who = rng.choice(people, m, replace=False)
        engage(w, rng, who, c.human_times(rng, m, lo=c.window_start), a, t, ip=own_ip(w, rng, who))
    return fresh, farm_dev, farm_ip, bought, targets, acts


def _mixed_crew(w: World, rng, cluster: str, people: np.ndarray, tg: Targets):
    rig = _rig(w, rng, people, tg, farm=(10, 25, 41), real=(60, 101), blocks=(2, 5), phones_=(3, 6), ips=(4, 7),
               k=(5, 8), trickle=(5, 20))  # fmt: skip
    fresh, farm_dev, farm_ip, bought, targets, acts = rig
    n_farm, n_real, k = len(fresh), len(bought), len(targets)
    burst = rng.random(k) < 0.5
    jf = rng.random((k, n_farm)) < rng.uniform(0.6, 0.95, (k, 1))
    jr = rng.random((k, n_real)) < rng.uniform(0.5, 0.9, (k, 1))
    _work(w, rng, fresh, targets, acts, jf, (3, 28), burst, device=farm_dev, ip=farm_ip)
    _work(w, rng, bought, targets, acts, jr, (3, 28), burst)
    _browse(w, rng, fresh, tg, device=farm_dev, ip=farm_ip)
    _browse(w, rng, bought, tg)
    w.plant(fresh, PATTERN, cluster, "farm_account")
    w.plant(bought, PATTERN, cluster, "bought_account")
    for t, a in zip(targets.tolist(), acts.tolist()):
        w.inflated_targets.append((cluster, int(t), NAMES[int(a)]))
    info = {"cluster": cluster, "kind": "mixed_crew", "farm": int(n_farm), "bought": int(n_real), "targets": int(k)}
    return np.concatenate([fresh, bought]), info


def _fandom(w: World, rng, people: np.ndarray, tg: Targets):
    """Fans of 3-4 related popular creators: follows over the window, likes on new posts within
    hours of their going up."""
    c = w.clock
    s = max(w.scale, 0.05) ** 0.5
    n = min(max(40, int(rng.integers(150, 401) * s)), len(people) // 6)
    fans = rng.choice(people, n, replace=False)
    order = np.argsort(-tg.weight)
    creators = TARGET_BASE + order[: max(8, int(0.02 * tg.n))][rng.choice(max(8, int(0.02 * tg.n)), 4, replace=False)]
    n_cr = int(rng.integers(3, 5))
    posts = 0
    for cr in creators[:n_cr].tolist():
        go = fans[rng.random(n) < rng.uniform(0.3, 0.7)]
        engage(w, rng, go, c.human_times(rng, len(go), lo=c.window_start), ACT["follow"], cr, ip=own_ip(w, rng, go))
        for _ in range(int(rng.integers(2, 6))):
            post = tg.new()
            posts += 1
            t0 = c.human_times(rng, 1, lo=c.window_start, hi=c.end - DAY)[0]
            liked = fans[rng.random(n) < rng.uniform(0.3, 0.8)]
            engage(
                w,
                rng,
                liked,
                t0 + human_delay(rng, len(liked), rng.uniform(600, 4 * 3600), 1.0, 30),
                ACT["like"],
                post,
                ip=own_ip(w, rng, liked),
            )
    return fans, {"accounts": int(n), "creators": n_cr, "posts": posts}


def _relay_crew(w: World, rng, cluster: str, people: np.ndarray, tg: Targets):
    """A rig and the bought accounts it rents for each push, most for one job (module doc)."""
    c = w.clock
    rig = _rig(w, rng, people, tg, farm=(8, 15, 36), real=(40, 121), blocks=(1, 4), phones_=(2, 5), ips=(3, 7),
               k=(2, 5), trickle=(5, 25))  # fmt: skip
    fresh, farm_dev, farm_ip, bought, targets, acts = rig
    n_farm, n_real, k = len(fresh), len(bought), len(targets)
    jf = rng.random((k, n_farm)) < rng.uniform(0.6, 0.95, (k, 1))
    jr = np.zeros((k, n_real), bool)
    jr[rng.integers(0, k, n_real), np.arange(n_real)] = True  # one job each ...
    second = np.flatnonzero(rng.random(n_real) < rng.uniform(0.0, 0.3))
    jr[rng.integers(0, k, len(second)), second] = True  # ... a few take a second
    for j in range(k):  # one push per target, rig and rented accounts together
        t0 = c.window_start + int(rng.integers(2, 28)) * DAY + int(rng.integers(8, 22)) * HOUR
        spread = rng.uniform(600, 3 * 3600)
        f, b = np.flatnonzero(jf[j]), np.flatnonzero(jr[j])
        engage(w, rng, fresh[f], t0 + human_delay(rng, len(f), spread, 0.8, 30), acts[j], targets[j],
               device=farm_dev[f], ip=farm_ip[f])  # fmt: skip
        engage(w, rng, bought[b], t0 + human_delay(rng, len(b), spread, 0.8, 30), acts[j], targets[j],
               ip=own_ip(w, rng, bought[b]))  # fmt: skip
    _browse(w, rng, fresh, tg, device=farm_dev, ip=farm_ip)
    _browse(w, rng, bought, tg)
    w.plant(fresh, PATTERN, cluster, "farm_account")
    w.plant(bought, PATTERN, cluster, "bought_account")
    w.params.setdefault("evasions", {})[cluster] = "one_job_accounts"
    for t, a in zip(targets.tolist(), acts.tolist()):
        w.inflated_targets.append((cluster, int(t), NAMES[int(a)]))
    info = {"cluster": cluster, "kind": "relay_crew", "farm": int(n_farm), "bought": int(n_real), "targets": int(k)}
    return np.concatenate([fresh, bought]), info
