"""What a run leaves behind when it is cut short, and how that is told: settling runs an earlier
process left unfinished (a swap interrupted after the commit, a run killed mid-way), the small
journal beside the database for a failure the working database could not take (a full disk),
and the one readable sentence a failure is recorded with."""

from __future__ import annotations

import errno
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import duckdb

from abuse import ingest, nights
from abuse.store import refresh_report, remove_temp, report_run_status, stale_temps, swap_in, work_path

Say = Callable[[str], None]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def recover(con: duckdb.DuckDBPyConnection, db: Path, say: Say = print) -> list[str]:
    """Settle every run an earlier process left unfinished; returns what was done.

    - 'publishing' (history committed, report not yet swapped in): its temporary report is
      complete, so it is swapped in and the run marked succeeded; if the report already shows
      the run (killed after the swap) it is just marked succeeded; otherwise the run is undone
      and recorded as failed.
    - 'running' (killed before its commit): its raw rows are forgotten, recorded as failed.
    - leftover temporary report files are removed.
    When anything was undone, the report file is rebuilt so ``report.runs`` shows it."""
    done: list[str] = []
    undone = _settle_publishing(con, db, done)
    undone = _settle_running(con, db, done) or undone
    pending_failure_path(db).unlink(missing_ok=True)
    _remove_leftovers(db, done)
    if undone:
        try:
            refresh_report(con, db)
        except (duckdb.Error, OSError) as exc:
            say(f"[start] WARNING: could not refresh the report's runs: {exc}")
    for line in done:
        say(f"[start] {line}")
    return done


def _settle_publishing(con: duckdb.DuckDBPyConnection, db: Path, done: list[str]) -> bool:
    """Runs killed while publishing: finish the swap, mark succeeded, or roll back. True when
    one was rolled back."""
    undone = False
    for run_id, tmp in con.execute(
        "SELECT run_id, report_tmp FROM runs WHERE status = 'publishing' ORDER BY run_id"
    ).fetchall():
        tmp_path = Path(tmp) if tmp else None
        if tmp_path is not None and tmp_path.is_file():
            swap_in(tmp_path, db)
            con.execute(
                "UPDATE runs SET status = 'succeeded', report_tmp = NULL, stage = NULL WHERE run_id = ?", [run_id]
            )
            done.append(f"run {run_id} was interrupted while swapping in its report: finished the swap")
        elif report_run_status(db, run_id) == "succeeded":
            con.execute(
                "UPDATE runs SET status = 'succeeded', report_tmp = NULL, stage = NULL WHERE run_id = ?", [run_id]
            )
            done.append(f"run {run_id} was interrupted after swapping in its report: marked succeeded")
        else:
            undo_committed(
                con, run_id, "interrupted while publishing; its report never appeared, so the run was rolled back"
            )
            done.append(f"run {run_id} was interrupted before its report appeared: rolled back")
            undone = True
    return undone


def _settle_running(con: duckdb.DuckDBPyConnection, db: Path, done: list[str]) -> bool:
    """Runs killed before their commit: raw rows forgotten, recorded as failed (with the reason
    the failure journal kept, if any). True when there was one."""
    undone = False
    pending = read_pending_failure(db)
    for stale, stage in con.execute(
        "SELECT run_id, stage FROM runs WHERE status = 'running' ORDER BY run_id"
    ).fetchall():
        ingest.forget_run(con, stale)
        known = pending if pending and pending.get("run_id") == stale and pending.get("reason") else None
        if known:  # it failed, and could not record why (a full disk): the reason it left
            con.execute(
                "UPDATE runs SET status = 'failed', stage = ?, error = ?, failure_reason = ?, "
                "finished_at = ? WHERE run_id = ?",
                [known.get("stage"), known.get("error"), known.get("reason"), known.get("at"), stale],
            )
            done.append(f"run {stale} failed ({known.get('reason')}): recorded now")
        else:
            con.execute(
                "UPDATE runs SET status = 'failed', error = 'abandoned: the process ended mid-run', "
                "failure_reason = ? WHERE run_id = ?",
                [f"the process ended during {stage_words(stage)} (killed or crashed); nothing of it was kept", stale],
            )
            done.append(f"run {stale} ended mid-run (in {stage or 'start'}): recorded as failed")
        undone = True
    return undone


