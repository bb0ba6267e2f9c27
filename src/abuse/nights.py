"""Nights: the report of a night, and keeping case identities chained night to night.

The report for a night (an ``as_of`` day) is what the latest successful run with that
``as_of`` found; ``report.nights`` names that run for every night. A case keeps its
``cluster_id`` from one night to the next (``cases.previous_night_run``), so when a night is
run again or out of order, the nights after it may have chained to a different report: they
are re-chained here, in ``as_of`` order, inside the run's transaction. Their findings stay
as their runs found them; only ``cluster_id``, ``case_status`` and ``case_first_run`` follow
the new chain. The result is the same as running every night once, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from abuse import cases, feedback


@dataclass
class _Stored:
    """The part of a stored cluster that case matching reads."""

    pattern: str
    account_ids: list[str]


def night_runs(con: duckdb.DuckDBPyConnection, after: date) -> list[tuple[date, int]]:
    """(as_of, run_id of its report) for every night after ``after``, in order."""
    return con.execute(
        """SELECT as_of, max(run_id) FROM runs
           WHERE status = 'succeeded' AND as_of > ? GROUP BY as_of ORDER BY as_of""",
        [after],
    ).fetchall()


def _rechain_run(con: duckdb.DuckDBPyConnection, run_id: int) -> int:
    """Re-match one run's clusters to its previous night; returns how many rows changed."""
    rows = con.execute(
        "SELECT cluster_id, pattern, account_ids, case_status, case_first_run FROM clusters "
        "WHERE run_id = ? ORDER BY rowid",
        [run_id],
    ).fetchall()
    if not rows:
        return 0
    stored = [_Stored(pat, list(ids or [])) for _, pat, ids, _, _ in rows]
    dismissed = feedback.dismissed_cases(con)
    old_ids, new_ids, statuses, firsts = [], [], [], []
    changed = 0
    for (old, _, ids, old_status, old_first), (_, cid, status, first) in zip(
        rows, cases.assign_ids(con, run_id, stored), strict=True
    ):
        limit = dismissed.get(cid)
        if old_status == "dismissed" or (limit is not None and len(ids or []) <= limit):
            status = "dismissed"
        elif limit is not None:
            status = "grown"  # raised again: it grew past the size it was dismissed at
        if (cid, status, first) != (old, old_status, old_first):
            changed += 1
        old_ids.append(old)
        new_ids.append(cid)
        statuses.append(status)
        firsts.append(first)
    if not changed:
        return 0
    mapping = pa.table(
        {"old_id": old_ids, "new_id": new_ids, "status": statuses, "first_run": pa.array(firsts, pa.int64())}
    )
    con.register("_rechain", mapping)
    try:
        con.execute(
            """UPDATE clusters SET cluster_id = m.new_id, case_status = m.status,
                           case_first_run = m.first_run
                       FROM _rechain m WHERE clusters.run_id = ? AND clusters.cluster_id = m.old_id""",
            [run_id],
        )
        for table in ("findings", "suppressed", "inflated_targets"):
            con.execute(
                f"""UPDATE {table} SET cluster_id = m.new_id FROM _rechain m
                            WHERE {table}.run_id = ? AND {table}.cluster_id = m.old_id""",
                [run_id],
            )
    finally:
        con.unregister("_rechain")
    return changed


def rechain_after(con: duckdb.DuckDBPyConnection, as_of: date) -> list[date]:
    """Re-chain the case identities of every night after ``as_of``; returns the nights
    whose cases changed. Stops at the first night that comes out unchanged (the nights
    after it chain to it, so they are unchanged too)."""
    touched = []
    for night, run_id in night_runs(con, as_of):
        if not _rechain_run(con, run_id):
            break
        touched.append(night)
    return touched
