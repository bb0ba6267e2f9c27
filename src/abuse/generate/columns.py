"""Columns of each log kind as the generator encodes them, and how each is written.

Types: id (prefix, zero-pad width), ts (epoch ms), money (cents), int, float, enum (values),
text (index into the text pool), hex (prefix; a 64-bit hash written as 16 hex digits),
device, ip (IPv4 as an integer), phone7 (the 7-digit number segment).
"""

from __future__ import annotations

import numpy as np

NULL_TS = np.iinfo(np.int64).min

ACCOUNT = ("id", ("a_", 6))
ORDER = ("id", ("", 10))  # numeric-looking and zero-padded on purpose
SHOP = ("id", ("s_", 5))
CAMPAIGN = ("id", ("cmp_", 3))
COUPON = ("id", ("cp", 9))
DEVICE = ("device", None)
IP = ("ip", None)

CHANNELS = ("app", "web", "mini_program", "h5", "app_store_ad")
ORDER_STATUS = ("paid", "cancelled", "completed", "refunded")
REVIEW_ACTIONS = ("posted", "amended", "withdrawn")
REFUND_KINDS = ("refund", "compensation")
OUTCOMES = ("approved", "rejected", "pending")
COUPON_ACTIONS = ("claim", "redeem", "return", "expire")
ACTIVITY_ACTIONS = ("login", "view", "like", "vote", "follow", "lottery_spin", "checkin", "share", "ad_view")

COLUMNS: dict[str, dict[str, tuple]] = {
    "accounts": {
        "account_id": ACCOUNT,
        "registered_at": ("ts", None),
        "phone_prefix": ("phone7", None),
        "phone_hash": ("hex", "ph"),
        "device_id": DEVICE,
        "ip": IP,
        "channel": ("enum", CHANNELS),
        "invited_by": ACCOUNT,
    },
    "orders": {
        "order_id": ORDER,
        "account_id": ACCOUNT,
        "shop_id": SHOP,
        "item_id": ("id", ("", 7)),
        "amount": ("money", None),
        "discount": ("money", None),
        "coupon_id": COUPON,
        "created_at": ("ts", None),
        "device_id": DEVICE,
        "ip": IP,
        "ship_addr_hash": ("hex", "ad"),
        "status": ("enum", ORDER_STATUS),
    },
    "reviews": {
        "review_id": ("id", ("rv", 8)),
        "order_id": ORDER,
        "account_id": ACCOUNT,
        "shop_id": SHOP,
        "rating": ("int", None),
        "created_at": ("ts", None),
        "action": ("enum", REVIEW_ACTIONS),
        "text": ("text", None),
    },
    "refunds": {
        "refund_id": ("id", ("rf", 8)),
        "order_id": ORDER,
        "account_id": ACCOUNT,
        "shop_id": SHOP,
        "amount": ("money", None),
        "kind": ("enum", REFUND_KINDS),
        "reason": ("text", None),
        "requested_at": ("ts", None),
        "resolved_at": ("ts", None),
        "outcome": ("enum", OUTCOMES),
    },
    "campaigns": {
        "campaign_id": CAMPAIGN,
        "name": ("text", None),
        "released_at": ("ts", None),
        "face_value": ("money", None),
        "threshold": ("money", None),
        "per_account_limit": ("int", None),
        "total_quota": ("int", None),
    },
    "coupon_events": {
        "event_id": ("id", ("ce", 10)),
        "campaign_id": CAMPAIGN,
        "coupon_id": COUPON,
        "account_id": ACCOUNT,
        "action": ("enum", COUPON_ACTIONS),
        "ts": ("ts", None),
        "order_id": ORDER,
        "device_id": DEVICE,
        "ip": IP,
    },
    "activity": {
        "event_id": ("id", ("ev", 11)),
        "account_id": ACCOUNT,
        "ts": ("ts", None),
        "action": ("enum", ACTIVITY_ACTIONS),
        "session_id": ("id", ("ss", 10)),
        "duration_s": ("float", None),
        "target_id": ("id", ("t_", 6)),
        "device_id": DEVICE,
        "ip": IP,
    },
}


def default_of(ctype: str):
    if ctype == "ts":
        return NULL_TS
    if ctype == "money":
        return 0
    if ctype == "float":
        return np.nan
    return -1


def enum(values: tuple[str, ...], name: str) -> int:
    return values.index(name)


APPROVED, REJECTED, PENDING = (enum(OUTCOMES, o) for o in OUTCOMES)  # a refund's outcome codes
