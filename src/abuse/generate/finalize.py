"""From collected rows to delivery order: campaign rows, refunded statuses, and ids renumbered
in time order (as a platform assigns them), so that no id range betrays a scenario."""

from __future__ import annotations

import numpy as np

from abuse.generate.columns import ORDER_STATUS, enum
from abuse.generate.world import World

# first printed value of each renumbered id, so ids do not start at zero
ID_BASE = {
    "account": 1,
    "order": 10_000_007,
    "review": 500_001,
    "refund": 70_001,
    "coupon_event": 1,
    "activity": 1,
    "session": 1,
    "coupon": 1_000_001,
}


def _time_rank(codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A map old code -> new code, ordered by each code's earliest time."""
    order = np.lexsort((times, codes))
    c_sorted = codes[order]
    first = np.ones(len(c_sorted), bool)
    first[1:] = c_sorted[1:] != c_sorted[:-1]
    uniq, t_first = c_sorted[first], times[order][first]
    rank = np.lexsort((uniq, t_first))
    mapping = np.full(int(codes.max()) + 1 if len(codes) else 1, -1, np.int64)
    mapping[uniq[rank]] = np.arange(len(uniq))
    return mapping


def _apply(mapping: np.ndarray, codes: np.ndarray, base: int) -> np.ndarray:
    out = np.full(len(codes), -1, np.int64)
    ok = codes >= 0
    out[ok] = mapping[codes[ok]] + base
    return out


def _sort(frame: dict[str, np.ndarray], time_col: str, *ties: str) -> dict[str, np.ndarray]:
    order = np.lexsort(tuple(frame[t] for t in reversed(ties)) + (frame[time_col],))
    return {k: v[order] for k, v in frame.items()}


def finalize(w: World) -> dict[str, dict[str, np.ndarray]]:
    """The world's rows as one frame per kind: campaigns written out, ids numbered in time
    order, every kind sorted by time."""
    _write_campaigns(w)
    f = {}
    for kind in ("accounts", "orders", "reviews", "refunds", "campaigns", "coupon_events", "activity"):
        f[kind] = w.sink.frame(kind)
        w.sink.parts.pop(kind, None)  # free the pieces as soon as they are joined
    if w.refunded_orders:
        done = np.isin(f["orders"]["order_id"], np.concatenate(w.refunded_orders))
        f["orders"]["status"][done] = enum(ORDER_STATUS, "refunded")
    _number_ids(w, f)
    f["accounts"] = _sort(f["accounts"], "registered_at", "account_id")
    f["orders"] = _sort(f["orders"], "created_at", "order_id")
    f["reviews"] = _sort(f["reviews"], "created_at", "review_id")
    f["refunds"] = _sort(f["refunds"], "requested_at", "refund_id")
    f["campaigns"] = _sort(f["campaigns"], "released_at", "campaign_id")
    f["coupon_events"] = _sort(f["coupon_events"], "ts", "event_id")
    f["activity"] = _sort(f["activity"], "ts", "event_id")
    return f


def _write_campaigns(w: World) -> None:
    """The campaigns' rows (each with a quota above its claims) and their summary in params."""
    rng = w.rng
    w.params["campaigns"] = [
        {
            "campaign_id": f"cmp_{k['code']:03d}",
            "released": w.clock.iso(k["released"]),
            "flash": k["flash"],
            "claims": k["claims"],
        }
        for k in w.campaigns
    ]
    for k in w.campaigns:
        quota = int(np.ceil(max(k["claims"], 1) * rng.uniform(1.1, 2.5) / 100) * 100)
        w.sink.add(
            "campaigns",
            campaign_id=np.array([k["code"]]),
            name=w.texts.code(k["name"]),
            released_at=k["released"],
            face_value=k["face"],
            threshold=k["threshold"],
            per_account_limit=k["limit"],
            total_quota=quota,
        )


def _number_ids(w: World, f: dict[str, dict[str, np.ndarray]]) -> None:
    """Every id renumbered by the time it first appears (accounts by registration, orders by
    creation, ...), in every kind that refers to it and in the truth."""
    acc = _time_rank(f["accounts"]["account_id"], f["accounts"]["registered_at"])
    for kind, cols in (
        ("accounts", ("account_id", "invited_by")),
        ("orders", ("account_id",)),
        ("reviews", ("account_id",)),
        ("refunds", ("account_id",)),
        ("coupon_events", ("account_id",)),
        ("activity", ("account_id",)),
    ):
        for c in cols:
            f[kind][c] = _apply(acc, f[kind][c], ID_BASE["account"])
    w.truth_accounts = [
        (_apply(acc, c, ID_BASE["account"]), pattern, cluster, role) for c, pattern, cluster, role in w.truth_accounts
    ]
    w.lookalikes = [(_apply(acc, c, ID_BASE["account"]), kind, group) for c, kind, group in w.lookalikes]

    orders = _time_rank(f["orders"]["order_id"], f["orders"]["created_at"])
    for kind in ("orders", "reviews", "refunds", "coupon_events"):
        f[kind]["order_id"] = _apply(orders, f[kind]["order_id"], ID_BASE["order"])
    ce = f["coupon_events"]
    if len(ce["coupon_id"]):
        coupons = _time_rank(ce["coupon_id"], ce["ts"])
        ce["coupon_id"] = _apply(coupons, ce["coupon_id"], ID_BASE["coupon"])
        f["orders"]["coupon_id"] = _apply(coupons, f["orders"]["coupon_id"], ID_BASE["coupon"])
    for kind, key, time_col, base in (
        ("reviews", "review_id", "created_at", "review"),
        ("refunds", "refund_id", "requested_at", "refund"),
        ("coupon_events", "event_id", "ts", "coupon_event"),
        ("activity", "event_id", "ts", "activity"),
        ("activity", "session_id", "ts", "session"),
    ):
        if len(f[kind][key]):
            mapping = _time_rank(f[kind][key], f[kind][time_col])
            f[kind][key] = _apply(mapping, f[kind][key], ID_BASE[base])
