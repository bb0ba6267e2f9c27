"""The nightly run as plain functions: start -> ingest -> stage -> detect -> publish.

``flows/nightly.py`` wraps each stage in a Prefect task; ``run_nightly`` calls them in order
without Prefect. Staged tables are derived state, rebuilt from raw by every run (committed, so
detectors may read them through cursors of their own). What a run adds to the record (its
files, quarantine, findings, run status) is written in one transaction, and the report file is
swapped in only after it commits: a failed run leaves the report and the run history as they
were, forgets its raw rows, rebuilds staging without them, and is recorded as failed.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any, Callable

from abuse import cases, ingest
from abuse.detect.base import DetectContext, DetectorResult, all_detectors, ordered, params_for
from abuse.engine import detected_line
from abuse.runlog import failure_reason  # noqa: F401 - part of the pipeline's face
from abuse.settings import Settings
from abuse.window import EVENT_TIMES, latest_day, window_bounds  # noqa: F401 - the pipeline's face

from .failure import fail
from .intake import ingest_stage, stage
from .publishing import dossiers_stage, publish_stage
from .run import PAUSE_ENV, Run, Say, enter_stage, now_utc, pause_at, start

__all__ = [
    "PAUSE_ENV",
    "Run",
    "Say",
    "backfill_days",
    "detect",
    "dossiers_stage",
    "drive",
    "enter_stage",
    "fail",
    "ingest_stage",
    "now_utc",
    "pause_at",
    "publish_stage",
    "run_backfill",
    "run_nightly",
    "stage",
    "start",
    "summary",
]


def detect(run: Run) -> dict[str, DetectorResult]:
    detectors = {n: c for n, c in all_detectors().items() if n not in run.settings.disabled_detectors}
    assert run.window_start is not None and run.window_end is not None, "detect runs after staging sets the window"
    for name in ordered(detectors):
        cls = detectors[name]
        enter_stage(run, f"detect:{name}")
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
    pause_at("after_detect")
    return run.results


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
