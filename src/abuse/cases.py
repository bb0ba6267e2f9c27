"""Findings into the run history, with stable case identities.

A ring or batch found again keeps its ``cluster_id``: each new cluster is matched to the
clusters of the latest earlier successful run of the same pattern by member overlap
(Jaccard), best pairs first. An unmatched cluster gets an id derived from its members, so
re-running the same night gives the same identities.

Analyst verdicts (``abuse.feedback``) apply here: a case dismissed at N accounts stays in the
history as ``dismissed`` (so it keeps its identity) but is not raised while it has at most N
members; a dismissed account is left out of the findings.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Protocol, TypeVar

import duckdb
import pyarrow as pa

from abuse import feedback, late_links
from abuse.detect.base import Cluster, DetectorResult
from abuse.detect.patterns import pattern as declared
from abuse.report_text import plural

MIN_JACCARD = 0.3

# What a case's ``loss_estimate`` means, one definition per pattern (README "Money", and the
# column comments of report.clusters say the same). None: the pattern estimates no money, and
# the case's loss_estimate is NULL (not 0.0: nothing was estimated, not "nothing was lost").
MONEY: dict[str, str | None] = {
    "extortion_ring": "refunds and compensation the ring's victim shops approved for its members, on "
    "requests made in the window where the member attacked that shop (a low rating, a "
    "compensation demand, a review withdrawn or raised after payment); per shop in "
    "report.cluster_shops",
    "coupon_hoarding": "face value of the coupons the batch's members redeemed in the window, each "
    "redemption counted (a coupon returned and redeemed again counts twice)",
    "serial_refunder": "refunds and compensation approved for the accounts in the window",
    "brushing_ring": None,
    "scripted_timing": None,
    "vote_inflation": None,
    "batch_registration": None,
}


# The same definitions in a few words, for a dossier's header and tiles and the case tables.
MONEY_LABEL: dict[str, str] = {
    "extortion_ring": "refunds + compensation the victim shops paid the members for attacks in the window",
    "coupon_hoarding": "face value of the coupons the members redeemed in the window",
    "serial_refunder": "refunds + compensation paid to the accounts in the window",
}


def money_label(pattern: str) -> str:
    if pattern in MONEY and MONEY[pattern] is None:
        return "this pattern estimates no money"
    return MONEY_LABEL.get(pattern, "as the detector estimated it")


def money_of(pattern: str, loss: float | None) -> float | None:
    """A case's loss_estimate as published: NULL for a pattern that estimates no money."""
    if pattern in MONEY and MONEY[pattern] is None:
        return None
    return None if loss is None else round(float(loss), 2)


def _new_id(pattern: str, members: list[str]) -> str:
    digest = hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()[:10]
    return f"{declared(pattern).cluster_prefix}-{digest}"


def previous_night_run(con: duckdb.DuckDBPyConnection, run_id: int) -> int | None:
    """The run whose report is the latest night before this run's ``as_of`` (the latest
    successful run of that night). Cases chain night to night, not run to run, so that
    re-runs, nights run out of order and backfills give each night the same identities.
    A run without ``as_of`` chains to the latest earlier successful run."""
    row = con.execute(
        """WITH me AS (SELECT as_of FROM runs WHERE run_id = ?)
           SELECT run_id FROM runs
           WHERE status = 'succeeded' AND run_id <> ? AND CASE
               WHEN (SELECT as_of FROM me) IS NULL THEN run_id < ?
               ELSE as_of < (SELECT as_of FROM me) END
           ORDER BY as_of DESC NULLS LAST, run_id DESC LIMIT 1""",
        [run_id, run_id, run_id],
    ).fetchone()
    return None if row is None else row[0]


def _previous(con: duckdb.DuckDBPyConnection, run_id: int) -> list[tuple[str, str, set[str], int]]:
    rows = con.execute(
        """SELECT cluster_id, pattern, account_ids, coalesce(case_first_run, run_id)
           FROM clusters WHERE run_id = ? ORDER BY rowid""",
        [previous_night_run(con, run_id)],
    ).fetchall()
    return [(cid, pat, set(ids or []), first) for cid, pat, ids, first in rows]


class _Members(Protocol):
    """What case matching reads of a cluster: a detector's ``Cluster`` or one read back from
    the run history."""

    @property
    def pattern(self) -> str: ...

    @property
    def account_ids(self) -> list[str]: ...


_C = TypeVar("_C", bound=_Members)


