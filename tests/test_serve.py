"""The served deployment as a risk team uses it: scheduled in the platform zone, triggered from
the API (as the UI does) with new parameters, artifacts on the run, listed in the UI."""

import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import chromium, chromium_exe, order, report, write_landing
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


def deployment(server, db: Path | None = None):
    """The served deployment, once it is the one serving ``db`` (an earlier test's may linger)."""
    try:
        dep = api(server, "/deployments/name/abuse-nightly/nightly")
    except Exception:
        return None
    return dep if db is None or dep["parameters"].get("db") == str(db) else None


@pytest.fixture
def served(tmp_path: Path, landing: Path, prefect_server):
    write_landing(landing, "orders", "o.csv", [order(i) for i in range(1, 20)])
    env = {**prefect_server.env, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "abuse"),
            "serve",
            "--landing",
            str(landing),
            "--db",
            str(tmp_path / "abuse.duckdb"),
            "--cron",
            "30 1 * * *",
            "--tz",
            "Asia/Kolkata",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).parent.parent,
    )
    try:
        dep = wait_for("the deployment", lambda: deployment(prefect_server, (tmp_path / "abuse.duckdb").resolve()))
        yield dep, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def state(server, run_id: str) -> tuple[str, str]:
    r = api(server, f"/flow_runs/{run_id}")
    return r["state_type"], r["state_name"]


def test_serve_refuses_a_landing_dir_that_does_not_exist(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "abuse"),
            "serve",
            "--landing",
            str(tmp_path / "nope"),
            "--db",
            str(tmp_path / "abuse.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"},
    )  # never reached
    assert out.returncode == 1 and out.stderr.strip() == (
        f"abuse serve: failed: the landing directory {tmp_path / 'nope'} does not exist"
    ), out.stderr
    assert not list(tmp_path.glob("*.duckdb"))


