"""The ordinary marketplace: a clock, identifiers, shops and people living ordinary days.

Times are float seconds after the first local midnight of the window (platform time,
UTC+08:00); the writer turns them into text in whatever style a file uses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

DAY = 86400.0
HOUR = 3600.0
DAYS = 30
FIRST_DAY = "2026-07-25"  # a Saturday; the window's last day is 2026-08-23
FIRST_WEEKDAY = 5
KINDS = ("accounts", "orders", "reviews", "refunds", "campaigns", "coupon_events", "activity")

# Local-hour weights of a shopper: a small lunch peak, a long evening, a short night.
_DAYTIME = np.array(
    [
        1.6,
        0.9,
        0.45,
        0.25,
        0.2,
        0.3,
        0.9,
        2.2,
        3.1,
        3.6,
        4.0,
        4.6,
        5.8,
        5.1,
        3.9,
        3.7,
        3.8,
        4.1,
        4.9,
        5.9,
        7.2,
        8.3,
        7.4,
        4.2,
    ]
)
_NIGHT = np.array(
    [
        8.0,
        9.0,
        8.5,
        7.0,
        4.5,
        1.5,
        0.4,
        0.2,
        0.2,
        0.2,
        0.3,
        0.6,
        0.9,
        1.0,
        0.8,
        0.8,
        0.9,
        1.0,
        1.2,
        1.5,
        2.0,
        3.0,
        4.5,
        6.5,
    ]
)
DAYTIME = _DAYTIME / _DAYTIME.sum()
NIGHT = _NIGHT / _NIGHT.sum()

CARRIER_SEGMENTS = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
    "177",
    "199",
    "191",
    "198",
    "166",
)
VIRTUAL_SEGMENTS = ("170", "171", "162", "165", "167")

GOOD_WORDS = (
    "质量不错，和描述一致",
    "物流很快 👍",
    "第二次回购了，家里人都说好",
    "包装有点简陋，但东西还行",
    "Good value, arrived in 2 days",
    "颜色比图片暗一点，\n整体满意",
    '客服态度好，"耐心"解答',
    "性价比高😊",
    "还没用，先好评",
    "尺码标准，面料舒服",
    "一般般吧，凑合用",
    "",
)
BAD_WORDS = (
    "收到就坏了，联系客服不理人",
    "和图片差太多了，退货!",
    "质量很差，用了一次就裂开",
    "发错货了，等了一周",
    "味道很大，不敢用",
    "disappointed, broken on arrival",
)


def day_of(t: float) -> int:
    return int(t // DAY)


def local(t: float) -> datetime:
    """Naive platform-local wall time."""
    return datetime.fromisoformat(FIRST_DAY) + timedelta(seconds=round(t, 3))


# The platform zone's offset from UTC (a zone without daylight saving); ``make_heldout --tz``
# moves it (e.g. Asia/Kolkata, +05:30). Wall times do not move: only the offsets written.
ZONE_OFFSET = timedelta(hours=8)


def set_zone_offset(offset: timedelta) -> None:
    global ZONE_OFFSET
    ZONE_OFFSET = offset


def offset_text(offset: timedelta | None = None) -> str:
    minutes = int((ZONE_OFFSET if offset is None else offset).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_text(t: float) -> str:
    return local(t).isoformat(timespec="seconds") + offset_text()


@dataclass
class Person:
    account_id: str
    registered: float
    device: str
    ip: str
    addr: str
    hours: np.ndarray = field(default_factory=lambda: DAYTIME, repr=False)
    favourites: list[str] = field(default_factory=list)
    extra_devices: list[str] = field(default_factory=list)


class World:
    """Identifiers, shops, campaigns and the records written so far (rows per kind)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.rows: dict[str, list[dict]] = {k: [] for k in KINDS}
        self._taken: set[str] = set()
        self._serial = 0
        self._salt = int(self.rng.integers(0, 1 << 62))
        n_shops = 700
        self.shops = [self._unique(lambda: f"{int(self.rng.integers(0, 10**6)):06d}") for _ in range(n_shops)]
        weight = 1.0 / np.arange(1, n_shops + 1) ** 0.95  # shop popularity by rank
        self.shop_p = weight / weight.sum()
        self._shop_cdf = np.cumsum(self.shop_p)
        days = np.arange(DAYS)
        self._day_cdf = np.cumsum(np.where(((days + FIRST_WEEKDAY) % 7) >= 5, 1.35, 1.0))
        self._day_cdf /= self._day_cdf[-1]
        self._hour_cdf: dict[int, np.ndarray] = {}
        self._buffer, self._next = self.rng.random(1 << 16), 0
        self.carrier_nat = [self.ipv4() for _ in range(250)]  # mobile gateways shared by many
        self.campaigns: list[dict] = []
        self.people: list[Person] = []

    # identifiers -----------------------------------------------------------------------------
    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self._taken:
                self._taken.add(value)
                return value

    def account_id(self) -> str:
        if self.rng.random() < 0.2:
            return self._unique(lambda: str(uuid.UUID(bytes=self.rng.bytes(16), version=4)))
        return self._unique(lambda: str(int(self.rng.integers(10**6, 10**8))))

    def u(self) -> float:
        """One uniform draw from a buffered stream (much faster than a numpy call per draw)."""
        if self._next == len(self._buffer):
            self._buffer, self._next = self.rng.random(1 << 16), 0
        self._next += 1
        return float(self._buffer[self._next - 1])

    def token(self, prefix: str = "") -> str:
        self._serial += 1
        mixed = ((self._serial * 0x9E3779B97F4A7C15) ^ self._salt) & 0xFFFFFFFFFFFFFFFF  # a bijection
        return f"{prefix}{mixed:016x}"

    def serial(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{20260725000000 + self._serial * 7919:d}"

    def device(self) -> str:
        if self.rng.random() < 0.45:  # iOS-style identifier, else an Android id
            return str(uuid.UUID(bytes=self.rng.bytes(16))).upper()
        return self.rng.bytes(8).hex()

    def ipv4(self, net: str | None = None) -> str:
        if net:
            return f"{net}.{int(self.rng.integers(2, 255))}"
        a = int(
            self.rng.choice(
                [
                    36,
                    39,
                    42,
                    58,
                    59,
                    60,
                    101,
                    106,
                    110,
                    112,
                    113,
                    114,
                    115,
                    116,
                    117,
                    119,
                    120,
                    121,
                    122,
                    123,
                    124,
                    125,
                    175,
                    180,
                    182,
                    183,
                    218,
                    219,
                    220,
                    221,
                    222,
                    223,
                ]
            )
        )
        b, c, d = (int(x) for x in self.rng.integers(1, 255, 3))
        return f"{a}.{b}.{c}.{d}"

    def ipv6(self) -> str:
        groups = [f"{int(x):x}" for x in self.rng.integers(0, 65536, 5)]
        return "240e:" + ":".join(groups[:3]) + "::" + groups[3]

    def phone_prefix(self, virtual: bool = False) -> str:
        segs = VIRTUAL_SEGMENTS if virtual else CARRIER_SEGMENTS
        return str(self.rng.choice(segs)) + f"{int(self.rng.integers(0, 10000)):04d}"

    # time ------------------------------------------------------------------------------------
    def _draw(self, cdf: np.ndarray, lo: int, hi: int) -> int:
        """An index in [lo, hi) drawn with the weights whose cumulative sum is ``cdf``."""
        base = cdf[lo - 1] if lo else 0.0
        return min(int(np.searchsorted(cdf, base + self.u() * (cdf[hi - 1] - base), side="right")), hi - 1)

    def day(self, lo: int = 0, hi: int = DAYS) -> int:
        return self._draw(self._day_cdf, lo, hi)  # weekends busier

    def at(self, day: int, hours: np.ndarray = DAYTIME) -> float:
        cdf = self._hour_cdf.setdefault(id(hours), np.cumsum(hours))
        return day * DAY + self._draw(cdf, 0, 24) * HOUR + self.u() * HOUR

    def shop(self, lo_rank: int = 0, hi_rank: int | None = None) -> str:
        return self.shops[self._draw(self._shop_cdf, lo_rank, hi_rank or len(self.shops))]

    # records ---------------------------------------------------------------------------------
    def register(
        self,
        t: float,
        *,
        prefix: str | None = None,
        device: str | None = None,
        ip: str | None = None,
        channel: str | None = None,
        invited_by: str | None = None,
        hours: np.ndarray = DAYTIME,
        addr: str | None = None,
    ) -> Person:
        rng = self.rng
        p = Person(self.account_id(), t, device or self.device(), ip or self.ipv4(), addr or self.token("ad"), hours)
        p.favourites = [self.shop() for _ in range(int(rng.integers(1, 5)))]
        if rng.random() < 0.25:
            p.extra_devices.append(self.device())
        if invited_by is None and rng.random() < 0.08 and self.people:
            invited_by = self.people[int(rng.integers(0, len(self.people)))].account_id
        u = rng.random()  # on the phone's mobile network, the home line, or IPv6
        reg_ip = ip or (
            self.carrier_nat[int(rng.integers(0, len(self.carrier_nat)))]
            if u < 0.3
            else self.ipv6()
            if u < 0.34
            else p.ip
        )
        self.rows["accounts"].append(
            {
                "account_id": p.account_id,
                "registered_at": t,
                "phone_prefix": prefix or self.phone_prefix(virtual=rng.random() < 0.015),
                "phone_hash": self.rng.bytes(16).hex(),
                "device_id": p.device,
                "ip": reg_ip,
                "channel": channel or str(rng.choice(["app", "app", "app", "web", "mini_program", "h5"])),
                "invited_by": invited_by or None,
            }
        )
        self.people.append(p)
        return p

    def order(
        self,
        p: Person,
        t: float,
        shop: str,
        amount: float,
        *,
        discount: float = 0.0,
        coupon: str | None = None,
        device: str | None = None,
        ip: str | None = None,
        addr: str | None = None,
        status: str = "completed",
    ) -> dict:
        rng = self.rng
        if ip is None:
            ip = p.ip if rng.random() < 0.6 else self.carrier_nat[int(rng.integers(0, len(self.carrier_nat)))]
        if device is None:
            device = p.extra_devices[0] if p.extra_devices and rng.random() < 0.3 else p.device
        row = {
            "order_id": self.serial(""),
            "account_id": p.account_id,
            "shop_id": shop,
            "item_id": f"i{int(rng.integers(10**8, 10**9))}",
            "amount": round(max(amount, 0.01), 2),
            "discount": round(discount, 2),
            "coupon_id": coupon,
            "created_at": t,
            "device_id": device,
            "ip": ip,
            "ship_addr_hash": addr or p.addr,
            "status": status,
        }
        self.rows["orders"].append(row)
        return row

    def review(
        self,
        p: Person,
        order: dict | None,
        shop: str,
        t: float,
        rating: int | None,
        *,
        action: str = "posted",
        review_id: str | None = None,
        text: str | None = None,
    ) -> str:
        review_id = review_id or self.token("rv-")
        if text is None and rating is not None:
            words = GOOD_WORDS if rating >= 3 else BAD_WORDS
            text = str(words[int(self.rng.integers(0, len(words)))])
        if t < DAYS * DAY:
            self.rows["reviews"].append(
                {
                    "review_id": review_id,
                    "order_id": order["order_id"] if order else None,
                    "account_id": p.account_id,
                    "shop_id": shop,
                    "rating": rating,
                    "created_at": t,
                    "action": action,
                    "text": text,
                }
            )
        return review_id

    def refund(
        self,
        p: Person,
        order: dict,
        t: float,
        amount: float,
        *,
        kind: str = "refund",
        reason: str = "quality",
        outcome: str = "approved",
        delay: float | None = None,
    ) -> float | None:
        """Records a refund request; returns when it was resolved (None when still open)."""
        if t >= DAYS * DAY:
            return None
        resolved = t + (delay if delay is not None else float(self.rng.uniform(0.3, 3.0)) * DAY)
        if outcome == "pending" or resolved >= DAYS * DAY:
            outcome, resolved = "pending", None
        self.rows["refunds"].append(
            {
                "refund_id": self.serial("RF"),
                "order_id": order["order_id"],
                "account_id": p.account_id,
                "shop_id": order["shop_id"],
                "amount": round(amount, 2),
                "kind": kind,
                "reason": reason,
                "requested_at": t,
                "resolved_at": resolved,
                "outcome": outcome,
            }
        )
        if kind == "refund" and outcome == "approved":
            order["status"] = "refunded"
        return resolved if outcome == "approved" else None

    def act(
        self,
        p: Person,
        t: float,
        action: str,
        duration: float,
        *,
        session: str | None = None,
        target: str | None = None,
        device: str | None = None,
        ip: str | None = None,
    ) -> None:
        if 0 <= t < DAYS * DAY:
            self.rows["activity"].append(
                {
                    "event_id": self.token(),
                    "account_id": p.account_id,
                    "ts": t,
                    "action": action,
                    "session_id": session,
                    "duration_s": round(duration, 2),
                    "target_id": target,
                    "device_id": device or p.device,
                    "ip": ip or p.ip,
                }
            )

    def coupon(
        self,
        p: Person,
        camp: dict,
        action: str,
        t: float,
        coupon_id: str | None = None,
        order: dict | None = None,
        device: str | None = None,
        ip: str | None = None,
    ) -> str:
        if coupon_id is None:
            camp["issued"] += 1
            coupon_id = f"{camp['campaign_id']}-{camp['issued']:07d}"
        if t < DAYS * DAY:
            self.rows["coupon_events"].append(
                {
                    "event_id": self.token("ce"),
                    "campaign_id": camp["campaign_id"],
                    "coupon_id": coupon_id,
                    "account_id": p.account_id,
                    "action": action,
                    "ts": t,
                    "order_id": order["order_id"] if order else None,
                    "device_id": device or p.device,
                    "ip": ip or p.ip,
                }
            )
        return coupon_id
