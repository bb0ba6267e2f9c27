"""The served deployment as a risk team uses it: scheduled in the platform zone, triggered from
the API (as the UI does) with new parameters, artifacts on the run, listed in the UI."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import order, report, write_landing
from test_prefect_flow import api

pytestmark = pytest.mark.slow


def wait_for(what: str, check, timeout: float = 240, every: float = 2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def deployment(server):
    try:
        return api(server, "/deployments/name/abuse-nightly/nightly")
    except Exception:
        return None


@pytest.fixture
def served(tmp_path: Path, landing: Path, prefect_server):
    write_landing(landing, "orders", "o.csv", [order(i) for i in range(1, 20)])
    env = {**prefect_server.env, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "abuse"), "serve", "--landing", str(landing),
                             "--db", str(tmp_path / "abuse.duckdb"), "--cron", "30 1 * * *", "--tz", "Asia/Kolkata"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)
    try:
        dep = wait_for("the deployment", lambda: deployment(prefect_server))
        yield dep, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def test_ui_triggered_run_with_new_parameters(tmp_path: Path, prefect_server, served) -> None:
    dep, proc = served
    sched = dep["schedules"][0]["schedule"]
    assert sched["cron"] == "30 1 * * *" and sched["timezone"] == "Asia/Kolkata"
    schema = dep["parameter_openapi_schema"]
    assert {"as_of", "window_days", "landing", "thresholds"} <= set(schema["properties"])
    run = api(prefect_server, f"/deployments/{dep['id']}/create_flow_run",
              {"parameters": {"window_days": 3, "as_of": "2026-06-18"}})

    def finished():
        state = api(prefect_server, f"/flow_runs/{run['id']}")["state_type"]
        assert state not in ("FAILED", "CRASHED"), (tmp_path / "serve.log").read_text()[-3000:]
        return state == "COMPLETED"

    wait_for("the triggered run", finished, timeout=300)
    assert report(tmp_path, "SELECT status, as_of::VARCHAR, json_extract(parameters, '$.window_days')::INT "
                            "FROM report.runs") == [("succeeded", "2026-06-18", 3)]
    arts = api(prefect_server, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})
    kinds = {a["key"]: a for a in arts}
    assert kinds["abuse-summary"]["type"] == "markdown" and "# Abuse report" in kinds["abuse-summary"]["data"]
    assert kinds["abuse-cases"]["type"] == "table"
    # stopping the server process does not pause the schedule
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    after = api(prefect_server, f"/deployments/{dep['id']}")
    assert after["paused"] is False and after["schedules"][0]["active"] is True


def test_ui_lists_the_deployment_in_headless_chromium(prefect_server, served) -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed")
    ui = prefect_server.url.removesuffix("/api") + "/deployments"
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom", ui],
            capture_output=True, text=True, timeout=120)
    assert "nightly" in out.stdout and "abuse-nightly" in out.stdout, out.stdout[-2000:]
