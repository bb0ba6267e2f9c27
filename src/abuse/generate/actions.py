"""Primitive behaviours every scenario is made of: register, order, review, refund, claim,
act in sessions. Each appends rows to the world's sink and returns the new codes."""

from __future__ import annotations

import numpy as np

from abuse.generate import texts
from abuse.generate.columns import (
    ACTIVITY_ACTIONS,
    COUPON_ACTIONS,
    NULL_TS,
    ORDER_STATUS,
    OUTCOMES,
    REFUND_KINDS,
    REVIEW_ACTIONS,
    enum,
)
from abuse.generate.identity import mobile_ips
from abuse.generate.world import DAY, SEC, World

STATUS = {s: enum(ORDER_STATUS, s) for s in ORDER_STATUS}
ACT = {a: enum(ACTIVITY_ACTIONS, a) for a in ACTIVITY_ACTIONS}
COUPON = {a: enum(COUPON_ACTIONS, a) for a in COUPON_ACTIONS}


def place_orders(
    w: World,
    acc: np.ndarray,
    shop: np.ndarray,
    item: np.ndarray,
    t: np.ndarray,
    gross: np.ndarray,
    discount=0,
    coupon=-1,
    device=None,
    ip=None,
    addr=None,
    status=None,
) -> np.ndarray:
    """Orders paid by `acc`; the paid amount is gross minus discount. Device, IP and shipping
    address default to the account's own (sometimes a mobile network address)."""
    rng, n = w.rng, len(acc)
    codes = w.ids.take("order", n)
    if device is None:
        device = w.acc["device"][acc]
    if ip is None:
        mobile = rng.random(n) < 0.3
        ip = np.where(mobile, mobile_ips(rng, n), w.acc["ip"][acc])
    if addr is None:
        addr = w.acc["addr"][acc]
    if status is None:
        recent = t > w.clock.end - 4 * DAY
        status = np.where(
            recent & (rng.random(n) < 0.6),
            STATUS["paid"],
            np.where(rng.random(n) < 0.03, STATUS["cancelled"], STATUS["completed"]),
        )
    amount = np.maximum(np.asarray(gross) - np.asarray(discount), 1)
    w.sink.add(
        "orders",
        order_id=codes,
        account_id=acc,
        shop_id=shop,
        item_id=item,
        amount=amount,
        discount=discount,
        coupon_id=coupon,
        created_at=t,
        device_id=device,
        ip=ip,
        ship_addr_hash=addr,
        status=status,
    )
    return codes


def post_reviews(w: World, order, acc, shop, t, rating, text) -> np.ndarray:
    codes = w.ids.take("review", len(acc))
    w.sink.add(
        "reviews",
        review_id=codes,
        order_id=order,
        account_id=acc,
        shop_id=shop,
        rating=rating,
        created_at=t,
        action=enum(REVIEW_ACTIONS, "posted"),
        text=text,
    )
    return codes


def post_honest_reviews(w: World, rng, order, acc, shop, t, rating, keep=None) -> np.ndarray:
    """Reviews of the orders where ``keep`` holds (None: every one) at ``t`` with ``rating``, in
    an ordinary buyer's words (``texts.background_review``); ``shop`` one shop or one a row."""
    if np.ndim(shop) == 0:
        shop = np.full(len(acc), shop)
    if keep is not None:
        order, acc, shop, t, rating = order[keep], acc[keep], shop[keep], t[keep], rating[keep]
    return post_reviews(w, order, acc, shop, t, rating, w.texts.codes(texts.background_review(rng, rating)))


def change_reviews(w: World, review, order, acc, shop, t, rating, text, action: str) -> None:
    w.sink.add(
        "reviews",
        review_id=review,
        order_id=order,
        account_id=acc,
        shop_id=shop,
        rating=rating if action == "amended" else -1,
        created_at=t,
        action=enum(REVIEW_ACTIONS, action),
        text=text,
    )


