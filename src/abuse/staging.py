"""Staging maintained, not rebuilt: a night merges only its own raw files into ``stg_*``.

Each ``sql/staging/stg_<kind>.sql`` defines a table macro ``stg_<kind>_rows(first_file,
last_file)`` (the cleaned rows of raw files ``first_file..last_file``, latest delivery per key)
and builds ``stg_<kind>`` from every file. ``maintain`` keeps the same tables up to date by
merging: for each kind it takes the cleaned rows of the raw files that ``staging_files`` does
not list yet (the night's files; a range of ``file_seq`` that DuckDB's zone maps prune to),
deletes the staged rows they replace by key and inserts them, in one transaction per kind.
Because a later file always has a higher ``file_seq``, the result is the table a full rebuild
gives (``tests/test_staging_incremental.py`` compares the two).

A kind is rebuilt from all raw history instead when its table or ``staging_files`` is missing
(first run), when its SQL file has changed since the table was built (``staging_versions``: a
schema change), or when ``staging_files`` lists a file the raw table no longer holds or a new
file sorts before a staged one (a failed or abandoned run's rows were forgotten after they were
staged). ``rebuild`` (= ``run_folder(con, "staging")``, which ``pipeline.fail`` calls) rebuilds
everything. Other files in ``sql/staging/`` that define no ``<name>_rows`` macro are simply run
every night, as before. ``sql/staging/macros/`` holds the steps those macros share
(``latest_delivery``); they are defined first, and a change to them counts as a change to
every staging file.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb

from abuse.schema import KINDS
from abuse.sqlfiles import read_sql, run_folder, run_macros, sql_files
from abuse.window import EVENT_TIMES

BOOKKEEPING = "staging_files"


@dataclass
class Maintained:
    """What ``maintain`` did, per staged table."""

    rebuilt: dict[str, str] = field(default_factory=dict)  # table -> why
    merged: dict[str, int] = field(default_factory=dict)  # table -> new rows merged
    unchanged: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = []
        if self.merged:
            parts.append("merged " + ", ".join(f"{t} +{n:,}" for t, n in self.merged.items()))
        if self.rebuilt:
            parts.append("rebuilt " + ", ".join(f"{t} ({why})" for t, why in self.rebuilt.items()))
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} unchanged")
        return "; ".join(parts) or "nothing to stage"


def _sha(path: Path) -> str:
    """The version of a staging file: its text and that of the staging macros it may call (a
    changed macro rebuilds the tables, as a changed file does)."""
    h = hashlib.sha256(path.read_bytes())
    for macro in sql_files("staging/macros"):
        h.update(macro.read_bytes())
    return h.hexdigest()


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'"
            " AND database_name = current_database()",
            [table],
        ).fetchall()[0][0]
        > 0
    )


def _has_macro(path: Path) -> bool:
    return f"MACRO {path.stem}_rows(" in path.read_text(encoding="utf-8")


def _record_versions(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> None:
    con.execute(read_sql("staging/incremental/staging_versions.sql"))
    for p in paths:
        con.execute("INSERT OR REPLACE INTO staging_versions VALUES (?, ?)", [p.stem, _sha(p)])


def rebuild(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every staged table from all raw history (first run, or undoing a failed run)."""
    built = run_folder(con, "staging")
    _record_versions(con, sql_files("staging"))
    mark_rebuilt(con, list(KINDS))
    return built


