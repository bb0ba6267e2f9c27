"""With PREFECT_API_URL set, `abuse nightly` runs as a flow run that the server (and UI) shows."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import order, report, write_landing

pytestmark = pytest.mark.slow


def api(server, path: str, body: dict | None = None, tries: int = 5):
    """Call the server's REST API (as the UI does); a busy server may answer 503: try again."""
    for attempt in range(tries):
        req = urllib.request.Request(
            f"{server.url}{path}",
            method="POST" if body is not None else "GET",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == tries - 1:
                raise
        except OSError:
            if attempt == tries - 1:
                raise
        time.sleep(2 * (attempt + 1))


def test_nightly_is_a_flow_run_with_task_runs(tmp_path: Path, landing: Path, prefect_server) -> None:
    write_landing(landing, "orders", "o.csv", [order(i) for i in range(1, 10)])
    db = tmp_path / "abuse.duckdb"
    out = subprocess.run(
        [str(Path(sys.executable).parent / "abuse"), "nightly", "--landing", str(landing), "--db", str(db)],
        env=prefect_server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert report(tmp_path, "SELECT status FROM report.runs") == [("succeeded",)]
    runs = api(prefect_server, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 5})
    ours = [r for r in runs if r["parameters"].get("db") == str(db)]
    assert ours and ours[0]["state_type"] == "COMPLETED"
    tasks = api(prefect_server, "/task_runs/filter", {"flow_runs": {"id": {"any_": [ours[0]["id"]]}}, "limit": 20})
    assert {t["name"].rsplit("-", 1)[0] for t in tasks} == {
        "ingest",
        "stage",
        "detect",
        "publish",
        "artifacts",
        "dossiers",
    }
    assert all(t["state_type"] == "COMPLETED" for t in tasks)