def refunds(w: World, order, acc, shop, amount, t, resolve_after, outcome, reason, kind="refund"):
    """Refund (or compensation) requests; approved refunds mark their order refunded."""
    n = len(acc)
    codes = w.ids.take("refund", n)
    resolved = t + resolve_after
    # still open at the end of the export: pending, not resolved yet
    outcome = np.where(resolved >= w.clock.end, enum(OUTCOMES, "pending"), outcome)
    resolved = np.where(outcome == enum(OUTCOMES, "pending"), NULL_TS, resolved)
    w.sink.add(
        "refunds",
        refund_id=codes,
        order_id=order,
        account_id=acc,
        shop_id=shop,
        amount=amount,
        kind=enum(REFUND_KINDS, kind),
        reason=reason,
        requested_at=t,
        resolved_at=resolved,
        outcome=outcome,
    )
    if kind == "refund":
        w.refunded_orders.append(np.broadcast_to(np.asarray(order), (n,))[outcome == enum(OUTCOMES, "approved")])
    return codes


def coupon_events(w: World, campaign, coupon, acc, action: str, t, order=-1, device=None, ip=None):
    n = len(acc)
    w.sink.add(
        "coupon_events",
        event_id=w.ids.take("coupon_event", n),
        campaign_id=campaign,
        coupon_id=coupon,
        account_id=acc,
        action=COUPON[action],
        ts=t,
        order_id=order,
        device_id=w.acc["device"][acc] if device is None else device,
        ip=w.acc["ip"][acc] if ip is None else ip,
    )


def sessions(
    w: World,
    acc: np.ndarray,
    starts: np.ndarray,
    n_events: np.ndarray,
    gap_ms: np.ndarray | None,
    actions: np.ndarray | None = None,
    action_p: dict[str, float] | None = None,
    duration_s: np.ndarray | None = None,
    target=None,
    device=None,
    ip=None,
) -> None:
    """Activity in sessions: session k of account acc[k] starts at starts[k] and has
    n_events[k] events separated by the given gaps (one per event; the first is ignored).
    Human default: login first, then a mix of actions, durations between the gaps."""
    rng = w.rng
    n_events = np.asarray(n_events, np.int64)
    total = int(n_events.sum())
    if total == 0:
        return
    sess = np.repeat(np.arange(len(acc)), n_events)
    first = np.zeros(total, bool)
    first[np.concatenate([[0], np.cumsum(n_events)[:-1]])] = True
    if gap_ms is None:
        gap_ms = np.exp(rng.normal(np.log(12 * SEC), 1.0, total)).astype(np.int64)
    gaps = np.where(first, 0, gap_ms)
    # offsets within each session: cumulative gaps restarted at every session
    cum = np.cumsum(gaps)
    offs = cum - np.repeat(cum[first], n_events)
    t = np.repeat(starts, n_events) + offs
    if actions is None:
        assert action_p is not None, "actions or action_p"
        names = list(action_p)
        p = np.array([action_p[k] for k in names])
        actions = np.array([ACT[k] for k in names])[rng.choice(len(names), total, p=p / p.sum())]
        actions = np.where(first, ACT["login"], actions)
    if duration_s is None:
        duration_s = np.round(np.maximum(gaps / 1000 * rng.uniform(0.5, 0.95, total), 0.8), 3)
        duration_s = np.where(first, np.round(rng.uniform(1.0, 4.0, total), 3), duration_s)
    if target is None:
        target = rng.integers(0, 100_000, total)
    session_codes = w.ids.take("session", len(acc))
    a = np.asarray(acc)[sess]
    cols = dict(
        account_id=a,
        ts=t,
        action=actions,
        session_id=session_codes[sess],
        duration_s=duration_s,
        target_id=np.broadcast_to(target, (total,)),
        device_id=w.acc["device"][a] if device is None else np.asarray(device)[sess],
        ip=w.acc["ip"][a] if ip is None else np.asarray(ip)[sess],
    )
    keep = (t >= w.clock.start) & (t < w.clock.end)  # sessions cut at the export's edges
    cols = {k: np.broadcast_to(v, (total,))[keep] for k, v in cols.items()}
    w.sink.add("activity", event_id=w.ids.take("activity", int(keep.sum())), **cols)


HUMAN_ACTIONS = {
    "view": 0.68,
    "like": 0.12,
    "follow": 0.03,
    "lottery_spin": 0.06,
    "vote": 0.03,
    "checkin": 0.05,
    "share": 0.03,
}