def _next_seq(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(read_sql("staging/incremental/staging_changes.sql"))
    return int(con.execute("SELECT coalesce(max(seq), 0) + 1 FROM staging_changes").fetchall()[0][0])


def mark_rebuilt(con: duckdb.DuckDBPyConnection, kinds: list[str], seq: int | None = None) -> None:
    """Tell the per-day features (``staging_changes``) that ``kinds`` were rebuilt from raw."""
    seq = _next_seq(con) if seq is None else seq
    con.executemany("INSERT INTO staging_changes VALUES (?, ?, NULL)", [[seq, k] for k in kinds])


def _record_changes(con: duckdb.DuckDBPyConnection, table: str, kind: str, match: str, seq: int) -> None:
    """The event hours of the staged rows ``_stg_new`` replaces and of its own rows."""
    col = EVENT_TIMES.get(kind)
    if col is None:
        return
    con.execute(
        f"""INSERT INTO staging_changes
        SELECT DISTINCT ?, ?, epoch_ms(t) // 3600000 FROM (
            SELECT s."{col}" AS t FROM {table} AS s SEMI JOIN _stg_new AS n ON {match}
            UNION ALL SELECT "{col}" FROM _stg_new) WHERE t IS NOT NULL""",
        [seq, kind],
    )


def _raw_files(con: duckdb.DuckDBPyConnection, kind: str) -> set[tuple[int, int]]:
    rows = con.execute(f"SELECT _file_seq, _run_id FROM raw_{kind} GROUP BY ALL").fetchall()
    return {(int(s), int(r)) for s, r in rows}


def _staged_files(con: duckdb.DuckDBPyConnection, kind: str) -> set[tuple[int, int]]:
    rows = con.execute(f"SELECT file_seq, run_id FROM {BOOKKEEPING} WHERE kind = ?", [kind]).fetchall()
    return {(int(s), int(r)) for s, r in rows}


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` has a transaction open (in autocommit every statement gets a new id; a
    failed BEGIN would abort the caller's transaction, so do not probe with one)."""
    ids = [con.execute("SELECT txid_current()").fetchall()[0][0] for _ in range(2)]
    return ids[0] == ids[1]


@contextmanager
def _atomic(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction, or the caller's if one is already open (it then commits or undoes
    the staging work with the rest)."""
    if _in_transaction(con):
        yield
        return
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _rebuild_kind(con: duckdb.DuckDBPyConnection, path: Path, kind: str, seq: int) -> None:
    with _atomic(con):
        mark_rebuilt(con, [kind], seq)
        con.execute(path.read_text(encoding="utf-8"))
        con.execute(f"DELETE FROM {BOOKKEEPING} WHERE kind = ?", [kind])
        con.execute(f"INSERT INTO {BOOKKEEPING} SELECT ?, _file_seq, _run_id FROM raw_{kind} GROUP BY ALL", [kind])
        _record_versions(con, [path])


def _merge_kind(con: duckdb.DuckDBPyConnection, table: str, kind: str, new: set[tuple[int, int]], seq: int) -> int:
    """Merge the cleaned rows of raw files ``new`` into ``table``: delete what they replace
    by key, insert them. The caller checked that every new file is later than every staged one."""
    first, last = min(s for s, _ in new), max(s for s, _ in new)
    match = " AND ".join(f's."{k}" IS NOT DISTINCT FROM n."{k}"' for k in KINDS[kind].key)
    with _atomic(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _stg_new AS SELECT * FROM {table}_rows(?, ?)", [first, last])
        n = con.execute("SELECT count(*) FROM _stg_new").fetchall()[0][0]
        if n:
            _record_changes(con, table, kind, match, seq)
            con.execute(f"DELETE FROM {table} AS s USING _stg_new AS n WHERE {match}")
            con.execute(f"INSERT INTO {table} SELECT * FROM _stg_new")
        con.executemany(f"INSERT INTO {BOOKKEEPING} VALUES (?, ?, ?)", [[kind, s, r] for s, r in sorted(new)])
        con.execute("DROP TABLE _stg_new")
    return int(n)


def _why_rebuild(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    versions: dict[str, str],
    raw: set[tuple[int, int]],
    staged: set[tuple[int, int]],
) -> str | None:
    table = path.stem
    if not _exists(con, table):
        return "first build"
    if versions.get(table) != _sha(path):
        return "its SQL changed"
    if staged - raw:
        return "staged rows of a forgotten run"
    new = raw - staged
    if new and staged and min(s for s, _ in new) < max(s for s, _ in staged):
        return "a new file sorts before a staged one"
    return None


def maintain(con: duckdb.DuckDBPyConnection) -> Maintained:
    """Bring every ``stg_*`` table up to date with the raw tables, merging where it can."""
    out = Maintained()
    paths = sql_files("staging")
    run_macros(con, "staging")  # the shared steps of the stg_<kind>_rows macros
    if not _exists(con, BOOKKEEPING) or not _exists(con, "staging_versions"):
        built = rebuild(con)
        out.rebuilt = {t: "first build" for t in built if t != BOOKKEEPING}
        return out
    versions = dict(con.execute("SELECT table_name, sql_sha256 FROM staging_versions").fetchall())
    seq = _next_seq(con)
    for path in paths:
        table = path.stem
        if table == BOOKKEEPING:
            continue
        kind = table.removeprefix("stg_")
        if kind not in KINDS or not _has_macro(path):
            con.execute(path.read_text(encoding="utf-8"))  # not maintained: built every night
            if kind in KINDS:
                mark_rebuilt(con, [kind], seq)
            out.rebuilt[table] = "always rebuilt"
            continue
        raw, staged = _raw_files(con, kind), _staged_files(con, kind)
        why = _why_rebuild(con, path, versions, raw, staged)
        if why:
            _rebuild_kind(con, path, kind, seq)
            out.rebuilt[table] = why
        elif raw - staged:
            out.merged[table] = _merge_kind(con, table, kind, raw - staged, seq)
        else:
            out.unchanged.append(table)
    return out