def assign_ids(con: duckdb.DuckDBPyConnection, run_id: int, clusters: list[_C]) -> list[tuple[_C, str, str, int]]:
    """(cluster, cluster_id, case_status, first run) for each new cluster."""
    prev = _previous(con, run_id)
    pairs = []
    for i, c in enumerate(clusters):
        members = set(c.account_ids)
        for j, (_, pat, old, _) in enumerate(prev):
            if pat == c.pattern and members and old:
                jac = len(members & old) / len(members | old)
                if jac >= MIN_JACCARD:
                    pairs.append((jac, i, j))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if i not in matched and j not in used:
            matched[i] = j
            used.add(j)
    out = []
    taken: set[str] = set()
    for i, c in enumerate(clusters):
        if i in matched:
            cid, _, old, first = prev[matched[i]]
            new = set(c.account_ids)
            status = "recurring" if new == old else ("grown" if len(new) > len(old) else "shrunk")
            if status != "recurring" and len(new) == len(old):
                status = "recurring"  # same size, some members swapped
        else:
            cid, status, first = _new_id(c.pattern, c.account_ids), "new", run_id
        while cid in taken:
            cid += "x"
        taken.add(cid)
        out.append((c, cid, status, first))
    return out


def _low_rating(ring: Cluster) -> int:
    """The low-rating bar a ring's hostile edges used (a ring made by hand may not say: the
    rings detector's default)."""
    from abuse.detect.rings import RingDetector

    return int(ring.evidence.get("low_rating", RingDetector.Params.model_validate({}).low_rating))


def write_shop_losses(
    con: duckdb.DuckDBPyConnection, run_id: int, rings: list[tuple[str, list[str], list[str], int]]
) -> int:
    """Each ring's money shop by shop into ``cluster_shops``, by the ring's own definition
    (hostile edges of the window, as the rings detector read them, with the low-rating bar it
    used, which each ring carries: the detector may have run on another cursor or process, so
    nothing it set on its connection is assumed here): the shops' figures add up to the ring's
    loss_estimate."""
    from abuse.sqlfiles import read_sql

    edges = read_sql("features/rings_hostile_edges.sql").strip().rstrip(";")
    written = 0
    for low_rating in sorted({r[3] for r in rings}):
        some = [r for r in rings if r[3] == low_rating]
        targets = pa.table(
            {
                "cluster_id": [cid for cid, members, shops, _ in some for _ in members for _ in shops],
                "account_id": [a for _, members, shops, _ in some for a in members for _ in shops],
                "shop_id": [sh for _, members, shops, _ in some for _ in members for sh in shops],
            }
        )
        con.execute("SET VARIABLE rings_low_rating = ?", [low_rating])
        con.register("_ring_targets", targets)
        try:
            rows = con.execute(read_sql("cases/ring_shop_losses.sql").replace("{hostile_edges}", edges)).fetchall()
        finally:
            con.unregister("_ring_targets")
        _insert(con, "cluster_shops", [(run_id, *r) for r in rows])
        written += len(rows)
    return written


def counts(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, int]:
    """What a run raised, after analysts' dismissals: cases (clusters not suppressed) and
    flagged accounts."""
    row = con.execute(
        """SELECT (SELECT count(*) FROM clusters WHERE run_id = $r AND case_status <> 'dismissed'),
                  (SELECT count(DISTINCT account_id) FROM findings WHERE run_id = $r)""",
        {"r": run_id},
    ).fetchone()
    cases, accounts = row or (0, 0)
    return {"cases": int(cases), "accounts": int(accounts)}


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Append rows in one columnar insert (executemany is row by row in DuckDB)."""
    if not rows:
        return
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    data = pa.table({n: pa.array([row[i] for row in rows]) for i, n in enumerate(names)})
    con.register("_rows", data)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def _stable(value: Any) -> Any:
    """Floats to 12 significant digits: DuckDB's parallel sums differ in the last bits from
    run to run, and the report must not (the same data gives the same report)."""
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    return value


def _json(value: dict[str, Any]) -> str:
    return json.dumps(_stable(value), ensure_ascii=False, default=str, sort_keys=True)


def inflated_target_rows(
    run_id: int, clusters: list[Cluster], ids: dict[tuple[str, str], str], hidden: set[tuple[str, str]]
) -> list[tuple]:
    """Rows of ``inflated_targets``: the per-target figures a cluster keeps in
    ``evidence['targets']`` (vote_inflation farms), one row per cluster and target."""
    rows = []
    for c in clusters:
        key = (c.pattern, c.cluster_key)
        if c.target_ids is None or key in hidden or key not in ids:
            continue
        for t in c.evidence.get("targets", []):
            rows.append(
                (
                    run_id,
                    str(t["target_id"]),
                    t.get("action"),
                    ids[key],
                    int(t.get("total") or 0),
                    int(t.get("from_cluster") or 0),
                    _stable(float(t.get("share") or 0.0)),
                    t.get("first_seen"),
                    t.get("last_seen"),
                )
            )
    return rows


_Suppressed = tuple[int, str | None, str | None, str | None, str]  # run, cluster, account, pattern, why


def write_results(con: duckdb.DuckDBPyConnection, run_id: int, results: dict[str, DetectorResult]) -> dict[str, int]:
    """Insert the run's clusters, findings and spikes; returns counts of what was suppressed."""
    clusters = [c for r in results.values() for c in r.clusters]
    cluster_rows, ids, hidden, suppressed = _cluster_rows(con, run_id, clusters)
    _insert(con, "clusters", cluster_rows)
    _insert(con, "inflated_targets", inflated_target_rows(run_id, clusters, ids, hidden))
    write_shop_losses(
        con,
        run_id,
        [
            (cid, c.account_ids, c.shop_ids, _low_rating(c))
            for c, cid in ((c, ids[(c.pattern, c.cluster_key)]) for c in clusters)
            if c.pattern == "extortion_ring" and c.shop_ids
        ],
    )
    finding_rows, dropped = _finding_rows(run_id, results, ids, hidden, feedback.dismissed_accounts(con))
    suppressed += dropped
    _insert(con, "findings", finding_rows)
    _insert(con, "suppressed", suppressed)
    _insert(con, "spikes", _spike_rows(run_id, results, ids))
    return {"cases": sum(1 for s in suppressed if s[1]), "accounts": sum(1 for s in suppressed if s[2])}


