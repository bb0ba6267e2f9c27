"""The `abuse nightly` command as a user runs it, and the report as an analyst opens it."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from helpers import order, report, write_landing

VENV_BIN = Path(sys.executable).parent


def abuse(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "abuse"), *args], capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def duckdb_shell() -> str:
    shell = shutil.which("duckdb", path=str(VENV_BIN)) or shutil.which("duckdb")
    assert shell, "the duckdb shell (PyPI duckdb-cli) should be installed by the dev dependencies"
    return shell


@pytest.fixture
def small_landing(landing: Path) -> Path:
    write_landing(landing, "orders", "o.csv", [order(i) for i in range(1, 30)] + [order(99, amount="-1")])
    write_landing(
        landing,
        "accounts",
        "a.csv",
        [{"account_id": f"00{i}", "registered_at": "2026-06-01T09:00:00"} for i in range(7)],
    )
    return landing


def test_nightly_prints_progress_and_summary(tmp_path: Path, small_landing: Path) -> None:
    db = tmp_path / "abuse.duckdb"
    out = abuse("nightly", "--landing", str(small_landing), "--db", str(db), "--window-days", "7")
    assert out.returncode == 0, out.stderr
    assert "[ingest]" in out.stdout and "[detect]" in out.stdout and "[publish]" in out.stdout
    assert "orders 29 (+1 quarantined)" in out.stdout
    assert str(db) in out.stdout
    runs = report(
        tmp_path,
        "SELECT status, as_of::VARCHAR, rows_orders, rows_quarantined, "
        "json_extract(parameters, '$.window_days')::INT FROM report.runs",
    )
    assert runs == [("succeeded", "2026-06-18", 29, 1, 7)]


def test_nightly_fails_with_one_line_and_exit_status(tmp_path: Path) -> None:
    out = abuse("nightly", "--landing", str(tmp_path / "nope"), "--db", str(tmp_path / "abuse.duckdb"))
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and "nope" in out.stderr
    bad_tz = abuse("nightly", "--landing", str(tmp_path), "--db", str(tmp_path / "x.duckdb"), "--tz", "Mars/Base")
    assert bad_tz.returncode != 0 and "Mars/Base" in bad_tz.stderr


def test_report_opens_in_the_duckdb_shell(tmp_path: Path, small_landing: Path) -> None:
    db = tmp_path / "abuse.duckdb"
    assert abuse("nightly", "--landing", str(small_landing), "--db", str(db)).returncode == 0
    version = subprocess.run([duckdb_shell(), "--version"], capture_output=True, text=True)
    assert version.returncode == 0
    query = (
        "SELECT count(*) FROM report.runs; SELECT count(*) FROM report.quarantine; "
        "DESCRIBE report.flagged_accounts; SELECT count(*) FROM report.clusters; "
        "SELECT count(*) FROM report.activity_spikes;"
    )
    out = subprocess.run(
        [duckdb_shell(), "-readonly", "-csv", str(db), "-c", query], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    for column in ("run_id", "account_id", "pattern", "score", "cluster_id", "reason", "evidence"):
        assert column in out.stdout


def test_reader_holding_the_report_open_neither_blocks_nor_is_blocked(tmp_path: Path, small_landing: Path) -> None:
    db = tmp_path / "abuse.duckdb"
    assert abuse("nightly", "--landing", str(small_landing), "--db", str(db)).returncode == 0
    # an analyst's shell keeps the report open read-only for the whole run
    analyst = subprocess.Popen(
        [duckdb_shell(), "-readonly", str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    held = duckdb.connect(str(db), read_only=True)
    try:
        assert held.execute("SELECT max(run_id) FROM report.runs").fetchone() == (1,)
        write_landing(small_landing, "orders", "day2.csv", [order(200)])
        t0 = time.monotonic()
        second = abuse("nightly", "--landing", str(small_landing), "--db", str(db))
        assert second.returncode == 0, second.stderr
        assert time.monotonic() - t0 < 120
        # the open connection still reads its report; a new one sees the new run
        assert held.execute("SELECT max(run_id) FROM report.runs").fetchone() == (1,)
        # (a new process: within one process DuckDB hands out the instance it already has open)
        fresh = subprocess.run(
            [duckdb_shell(), "-readonly", "-csv", "-noheader", str(db), "-c", "SELECT max(run_id) FROM report.runs"],
            capture_output=True,
            text=True,
        )
        assert fresh.stdout.strip() == "2", fresh.stderr
    finally:
        held.close()
        out, _ = analyst.communicate("SELECT 'still here', max(run_id) FROM report.runs;\n", timeout=30)
    assert "still here" in out
