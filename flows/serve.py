"""Serve the nightly deployment: a cron schedule in the platform time zone, typed parameters.

    abuse serve --landing /data/landing --db /data/abuse.duckdb --cron "0 2 * * *"

The process keeps serving until stopped; stopping it does not pause the schedule
(``pause_on_shutdown=False``), so the next `abuse serve` picks up where it left off.
"""

from __future__ import annotations

from pathlib import Path

from prefect.schedules import Cron

from flows.nightly import nightly_flow

DEPLOYMENT = "nightly"


def serve(landing: Path, db: Path, cron: str = "0 2 * * *", tz: str = "Asia/Shanghai",
          window_days: int = 30, limit: int | None = None) -> None:
    nightly_flow.serve(
        name=DEPLOYMENT,
        schedules=[Cron(cron, timezone=tz)],  # a cron with no zone would run in UTC
        parameters={"landing": str(landing.resolve()), "db": str(db.resolve()), "tz": tz,
                    "window_days": window_days},
        description="Ingest new logs, run every detector, refresh the report database.",
        tags=["abuse"],
        pause_on_shutdown=False,
        limit=limit,
    )
