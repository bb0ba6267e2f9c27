"""DuckDB files: the working database (raw, staging, run history) and the published report.

The report database is rebuilt from the run history at the end of every successful run into a
temporary file beside it and renamed over the old one. An analyst holding the old file open
keeps reading it undisturbed (the rename does not touch open files), and a new connection
sees the new report. The working state lives in ``<name>.work.duckdb`` next to it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import duckdb

from abuse.engine import apply_limits
from abuse.sqlfiles import run_folder, sql_files

HISTORY_TABLES = (
    "runs",
    "findings",
    "clusters",
    "spikes",
    "quarantine",
    "verdicts",
    "suppressed",
    "inflated_targets",
    "cluster_shops",
)


def work_path(db: Path) -> Path:
    return db.with_name(f"{db.stem}.work{db.suffix or '.duckdb'}")


class NoSuchDirectory(FileNotFoundError):
    """``--db`` names a directory that does not exist (and ``--init`` was not given)."""


def is_lock_conflict(exc: BaseException) -> bool:
    """DuckDB's refusal to open a file another process holds open for writing."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _connect_waiting(path: Path, wait_s: float, say: Any = None) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried while another process holds the file (another nightly run,
    a backfill), for up to ``wait_s`` seconds; then DuckDB's lock error is raised."""
    deadline = time.monotonic() + wait_s
    pause, told = 0.2, False
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if not is_lock_conflict(exc) or time.monotonic() + pause > deadline:
                raise
            if say and not told:
                say(
                    f"[start] {path.name} is in use by another process; waiting up to {wait_s:g} s "
                    "(setting lock_wait_s)"
                )
                told = True
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def connect_work(
    db: Path, tz: str, create_dir: bool = True, settings: Any = None, say: Any = None
) -> duckdb.DuckDBPyConnection:
    """Open the working database with the platform time zone as the session zone. With
    ``create_dir`` false, a missing directory is an error: a mistyped ``--db`` must not
    silently start a new history without the analysts' verdicts. ``settings`` brings the
    run's engine limits (``abuse.engine``) and ``lock_wait_s``: how long to wait while another
    process has the database open (a second nightly run waits for the first)."""
    if not db.parent.is_dir():
        if not create_dir:
            raise NoSuchDirectory(
                f"the directory of --db {db} does not exist ({db.parent}); check the path, or pass "
                "--init to start a new history there"
            )
        db.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_waiting(work_path(db), float(getattr(settings, "lock_wait_s", 0) or 0), say)
    apply_limits(con, settings, work_path(db))
    con.execute("SET TimeZone = ?", [tz])
    run_folder(con, "state")
    return con


def _json_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type = 'JSON'"
        " AND database_name = current_database()",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def build_report(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Write the report database to ``target`` from the history tables that ``con`` sees
    (including the uncommitted work of its open transaction)."""
    if target.exists():
        target.unlink()
    out = duckdb.connect(str(target))
    try:
        out.execute("CREATE SCHEMA history")
        for table in HISTORY_TABLES:
            arrow = con.execute(f"SELECT * FROM {table}").to_arrow_table()
            out.register("_src", arrow)
            json_cols = _json_columns(con, table)
            replace = ", ".join(f'CAST("{c}" AS JSON) AS "{c}"' for c in json_cols)
            star = f"* REPLACE ({replace})" if replace else "*"
            out.execute(f"CREATE TABLE history.{table} AS SELECT {star} FROM _src")
            out.unregister("_src")
        for path in sql_files("publish"):
            out.execute(path.read_text(encoding="utf-8"))
        out.execute("CHECKPOINT")
    finally:
        out.close()


def temp_report_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.{os.getpid()}.tmp")


def publish(con: duckdb.DuckDBPyConnection, db: Path) -> Path:
    """Build the report beside ``db``; the caller renames it in place with ``swap_in``."""
    tmp = temp_report_path(db)
    try:
        build_report(con, tmp)
    except BaseException:
        remove_temp(tmp)
        raise
    return tmp


def swap_in(tmp: Path, db: Path) -> None:
    os.replace(tmp, db)
    _fsync_dir(db.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX: the directory entry is data of the directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_temp(tmp: Path) -> None:
    """Remove a temporary report file and its write-ahead log, if any."""
    for path in (tmp, tmp.with_name(tmp.name + ".wal")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def stale_temps(db: Path) -> list[Path]:
    """Temporary report files that runs of ``db`` left behind (killed mid-publish)."""
    if not db.parent.is_dir():
        return []
    return sorted(p for p in db.parent.glob(f".{db.name}.*.tmp") if p.is_file())


def refresh_report(con: duckdb.DuckDBPyConnection, db: Path) -> Path:
    """Rebuild the report file from the history (after a failed or recovered run: the same
    findings as before, and ``report.runs`` showing every run), atomically."""
    tmp = publish(con, db)
    swap_in(tmp, db)
    return db


def report_run_status(db: Path, run_id: int) -> str | None:
    """The status the report file ``db`` shows for ``run_id`` (None: not there, or no file)."""
    if not db.is_file():
        return None
    try:
        rep = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = rep.execute("SELECT status FROM history.runs WHERE run_id = ?", [run_id]).fetchone()
    except duckdb.Error:
        return None
    finally:
        rep.close()
    return None if row is None else row[0]
