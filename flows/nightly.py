"""The nightly Prefect flow: ingest -> stage -> detect -> publish, one task per stage.

Only wiring lives here; every stage is a function of ``abuse.pipeline``. The run's DuckDB
connection is handed from task to task, so tasks use no input caching and run in the flow's
thread (a DuckDB connection is not safe to share between threads).

No ``from __future__ import annotations`` here: Prefect builds the parameter form and validates
a UI-triggered run's parameters from the real annotations.
"""

import hashlib
import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator, Optional

# Prefect's local (ephemeral) server takes 15-50 s to start on a busy 2-core machine and gives
# up after 20 s by default: allow two minutes unless the user chose otherwise.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import prefect.runtime.deployment as prefect_runtime_deployment  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NONE  # noqa: E402
from prefect.concurrency.sync import concurrency  # noqa: E402
from prefect.context import (
    FlowRunContext,  # noqa: E402
    get_run_context,  # noqa: E402
)
from pydantic import BaseModel  # noqa: E402

from abuse import engine, pipeline, report_text  # noqa: E402
from abuse.settings import Settings, load_settings, thresholds_model  # noqa: E402

DetectorThresholds = thresholds_model()  # every detector's Params, all optional: the UI form


def db_limit_name(db: str) -> str:
    """The global concurrency limit that lets one run at a time write a report database."""
    path = str(Path(db).resolve())
    return f"abuse-db-{hashlib.sha1(path.encode()).hexdigest()[:12]}"


def settings_for(
    settings_file: Optional[str] = None, thresholds: Optional[BaseModel | dict] = None, **params: Any
) -> Settings:
    """The run's settings: the settings file < environment < these flow parameters (None = not
    given), thresholds merged key by key into the file's and the environment's."""
    if isinstance(thresholds, BaseModel):
        thresholds = thresholds.model_dump(exclude_none=True)
    detectors = {k: v for k, v in (thresholds or {}).items() if v} or None
    return load_settings(settings_file, detectors=detectors, **params)


# The parameters nightly_flow and backfill_flow share, by name. Prefect's UI form and its
# validation of a UI-triggered run read the flows' signatures, so each flow writes them out;
# what the flows do with them is written once, in run_parameters.
RUN_PARAMETERS = (
    "landing",
    "db",
    "window_days",
    "tz",
    "disabled_detectors",
    "dossiers_top",
    "init",
    "feedback_wait_s",
    "memory_limit",
    "threads",
)


def run_parameters(values: dict[str, Any]) -> dict[str, Any]:
    """The shared run parameters out of a flow's arguments (its ``locals()``)."""
    return {name: values[name] for name in RUN_PARAMETERS}


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
    ctx = FlowRunContext.get()
    assert ctx is not None, "detect_stage runs inside a flow"
    remote = type(ctx.task_runner).__name__ == "DaskTaskRunner"
    results = engine.detect_with(run, lambda job, upstream: detector_task.submit(job, upstream), remote)
    return {name: len(r.findings) for name, r in results.items()}


@task(name="publish", cache_policy=NONE)
def publish_task(run: pipeline.Run) -> str:
    return str(pipeline.publish_stage(run))


@task(name="artifacts", cache_policy=NONE)
def artifacts_task(run: pipeline.Run) -> None:
    """The night's result in the Prefect UI: a markdown summary and a table of the cases."""
    create_markdown_artifact(
        report_text.run_markdown(run.con, run.run_id),
        key="abuse-summary",
        description=f"abuse nightly run {run.run_id}",
    )
    cases = report_text.case_table(run.con, run.run_id)
    create_table_artifact(
        cases or [{"cluster_id": None, "summary": "no cases tonight"}],
        key="abuse-cases",
        description=f"cases of run {run.run_id}, by money at risk",
    )


@task(name="dossiers", cache_policy=NONE)
def dossiers_task(run: pipeline.Run) -> list[str]:
    return [str(p) for p in pipeline.dossiers_stage(run)]


