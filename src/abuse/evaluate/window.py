"""Recalls over what a detector could see: what planted members actually did in the run's
window, read from the working database beside the report (``<name>.work.duckdb``). A member
with no act in the window leaves no trace; these figures say how much of what was visible was
found. Skipped without the working database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from abuse.evaluate.truth import read_truth


def in_window(db: Path, truth: Path, pattern: str, query: str, tables: dict[str, list[tuple]]) -> set | None:
    """Rows of ``query`` over the working database beside the report (``<name>.work.duckdb``),
    with the planted members of ``pattern`` as TEMP table ``_members (account_id, cluster)``,
    each of ``tables`` as a TEMP table of VARCHAR columns named in its first tuple, and the last
    run's window as ``$ws`` / ``$we``. None when there is no working database or run: what a
    member did in the window is what a detector could see."""
    from abuse.store import work_path

    work = work_path(Path(db))
    if not work.is_file():
        return None
    members = [(r["account_id"], r["cluster"]) for r in read_truth(truth / "accounts.csv") if r["pattern"] == pattern]
    rep = duckdb.connect(str(db), read_only=True)
    try:
        run = rep.execute(
            "SELECT window_start, window_end FROM report.runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    finally:
        rep.close()
    if run is None:
        return None
    con = duckdb.connect(str(work), read_only=True)
    try:
        for name, rows in {"_members": [("account_id", "cluster"), *members], **tables}.items():
            cols = ", ".join(f"{c} VARCHAR" for c in rows[0])
            con.execute(f"CREATE TEMP TABLE {name} ({cols})")
            if rows[1:]:
                con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})", rows[1:])
        return set(con.execute(query, {"ws": run[0], "we": run[1]}).fetchall())
    except duckdb.Error:
        return None
    finally:
        con.close()


def attacked_victim_recall(db: Path, truth: Path, by_pattern: dict[str, Any], clusters: list) -> None:
    """extortion_ring: victim-shop recall over the planted victims that a member of their ring
    actually attacked in the window (a low rating or a refund claim there): a ring's chosen
    targets that no member got to leave no trace a detector could see."""
    planted = read_truth(truth / "ring_shops.csv")
    if not planted:
        return
    hit = in_window(
        db,
        truth,
        "extortion_ring",
        """
        SELECT DISTINCT m.cluster, x.shop_id FROM (
            SELECT account_id, shop_id FROM stg_reviews
            WHERE rating <= 2 AND created_at >= $ws AND created_at < $we
            UNION ALL
            SELECT account_id, shop_id FROM stg_refunds
            WHERE requested_at >= $ws AND requested_at < $we) x
        JOIN _members m USING (account_id)""",
        {},
    )
    attacked = {s for c, s in ((r["cluster"], r["shop_id"]) for r in planted) if (c, s) in (hit or set())}
    if not attacked:
        return
    found = {s for _, p, _, shops in clusters if p == "extortion_ring" for s in (shops or [])}
    scores = by_pattern.setdefault("extortion_ring", {})
    scores["victims_attacked"] = len(attacked)
    scores["victim_shop_recall_attacked"] = round(len(found & attacked) / len(attacked), 4)


def active_brusher_recall(db: Path, truth: Path, by_pattern: dict[str, Any], flagged: list) -> None:
    """brushing_ring: recall over the planted crew members that brushed in the window (posted
    a review of four or five stars at a client shop of their crew): a member that took no task
    in the window leaves no trace a detector could see, so this is the recall a detector can
    reach."""
    clients = read_truth(truth / "brushing_shops.csv")
    if not clients:
        return
    rows = in_window(
        db,
        truth,
        "brushing_ring",
        """
        SELECT DISTINCT m.account_id FROM stg_reviews r
        JOIN _members m USING (account_id)
        JOIN _clients c ON c.cluster = m.cluster AND c.shop_id = r.shop_id
        WHERE r.rating >= 4 AND r.created_at >= $ws AND r.created_at < $we""",
        {"_clients": [("cluster", "shop_id"), *((r["cluster"], r["shop_id"]) for r in clients)]},
    )
    _member_recalls(by_pattern, flagged, "brushing_ring", {"active": {a for (a,) in rows or set()}})


def active_hoarder_recall(db: Path, truth: Path, by_pattern: dict[str, Any], flagged: list) -> None:
    """coupon_hoarding: recall over the planted batch members that claimed a coupon in the
    window, and over those that also redeemed one there (took its value). A member that only
    registered with its batch, or claimed a coupon at a release like everyone else and never
    used it, did nothing a detector could tell from a person; the redeemers are the batch's
    extraction, what the pattern is."""
    rows = in_window(
        db,
        truth,
        "coupon_hoarding",
        """
        SELECT DISTINCT m.account_id, e.action FROM stg_coupon_events e
        JOIN _members m USING (account_id)
        WHERE e.action IN ('claim', 'redeem') AND e.ts >= $ws AND e.ts < $we""",
        {},
    )
    claimed = {a for a, act in rows or set() if act == "claim"}
    redeemed = {a for a, act in rows or set() if act == "redeem"} & claimed
    _member_recalls(by_pattern, flagged, "coupon_hoarding", {"claiming": claimed, "redeeming": redeemed})


def active_voter_recall(db: Path, truth: Path, by_pattern: dict[str, Any], flagged: list) -> None:
    """vote_inflation: recall over the planted members that engaged (with the inflated action) a
    target their crew inflated (truth/inflated_targets.csv) in the window. A bought account that
    cast nothing there, or only engaged other targets, leaves no trace of the job; one that
    engaged once is found only by how that one event sits among the crew's."""
    planted = read_truth(truth / "inflated_targets.csv")
    if not planted:
        return
    rows = in_window(
        db,
        truth,
        "vote_inflation",
        """
        SELECT DISTINCT m.account_id FROM stg_activity x
        JOIN _members m USING (account_id)
        JOIN _targets t ON t.cluster = m.cluster AND t.target_id = x.target_id AND t.action = lower(x.action)
        WHERE x.ts >= $ws AND x.ts < $we""",
        {
            "_targets": [
                ("cluster", "target_id", "action"),
                *((r["cluster"], r["target_id"], r["action"]) for r in planted),
            ]
        },
    )
    _member_recalls(by_pattern, flagged, "vote_inflation", {"engaged": {a for (a,) in rows or set()}})


def _member_recalls(by_pattern: dict[str, Any], flagged: list, pattern: str, seen: dict[str, set]) -> None:
    """Per kind of act (``seen``: the kind -> the planted members of ``pattern`` that did it in
    the window), ``<kind>_members`` and ``<kind>_member_recall``, the share of them flagged (None
    where none did it), into ``pattern``'s scores; nothing when none did the first kind."""
    if not next(iter(seen.values())):
        return
    found = {a for a, p, _ in flagged if p == pattern}
    scores = by_pattern.setdefault(pattern, {})
    for kind, members in seen.items():
        scores[f"{kind}_members"] = len(members)
        scores[f"{kind}_member_recall"] = round(len(found & members) / len(members), 4) if members else None
