"""The nightly run as plain functions: start -> ingest -> stage -> detect -> publish.

``flows/nightly.py`` wraps each stage in a Prefect task; ``run_nightly`` calls them in order
without Prefect. Staged tables are derived state, rebuilt from raw by every run (committed, so
detectors may read them through cursors of their own). What a run adds to the record (its
files, quarantine, findings, run status) is written in one transaction, and the report file is
swapped in only after it commits: a failed run leaves the report and the run history as they
were, forgets its raw rows, rebuilds staging without them, and is recorded as failed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from abuse import cases, feedback, ingest, nights
from abuse.detect.base import DetectContext, DetectorResult, all_detectors, ordered, params_for
from abuse.engine import detected_line
from abuse.runlog import (  # noqa: F401 - failure_reason is part of the pipeline's face
    DISK_FULL,
    failure_reason,
    pending_failure_path,
    recover,
    undo_committed,
    write_pending_failure,
)
from abuse.schema import KINDS
from abuse.settings import Settings
from abuse.sqlfiles import load_seeds, run_folder, set_variables, sql_files
from abuse.store import (
    connect_work,
    publish,
    refresh_report,
    remove_temp,
    swap_in,
    work_path,
)
from abuse.window import EVENT_TIMES, latest_day, window_bounds  # noqa: F401 - the pipeline's face

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


def _pause(point: str) -> None:
    """Test hook: with ``ABUSE_TEST_PAUSE_AT=<point>`` the process announces the point on
    stdout and sleeps there, for a test to ``kill -9`` it at exactly that moment."""
    if os.environ.get(PAUSE_ENV) == point:
        sys.stdout.write(f"ABUSE_TEST_PAUSED {point}\n")
        sys.stdout.flush()
        time.sleep(3600)


def _enter(run: Run, stage: str) -> None:
    """Record the stage a run is in (committed at once: a killed run shows where it died)."""
    run.stage_name = stage
    run.con.execute("UPDATE runs SET stage = ? WHERE run_id = ?", [stage, run.run_id])


def _now() -> datetime:
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
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0]
    started = _now()
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


def ingest_stage(run: Run) -> ingest.IngestReport:
    _enter(run, "ingest")
    t0 = time.perf_counter()
    run.say(f"[ingest] reading new files under {run.settings.landing}")

    def progress(r: ingest.FileResult) -> None:
        what = f"REJECTED ({r.rejected})" if r.rejected else f"{r.rows:,} rows, {r.quarantined:,} quarantined"
        run.say(f"[ingest]   {r.file.kind:<13} {r.file.path.name}: {what} in {r.seconds:.1f}s")

    report = ingest.load_new_files(
        run.con,
        Path(run.settings.landing),
        run.run_id,
        run.started_at,
        progress,
        ingest.IngestOptions.from_settings(run.settings),
    )
    run.ingest_report = report
    run.timings["ingest"] = time.perf_counter() - t0
    run.say(
        f"[ingest] {len(report.files)} new files, {report.already_seen} already ingested, "
        f"{len(report.skipped)} passed over, {run.timings['ingest']:.1f}s"
    )
    for path in report.skipped:
        run.say(f"[ingest]   passed over {path}")
    full = [r for r in report.files if r.rejected and any(k in r.rejected.lower() for k in DISK_FULL)]
    if full:  # not the file's fault: fail the night rather than remember the file as rejected
        raise OSError(
            errno.ENOSPC,
            f"No space left on device while loading {full[0].file.path.name}",
            str(work_path(Path(run.settings.db))),
        )
    _pause("after_ingest")
    return report


def stage(run: Run) -> None:
    """Bring staging up to date (merging only the night's raw files, or rebuilding from all raw
    history where it must: ``abuse.staging``), then seeds, checks and the window."""
    from abuse import staging

    _enter(run, "stage")
    t0 = time.perf_counter()
    con = run.con
    done = staging.maintain(con)
    staging_s = time.perf_counter() - t0
    load_seeds(con)
    run.checks = {
        p.stem: con.execute(f"SELECT count(*) FROM ({p.read_text()})").fetchone()[0] for p in sql_files("checks")
    }
    run.as_of = run.settings.as_of or latest_day(con) or datetime.now(ZoneInfo(run.settings.tz)).date()
    run.window_start, run.window_end = window_bounds(run.as_of, run.settings.window_days, run.settings.tz)
    set_variables(con, window_start=run.window_start, window_end=run.window_end)
    con.execute(
        "UPDATE runs SET as_of = ?, window_start = ?, window_end = ? WHERE run_id = ?",
        [run.as_of, run.window_start, run.window_end, run.run_id],
    )  # a failed run shows its night
    run.timings["stage"] = time.perf_counter() - t0
    bad = {k: v for k, v in run.checks.items() if v}
    run.say(
        f"[stage] staging: {done.line()} in {staging_s:.1f}s; window {run.window_start:%Y-%m-%d} .. "
        f"{run.as_of} ({run.settings.window_days} days); checks: {bad or 'all clean'}; "
        f"{run.timings['stage']:.1f}s"
    )


def detect(run: Run) -> dict[str, DetectorResult]:
    detectors = {n: c for n, c in all_detectors().items() if n not in run.settings.disabled_detectors}
    for name in ordered(detectors):
        cls = detectors[name]
        _enter(run, f"detect:{name}")
        t0 = time.perf_counter()
        ctx = DetectContext(
            run.con,
            run.window_start,
            run.window_end,
            run.settings.tz,
            params_for(cls, run.settings.detectors.get(name)),
            upstream={r: run.results[r] for r in cls.requires if r in run.results},
        )
        result = cls().detect(ctx)
        run.results[name] = result
        run.timings[f"detect:{name}"] = time.perf_counter() - t0
        run.say(detected_line(name, result, run.timings[f"detect:{name}"]))
    _pause("after_detect")
    return run.results


def publish_stage(run: Run) -> Path:
    """Write findings and the run record, build the report file, commit, swap the file in.

    Success means published, in two phases: the history is committed with the run as
    'publishing' and the path of its complete temporary report, the file is swapped in, and
    only then is the run 'succeeded' (the report file itself already shows it so). A process
    killed in between is settled by the next ``start``."""
    _enter(run, "publish")
    t0 = time.perf_counter()
    con = run.con
    report = run.ingest_report or ingest.IngestReport()
    db = Path(run.settings.db)
    con.execute("BEGIN TRANSACTION")
    ingest.record_files(con, report, run.run_id, run.started_at)
    feedback.store(con, run.verdicts)
    rows = report.rows_by_kind()
    con.execute(
        f"""UPDATE runs SET as_of = ?, window_start = ?, window_end = ?, finished_at = ?,
            status = 'succeeded', stage = NULL, {", ".join(f"rows_{k} = ?" for k in KINDS)},
            rows_quarantined = ?, files_read = ?, checks = ?, notes = ? WHERE run_id = ?""",
        [
            run.as_of,
            run.window_start,
            run.window_end,
            _now(),
            *rows.values(),
            sum(report.quarantined_by_kind().values()),
            len(report.files),
            json.dumps(run.checks),
            "; ".join(run.notes) or None,
            run.run_id,
        ],
    )
    run.suppressed = cases.write_results(con, run.run_id, run.results)
    rechained = nights.rechain_after(con, run.as_of) if run.as_of else []
    run.report_tmp = publish(con, db)  # shows this run as succeeded: it is, once visible
    con.execute(
        "UPDATE runs SET status = 'publishing', report_tmp = ? WHERE run_id = ?", [str(run.report_tmp), run.run_id]
    )
    _pause("before_commit")
    con.execute("COMMIT")
    run.committed = True
    _pause("after_commit")
    swap_in(run.report_tmp, db)
    _pause("after_swap")
    con.execute("UPDATE runs SET status = 'succeeded', report_tmp = NULL WHERE run_id = ?", [run.run_id])
    pending_failure_path(db).unlink(missing_ok=True)
    run.committed = False
    run.report_tmp = None
    run.timings["publish"] = time.perf_counter() - t0
    if rechained:
        run.say(f"[publish] case identities of later nights re-chained: {', '.join(map(str, rechained))}")
    run.say(f"[publish] report {db} in {run.timings['publish']:.1f}s")
    return db


def dossiers_stage(run: Run) -> list[Path]:
    """HTML dossiers of the run's top cases beside the report (after the commit: a failure
    here is reported, and the run stays successful)."""
    from abuse.dossier import write_top_dossiers

    if run.settings.dossiers_top <= 0:
        return []
    t0 = time.perf_counter()
    out_dir = Path(run.settings.db).resolve().parent / "dossiers"
    try:
        pages = write_top_dossiers(run.con, run.run_id, out_dir, top=run.settings.dossiers_top)
    except Exception as exc:  # noqa: BLE001 - the report is already published
        run.say(f"[dossiers] WARNING: could not write dossiers: {type(exc).__name__}: {exc}")
        return []
    run.timings["dossiers"] = time.perf_counter() - t0
    run.say(f"[dossiers] {len(pages)} case pages in {out_dir} ({run.timings['dossiers']:.1f}s)")
    return pages


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
        "at": _now().isoformat(),
        "error": f"{type(exc).__name__}: {exc}"[:2000],
    }
    if run.report_tmp:
        remove_temp(run.report_tmp)  # first: it may be what filled the disk
    con = run.con
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction was open
    if not _alive(con):  # a fatal error (disk full) invalidates the database: open it again
        try:
            con.close()
        except duckdb.Error:
            pass
        try:
            con = run.con = connect_work(db, run.settings.tz, settings=run.settings)
        except (duckdb.Error, OSError) as exc2:
            run.say(f"[fail] could not reopen {work_path(db).name} to record the failure: {exc2}")
            write_pending_failure(db, pending)
            return reason
    try:
        if run.committed:
            undo_committed(con, run.run_id, reason)
        ingest.forget_run(con, run.run_id)
        try:
            run_folder(con, "staging")  # staging as the last good run left it
        except duckdb.Error:
            pass  # the next run rebuilds it; the report does not depend on it
        con.execute(
            "UPDATE runs SET status = 'failed', finished_at = ?, error = ?, failure_reason = ?, "
            "stage = ?, report_tmp = NULL, notes = ? WHERE run_id = ?",
            [
                _now(),
                f"{type(exc).__name__}: {exc}"[:2000],
                reason,
                run.stage_name,
                "; ".join(run.notes) or None,
                run.run_id,
            ],
        )
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


def summary(run: Run) -> dict[str, Any]:
    report = run.ingest_report or ingest.IngestReport()
    per_pattern = dict(
        run.con.execute(
            "SELECT pattern, count(*) FROM findings WHERE run_id = ? GROUP BY 1 ORDER BY 1", [run.run_id]
        ).fetchall()
    )
    return {
        "run_id": run.run_id,
        "as_of": str(run.as_of),
        "db": str(run.settings.db),
        "ingested": report.rows_by_kind(),
        "quarantined": report.quarantined_by_kind(),
        "findings": per_pattern,
        "clusters": cases.counts(run.con, run.run_id)["cases"],  # after analysts' dismissals
        "spikes": sum(len(r.spikes) for r in run.results.values()),
        "suppressed": run.suppressed,
        "checks": run.checks,
        "seconds": round(sum(run.timings.values()), 1),
    }


Stage = Callable[[Run], Any]


def drive(run: Run, stages: list[Stage], afterwards: list[Stage]) -> dict[str, Any]:
    """Run ``stages`` in order; on any failure undo the run (``fail``) and re-raise. Then run
    ``afterwards`` (after the commit: they cannot undo the report). Always closes the run's
    connection; returns the summary."""
    try:
        for step in stages:
            step(run)
    except BaseException as exc:
        reason = fail(run, exc)
        run.con.close()
        try:  # the command line prints this one readable line (the exception keeps its type)
            exc.abuse_run_failure = f"run {run.run_id} failed: {reason}"  # type: ignore[attr-defined]
        except AttributeError:
            pass
        raise
    try:
        for step in afterwards:
            step(run)
    finally:
        out = summary(run)
        run.con.close()
    return out


def run_nightly(settings: Settings, say: Say = print) -> dict[str, Any]:
    """The whole nightly run without Prefect. Raises after recording a failed run."""
    return drive(start(settings, say), [ingest_stage, stage, detect, publish_stage], [dossiers_stage])


def backfill_days(first: date, last: date) -> list[date]:
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def run_backfill(settings: Settings, first: date, last: date, say: Say = print) -> list[dict[str, Any]]:
    """Run the nights ``first`` .. ``last`` in order, each with its own ``as_of`` (the same as
    running them night after night). Stops at the first night that fails (it raises, after
    recording the failure): later nights would chain their cases to a missing report."""
    out = []
    for day in backfill_days(first, last):
        say(f"[backfill] night {day}")
        out.append(run_nightly(settings.model_copy(update={"as_of": day}), say))
    return out
