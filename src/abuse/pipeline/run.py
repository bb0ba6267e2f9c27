"""A nightly run's record (``Run``) and its start: the working database opened, what an
interrupted run left settled, the new run recorded and the analysts' verdicts copied in."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa

from abuse import feedback, ingest
from abuse.detect.base import DetectorResult
from abuse.runlog import recover, write_pending_failure
from abuse.settings import Settings
from abuse.store import connect_work, work_path

Say = Callable[[str], None]


@dataclass
class Run:
    settings: Settings
    con: duckdb.DuckDBPyConnection
    run_id: int
    started_at: datetime
    say: Say = print
    ingest_report: ingest.IngestReport | None = None
    as_of: date | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    results: dict[str, DetectorResult] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    report_tmp: Path | None = None
    suppressed: dict[str, int] = field(default_factory=dict)
    stage_name: str = "start"
    verdicts: pa.Table | None = None  # the feedback database's verdicts, read at start
    notes: list[str] = field(default_factory=list)  # what the run went on despite
    committed: bool = False  # the history is committed; the report not yet swapped in
    recovered: list[str] = field(default_factory=list)  # what start() found and settled


PAUSE_ENV = "ABUSE_TEST_PAUSE_AT"


def pause_at(point: str) -> None:
    """Test hook: with ``ABUSE_TEST_PAUSE_AT=<point>`` the process announces the point on
    stdout and sleeps there, for a test to ``kill -9`` it at exactly that moment."""
    if os.environ.get(PAUSE_ENV) == point:
        sys.stdout.write(f"ABUSE_TEST_PAUSED {point}\n")
        sys.stdout.flush()
        time.sleep(3600)


def enter_stage(run: Run, stage: str) -> None:
    """Record the stage a run is in (committed at once: a killed run shows where it died)."""
    run.stage_name = stage
    run.con.execute("UPDATE runs SET stage = ? WHERE run_id = ?", [stage, run.run_id])


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def start(settings: Settings, say: Say = print) -> Run:
    """Open the working database, settle what an interrupted run left (finish or undo its
    report swap, record an abandoned run as failed, remove temp files), record a new run and
    copy the analysts' verdicts in."""
    settings.check_paths()  # paths a run cannot use are refused before anything is created
    db = Path(settings.db)
    fresh = not work_path(db).exists()
    con = connect_work(db, settings.tz, create_dir=settings.init, settings=settings, say=say)
    if fresh:
        say(f"[start] starting a new history in {work_path(db)}")
    recovered = recover(con, db, say)
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0]
    started = now_utc()
    params = settings.model_dump(mode="json", exclude={"flow_run_id", "deployment"})
    con.execute(
        "INSERT INTO runs (run_id, started_at, status, parameters, stage, tz, flow_run_id, deployment) "
        "VALUES (?, ?, 'running', ?, 'start', ?, ?, ?)",
        [run_id, started, json.dumps(params), settings.tz, settings.flow_run_id, settings.deployment],
    )
    run = Run(settings, con, run_id, started, say, recovered=recovered)
    write_pending_failure(db, {"run_id": run_id}, create=True)  # room for a reason, if need be
    run.verdicts, note = feedback.read_verdicts(db, settings.feedback_wait_s)
    if note:
        run.notes.append(note)
        say(f"[start] WARNING: {note}")
    return run
