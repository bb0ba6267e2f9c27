"""The nightly run as plain functions: start -> ingest -> stage -> detect -> publish.

``flows/nightly.py`` wraps each stage in a Prefect task; ``run_nightly`` calls them in order
without Prefect. Staged tables are derived state, rebuilt from raw by every run (committed, so
detectors may read them through cursors of their own). What a run adds to the record (its
files, quarantine, findings, run status) is written in one transaction, and the report file is
swapped in only after it commits: a failed run leaves the report and the run history as they
were, forgets its raw rows, rebuilds staging without them, and is recorded as failed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import duckdb

from abuse import cases, feedback, ingest
from abuse.detect.base import DetectContext, DetectorResult, all_detectors, ordered, params_for
from abuse.schema import KINDS
from abuse.settings import Settings
from abuse.sqlfiles import load_seeds, run_folder, set_variables, sql_files
from abuse.store import connect_work, publish, swap_in

Say = Callable[[str], None]

EVENT_TIMES = {
    "accounts": "registered_at", "orders": "created_at", "reviews": "created_at",
    "refunds": "requested_at", "coupon_events": "ts", "activity": "ts",
}


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


def _now() -> datetime:
    return datetime.now(timezone.utc)


def start(settings: Settings, say: Say = print) -> Run:
    """Open the working database, clean up after any abandoned run, and record a new run.
    Paths a run cannot use are refused first, before anything is created."""
    settings.check_paths()
    con = connect_work(settings.db, settings.tz)
    for (stale,) in con.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall():
        ingest.forget_run(con, stale)
        con.execute(
            "UPDATE runs SET status = 'failed', error = 'abandoned: the process ended mid-run' "
            "WHERE run_id = ?", [stale])
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0]
    started = _now()
    params = settings.model_dump(mode="json", exclude={"flow_run_id", "deployment"})
    con.execute(
        "INSERT INTO runs (run_id, started_at, status, parameters, tz, flow_run_id, deployment) "
        "VALUES (?, ?, 'running', ?, ?, ?, ?)",
        [run_id, started, json.dumps(params), settings.tz, settings.flow_run_id, settings.deployment],
    )
    return Run(settings, con, run_id, started, say)


def ingest_stage(run: Run) -> ingest.IngestReport:
    t0 = time.perf_counter()
    run.say(f"[ingest] reading new files under {run.settings.landing}")

    def progress(r: ingest.FileResult) -> None:
        what = f"REJECTED ({r.rejected})" if r.rejected else f"{r.rows:,} rows, {r.quarantined:,} quarantined"
        run.say(f"[ingest]   {r.file.kind:<13} {r.file.path.name}: {what} in {r.seconds:.1f}s")

    report = ingest.load_new_files(run.con, Path(run.settings.landing), run.run_id, run.started_at, progress)
    run.ingest_report = report
    run.timings["ingest"] = time.perf_counter() - t0
    run.say(f"[ingest] {len(report.files)} new files, {report.already_seen} already ingested, "
            f"{len(report.skipped)} passed over, {run.timings['ingest']:.1f}s")
    return report


def latest_day(con: duckdb.DuckDBPyConnection) -> date | None:
    parts = [f"SELECT max({col}) AS t FROM stg_{kind}" for kind, col in EVENT_TIMES.items()]
    latest = con.execute(f"SELECT max(t) FROM ({' UNION ALL '.join(parts)})").fetchone()[0]
    return None if latest is None else latest.date()  # session zone: platform-local date


def window_bounds(as_of: date, window_days: int, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the window of ``window_days`` local days ending with ``as_of``."""
    zone = ZoneInfo(tz)
    end_day = as_of + timedelta(days=1)
    start_day = end_day - timedelta(days=window_days)
    return (datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone),
            datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone))


