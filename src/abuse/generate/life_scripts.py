"""Scripts that live like people (``--adversarial``), and the honest accounts that look like them.

``plant_life_scripts``: bots that sleep 5-9 h a night with a jittered wake time, rest or play
more at weekends, spread over 3-30 devices and 5-60 residential IPs, some with a few cover
orders, active for days to the whole window. What gives them away is their clock inside a
session: sessions of one length (held to 0.1-2%; a harder tail randomises it by 2-8%) and clicks
of one length (0.5-5%), whatever their in-session gaps (uniform, normal or exponential). Role
``life_script/<tags>``; evasion tags name each tactic (``truth/accounts.csv``).

``life_lookalikes`` (must stay unflagged by ``scripted_timing``):

- ``kiosk_app``: a smart-TV / kiosk app that fixes an ad's length for every viewer (``ad_view``,
  the same duration for all its users: no reference to judge it by) and logs people out after a
  fixed time (sessions of one length), while what they do inside is human: one steady kind;
- ``steady_login``: people whose app reports a session heartbeat of one length (steady logins),
  the rest of their activity human: one steady kind;
- ``night_shift_heavy``: heavy night workers, human sessions, awake by night;
- ``few_events``: people with a handful of events, a few of them the same length.

Draws from their own streams (tags 1103, 1104), after every other scenario: the rest of the data
set is unchanged.
"""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT, STATUS, place_orders, sessions
from abuse.generate.identity import channels, home_ips, phones
from abuse.generate.world import DAY, HOUR, MIN, SEC, World

CLICKS = ("like", "lottery_spin", "vote", "view", "checkin")
GAPS = ("uniform", "normal", "exponential")


def plant_life_scripts(w: World) -> None:
    rng, c = np.random.default_rng([w.seed, 1103]), w.clock
    n = max(8, int(round(rng.uniform(12, 30) * w.scale**0.7)))
    reg = c.past_times(rng, n, 200, 700)
    acc = w.new_accounts(
        reg=reg, device=w.new_devices(n), ip=home_ips(rng, n), phone=phones(rng, n, 0.1), channel=channels(rng, n)
    )
    local_midnights = np.arange(c.window_start, c.end, DAY, dtype=np.int64)
    evasions = w.params.setdefault("evasions", {})
    drawn = []
    for i, a in enumerate(acc.tolist()):
        tags = ["human_rhythm", "weekly_rhythm"]
        gap_kind = GAPS[i % 3]
        tags.append(f"gaps_{gap_kind}")
        loose = rng.random() < 0.25  # the harder tail: sessions randomised by 2-8%
        session_rel = float(rng.uniform(0.02, 0.08) if loose else np.exp(rng.uniform(np.log(0.001), np.log(0.02))))
        tags.append("loose_session" if loose else "fixed_session")
        days = int(np.exp(rng.uniform(np.log(3), np.log(len(local_midnights)))))
        if days < 7:
            tags.append("few_days")
        first = int(rng.integers(0, len(local_midnights) - days + 1))
        use = local_midnights[first : first + days]
        starts = _awake_starts(rng, c, use)
        s = len(starts)
        if s == 0:
            continue
        length = float(np.exp(rng.uniform(np.log(60), np.log(1800))))  # seconds
        per = int(rng.integers(5, 40))
        mean_gap = length / per
        n_ev = np.full(s, per + 1)
        total = int(n_ev.sum())
        gaps = _script_gaps(rng, gap_kind, mean_gap, total)
        is_login = np.zeros(total, bool)
        is_login[np.concatenate([[0], np.cumsum(n_ev)[:-1]])] = True
        click = str(rng.choice(CLICKS))
        click_len = float(rng.uniform(0.5, 5.0))
        click_rel = float(rng.uniform(0.005, 0.05))
        dur = np.where(
            is_login,
            length * (1 + rng.normal(0, session_rel, total)),
            click_len * (1 + rng.normal(0, click_rel, total)),
        )
        n_dev, n_ip = int(rng.integers(3, 31)), int(rng.integers(5, 61))
        tags += ["many_devices", "residential_proxy"]
        devices, ips = w.new_devices(n_dev), home_ips(rng, n_ip)
        if rng.random() < 0.4:
            tags.append("cover_orders")
            _cover_orders(w, rng, a, starts, devices, ips)
        sessions(
            w,
            np.full(s, a),
            starts,
            n_ev,
            gaps,
            actions=np.where(is_login, ACT["login"], ACT[click]),
            duration_s=np.round(np.maximum(dur, 0.05), 3),
            target=rng.integers(0, 100_000, total),
            device=rng.choice(devices, s),
            ip=rng.choice(ips, s),
        )
        role = "life_script/" + "/".join(sorted(tags))
        evasions[f"scripted_timing/{role}"] = ";".join(sorted(tags))
        w.plant(np.array([a]), "scripted_timing", "", role)
        drawn.append(
            {
                "role": role,
                "days": days,
                "sessions": s,
                "session_s": round(length, 1),
                "session_rel": round(session_rel, 4),
                "click": click,
                "click_rel": round(click_rel, 4),
                "devices": n_dev,
                "ips": n_ip,
            }
        )
    w.params["life_scripts"] = drawn


