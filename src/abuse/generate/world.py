"""Shared state of one generated data set: the clock, id counters, accounts, shops and a sink
that collects rows per log kind as columns of integer codes (formatted only when written).

Encoding of values while generating (see writers.py for how each becomes text):
ids and enums are int64 codes (-1 = null), timestamps are int64 epoch milliseconds (UTC,
NULL_TS = null), money is int64 cents, texts are indexes into `World.texts`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from abuse.generate.columns import COLUMNS, default_of

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
TZ = "Asia/Shanghai"  # the default platform zone
OFFSET = 8 * HOUR  # Asia/Shanghai has no daylight saving


def zone_offset(tz: str, on: date) -> int:
    """The zone's UTC offset in ms at noon of ``on`` (Asia/Kolkata: +05:30). The generator keeps
    one offset for its whole period: zones with daylight saving are taken at ``as_of``."""
    off = datetime(on.year, on.month, on.day, 12, tzinfo=ZoneInfo(tz)).utcoffset()
    assert off is not None  # an aware datetime has one
    return int(off.total_seconds() * 1000)


# Share of the day's activity per local hour: night trough, lunch bump, evening peak.
# fmt: off
HOUR_WEEKDAY = np.array([2.0, 1.2, 0.7, 0.4, 0.3, 0.3, 0.6, 1.5, 2.8, 3.6, 4.0, 4.4,
                         5.6, 5.2, 4.2, 4.0, 4.0, 4.2, 4.6, 5.6, 7.4, 8.2, 7.2, 4.4])
HOUR_WEEKEND = np.array([3.0, 2.0, 1.2, 0.7, 0.4, 0.4, 0.5, 0.9, 1.8, 3.2, 4.4, 5.0,
                         5.4, 5.2, 5.0, 5.0, 5.0, 5.0, 5.2, 5.8, 7.0, 7.6, 6.8, 4.8])
# fmt: on


class Clock:
    """The covered period [start, end) in epoch ms, and the detection window inside it."""

    def __init__(self, as_of: date, history_days: int = 60, window_days: int = 30, tz: str = TZ):
        self.as_of = as_of
        self.tz = tz
        self.offset = zone_offset(tz, as_of)  # ms east of UTC
        self.window_days = window_days
        self.end = self.local_ms(as_of + timedelta(days=1))
        self.start = self.end - history_days * DAY
        self.window_start = self.end - window_days * DAY

    def local_ms(self, d: date, hour: int = 0, minute: int = 0, second: int = 0) -> int:
        """Epoch ms of a platform-local wall-clock time."""
        naive = datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=timezone.utc)
        return int(naive.timestamp() * 1000) - self.offset

    def day_of(self, t: np.ndarray) -> np.ndarray:
        """Local midnight (epoch ms) of each time."""
        return (t + self.offset) // DAY * DAY - self.offset

    def iso(self, t: int) -> str:
        return datetime.fromtimestamp(t / 1000, timezone(timedelta(milliseconds=self.offset))).isoformat()

    def day_weights(self, day_starts: np.ndarray) -> np.ndarray:
        """Relative volume of each local day: weekends and the 6.18 sale are busier."""
        local = (day_starts + self.offset) // DAY
        weekday = (local + 3) % 7  # 1970-01-01 was a Thursday (3)
        w = np.where(weekday >= 5, 1.2, 1.0)
        for d, boost in (
            (date(self.as_of.year, 6, 16), 1.6),
            (date(self.as_of.year, 6, 17), 1.9),
            (date(self.as_of.year, 6, 18), 3.0),
        ):
            w = np.where(day_starts == self.local_ms(d), w * boost, w)
        return w

    def human_times(
        self,
        rng: np.random.Generator,
        n: int,
        lo: int | np.ndarray | None = None,
        hi: int | None = None,
        hours: np.ndarray | None = None,
    ) -> np.ndarray:
        """n times with a human daily rhythm in [lo, hi) (lo may be per row)."""
        hi = self.end if hi is None else hi
        lo_arr = np.maximum(
            np.broadcast_to(np.asarray(self.start if lo is None else lo, dtype=np.int64), (n,)), self.start
        )
        first = int(self.day_of(np.array([lo_arr.min() if n else self.start]))[0])
        days = np.arange(first, hi, DAY, dtype=np.int64)
        wd = self.day_weights(days)
        day = days[rng.choice(len(days), size=n, p=wd / wd.sum())]
        weekend = ((day + self.offset) // DAY + 3) % 7 >= 5
        if hours is None:
            h = np.where(
                weekend,
                rng.choice(24, n, p=HOUR_WEEKEND / HOUR_WEEKEND.sum()),
                rng.choice(24, n, p=HOUR_WEEKDAY / HOUR_WEEKDAY.sum()),
            )
        else:
            h = rng.choice(24, n, p=hours / hours.sum())
        t = day + h * HOUR + rng.integers(0, HOUR, n)
        # Rows before their own lower bound move to a later day, keeping the time of day.
        bad = t < lo_arr
        if bad.any():
            lo_b = lo_arr[bad]
            tod = (t[bad] + self.offset) % DAY
            base = self.day_of(lo_b)
            span = np.maximum((hi - base) // DAY, 1)
            moved = base + rng.integers(0, span) * DAY + tod
            moved = np.where(moved < lo_b, moved + DAY, moved)
            # no day left: anywhere between the bound and the end
            anywhere = lo_b + (rng.random(len(lo_b)) * np.maximum(hi - lo_b, 1)).astype(np.int64)
            t[bad] = np.where(moved < hi, moved, anywhere)
        return np.clip(t, lo_arr, hi - 1)

    def past_times(
        self, rng: np.random.Generator, n: int, mean_days: float, max_days: int, min_days: int = 1
    ) -> np.ndarray:
        """n times before the covered period (account registrations), human time of day."""
        days = min_days + rng.exponential(mean_days, n).astype(np.int64) % max(max_days - min_days, 1)
        hour = rng.choice(24, n, p=HOUR_WEEKDAY / HOUR_WEEKDAY.sum())
        return self.start - days * DAY + hour * HOUR + rng.integers(0, HOUR, n)


class Ids:
    """Monotone code counters per entity."""

    def __init__(self):
        self.next: dict[str, int] = defaultdict(int)

    def take(self, entity: str, n: int) -> np.ndarray:
        start = self.next[entity]
        self.next[entity] = start + n
        return np.arange(start, start + n, dtype=np.int64)


class Texts:
    """Interned strings: rows carry an index, writers look the text up."""

    def __init__(self):
        self.items: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, text: str) -> int:
        if text not in self.index:
            self.index[text] = len(self.items)
            self.items.append(text)
        return self.index[text]

    def codes(self, texts: list[str]) -> np.ndarray:
        return np.array([self.code(t) for t in texts], dtype=np.int64)


class Sink:
    """Rows per log kind, appended as column arrays by every scenario."""

    def __init__(self):
        self.parts: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)

    def add(self, log_kind: str, /, **cols) -> None:
        n = max(np.size(v) for v in cols.values() if np.ndim(v) > 0)
        if n == 0:
            return
        for name in cols:
            if name not in COLUMNS[log_kind]:
                raise KeyError(f"{log_kind} has no column {name}")
        part = {}
        for name, (ctype, _) in COLUMNS[log_kind].items():
            v = cols.get(name, default_of(ctype))
            dtype = np.float64 if ctype == "float" else np.int64
            part[name] = np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()
        self.parts[log_kind].append(part)

    def frame(self, kind: str) -> dict[str, np.ndarray]:
        parts = self.parts.get(kind, [])
        cols = COLUMNS[kind]
        if not parts:
            return {c: np.empty(0, np.float64 if t == "float" else np.int64) for c, (t, _) in cols.items()}
        return {c: np.concatenate([p[c] for p in parts]) for c in cols}


class World:
    """Everything scenarios share: randomness, clock, ids, texts, rows, accounts, shops."""

    def __init__(self, seed: int, scale: float, as_of: date, adversarial: bool = False, tz: str = TZ):
        self.seed = seed
        self.scale = scale
        # adversarial: crews use the evasions of the reports (scenarios read this flag and draw
        # what they need from their own streams, so the default mode's rows stay as they were)
        self.adversarial = adversarial
        self.rng = np.random.default_rng(seed)
        self.clock = Clock(as_of, tz=tz)
        self.ids = Ids()
        self.texts = Texts()
        self.sink = Sink()
        self.params: dict = {}
        self.truth_accounts: list[tuple[np.ndarray, str, str, str]] = []  # codes, pattern, cluster, role
        self.lookalikes: list[tuple[np.ndarray, str, str]] = []  # codes, lookalike, group
        self.ring_shops: list[tuple[str, np.ndarray]] = []
        self.brushing_shops: list[tuple[str, np.ndarray]] = []  # cluster, client shop codes
        self.inflated_targets: list[tuple[str, int, str]] = []  # cluster, target code, action
        self.spikes: list[dict] = []
        self.campaigns: list[dict] = []
        self.refunded_orders: list[np.ndarray] = []
        # account attributes kept for later scenarios (not all are written), indexed by code
        self._acc_parts: list[dict[str, np.ndarray]] = []
        self._acc: dict[str, np.ndarray] | None = None
        # shops (weight = popularity, bad = share of unhappy buyers, ...) and their items
        # (shop, price in cents, printed code); filled by background.build_shops
        self.shops: dict[str, np.ndarray] = {}
        self.items: dict[str, np.ndarray] = {}

    @property
    def acc(self) -> dict[str, np.ndarray]:
        """Attributes of every account so far (id, reg, device, ip, addr, weight) by code."""
        if self._acc is None:
            keys = ("id", "reg", "device", "ip", "addr", "weight")
            if self._acc_parts:
                self._acc = {k: np.concatenate([p[k] for p in self._acc_parts]) for k in keys}
            else:
                self._acc = {k: np.empty(0, np.float64 if k == "weight" else np.int64) for k in keys}
            self._acc_parts = [self._acc]
        return self._acc

    def scaled(self, lo: float, hi: float, power: float = 1.0, minimum: int = 1) -> int:
        """A count drawn from [lo, hi) at scale 1, growing as scale**power."""
        return max(minimum, int(round(self.rng.uniform(lo, hi) * self.scale**power)))

    def new_devices(self, n: int, emulator: bool = False) -> np.ndarray:
        codes = self.ids.take("device", n)
        return codes | (1 << 40) if emulator else codes

    def new_accounts(
        self,
        reg: np.ndarray,
        device: np.ndarray,
        ip: np.ndarray,
        phone: np.ndarray,
        channel: np.ndarray | int,
        invited_by: np.ndarray | int = -1,
        addr: np.ndarray | None = None,
        weight: np.ndarray | float = 0.0,
    ) -> np.ndarray:
        n = len(reg)
        codes = self.ids.take("account", n)
        addr = self.ids.take("addr", n) if addr is None else addr
        self.sink.add(
            "accounts",
            account_id=codes,
            registered_at=reg,
            phone_prefix=phone // 10000,
            phone_hash=phone,
            device_id=device,
            ip=ip,
            channel=channel,
            invited_by=invited_by,
        )
        self._acc_parts.append({
            "id": codes, "reg": np.asarray(reg, np.int64), "device": np.asarray(device, np.int64),
            "ip": np.asarray(ip, np.int64), "addr": np.asarray(addr, np.int64),
            "weight": np.broadcast_to(np.asarray(weight, np.float64), (n,)),
        })  # fmt: skip
        self._acc = None
        return codes

    def plant(self, codes: np.ndarray, pattern: str, cluster: str, role: str) -> None:
        self.truth_accounts.append((np.asarray(codes, np.int64), pattern, cluster, role))

    def lookalike(self, codes: np.ndarray, kind: str, group: str) -> None:
        self.lookalikes.append((np.asarray(codes, np.int64), kind, group))
