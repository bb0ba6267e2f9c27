"""Serve the nightly deployment: a cron schedule in the platform time zone, typed parameters,
one run at a time per report database.

    abuse serve --landing /data/landing --db /data/abuse.duckdb --cron "0 2 * * *"

The deployment's parameters come from the settings (abuse.toml < ABUSE_* < the command line);
its paths are checked first, so a landing directory that does not exist is an error now rather
than at 02:00. A second run of the deployment (a UI run while the nightly one works) waits for
the first (collision strategy ENQUEUE), and runs on one database from anywhere else wait on the
database's global concurrency limit (see ``flows.nightly``). The process keeps serving until
stopped; stopping it does not pause the schedule (``pause_on_shutdown=False``).

``prefect.yaml`` at the repository root declares the same deployment for ``prefect deploy``
on a process work pool.
"""

from __future__ import annotations

from pathlib import Path

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from abuse.settings import Settings
from flows.nightly import ensure_db_limit, nightly_flow

DEPLOYMENT = "nightly"


def deployment_parameters(settings: Settings, settings_file: Path | None = None) -> dict:
    """What every run of the deployment starts from (a UI run may change any of it)."""
    params = {
        "landing": settings.landing if isinstance(settings.landing, str) else str(Path(settings.landing).resolve()),
        "db": str(Path(settings.db).resolve()),
        "tz": settings.tz,
        "window_days": settings.window_days,
    }
    if settings_file:
        params["settings_file"] = str(Path(settings_file).resolve())
    return params


def serve(settings: Settings, cron: str = "0 2 * * *", limit: int = 1, settings_file: Path | None = None) -> None:
    settings.check_paths()
    ensure_db_limit(str(Path(settings.db).resolve()))
    nightly_flow.serve(
        name=DEPLOYMENT,
        schedules=[Cron(cron, timezone=settings.tz)],  # a cron with no zone would run in UTC
        parameters=deployment_parameters(settings, settings_file),
        description="Ingest new logs, run every detector, refresh the report database.",
        tags=["abuse"],
        global_limit=ConcurrencyLimitConfig(limit=limit, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        pause_on_shutdown=False,
        limit=limit,
    )
