"""What the engagement scenarios share: the targets (heavy-tailed popularity), engagement events
written straight into the sink (a session each, a login first when asked), human delays and
an account's own or mobile IP."""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT
from abuse.generate.identity import mobile_ips
from abuse.generate.world import SEC, World

PATTERN = "vote_inflation"
TARGET_BASE = 200_000  # printed t_200000...: apart from the app's other target ids
TOPUP_SHOP = 99_000  # the platform's own diamond / top-up counter (s_99000)
TOPUP_ITEM = 9_900_001
KINDS = ("lockstep", "slow_drip", "mixed", "recharge")
ENGAGE = ("vote", "like", "follow", "view")


class Targets:
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


def engage(w: World, rng, acc, t, action, target, device=None, ip=None, dur=None, login=False) -> None:
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


def cover(
    w: World, rng, members: np.ndarray, tg: Targets, per_member: tuple[float, float], acts, p=None, device=None, ip=None
) -> None:
    """Cover: the members' own likes and views of popular targets over the window, as real users
    act: between ``per_member`` events each on average, actions drawn from ``acts`` (weights
    ``p``); ``device`` and ``ip`` one a member (None: no device, the account's own IPs)."""
    c = w.clock
    k = int(len(members) * rng.uniform(*per_member))
    who = rng.integers(0, len(members), k)
    engage(
        w,
        rng,
        members[who],
        c.human_times(rng, k, lo=c.window_start),
        rng.choice(acts, k, p=p),
        tg.pick(rng, k),
        device=None if device is None else device[who],
        ip=own_ip(w, rng, members[who]) if ip is None else ip[who],
    )


def human_delay(rng, n: int, median_s: float, sigma: float, floor_s: float = 15) -> np.ndarray:
    return ((floor_s + np.exp(rng.normal(np.log(median_s), sigma, n))) * SEC).astype(np.int64)


def own_ip(w: World, rng, acc) -> np.ndarray:
    mobile = rng.random(len(acc)) < 0.3
    return np.where(mobile, mobile_ips(rng, len(acc)), w.acc["ip"][acc])