def test_a_second_run_on_the_database_waits_for_the_first(tmp_path: Path, prefect_server, served) -> None:
    dep, _ = served
    assert dep["global_concurrency_limit"]["limit"] == 1
    assert dep["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    first = api(prefect_server, f"/deployments/{dep['id']}/create_flow_run", {"parameters": {"window_days": 5}})
    second = api(
        prefect_server,
        f"/deployments/{dep['id']}/create_flow_run",
        {"parameters": {"thresholds": {"rings": {"min_members": 4}}}},
    )
    seen = []

    def both_done():
        a, b = state(prefect_server, first["id"]), state(prefect_server, second["id"])
        for s in (a, b):
            assert s[0] not in ("FAILED", "CRASHED", "CANCELLED"), (tmp_path / "serve.log").read_text()[-3000:]
        seen.append((a[0], b[0]))
        return a[0] == b[0] == "COMPLETED"

    wait_for("both runs", both_done, timeout=400, every=1)
    # never both running; while one ran, the other waited (scheduled / awaiting a slot)
    assert ("RUNNING", "RUNNING") not in seen, seen
    assert {("RUNNING", "SCHEDULED"), ("SCHEDULED", "RUNNING")} & set(seen), seen
    runs = report(
        tmp_path,
        "SELECT flow_run_id, deployment, status, started_at, finished_at, "
        "json_extract(parameters, '$.detectors.rings.min_members')::INT FROM report.runs "
        "ORDER BY run_id",
    )
    assert {r[0] for r in runs} == {first["id"], second["id"]}
    assert {r[1] for r in runs} == {"abuse-nightly/nightly"} and {r[2] for r in runs} == {"succeeded"}
    assert runs[0][4] <= runs[1][3]  # one after the other
    assert [r[5] for r in runs if r[0] == second["id"]] == [4]
    # the database's own global limit (one slot), which runs from other deployments also wait on
    from flows.nightly import db_limit_name

    limit = api(prefect_server, f"/v2/concurrency_limits/{db_limit_name(str(tmp_path / 'abuse.duckdb'))}")
    assert limit["limit"] == 1 and limit["active_slots"] == 0


def test_ui_triggered_run_with_new_parameters(tmp_path: Path, prefect_server, served) -> None:
    dep, proc = served
    sched = dep["schedules"][0]["schedule"]
    assert sched["cron"] == "30 1 * * *" and sched["timezone"] == "Asia/Kolkata"
    schema = dep["parameter_openapi_schema"]
    assert {"as_of", "window_days", "landing", "thresholds"} <= set(schema["properties"])
    assert "detectors" not in schema["properties"]  # one typed thresholds model, no free-form dict
    assert all(p.get("description") for p in schema["properties"].values()), schema["properties"]
    rings = schema["definitions"]["RingsThresholds"]["properties"]["min_members"]
    from abuse.detect.base import all_detectors

    default = all_detectors()["rings"].Params.model_fields["min_members"].default
    assert rings["title"] == "min members" and f"(default {default!r};" in rings["description"]
    run = api(
        prefect_server,
        f"/deployments/{dep['id']}/create_flow_run",
        {"parameters": {"window_days": 3, "as_of": "2026-06-18"}},
    )

    def finished():
        state = api(prefect_server, f"/flow_runs/{run['id']}")["state_type"]
        assert state not in ("FAILED", "CRASHED"), (tmp_path / "serve.log").read_text()[-3000:]
        return state == "COMPLETED"

    wait_for("the triggered run", finished, timeout=300)
    assert report(
        tmp_path, "SELECT status, as_of::VARCHAR, json_extract(parameters, '$.window_days')::INT FROM report.runs"
    ) == [("succeeded", "2026-06-18", 3)]
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
    exe = chromium_exe()
    ui = prefect_server.url.removesuffix("/api") + "/deployments"
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            chromium(exe, profile, "--virtual-time-budget=20000", "--dump-dom", ui),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert "nightly" in out.stdout and "abuse-nightly" in out.stdout, out.stdout[-2000:]

    # the custom-run form (Deployments -> nightly -> Run): titles, descriptions, nested thresholds
    dep, _ = served
    form = prefect_server.url.removesuffix("/api") + f"/deployments/deployment/{dep['id']}/run"
    with tempfile.TemporaryDirectory() as profile:
        shot = Path(profile) / "form.png"
        args = chromium(exe, profile, "--virtual-time-budget=25000", "--window-size=1400,2600")
        # one launch: the DOM on stdout and the screenshot, both at the end of the time budget
        dom = subprocess.run(
            [*args, "--dump-dom", f"--screenshot={shot}", form], capture_output=True, text=True, timeout=180
        ).stdout
        png = shot.read_bytes()
    for text in (
        "window_days",
        "Days in the detection window",
        "rings detector",
        "min members",
        "None keeps the settings file",
    ):
        assert text in dom, (text, dom[-2000:])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1400, 2600)
    assert len(png) > 100_000  # a rendered form, not a blank page (a blank one is a few KB)


def test_prefect_deploy_checks_the_settings_and_allows_one_run(tmp_path: Path, landing: Path, prefect_server) -> None:
    """`prefect deploy` with prefect.yaml: `abuse check` runs first (a missing landing dir stops
    the deployment), the deployment lands on the process pool with a concurrency limit of one."""
    import urllib.error

    root = Path(__file__).resolve().parent.parent
    try:
        api(prefect_server, "/work_pools/", {"name": "abuse-process", "type": "process"})
    except urllib.error.HTTPError as exc:
        assert exc.code == 409  # made by an earlier run of this test
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **prefect_server.env,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "ABUSE_DB": str(tmp_path / "abuse.duckdb"),
    }

    def deploy(landing_dir: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(Path(bin_dir) / "prefect"), "--no-prompt", "deploy", "--all"],
            cwd=root,
            env={**env, "ABUSE_LANDING": str(landing_dir)},
            capture_output=True,
            text=True,
            timeout=300,
        )

    bad = deploy(tmp_path / "nope")
    assert bad.returncode != 0 and f"the landing directory {tmp_path / 'nope'} does not exist" in (
        bad.stdout + bad.stderr
    ), (bad.stdout + bad.stderr)[-2000:]
    good = deploy(landing)
    assert good.returncode == 0, (good.stdout + good.stderr)[-3000:]
    dep = api(prefect_server, "/deployments/name/abuse-nightly/nightly")
    assert dep["work_pool_name"] == "abuse-process" and dep["parameters"] == {}
    assert dep["global_concurrency_limit"]["limit"] == 1
    assert dep["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    sched = dep["schedules"][0]["schedule"]
    assert (sched["cron"], sched["timezone"]) == ("0 2 * * *", "Asia/Shanghai")
    assert "thresholds" in dep["parameter_openapi_schema"]["properties"]
