"""Honest people whose clock looks like a machine's at first sight (``--adversarial``); they
must stay unflagged by ``scripted_timing``:

- ``night_shift``: heavy users on a night shift, awake 21:00-07:00 on work nights, asleep by
  day: a rhythm unlike the population's, but a rhythm, and human sessions;
- ``heartbeat_app``: people whose app logs an event every few minutes while it is open
  (5-15% jitter, near-constant session lengths), in evening sessions of a person's day;
- ``internet_cafe``: dozens of unrelated accounts on a few devices behind one IP, sessions
  that start at the top of the paid hour (minutes late, as people are), opening hours only.

Draws from its own stream (tag 1102), so the default mode is untouched.
"""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT, HUMAN_ACTIONS, sessions
from abuse.generate.identity import channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, MIN, SEC, World

_NAMES = list(HUMAN_ACTIONS)
_P = np.array([HUMAN_ACTIONS[k] for k in _NAMES]) / sum(HUMAN_ACTIONS.values())
_CODES = np.array([ACT[k] for k in _NAMES])


def _human_session_rows(rng, starts: np.ndarray, n_events: np.ndarray, gap_s: float):
    """Per-event gaps (ms), actions and durations of human sessions: login first, lognormal gaps,
    durations a share of the gap."""
    total = int(n_events.sum())
    gaps = np.exp(rng.normal(np.log(gap_s * SEC), 1.0, total)).astype(np.int64)
    first = np.zeros(total, bool)
    first[np.concatenate([[0], np.cumsum(n_events)[:-1]])] = True
    actions = np.where(first, ACT["login"], _CODES[rng.choice(len(_CODES), total, p=_P)])
    dur = np.round(np.maximum(gaps / 1000 * rng.uniform(0.5, 0.95, total), 0.8), 3)
    dur = np.where(first, np.round(rng.uniform(1.0, 4.0, total), 3), dur)
    return gaps, actions, dur


def _accounts(w: World, rng, n: int, device=None, ip=None) -> np.ndarray:
    reg = w.clock.past_times(rng, n, 200, 700)
    device = w.new_devices(n) if device is None else device
    ip = home_ips(rng, n) if ip is None else ip
    return w.new_accounts(reg=reg, device=device, ip=ip, phone=phones(rng, n), channel=channels(rng, n))


def _person_sessions(
    w: World, rng: np.random.Generator, a: int, starts, n_ev, gap_s: float, pcs=None, ip: int | None = None
) -> None:
    """Account `a`'s human sessions from `starts` (`n_ev` events each, gaps around `gap_s`
    seconds), on its own device and IP, or on one of the `pcs` at `ip` (a cafe)."""
    gaps, actions, dur = _human_session_rows(rng, starts, n_ev, gap_s)
    target = rng.integers(0, 100_000, int(n_ev.sum()))
    n = len(starts)
    device = None if pcs is None else rng.choice(pcs, n)
    sessions(
        w,
        np.full(n, a),
        starts,
        n_ev,
        gaps,
        actions=actions,
        duration_s=dur,
        target=target,
        device=device,
        ip=None if ip is None else np.full(n, ip),
    )


def timing_lookalikes(w: World) -> None:
    rng, c = np.random.default_rng([w.seed, 1102]), w.clock
    days = np.arange(c.start, c.end - DAY, DAY, dtype=np.int64)  # local midnights
    drawn: dict[str, int] = {}
    _night_shift(w, rng, days, drawn)
    _heartbeat_apps(w, rng, days, drawn)
    _internet_cafes(w, rng, days, drawn)
    w.params["timing_lookalikes"] = drawn


def _night_shift(w: World, rng: np.random.Generator, days: np.ndarray, drawn: dict) -> None:
    """Night shift: heavy, human, awake at night."""
    n = max(5, int(round(rng.uniform(10, 25) * w.scale**0.7)))
    acc = _accounts(w, rng, n)
    for a in acc.tolist():
        shift = int(rng.integers(20, 24)) * HOUR
        work = days[rng.random(len(days)) < rng.uniform(0.6, 0.85)]
        per = rng.integers(2, 7, len(work))
        starts = np.repeat(work, per) + shift + (rng.random(int(per.sum())) * 10 * HOUR).astype(np.int64)
        n_ev = rng.integers(8, 60, len(starts))
        _person_sessions(w, rng, a, starts, n_ev, rng.uniform(8, 30))
    w.lookalike(acc, "night_shift", "night_shift")
    drawn["night_shift"] = n


def _heartbeat_apps(w: World, rng: np.random.Generator, days: np.ndarray, drawn: dict) -> None:
    """Heartbeat-like apps: an event every few minutes while open, in a person's evening."""
    n = max(5, int(round(rng.uniform(10, 25) * w.scale**0.7)))
    acc = _accounts(w, rng, n)
    for a in acc.tolist():
        period = float(rng.uniform(30, 300)) * SEC
        rel = float(rng.uniform(0.05, 0.15))
        use = days[rng.random(len(days)) < rng.uniform(0.4, 0.9)]
        starts = use + (rng.normal(rng.uniform(18, 22), 1.5, len(use)) * HOUR).astype(np.int64)
        n_ev = np.maximum((rng.uniform(20, 120, len(use)) * MIN / period).astype(np.int64), 2)
        total = int(n_ev.sum())
        gaps = np.maximum(period * (1 + rng.normal(0, rel, total)), SEC).astype(np.int64)
        dur = np.round(gaps / 1000 * rng.uniform(0.85, 0.95), 3)
        action = ACT["view"] if rng.random() < 0.7 else ACT["like"]
        sessions(
            w,
            np.full(len(starts), a),
            starts,
            n_ev,
            gaps,
            actions=np.full(total, action),
            duration_s=dur,
            target=rng.integers(0, 100_000, total),
        )
    w.lookalike(acc, "heartbeat_app", "heartbeat_app")
    drawn["heartbeat_app"] = n


def _internet_cafes(w: World, rng: np.random.Generator, days: np.ndarray, drawn: dict) -> None:
    """Internet cafes: one IP, a few devices, paid hourly slots from 09:00 to 01:00."""
    for k in range(int(rng.integers(1, 3))):
        n = max(8, int(round(rng.uniform(30, 80) * w.scale**0.7)))
        pcs = w.new_devices(int(rng.integers(3, 9)))
        cafe_ip = int(home_ips(rng, 1)[0])
        acc = _accounts(w, rng, n, device=rng.choice(pcs, n), ip=np.full(n, cafe_ip))
        for a in acc.tolist():
            visits = days[rng.random(len(days)) < rng.uniform(0.05, 0.3)]
            if len(visits) == 0:
                continue
            hour = rng.integers(9, 24, len(visits)) * HOUR
            starts = visits + hour + rng.exponential(4 * MIN, len(visits)).astype(np.int64)
            n_ev = rng.integers(20, 150, len(visits))
            _person_sessions(w, rng, a, starts, n_ev, rng.uniform(15, 45), pcs=pcs, ip=cafe_ip)
        w.lookalike(acc, "internet_cafe", f"internet_cafe_{k + 1:02d}")
        drawn[f"internet_cafe_{k + 1:02d}"] = n
