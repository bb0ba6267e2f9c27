"""Features kept per day, maintained like staging: a night recomputes only the days whose
staged rows changed.

``staging.maintain`` records in ``staging_changes`` the event hours each merge touched (the rows
it replaced and the rows it inserted), or that a kind was rebuilt. A per-day feature table
records in ``feature_versions`` its version (its SQL and parameters, the platform zone) and the
last change it took in; ``dirty_days`` says which local days it must recompute since: every day
(None) on the first build, when its version changed, or when a kind it reads was rebuilt (first
run, a schema change, a failed run undone); else the local days of the changed hours. A
failed night that staged rows but never updated the features leaves its changes unconsumed,
so the next night takes them in.
"""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb

from abuse.sqlfiles import read_sql


def version_of(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    n = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'"
        " AND database_name = current_database()",
        [table],
    ).fetchall()[0][0]
    return bool(n)


def dirty_days(
    con: duckdb.DuckDBPyConnection, table: str, version: str, kinds: tuple[str, ...]
) -> tuple[list[date] | None, int, str]:
    """(days to recompute or None for all, the change seq to record once done, why). Only
    reads when the bookkeeping exists (a read-only connection can ask)."""
    for name, sql in (
        ("staging_changes", "staging/incremental/staging_changes.sql"),
        ("feature_versions", "features/incremental/feature_versions.sql"),
    ):
        if not _exists(con, name):
            con.execute(read_sql(sql))
    seq = int(con.execute("SELECT coalesce(max(seq), 0) FROM staging_changes").fetchall()[0][0])
    row = con.execute("SELECT version, seq FROM feature_versions WHERE table_name = ?", [table]).fetchall()
    if not _exists(con, table) or not row:
        return None, seq, "first build"
    if row[0][0] != version:
        return None, seq, "its SQL or parameters changed"
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    rebuilt, n = con.execute(
        f"SELECT count(*) FILTER (WHERE hour IS NULL), count(*) FROM staging_changes "
        f"WHERE seq > ? AND kind IN ({kinds_sql})",
        [row[0][1]],
    ).fetchall()[0]
    if rebuilt:
        return None, seq, "staging rebuilt"
    if not n:
        return [], seq, "unchanged"
    # an hour's first and last second: in zones whose offset is not whole hours it spans two local days
    days = con.execute(
        f"""SELECT DISTINCT d FROM (
            SELECT unnest([CAST(to_timestamp(hour * 3600) AS DATE),
                           CAST(to_timestamp(hour * 3600 + 3599) AS DATE)]) AS d
            FROM staging_changes WHERE seq > ? AND kind IN ({kinds_sql})) ORDER BY d""",
        [row[0][1]],
    ).fetchall()
    return [d for (d,) in days], seq, "merged"


def record(con: duckdb.DuckDBPyConnection, table: str, version: str, seq: int) -> None:
    con.execute("INSERT OR REPLACE INTO feature_versions VALUES (?, ?, ?)", [table, version, seq])