def _cluster_rows(
    con: duckdb.DuckDBPyConnection, run_id: int, clusters: list
) -> tuple[list[tuple], dict[tuple[str, str], str], set[tuple[str, str]], list[_Suppressed]]:
    """The clusters' rows with their case ids and status, the ids by (pattern, cluster key),
    the (pattern, cluster key) of cases an analyst dismissed at their size (hidden), and the
    suppressed rows saying so."""
    dismissed = feedback.dismissed_cases(con)
    ids: dict[tuple[str, str], str] = {}
    hidden: set[tuple[str, str]] = set()
    rows: list[tuple] = []
    suppressed: list[_Suppressed] = []
    for c, cid, status, first in assign_ids(con, run_id, clusters):
        ids[(c.pattern, c.cluster_key)] = cid
        limit = dismissed.get(cid)
        if limit is not None:
            if len(c.account_ids) <= limit:
                status = "dismissed"
                hidden.add((c.pattern, c.cluster_key))
                suppressed.append(
                    (
                        run_id,
                        cid,
                        None,
                        c.pattern,
                        f"case dismissed at {plural(limit, 'account')}; it has {len(c.account_ids):,} now",
                    )
                )
            else:
                status = "grown"  # raised again: it grew past the size it was dismissed at
        rows.append(
            (
                run_id,
                cid,
                c.pattern,
                len(c.account_ids),
                sorted(c.account_ids),
                sorted(c.shop_ids) if c.shop_ids is not None else None,
                c.first_seen,
                c.last_seen,
                money_of(c.pattern, c.loss_estimate),
                _stable(float(c.score)),
                c.summary,
                _json(c.evidence),
                status,
                first,
                list(c.target_ids) if c.target_ids is not None else None,
            )
        )
    return rows, ids, hidden, suppressed


def _finding_rows(
    run_id: int,
    results: dict[str, DetectorResult],
    ids: dict[tuple[str, str], str],
    hidden: set[tuple[str, str]],
    dismissed_acc: set[tuple[str, str | None]],
) -> tuple[list[tuple], list[_Suppressed]]:
    """The findings' rows (none for a hidden case's members), and the suppressed rows of the
    accounts an analyst dismissed."""
    rows: list[tuple] = []
    suppressed: list[_Suppressed] = []
    for r in results.values():
        for f in r.findings:
            if f.cluster_key is not None and (f.pattern, f.cluster_key) in hidden:
                continue
            if (f.account_id, f.pattern) in dismissed_acc or (f.account_id, None) in dismissed_acc:
                suppressed.append((run_id, None, f.account_id, f.pattern, "account dismissed by an analyst"))
                continue
            rows.append(
                (
                    run_id,
                    f.account_id,
                    f.pattern,
                    _stable(float(min(max(f.score, 0.0), 1.0))),
                    ids.get((f.pattern, f.cluster_key)) if f.cluster_key is not None else None,
                    f.reason,
                    _json(f.evidence),
                )
            )
    return rows, suppressed


def _spike_rows(run_id: int, results: dict[str, DetectorResult], ids: dict[tuple[str, str], str]) -> list[tuple]:
    """The spikes' rows, each linked to the cases its bursts and late accounts belong to."""
    bursts = late_links.burst_clusters(results)
    late = late_links.late_cases(results)
    linked = [
        late_links.with_late_cases(late_links.with_burst_cases(s, bursts), late)
        for r in results.values()
        for s in r.spikes
    ]
    return [
        (
            run_id,
            s.scope,
            s.window_start,
            s.window_end,
            _stable(float(s.observed)),
            _stable(float(s.expected)),
            _stable(float(s.score)),
            list(s.top_account_ids),
            s.explained_by,
            *_incident_columns(s, ids),
        )
        for s in linked
    ]


def _incident_columns(s, ids: dict[tuple[str, str], str]) -> tuple:
    """occurrences, cadence, flagged_share, cluster_ids (the detector's cluster keys turned into
    this run's cluster ids), p_value of a spike row."""
    cluster_ids = [ids[k] for k in dict.fromkeys(tuple(k) for k in s.cluster_keys) if k in ids]
    return (int(s.occurrences), s.cadence, s.flagged_share, cluster_ids, s.p_value)
