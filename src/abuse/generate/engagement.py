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
- adversarial mode adds ``engagement_crews``: drip crews of aged browsing accounts, a mixed
  farm+bought crew on obscure targets, and a fandom of a few related creators (look-alike).
- the device farm burst of ``timing.plant_spikes`` is vote inflation too: its members and
  target are added to the truth of this pattern.
"""

from __future__ import annotations

import numpy as np

from abuse.generate import engagement_farms as farms
from abuse.generate.actions import ACT
from abuse.generate.engagement_crews import plant_adaptive_crews
from abuse.generate.engagement_events import ENGAGE, KINDS, Targets, engage, human_delay, own_ip
from abuse.generate.identity import home_ips
from abuse.generate.world import DAY, HOUR, MIN, SEC, World


def plant_engagement(w: World, people: np.ndarray) -> None:
    rng = np.random.default_rng([w.seed, 14])
    w.inflated_targets = []  # (cluster, target code, action)
    tg = Targets(w, rng)
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
        info, bought = farms.farm(w, rng, cluster, kind, np.setdiff1d(people, used), tg)
        used = np.union1d(used, bought)
        params["farms"].append(info)
    params["spike_farms"] = farms.spike_farms(w)
    if w.adversarial:  # crews that adapt and a fandom, from their own stream (engagement_crews)
        params["adaptive"] = plant_adaptive_crews(w, people, tg, used)
    w.params["engagement"] = params


def _organic(w: World, rng, people, tg: Targets) -> None:
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
    ip = own_ip(w, rng, who)
    engage(w, rng, acc, t, action, target, ip=np.repeat(ip, per))
    # contest voters come back on later days to vote again for their pick
    again = np.flatnonzero((action == ACT["vote"]) & (rng.random(len(acc)) < 0.25))
    k = rng.integers(1, 4, len(again))
    idx = np.repeat(again, k)
    # a later day at another time of day: never the same second of the hour again
    days_later = np.concatenate([np.arange(1, j + 1) for j in k]) * DAY
    t2 = t[idx] + days_later + rng.integers(-6 * HOUR, 6 * HOUR, len(idx))
    engage(w, rng, acc[idx], t2, ACT["vote"], target[idx])


def _viral(w: World, rng, people, tg: Targets):
    """A post that takes off: hundreds of diverse accounts over a few days, decaying."""
    c = w.clock
    target = tg.new()
    n = min(len(people) // 4, int(rng.uniform(300, 1500) * w.scale**0.7))
    fans = rng.choice(people, n, replace=False)
    t0 = c.window_start + int(rng.integers(1, 24)) * DAY + int(rng.integers(8, 22)) * HOUR
    delay = (np.exp(rng.normal(np.log(rng.uniform(3, 20) * HOUR), 1.2, n))).astype(np.int64)
    t = t0 + delay + rng.integers(0, 60, n) * SEC
    engage(w, rng, fans, t - rng.integers(10, 120, n) * SEC, ACT["view"], target, ip=own_ip(w, rng, fans))
    act = rng.choice([ACT["like"], ACT["vote"], ACT["follow"]], n, p=[0.6, 0.25, 0.15])
    engage(w, rng, fans, t, act, target, ip=own_ip(w, rng, fans))
    return fans, {"target": f"t_{target}", "accounts": int(n)}


def _office(w: World, rng, people, tg: Targets):
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
        rows_t.append(remind + human_delay(rng, len(go), rng.uniform(300, 1500), 1.0, 30))
    acc, t = np.concatenate(rows_a), np.concatenate(rows_t)
    engage(w, rng, acc, t, ACT["vote"], target, ip=nat)
    return staff, {"target": f"t_{target}", "accounts": int(n), "days": days}


def _fans(w: World, rng, people, tg: Targets):
    """A star's fan base likes every post within minutes of it going up."""
    c = w.clock
    n = min(len(people) // 4, int(rng.uniform(100, 500) * w.scale**0.5))
    fans = rng.choice(people, n, replace=False)
    posts = int(rng.integers(5, 16))
    for _ in range(posts):
        target = tg.new()
        t0 = c.human_times(rng, 1, lo=c.window_start, hi=c.end - DAY)[0]
        go = fans[rng.random(n) < rng.uniform(0.5, 0.9)]
        t = t0 + human_delay(rng, len(go), rng.uniform(20, 400), 0.9, 5)
        engage(w, rng, go, t, ACT["like"], target, ip=own_ip(w, rng, go))
    return fans, {"accounts": int(n), "posts": posts}
