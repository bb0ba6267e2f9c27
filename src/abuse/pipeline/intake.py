"""The ingest and stage steps: new landing files into the raw tables, then staging brought up
to date, seeds, checks and the window."""

from __future__ import annotations

import errno
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from abuse import ingest
from abuse.runlog import DISK_FULL
from abuse.sqlfiles import load_seeds, set_variables, sql_files
from abuse.store import work_path
from abuse.window import latest_day, window_bounds

from .run import Run, enter_stage, pause_at


def ingest_stage(run: Run) -> ingest.IngestReport:
    enter_stage(run, "ingest")
    t0 = time.perf_counter()
    run.say(f"[ingest] reading new files under {run.settings.landing}")

    def progress(r: ingest.FileResult) -> None:
        what = f"REJECTED ({r.rejected})" if r.rejected else f"{r.rows:,} rows, {r.quarantined:,} quarantined"
        run.say(f"[ingest]   {r.file.kind:<13} {r.file.path.name}: {what} in {r.seconds:.1f}s")

    report = ingest.load_new_files(
        run.con,
        run.settings.landing,  # a directory, or an object-storage URL
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
    pause_at("after_ingest")
    return report


def _maintain_features(run: Run) -> str:
    """The detectors' per-day feature tables after staging (``DetectorBase.maintain``)."""
    from abuse.detect.base import all_detectors, params_for

    t0 = time.perf_counter()
    said = []
    for name, cls in all_detectors().items():
        if name in run.settings.disabled_detectors:
            continue
        line = cls.maintain(run.con, params_for(cls, run.settings.detectors.get(name)))
        if line:
            said.append(line)
    run.timings["stage:features"] = time.perf_counter() - t0
    return f"features: {', '.join(said)} in {run.timings['stage:features']:.1f}s; " if said else ""


def stage(run: Run) -> None:
    """Bring staging up to date (merging only the night's raw files, or rebuilding from all raw
    history where it must: ``abuse.staging``), then seeds, checks and the window."""
    from abuse import staging

    enter_stage(run, "stage")
    t0 = time.perf_counter()
    con = run.con
    done = staging.maintain(con)
    staging_s = time.perf_counter() - t0
    kept = _maintain_features(run)
    load_seeds(con)
    run.checks = {
        p.stem: con.execute(f"SELECT count(*) FROM ({p.read_text()})").fetchall()[0][0] for p in sql_files("checks")
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
        f"[stage] staging: {done.line()} in {staging_s:.1f}s; {kept}window {run.window_start:%Y-%m-%d} .. "
        f"{run.as_of} ({run.settings.window_days} days); checks: {bad or 'all clean'}; "
        f"{run.timings['stage']:.1f}s"
    )
