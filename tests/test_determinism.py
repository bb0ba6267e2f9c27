"""The same landing data and settings give the same report, run after run."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "landing"
VENV_BIN = Path(sys.executable).parent
# what differs between two runs by design: when they ran, their ids, where the db lives
VOLATILE = {
    "run_id",
    "started_at",
    "finished_at",
    "ingested_at",
    "recorded_at",
    "published_at",
    "parameters",
    "case_first_run",
    "flow_run_id",
    "deployment",
}


def report_views(db: Path) -> dict[str, list[tuple]]:
    """Every view of the report schema, without the columns that name a run or a time."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        views = [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE schema_name = 'report' AND NOT internal ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for view in views:
            cols = [r[0] for r in con.execute(f"DESCRIBE report.{view}").fetchall() if r[0] not in VOLATILE]
            if not cols:  # e.g. report.latest_run: nothing but a run id
                continue
            rows = con.execute(
                f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)} FROM report.{view}"
            ).fetchall()
            # views without an ORDER BY of their own (the *_all history) compare as sets
            out[view] = sorted(rows, key=repr) if view.endswith("_all") else rows
        return out
    finally:
        con.close()


def test_two_runs_of_the_sample_give_the_same_report(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The session's run of the sample (conftest's ``sample_run``, made in this process or in
    another xdist worker of the session, both with a random string-hash seed) and one of
    `abuse nightly` in a process of its own with another string-hash seed, at once when the
    session's run is not made yet."""
    seed = "7920" if os.environ.get("PYTHONHASHSEED") == "7919" else "7919"  # not this process's
    env = {**os.environ, "PYTHONHASHSEED": seed, "ABUSE_DOSSIERS_TOP": "0"}  # dossiers are not in the report
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "abuse"),
            "nightly",
            "--quiet",
            "--landing",
            str(SAMPLE),
            "--db",
            str(tmp_path / "abuse.duckdb"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        session_db = request.getfixturevalue("sample_run")[0]
        _, err = proc.communicate(timeout=600)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    first, second = report_views(session_db), report_views(tmp_path / "abuse.duckdb")
    assert len(first["flagged_accounts"]) > 100 and len(first["clusters"]) >= 3  # a real report
    assert first.keys() == second.keys()
    for view in first:
        assert first[view] == second[view], f"report.{view} differs between two runs of the same data"
