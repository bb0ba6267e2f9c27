"""The nightly Prefect flow: ingest -> stage -> detect -> publish, one task per stage.

Only wiring lives here; every stage is a function of ``abuse.pipeline``. The run's DuckDB
connection is handed from task to task, so tasks use no input caching and run in the flow's
thread (a DuckDB connection is not safe to share between threads).

No ``from __future__ import annotations`` here: Prefect builds the parameter form and validates
a UI-triggered run's parameters from the real annotations.
"""


import os
from datetime import date
from typing import Any

# Prefect's local (ephemeral) server takes 15-50 s to start on a busy 2-core machine and gives
# up after 20 s by default: allow two minutes unless the user chose otherwise.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NONE  # noqa: E402
from prefect.context import FlowRunContext  # noqa: E402
from pydantic import BaseModel, create_model  # noqa: E402

from abuse import engine, pipeline, report_text  # noqa: E402
from abuse.detect.base import all_detectors  # noqa: E402
from abuse.settings import load_settings  # noqa: E402


def _thresholds_model() -> type[BaseModel]:
    """One typed model with every detector's parameters, so the Prefect UI shows a form."""
    fields = {name: (cls.Params, cls.Params()) for name, cls in all_detectors().items()}
    return create_model("DetectorThresholds", **fields)


DetectorThresholds = _thresholds_model()


@task(name="ingest", cache_policy=NONE)
def ingest_task(run: pipeline.Run) -> dict[str, int]:
    return pipeline.ingest_stage(run).rows_by_kind()


@task(name="stage", cache_policy=NONE)
def stage_task(run: pipeline.Run) -> dict[str, int]:
    pipeline.stage(run)
    return run.checks


@task(name="detect", cache_policy=NONE, task_run_name="detect-{job.name}")
def detector_task(job: engine.DetectorJob, upstream: dict[str, Any]) -> tuple[Any, float]:
    return engine.run_job(job, upstream)


def detect_stage(run: pipeline.Run) -> dict[str, int]:
    """One task per detector on the flow's task runner, each started once the detectors it
    requires are done. On Prefect's thread pool a task takes a cursor of the run's connection;
    on Dask (workers may be other processes or machines) the run releases its connection and
    each task opens the working database read-only."""
    remote = type(FlowRunContext.get().task_runner).__name__ == "DaskTaskRunner"
    results = engine.detect_with(run, lambda job, upstream: detector_task.submit(job, upstream), remote)
    return {name: len(r.findings) for name, r in results.items()}


@task(name="publish", cache_policy=NONE)
def publish_task(run: pipeline.Run) -> str:
    return str(pipeline.publish_stage(run))


@task(name="artifacts", cache_policy=NONE)
def artifacts_task(run: pipeline.Run) -> None:
    """The night's result in the Prefect UI: a markdown summary and a table of the cases."""
    create_markdown_artifact(report_text.run_markdown(run.con, run.run_id), key="abuse-summary",
                             description=f"abuse nightly run {run.run_id}")
    cases = report_text.case_table(run.con, run.run_id)
    create_table_artifact(cases or [{"cluster_id": None, "summary": "no cases tonight"}], key="abuse-cases",
                          description=f"cases of run {run.run_id}, by money at risk")


@task(name="dossiers", cache_policy=NONE)
def dossiers_task(run: pipeline.Run) -> list[str]:
    return [str(p) for p in pipeline.dossiers_stage(run)]


@flow(name="abuse-nightly", log_prints=True, retries=0)
def nightly_flow(
    landing: str = "sample_data/landing",
    db: str = "abuse.duckdb",
    as_of: date | None = None,
    window_days: int = 30,
    tz: str = "Asia/Shanghai",
    thresholds: DetectorThresholds | None = None,  # type: ignore[valid-type]
    detectors: dict[str, dict[str, Any]] | None = None,
    disabled_detectors: list[str] | None = None,
    dossiers_top: int = 10,
    init: bool = False,
    feedback_wait_s: float = 30.0,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Ingest what is new under `landing`, run every detector over the window ending on
    `as_of` (default: the latest day with data) and refresh the report database `db`."""
    overrides = dict(detectors or {})
    if thresholds is not None:
        for name, params in thresholds.model_dump().items():
            overrides[name] = {**params, **overrides.get(name, {})}
    settings = load_settings(landing=landing, db=db, as_of=as_of, window_days=window_days, tz=tz,
                             detectors=overrides or None, disabled_detectors=disabled_detectors,
                             dossiers_top=dossiers_top, init=init, feedback_wait_s=feedback_wait_s,
                             memory_limit=memory_limit, threads=threads)
    run = pipeline.start(settings, say=get_run_logger().info)
    return pipeline.drive(run, [ingest_task, stage_task, detect_stage, publish_task],
                          [artifacts_task, dossiers_task])  # after the commit: cannot undo the report


@flow(name="abuse-backfill", log_prints=True, retries=0)
def backfill_flow(
    date_from: date,
    date_to: date,
    landing: str = "sample_data/landing",
    db: str = "abuse.duckdb",
    window_days: int = 30,
    tz: str = "Asia/Shanghai",
    detectors: dict[str, dict[str, Any]] | None = None,
    disabled_detectors: list[str] | None = None,
    dossiers_top: int = 10,
    init: bool = False,
    feedback_wait_s: float = 30.0,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Run the nights `date_from` .. `date_to` in order, one nightly flow run each."""
    return [nightly_flow(landing=landing, db=db, as_of=day, window_days=window_days, tz=tz,
                         detectors=detectors, disabled_detectors=disabled_detectors,
                         dossiers_top=dossiers_top, init=init, feedback_wait_s=feedback_wait_s,
                         memory_limit=memory_limit, threads=threads)
            for day in pipeline.backfill_days(date_from, date_to)]