@flow(name="abuse-nightly", log_prints=True, retries=0)
def nightly_flow(
    landing: Optional[str] = None,
    db: Optional[str] = None,
    as_of: Optional[date] = None,
    window_days: Optional[int] = None,
    tz: Optional[str] = None,
    thresholds: DetectorThresholds = DetectorThresholds(),  # type: ignore[valid-type]  # noqa: B008
    disabled_detectors: Optional[list[str]] = None,
    dossiers_top: Optional[int] = None,
    init: Optional[bool] = None,
    feedback_wait_s: Optional[float] = None,
    memory_limit: Optional[str] = None,
    threads: Optional[int] = None,
    settings_file: Optional[str] = None,
) -> dict[str, Any]:
    """Ingest what is new under `landing`, run every detector over the window ending on
    `as_of` and refresh the report database `db`. An empty field takes its value from the
    settings file (abuse.toml), the ABUSE_* environment, then the default.

    Args:
        landing: Landing directory to ingest (default: sample_data/landing).
        db: Report database file (default: abuse.duckdb); working state goes beside it.
        as_of: Last day of the window (default: the latest day with data).
        window_days: Days in the detection window, ending with as_of (default 30).
        tz: Platform time zone for naive timestamps and time of day (default Asia/Shanghai).
        thresholds: Detector thresholds to change for this run; the ones left empty keep the
            settings file's value or the detector's default.
        disabled_detectors: Detectors not to run, by name (default: none).
        dossiers_top: How many top cases get an HTML dossier (default 10).
        init: Allow db in a directory that does not exist yet, starting a new history (default false).
        feedback_wait_s: Seconds to retry reading a feedback database an analyst holds open
            read-write before going on with the verdicts copied before (default 30).
        memory_limit: The run's memory budget, e.g. "6GB"; DuckDB gets 60% of it (default: DuckDB's own, 80% of RAM).
        threads: Threads for DuckDB and polars (default: all cores).
        settings_file: Settings file to read (default: abuse.toml in the worker's directory).
    """
    ctx = get_run_context()
    assert isinstance(ctx, FlowRunContext) and ctx.flow_run is not None, "a flow run's context"
    flow_run = ctx.flow_run
    deployment = f"{nightly_flow.name}/{prefect_runtime_deployment.name}" if flow_run.deployment_id else None
    settings = settings_for(
        settings_file,
        thresholds,
        as_of=as_of,
        **run_parameters(locals()),
        flow_run_id=str(flow_run.id),
        deployment=deployment,
    )
    settings.check_paths()
    with _one_run_per_database(str(settings.db)):
        run = pipeline.start(settings, say=get_run_logger().info)
        return pipeline.drive(
            run, [ingest_task, stage_task, detect_stage, publish_task], [artifacts_task, dossiers_task]
        )  # after the commit: cannot undo the report


@contextmanager
def _one_run_per_database(db: str) -> Iterator[None]:
    """Hold the database's global concurrency slot (limit 1) for the run: a second run on the
    same database waits for it instead of dying on DuckDB's file lock."""
    name = db_limit_name(db)
    ensure_db_limit(db)
    with concurrency(name, occupy=1, strict=True):
        yield


def ensure_db_limit(db: str) -> str:
    """Create the database's global concurrency limit (1 slot) on the server if missing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    name = db_limit_name(db)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            except ObjectAlreadyExists:
                pass
    return name


@flow(name="abuse-backfill", log_prints=True, retries=0)
def backfill_flow(
    date_from: date,
    date_to: date,
    landing: Optional[str] = None,
    db: Optional[str] = None,
    window_days: Optional[int] = None,
    tz: Optional[str] = None,
    thresholds: DetectorThresholds = DetectorThresholds(),  # type: ignore[valid-type]  # noqa: B008
    disabled_detectors: Optional[list[str]] = None,
    dossiers_top: Optional[int] = None,
    init: Optional[bool] = None,
    feedback_wait_s: Optional[float] = None,
    memory_limit: Optional[str] = None,
    threads: Optional[int] = None,
    settings_file: Optional[str] = None,
) -> list[dict[str, Any]]:
    """Run the nights `date_from` .. `date_to` in order, one nightly flow run each. An empty
    field takes its value from the settings file, the ABUSE_* environment, then the default.

    Args:
        date_from: First night (its as_of day).
        date_to: Last night.
        landing: Landing directory to ingest (default: sample_data/landing).
        db: Report database file (default: abuse.duckdb).
        window_days: Days in each night's window (default 30).
        tz: Platform time zone (default Asia/Shanghai).
        thresholds: Detector thresholds to change; the ones left empty keep the settings.
        disabled_detectors: Detectors not to run, by name.
        dossiers_top: How many top cases get an HTML dossier each night (default 10).
        init: Allow db in a directory that does not exist yet (default false).
        feedback_wait_s: Seconds to retry reading a feedback database held open (default 30).
        memory_limit: Memory budget per night, e.g. "6GB"; DuckDB gets 60% of it.
        threads: Threads for DuckDB and polars.
        settings_file: Settings file to read (default: abuse.toml in the worker's directory).
    """
    common = run_parameters(locals())
    settings_for(settings_file, thresholds, **common).check_paths()  # every night's settings, checked once first
    return [
        nightly_flow(as_of=day, thresholds=thresholds, settings_file=settings_file, **common)
        for day in pipeline.backfill_days(date_from, date_to)
    ]
