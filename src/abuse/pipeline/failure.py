"""A failed run undone: its raw rows forgotten, staging rebuilt without them, the run recorded
as failed with a readable reason and shown in ``report.runs``."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from abuse import ingest, staging
from abuse.runlog import failure_reason, pending_failure_path, undo_committed, write_pending_failure
from abuse.schema import KINDS
from abuse.sqlfiles import run_folder
from abuse.store import connect_work, refresh_report, remove_temp, work_path

from .run import Run, now_utc


def _alive(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT 1").fetchone()
        return True
    except duckdb.Error:
        return False


def fail(run: Run, exc: BaseException) -> str:
    """Undo everything the run did, record it as failed with a readable reason, and show it in
    ``report.runs`` (the report file is rebuilt from the history: the same findings as before).
    Returns the reason."""
    db = Path(run.settings.db)
    try:
        free = shutil.disk_usage(db.parent).free
    except OSError:
        free = None
    reason = failure_reason(exc, run.stage_name, db, free)
    pending = {
        "run_id": run.run_id,
        "stage": run.stage_name,
        "reason": reason,
        "at": now_utc().isoformat(),
        "error": f"{type(exc).__name__}: {exc}"[:2000],
    }
    if run.report_tmp:
        remove_temp(run.report_tmp)  # first: it may be what filled the disk
    con = _usable_connection(run, db)
    if con is None:
        write_pending_failure(db, pending)
        return reason
    try:
        _undo(con, run, exc, reason)
    except (duckdb.Error, OSError) as exc2:
        run.say(f"[fail] could not record the failure in {work_path(db).name}: {exc2}")
        write_pending_failure(db, pending)
        return reason
    pending_failure_path(db).unlink(missing_ok=True)  # recorded
    try:
        refresh_report(con, db)
    except (duckdb.Error, OSError) as exc2:
        run.say(f"[fail] could not show the failure in report.runs (the report is as it was): {exc2}")
    return reason


def _usable_connection(run: Run, db: Path) -> duckdb.DuckDBPyConnection | None:
    """The run's connection with its transaction rolled back, or a new one when a fatal error
    (disk full) invalidated the database; None when it cannot be opened again."""
    con = run.con
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction was open
    if _alive(con):
        return con
    try:
        con.close()
    except duckdb.Error:
        pass
    try:
        con = run.con = connect_work(db, run.settings.tz, settings=run.settings)
    except (duckdb.Error, OSError) as exc2:
        run.say(f"[fail] could not reopen {work_path(db).name} to record the failure: {exc2}")
        return None
    return con


def _undo(con: duckdb.DuckDBPyConnection, run: Run, exc: BaseException, reason: str) -> None:
    """Undo a committed history, forget the run's raw rows, rebuild staging and record the run
    as failed."""
    if run.committed:
        undo_committed(con, run.run_id, reason)
    ingest.forget_run(con, run.run_id)
    try:
        run_folder(con, "staging")  # staging as the last good run left it
        staging.mark_rebuilt(con, list(KINDS))  # and the per-day features rebuilt from it
    except duckdb.Error:
        pass  # the next run rebuilds it; the report does not depend on it
    con.execute(
        "UPDATE runs SET status = 'failed', finished_at = ?, error = ?, failure_reason = ?, "
        "stage = ?, report_tmp = NULL, notes = ? WHERE run_id = ?",
        [
            now_utc(),
            f"{type(exc).__name__}: {exc}"[:2000],
            reason,
            run.stage_name,
            "; ".join(run.notes) or None,
            run.run_id,
        ],
    )
