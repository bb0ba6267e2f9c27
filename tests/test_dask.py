"""Beyond one machine: the nightly flow's detectors as tasks on a Dask cluster give the same
report as the default run; and the engine limits reach every connection a run opens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
from test_determinism import report_views

from abuse import engine, pipeline
from abuse.detect.base import all_detectors
from abuse.settings import Settings
from abuse.store import connect_work, work_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "landing"

# The flow's detectors on a local Dask cluster of two worker processes, over the bundled sample;
# its report is compared with the session's default run of the sample (conftest's sample_run).
SCRIPT = """
import sys
from prefect_dask import DaskTaskRunner
from flows.nightly import nightly_flow

landing, db = sys.argv[1], sys.argv[2]
runner = DaskTaskRunner(cluster_class="distributed.LocalCluster",
                        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True,
                                        "dashboard_address": None})
nightly_flow.with_options(task_runner=runner)(landing=landing, db=db, dossiers_top=0, init=True)
"""


def _task_runs(server, flow_db: str) -> list[str]:
    def post(path: str, body: dict):
        req = urllib.request.Request(
            f"{server.url}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    runs = [r for r in post("/flow_runs/filter", {"limit": 20}) if r["parameters"].get("db") == flow_db]
    tasks = post("/task_runs/filter", {"flow_runs": {"id": {"any_": [runs[0]["id"]]}}, "limit": 50})
    assert all(t["state_type"] == "COMPLETED" for t in tasks)
    return sorted(t["name"] for t in tasks)


@pytest.mark.slow
def test_nightly_flow_on_a_two_worker_dask_cluster_gives_the_default_report(
    tmp_path: Path, prefect_server, sample_run
) -> None:
    db = tmp_path / "dask" / "abuse.duckdb"
    env = {**prefect_server.env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(SAMPLE), str(db)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    default, dask = report_views(sample_run[0]), report_views(db)  # dossiers are not in the report
    assert {"coupon_hoarding", "extortion_ring", "scripted_timing"} <= {
        r[1] for r in default["flagged_accounts"]
    }  # a report worth comparing
    assert default.keys() == dask.keys()
    for view in default:  # every report view, without the columns that name a run or a time
        assert default[view] == dask[view], f"report.{view} differs between the default runner and Dask"
    # one task per detector on the cluster
    names = _task_runs(prefect_server, str(db))
    assert [n for n in names if n.startswith("detect-")] == sorted(f"detect-{d}" for d in all_detectors())


def test_memory_limit_threads_and_spill_directory_reach_every_run_connection(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "abuse.duckdb", memory_limit="700MB", threads=1, landing=tmp_path)
    con = pipeline.start(settings, say=lambda _m: None).con  # the run's own connection
    try:
        got = engine.limits(con)
        assert got["threads"] == "1"
        # the process budget; DuckDB gets its 60% share
        assert got["memory_limit"] in {"400.5 MiB", "420.0 MB"}, got["memory_limit"]
        assert Path(got["temp_directory"]) == work_path(settings.db).with_name("abuse.work.duckdb.tmp")
        cur = con.cursor()  # a detector task's cursor shares the database's limits
        assert engine.limits(cur)["threads"] == "1"
        cur.close()
    finally:
        con.close()
    # a task in another process opens the working database read-only, with the same limits
    start, end = datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc)
    job = engine.DetectorJob(
        "x",
        (),
        str(work_path(settings.db)),
        str(work_path(settings.db)),
        start,
        end,
        "Asia/Kolkata",
        None,
        memory_limit="300MB",
        threads=1,
    )
    with engine._job_connection(job) as ro:
        assert engine.limits(ro)["threads"] == "1"
        assert ro.execute("SELECT current_setting('TimeZone'), getvariable('window_end')").fetchone() == (
            "Asia/Kolkata",
            end,
        )
    default = connect_work(tmp_path / "other.duckdb", "UTC")  # no settings: DuckDB's defaults
    try:
        assert engine.limits(default)["threads"] == str(os.cpu_count())
    finally:
        default.close()
