"""The input contract as data: for each log kind its columns, types, required flags and key.

Everything that reads landing files (ingest, staging SQL, the generator's tests) takes its
column lists from here, so the contract is written down once in code.
"""

from __future__ import annotations

from dataclasses import dataclass

TS = "TIMESTAMPTZ"
MONEY = "DECIMAL(18,2)"
STR = "VARCHAR"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STR
    required: bool = False


@dataclass(frozen=True)
class Kind:
    name: str  # folder under the landing directory, and suffix of raw_/stg_ tables
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name: str, type_: str = STR, required: bool = False) -> Column:
    return Column(name, type_, required)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in [
        Kind(
            "accounts",
            ("account_id",),
            (
                _c("account_id", required=True),
                _c("registered_at", TS, True),
                _c("phone_prefix"),
                _c("phone_hash"),
                _c("device_id"),
                _c("ip"),
                _c("channel"),
                _c("invited_by"),
            ),
        ),
        Kind(
            "orders",
            ("order_id",),
            (
                _c("order_id", required=True),
                _c("account_id", required=True),
                _c("shop_id", required=True),
                _c("item_id"),
                _c("amount", MONEY, True),
                _c("discount", MONEY),
                _c("coupon_id"),
                _c("created_at", TS, True),
                _c("device_id"),
                _c("ip"),
                _c("ship_addr_hash"),
                _c("status"),
            ),
        ),
        Kind(
            "reviews",
            ("review_id", "action", "created_at"),
            (
                _c("review_id", required=True),
                _c("order_id"),
                _c("account_id", required=True),
                _c("shop_id", required=True),
                _c("rating", "INTEGER", True),
                _c("created_at", TS, True),
                _c("action"),
                _c("text"),
            ),
        ),
        Kind(
            "refunds",
            ("refund_id",),
            (
                _c("refund_id", required=True),
                _c("order_id"),
                _c("account_id", required=True),
                _c("shop_id", required=True),
                _c("amount", MONEY, True),
                _c("kind"),
                _c("reason"),
                _c("requested_at", TS, True),
                _c("resolved_at", TS),
                _c("outcome"),
            ),
        ),
        Kind(
            "campaigns",
            ("campaign_id",),
            (
                _c("campaign_id", required=True),
                _c("name"),
                _c("released_at", TS, True),
                _c("face_value", MONEY, True),
                _c("threshold", MONEY),
                _c("per_account_limit", "INTEGER"),
                _c("total_quota", "INTEGER"),
            ),
        ),
        Kind(
            "coupon_events",
            ("event_id",),
            (
                _c("event_id", required=True),
                _c("campaign_id", required=True),
                _c("coupon_id", required=True),
                _c("account_id", required=True),
                _c("action", required=True),
                _c("ts", TS, True),
                _c("order_id"),
                _c("device_id"),
                _c("ip"),
            ),
        ),
        Kind(
            "activity",
            ("event_id",),
            (
                _c("event_id", required=True),
                _c("account_id", required=True),
                _c("ts", TS, True),
                _c("action", required=True),
                _c("session_id"),
                _c("duration_s", "DOUBLE"),
                _c("target_id"),
                _c("device_id"),
                _c("ip"),
            ),
        ),
    ]
}

FORMATS = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")


def file_format(path: str) -> str | None:
    """The contract format of a landing file by its extension, or None if it is not one."""
    lower = path.lower()
    for ext in sorted(FORMATS, key=len, reverse=True):
        if lower.endswith(ext):
            return ext
    return None
