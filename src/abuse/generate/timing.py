"""Machine-timed behaviour: lone bot accounts that act on the hour, at a fixed second of every
minute or at a fixed period, in one-second sessions and in numbers no person reaches; and
abusive spikes: a scripted registration burst and a device farm's vote/like burst."""

from __future__ import annotations

import numpy as np

from abuse.generate.actions import ACT, sessions
from abuse.generate.coupons import claim
from abuse.generate.identity import block_ips, channels, home_ips, phones, random_blocks
from abuse.generate.world import DAY, HOUR, MIN, SEC, World

MODES = ("hourly", "minute", "period")


def scripted_times(
    rng: np.random.Generator,
    lo: int,
    hi: int,
    k: int,
    mode: str,
    second: int,
    period_s: float = 60.0,
    jitter_s: float = 0.1,
) -> np.ndarray:
    """Up to k machine-timed moments in [lo, hi)."""
    if mode == "hourly":
        first = -(-lo // HOUR) * HOUR
        t = first + np.arange(min(k, max((hi - first) // HOUR, 0)), dtype=np.int64) * HOUR
        t = t[rng.random(len(t)) > 0.08]  # occasional downtime
        return t + second * SEC + rng.integers(0, 900, len(t))
    if mode == "minute":
        hour = int(rng.integers(0, 24))
        run = int(rng.integers(10, 120))
        days = np.arange(-(-lo // DAY) * DAY, hi, DAY, dtype=np.int64)
        t = (days[:, None] + hour * HOUR + np.arange(run) * MIN).ravel()[:k]
        t = t[(t >= lo) & (t < hi - SEC)]
        return t + second * SEC + rng.integers(0, 300, len(t))
    period = int(max(min(period_s * SEC, (hi - lo) / max(k, 1)), SEC))
    start = lo + int(rng.integers(0, max(hi - lo - k * period, 1)))
    t = start + np.arange(k, dtype=np.int64) * period
    t = t + np.round(rng.normal(0, jitter_s * SEC, k)).astype(np.int64)
    return t[(t >= lo) & (t < hi)]


def plant_bots(w: World) -> None:
    rng, c = w.rng, w.clock
    n = w.scaled(10, 41, 0.7)
    old = rng.random(n) < 0.5
    reg = np.where(old, c.past_times(rng, n, 200, 700), c.human_times(rng, n, hi=c.window_start - 2 * DAY))
    emulator = rng.random(n) < 0.3
    device = np.where(emulator, w.new_devices(n, emulator=True), w.new_devices(n))
    ip = block_ips(rng, n, random_blocks(rng, n))
    acc = w.new_accounts(reg=reg, device=device, ip=ip, phone=phones(rng, n, 0.2), channel=channels(rng, n))
    w.plant(acc, "scripted_timing", "", "bot")
    modes = {m: 0 for m in MODES}
    window_camps = [k for k in w.campaigns if k["released"] >= c.window_start]
    for a in acc.tolist():
        mode = MODES[int(rng.integers(len(MODES)))]
        modes[mode] += 1
        k = int(np.exp(rng.uniform(np.log(300), np.log(4000))))
        lo = c.window_start + int(rng.integers(0, 10)) * DAY
        hi = min(c.end, lo + int(rng.integers(5, 30)) * DAY)
        t = scripted_times(
            rng,
            lo,
            hi,
            k,
            mode,
            int(rng.integers(0, 60) if mode != "hourly" else rng.integers(0, 3)),
            period_s=float(rng.uniform(3, 600)),
            jitter_s=float(rng.uniform(0.05, 0.3)),
        )
        action = rng.choice([ACT["lottery_spin"], ACT["checkin"], ACT["vote"], ACT["like"]], p=[0.5, 0.2, 0.15, 0.15])
        target = int(rng.integers(900_000, 900_050))
        _machine_sessions(w, np.full(len(t), a), t, action, target)
        if rng.random() < 0.5:  # daily check-in at the same second
            d = scripted_times(rng, c.window_start, c.end, 30, "minute", int(rng.integers(0, 60)))
            d = d[np.unique((d - c.window_start) // DAY, return_index=True)[1]]
            _machine_sessions(w, np.full(len(d), a), d, ACT["checkin"], -1)
        if window_camps and rng.random() < 0.5:
            for camp in window_camps:
                if camp["released"] >= lo:
                    claim(w, camp, np.array([a]), np.array([camp["released"] + int(rng.integers(150, 2000))]))
    w.params["scripted_bots"] = {"n": n, "modes": modes}


def _machine_sessions(w: World, acc, t, action, target) -> None:
    n = len(acc)
    if n == 0:
        return
    sessions(
        w,
        acc,
        t,
        np.ones(n, np.int64),
        None,
        actions=np.full(n, action),
        duration_s=np.round(w.rng.uniform(0.5, 1.5, n), 3),
        target=np.full(n, target),
    )


def _quiet_minute(w: World) -> int:
    """The start of a minute inside the window, off the hour and far from any release."""
    rng, c = w.rng, w.clock
    while True:
        t = (
            c.window_start
            + int(rng.integers(2, 28)) * DAY
            + int(rng.integers(1, 24)) * HOUR
            + int(rng.integers(5, 55)) * MIN
        )
        if all(abs(t - k["released"]) > 30 * MIN for k in w.campaigns):
            return t


def plant_spikes(w: World) -> None:
    rng = w.rng
    n = int(rng.integers(1, 4))
    kinds = ["registrations", "activity"] + [str(rng.choice(["registrations", "activity"]))]
    w.params["abusive_spikes"] = []
    for i in range(n):
        cluster = f"spike_{i + 1:02d}"
        start = _quiet_minute(w)
        if kinds[i] == "registrations":
            end, size = _registration_burst(w, cluster, start)
        else:
            end, size = _vote_burst(w, cluster, start)
        w.spikes.append({"scope": kinds[i], "start": start, "end": end, "kind": "abusive", "campaign": -1})
        w.params["abusive_spikes"].append(
            {"cluster": cluster, "scope": kinds[i], "accounts": size, "start": w.clock.iso(start)}
        )


def _registration_burst(w: World, cluster: str, start: int) -> tuple[int, int]:
    """A script registering accounts at a steady pace; they never do anything else."""
    rng = w.rng
    size = w.scaled(80, 300, 0.7)
    step = rng.uniform(0.3, 1.5) * SEC
    reg = start + (np.arange(size) * step + rng.normal(0, 40, size)).astype(np.int64)
    reg = np.maximum(reg, start)
    device = rng.choice(w.new_devices(int(rng.integers(1, 4)), emulator=True), size)
    ip = block_ips(rng, size, random_blocks(rng, 1))
    acc = w.new_accounts(
        reg=reg, device=device, ip=ip, phone=phones(rng, size, 0.5), channel=np.full(size, rng.integers(0, 3))
    )
    w.plant(acc, "batch_registration", cluster, "reg_burst")
    return -(-int(reg.max() + 1) // MIN) * MIN, size


def _vote_burst(w: World, cluster: str, start: int) -> tuple[int, int]:
    """A device farm of dormant accounts voting for one target within a couple of minutes."""
    rng, c = w.rng, w.clock
    size = w.scaled(30, 150, 0.7)
    reg = c.human_times(rng, size, hi=c.window_start)
    pool = w.new_devices(max(1, int(size / rng.uniform(5, 15))))
    device = rng.choice(pool, size)
    ip = block_ips(rng, size, random_blocks(rng, 1))
    acc = w.new_accounts(reg=reg, device=device, ip=ip, phone=phones(rng, size, 0.3), channel=channels(rng, size))
    w.plant(acc, "scripted_timing", cluster, "vote_farm")
    per = rng.integers(1, 6, size)
    who = np.repeat(acc, per)
    span = int(rng.uniform(1, 3) * MIN)
    t = start + np.sort(rng.integers(0, span, len(who)))
    action = ACT["vote"] if rng.random() < 0.6 else ACT["like"]
    _machine_sessions(w, who, t, action, int(rng.integers(900_100, 900_200)))
    return start + -(-span // MIN) * MIN, size


# --- adversarial mode: scripts that adapt to the clock tests -------------------------------

ADAPTIVE_MODES = ("jitter_hour", "jitter_minute", "poisson")


def plant_adaptive_bots(w: World) -> None:
    """Scripts that know the on-the-hour and fixed-interval rules (``--adversarial``):

    - ``jitter_hour``: fire at a random second within the first J s of the hour (J 5-30 s),
      every hour or only at hours drawn from the human daily profile;
    - ``jitter_minute``: the same, at a fixed minute of the hour;
    - ``poisson``: a Poisson timer with a fixed mean gap (3-40 min), no alignment at all, but
      around the clock: no sleep, no weekly pattern, near-constant session lengths;

    and any of them active for only a few days (``few_days``) or behind residential proxies (a
    home IP per event, ``proxy``). Role = mode plus its evasions, e.g. ``poisson/few_days``.
    Draws from its own stream, so the default mode is untouched."""
    rng, c = np.random.default_rng([w.seed, 1101]), w.clock
    n = max(5, int(round(rng.uniform(15, 40) * w.scale**0.7)))
    reg = c.past_times(rng, n, 200, 700)
    emulator = rng.random(n) < 0.3
    device = np.where(emulator, w.new_devices(n, emulator=True), w.new_devices(n))
    proxy = rng.random(n) < 0.35
    ip = np.where(proxy, home_ips(rng, n), block_ips(rng, n, random_blocks(rng, n)))
    acc = w.new_accounts(reg=reg, device=device, ip=ip, phone=phones(rng, n, 0.2), channel=channels(rng, n))
    drawn = []
    for i, a in enumerate(acc.tolist()):
        mode = ADAPTIVE_MODES[i % len(ADAPTIVE_MODES)]
        few = rng.random() < 0.3
        days = int(rng.integers(2, 6)) if few else int(rng.integers(10, 30))
        lo = c.window_start + int(rng.integers(0, 30 - days)) * DAY + int(rng.integers(0, DAY))
        hi = min(c.end, lo + days * DAY)
        t, detail = _bot_times(rng, c.offset, mode, lo, hi)
        role = mode + ("/few_days" if few else "") + ("/proxy" if proxy[i] else "")
        w.plant(np.array([a]), "scripted_timing", "", role)
        k = len(t)
        if k == 0:
            continue
        base = float(rng.uniform(1, 30))
        durations = np.round(base * (1 + rng.normal(0, rng.uniform(0.01, 0.08), k)), 3)
        action = rng.choice([ACT["lottery_spin"], ACT["checkin"], ACT["vote"], ACT["like"], ACT["view"]])
        sessions(
            w,
            np.full(k, a),
            t,
            np.ones(k, np.int64),
            np.zeros(k, np.int64),
            actions=np.full(k, action),
            duration_s=np.maximum(durations, 0.2),
            target=np.full(k, int(rng.integers(900_000, 900_050))),
            device=np.full(k, device[i]),
            ip=home_ips(rng, k) if proxy[i] else np.full(k, ip[i]),
        )
        drawn.append({"role": role, "events": int(k), "days": days, **detail})
    w.params["adaptive_bots"] = drawn


def _bot_times(rng: np.random.Generator, offset: int, mode: str, lo: int, hi: int) -> tuple[np.ndarray, dict]:
    """(event times in [lo, hi), what was drawn): a Poisson timer, or a jittered fire at a
    fixed minute of the hour (every hour, or at hours a person would be up)."""
    if mode == "poisson":
        mean_gap = float(rng.uniform(3, 40)) * MIN
        t = lo + np.cumsum(rng.exponential(mean_gap, int((hi - lo) / mean_gap * 1.3) + 10)).astype(np.int64)
        return t[t < hi], {"mean_gap_min": round(mean_gap / MIN, 1)}
    jitter = float(rng.uniform(5, 30))
    minute = 0 if mode == "jitter_hour" else int(rng.integers(1, 60))
    hours = np.arange(-(-lo // HOUR) * HOUR, hi, HOUR, dtype=np.int64)
    if rng.random() < 0.5:  # only at hours a person would be up, drawn from their profile
        local_hour = ((hours + offset) // HOUR) % 24
        keep = rng.random(len(hours)) < HUMAN_HOURS[local_hour] * rng.uniform(0.3, 1.0)
    else:
        keep = rng.random(len(hours)) < rng.uniform(0.5, 0.95)
    hours = hours[keep]
    t = hours + minute * MIN + (rng.random(len(hours)) * jitter * SEC).astype(np.int64)
    return t, {"jitter_s": round(jitter, 1), "minute": minute}


# a person's share of activity per local hour, scaled so the busiest hour is 1
HUMAN_HOURS = (
    np.array(
        [
            2.0,
            1.2,
            0.7,
            0.4,
            0.3,
            0.3,
            0.6,
            1.5,
            2.8,
            3.6,
            4.0,
            4.4,
            5.6,
            5.2,
            4.2,
            4.0,
            4.0,
            4.2,
            4.6,
            5.6,
            7.4,
            8.2,
            7.2,
            4.4,
        ]
    )
    / 8.2
)