def _awake_starts(rng, c, use: np.ndarray) -> np.ndarray:
    """Session starts over the local midnights ``use``, sorted: a person's waking hours with a
    bedtime, a jittered wake-up, later weekends and a handful of sessions a day."""
    days = len(use)
    # sleep: from `bed` (local hour 22-02) for 5-9 h, wake jittered by 5-60 min a day
    bed, sleep = rng.uniform(22, 26), rng.uniform(5, 9)
    jitter_h = rng.uniform(5, 60) / 60
    weekend = (((use + c.offset) // DAY + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    late = rng.uniform(0, 2.5)  # weekends: up later
    wake = (bed + sleep - 24) + rng.normal(0, jitter_h, days) + np.where(weekend, late, 0)
    awake_h = np.clip(bed - wake - rng.uniform(0, 1, days), 6, 20)
    per_day = rng.uniform(3, 14) * np.where(weekend, rng.uniform(0.3, 1.6), 1.0) * np.ones(days)
    k = rng.poisson(per_day)
    day_of = np.repeat(np.arange(days), k)
    starts = use[day_of] + ((wake[day_of] + rng.random(len(day_of)) * awake_h[day_of]) * HOUR).astype(np.int64)
    starts = np.sort(starts)
    return starts


def _script_gaps(rng, gap_kind: str, mean_gap: float, total: int) -> np.ndarray:
    """``total`` gaps (ms) of a script's clicks around ``mean_gap`` seconds: uniform, normal or
    exponential, at least a second."""
    if gap_kind == "uniform":
        gaps = rng.uniform(0.2, 1.8, total) * mean_gap
    elif gap_kind == "normal":
        gaps = np.abs(rng.normal(mean_gap, mean_gap * rng.uniform(0.1, 0.4), total))
    else:
        gaps = rng.exponential(mean_gap, total)
    gaps = np.maximum(gaps * SEC, SEC).astype(np.int64)
    return gaps


def _cover_orders(w: World, rng, a: int, starts: np.ndarray, devices, ips) -> None:
    """A few ordinary orders at popular shops, placed during the script's sessions."""
    n = int(rng.integers(1, 6))
    weight = w.shops["weight"] / w.shops["weight"].sum()
    shop = rng.choice(len(weight), n, p=weight)
    item = w.shops["item_start"][shop] + (rng.random(n) * w.shops["n_items"][shop]).astype(np.int64)
    t = rng.choice(starts, n) + rng.integers(0, 10 * MIN, n)
    place_orders(
        w,
        np.full(n, a),
        shop,
        w.items["code"][item],
        t,
        w.items["price"][item],
        device=rng.choice(devices, n),
        ip=rng.choice(ips, n),
        addr=np.full(n, w.acc["addr"][w.acc["id"] == a][0]),
        status=np.full(n, STATUS["completed"]),
    )


# --- look-alikes ----------------------------------------------------------------------------


def _human(rng, total: int, first: np.ndarray, mean_gap_s: float):
    """Lognormal gaps (ms) and human durations: a share of the gap, any length."""
    gaps = np.exp(rng.normal(np.log(mean_gap_s * SEC), 1.0, total)).astype(np.int64)
    dur = np.round(np.maximum(gaps / 1000 * rng.uniform(0.3, 0.95, total), 0.5), 3)
    return gaps, np.where(first, np.round(np.exp(rng.normal(np.log(300), 0.8, total)), 3), dur)


def _firsts(n_ev: np.ndarray) -> np.ndarray:
    first = np.zeros(int(n_ev.sum()), bool)
    first[np.concatenate([[0], np.cumsum(n_ev)[:-1]])] = True
    return first


def _days_sessions(w: World, rng, days: np.ndarray, p_day: float, per: tuple, hours: tuple) -> np.ndarray:
    use = days[rng.random(len(days)) < p_day]
    k = rng.integers(per[0], per[1], len(use))
    lo, hi = hours
    return np.sort(np.repeat(use, k) + (rng.uniform(lo, hi, int(k.sum())) * HOUR).astype(np.int64))


LOOKALIKE_PLANS = {  # per look-alike: share of days active, sessions a day, hours, events a session, mean gap (s)
    "kiosk_app": {"p_day": (0.3, 0.9), "per": (1, 4), "hours": (8, 23), "n_ev": (4, 30), "gap_s": (20, 90)},
    "steady_login": {"p_day": (0.5, 0.95), "per": (2, 8), "hours": (7, 24), "n_ev": (5, 40), "gap_s": (10, 60)},
    "night_shift_heavy": {"p_day": (0.6, 0.9), "per": (4, 12), "hours": (21, 31), "n_ev": (20, 120), "gap_s": (8, 25)},
    "few_events": {"p_day": (0.02, 0.1), "per": (1, 2), "hours": (9, 23), "n_ev": (2, 5), "gap_s": (10, 60)},
}


def _lookalike_sessions(w: World, rng, days: np.ndarray, acc: np.ndarray, plan: dict, shape) -> None:
    """Human sessions for each of ``acc`` on the days of ``days`` (``plan``: ``p_day`` range,
    sessions ``per`` day, ``hours`` of the day, events per session ``n_ev``, mean ``gap_s``
    range), the events' actions and durations set by ``shape(total, first, dur)``."""
    for a in acc.tolist():
        starts = _days_sessions(w, rng, days, rng.uniform(*plan["p_day"]), plan["per"], plan["hours"])
        if len(starts) == 0:
            continue
        n_ev = rng.integers(*plan["n_ev"], len(starts))
        total, first = int(n_ev.sum()), _firsts(n_ev)
        gaps, dur = _human(rng, total, first, rng.uniform(*plan["gap_s"]))
        actions, dur = shape(total, first, dur)
        sessions(
            w, np.full(len(starts), a), starts, n_ev, gaps, actions=actions, duration_s=dur,
            target=rng.integers(0, 100_000, total),
        )  # fmt: skip


def life_lookalikes(w: World) -> None:
    rng, c = np.random.default_rng([w.seed, 1104]), w.clock
    days = np.arange(c.window_start, c.end - DAY, DAY, dtype=np.int64)
    drawn: dict[str, int] = {}

    def accounts(floor: int, lo: float, hi: float, power: float) -> np.ndarray:
        n = max(floor, int(round(rng.uniform(lo, hi) * w.scale**power)))
        return w.new_accounts(
            reg=c.past_times(rng, n, 200, 700),
            device=w.new_devices(n),
            ip=home_ips(rng, n),
            phone=phones(rng, n),
            channel=channels(rng, n),
        )

    def plant(name: str, acc: np.ndarray, shape) -> None:
        _lookalike_sessions(w, rng, days, acc, LOOKALIKE_PLANS[name], shape)
        w.lookalike(acc, name, name)
        drawn[name] = len(acc)

    # kiosk / smart-TV app: ad of one length for everyone, auto-logout after a fixed time
    acc = accounts(25, 30, 60, 0.5)
    ad_len, logout = float(rng.choice([15.0, 30.0, 60.0])), float(rng.uniform(600, 2400))

    def kiosk(total: int, first: np.ndarray, dur: np.ndarray):
        ad = ~first & (rng.random(total) < 0.3)
        actions = np.where(first, ACT["login"], np.where(ad, ACT["ad_view"], ACT["view"]))
        return actions, np.where(first, logout, np.where(ad, ad_len, dur))

    plant("kiosk_app", acc, kiosk)

    # steady logins (an app's session heartbeat), everything else human
    def steady(total: int, first: np.ndarray, dur: np.ndarray):
        beat = float(rng.uniform(60, 900))
        dur = np.where(first, np.round(beat * (1 + rng.normal(0, 0.002, total)), 3), dur)
        names = np.array([ACT["view"], ACT["like"], ACT["lottery_spin"], ACT["follow"]])
        return np.where(first, ACT["login"], names[rng.choice(4, total, p=[0.7, 0.15, 0.1, 0.05])]), dur

    acc = accounts(5, 8, 20, 0.7)
    plant("steady_login", acc, steady)

    # heavy night-shift workers: many long human sessions by night
    def night(total: int, first: np.ndarray, dur: np.ndarray):
        names = np.array([ACT["view"], ACT["like"], ACT["lottery_spin"], ACT["vote"]])
        return np.where(first, ACT["login"], names[rng.choice(4, total, p=[0.6, 0.2, 0.15, 0.05])]), dur

    acc = accounts(5, 8, 20, 0.7)
    plant("night_shift_heavy", acc, night)

    # people with few events, some of the same length (a like logged as 1 s)
    def few(total: int, first: np.ndarray, dur: np.ndarray):
        return np.where(first, ACT["login"], ACT["like"]), np.where(~first & (rng.random(total) < 0.5), 1.0, dur)

    acc = accounts(10, 20, 50, 0.7)
    plant("few_events", acc, few)
    w.params["life_lookalikes"] = drawn