def stage(run: Run) -> None:
    """Build staging, seeds, checks and the window."""
    t0 = time.perf_counter()
    con = run.con
    built = run_folder(con, "staging")
    load_seeds(con)
    run.checks = {p.stem: con.execute(f"SELECT count(*) FROM ({p.read_text()})").fetchone()[0]
                  for p in sql_files("checks")}
    run.as_of = run.settings.as_of or latest_day(con) or datetime.now(ZoneInfo(run.settings.tz)).date()
    run.window_start, run.window_end = window_bounds(run.as_of, run.settings.window_days, run.settings.tz)
    set_variables(con, window_start=run.window_start, window_end=run.window_end)
    run.timings["stage"] = time.perf_counter() - t0
    bad = {k: v for k, v in run.checks.items() if v}
    run.say(f"[stage] built {len(built)} staged tables; window {run.window_start:%Y-%m-%d} .. "
            f"{run.as_of} ({run.settings.window_days} days); checks: {bad or 'all clean'}; "
            f"{run.timings['stage']:.1f}s")


def detect(run: Run) -> dict[str, DetectorResult]:
    detectors = {n: c for n, c in all_detectors().items() if n not in run.settings.disabled_detectors}
    for name in ordered(detectors):
        cls = detectors[name]
        t0 = time.perf_counter()
        ctx = DetectContext(run.con, run.window_start, run.window_end, run.settings.tz,
                            params_for(cls, run.settings.detectors.get(name)),
                            upstream={r: run.results[r] for r in cls.requires})
        result = cls().detect(ctx)
        run.results[name] = result
        run.timings[f"detect:{name}"] = time.perf_counter() - t0
        run.say(f"[detect] {name}: {len(result.findings)} accounts, {len(result.clusters)} clusters, "
                f"{len(result.spikes)} spikes in {run.timings[f'detect:{name}']:.1f}s")
    return run.results


def publish_stage(run: Run) -> Path:
    """Write findings and the run record, build the report file, commit, swap the file in."""
    t0 = time.perf_counter()
    con = run.con
    report = run.ingest_report or ingest.IngestReport()
    con.execute("BEGIN TRANSACTION")
    ingest.record_files(con, report, run.run_id, run.started_at)
    feedback.sync(con, Path(run.settings.db))
    run.suppressed = cases.write_results(con, run.run_id, run.results)
    rows = report.rows_by_kind()
    con.execute(
        f"""UPDATE runs SET as_of = ?, window_start = ?, window_end = ?, finished_at = ?,
            status = 'succeeded', {', '.join(f'rows_{k} = ?' for k in KINDS)},
            rows_quarantined = ?, files_read = ?, checks = ? WHERE run_id = ?""",
        [run.as_of, run.window_start, run.window_end, _now(), *rows.values(),
         sum(report.quarantined_by_kind().values()), len(report.files), json.dumps(run.checks),
         run.run_id],
    )
    db = Path(run.settings.db)
    run.report_tmp = publish(con, db)
    con.execute("COMMIT")
    swap_in(run.report_tmp, db)
    run.timings["publish"] = time.perf_counter() - t0
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


def fail(run: Run, exc: BaseException) -> None:
    """Undo everything the run did and record it as failed."""
    con = run.con
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction was open
    if run.report_tmp and run.report_tmp.exists():
        run.report_tmp.unlink()
    ingest.forget_run(con, run.run_id)
    try:
        run_folder(con, "staging")  # staging as the last good run left it
    except duckdb.Error:
        pass  # the next run rebuilds it; the report does not depend on it
    con.execute("UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ?",
                [_now(), f"{type(exc).__name__}: {exc}"[:2000], run.run_id])


def summary(run: Run) -> dict[str, Any]:
    report = run.ingest_report or ingest.IngestReport()
    per_pattern = dict(run.con.execute(
        "SELECT pattern, count(*) FROM findings WHERE run_id = ? GROUP BY 1 ORDER BY 1",
        [run.run_id]).fetchall())
    return {
        "run_id": run.run_id, "as_of": str(run.as_of), "db": str(run.settings.db),
        "ingested": report.rows_by_kind(), "quarantined": report.quarantined_by_kind(),
        "findings": per_pattern,
        "clusters": cases.counts(run.con, run.run_id)["cases"],  # after analysts' dismissals
        "spikes": sum(len(r.spikes) for r in run.results.values()),
        "suppressed": run.suppressed, "checks": run.checks, "seconds": round(sum(run.timings.values()), 1),
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
        fail(run, exc)
        run.con.close()
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