def _remove_leftovers(db: Path, done: list[str]) -> None:
    """Temporary report files and DuckDB spill files an interrupted run left behind."""
    for tmp in stale_temps(db):
        remove_temp(tmp)
        done.append(f"removed the temporary file {tmp.name} of an interrupted run")
    spill = work_path(db).with_name(work_path(db).name + ".tmp")  # DuckDB's spill files
    if spill.is_dir() and (left := [p for p in spill.iterdir() if p.is_file()]):
        for p in left:  # nobody else uses them: this process holds the working database
            p.unlink(missing_ok=True)
        done.append(f"removed {len(left)} spill file(s) an interrupted run left in {spill.name}")


def pending_failure_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.failed-run.json")


JOURNAL_BYTES = 4096


def write_pending_failure(db: Path, record: dict[str, Any], create: bool = False) -> None:
    """A failure the working database could not take (disk full) goes into a small journal
    beside it, for the next start to record. The journal is made (full size) when the run
    starts and overwritten in place, so that writing it needs no new room on the disk."""
    data = json.dumps(record, default=str).encode()[: JOURNAL_BYTES - 1]
    data += b" " * (JOURNAL_BYTES - len(data))
    try:
        with open(pending_failure_path(db), "wb" if create else "r+b") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass


def read_pending_failure(db: Path) -> dict[str, Any] | None:
    try:
        return json.loads(pending_failure_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def undo_committed(con: duckdb.DuckDBPyConnection, run_id: int, reason: str) -> None:
    """Take back what a committed run added to the history (its report never appeared)."""
    as_of = (con.execute("SELECT as_of FROM runs WHERE run_id = ?", [run_id]).fetchone() or (None,))[0]
    con.execute("BEGIN TRANSACTION")
    for table in ("findings", "clusters", "spikes", "suppressed", "quarantine", "ingest_files", "inflated_targets"):
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    con.execute(
        "UPDATE runs SET status = 'failed', stage = 'publish', report_tmp = NULL, "
        "error = coalesce(error, ?), failure_reason = ? WHERE run_id = ?",
        [reason, reason, run_id],
    )
    if as_of is not None:
        nights.rechain_after(con, as_of)
    con.execute("COMMIT")
    ingest.forget_run(con, run_id)


DISK_FULL = ("no space left on device", "disk full", "not enough space", "disk quota exceeded")
QUOTED_PATH = re.compile(r"""["']([^"']*[/\\][^"']+)["']""")


def stage_words(stage: str | None) -> str:
    if not stage:
        return "start-up"
    if stage.startswith("detect:"):
        return f"the {stage.split(':', 1)[1]} detector"
    return {"start": "start-up", "ingest": "ingest", "stage": "staging", "publish": "publishing the report"}.get(
        stage, stage
    )


def failure_reason(exc: BaseException, stage: str | None, db: Path, disk_free: int | None = None) -> str:
    """One line an analyst can read: what went wrong, in which stage, on which file."""
    text = str(exc).strip()
    low = text.lower()
    first = text.splitlines()[0] if text else type(exc).__name__
    disk_full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or any(
        k in low for k in DISK_FULL
    )
    if not disk_full and "invalidated" in low and disk_free is not None and disk_free < (1 << 20):
        disk_full = True  # DuckDB hides the cause behind "database has been invalidated"
    if disk_full:
        quoted = QUOTED_PATH.findall(text) or ([exc.filename] if isinstance(exc, OSError) and exc.filename else [])
        name = Path(str(quoted[0])).name if quoted else (db.name if stage == "publish" else work_path(db).name)
        name = re.sub(r"\.wal$", "", name)
        if name.startswith(f".{db.name}.") and name.endswith(".tmp"):
            name = f"the new report (beside {db.name})"
        return f"disk full while writing {name} (during {stage_words(stage)})"
    if "could not set lock" in low or "conflicting lock" in low:
        quoted = QUOTED_PATH.findall(text)
        name = Path(quoted[0]).name if quoted else work_path(db).name
        return f"{name} is held open for writing by another process (during {stage_words(stage)})"
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted during {stage_words(stage)}"
    if stage and stage.startswith("detect:"):
        return f"{stage_words(stage)} failed: {type(exc).__name__}: {first}"[:500]
    if isinstance(exc, FileNotFoundError):
        return first[:500]
    return f"{type(exc).__name__} during {stage_words(stage)}: {first}"[:500]
