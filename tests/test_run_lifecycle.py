"""The life of a run: success means published, failures are recorded where analysts look,
a killed run is settled by the next start, and the feedback database never blocks a night."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from helpers import order, report, work, write_landing

from abuse.cli import main as cli
from abuse.feedback import feedback_path
from abuse.pipeline import PAUSE_ENV, failure_reason, run_nightly
from abuse.settings import Settings

VENV_BIN = Path(sys.executable).parent
VIEWS = ("flagged_accounts", "clusters", "activity_spikes", "quarantine")


def settings(tmp_path: Path, landing: Path, **kw) -> Settings:
    return Settings(landing=landing, db=tmp_path / "abuse.duckdb", dossiers_top=0, **kw)


def findings(tmp_path: Path) -> dict[str, list[tuple]]:
    """What the report shows besides its runs (run ids included: they name the good run)."""
    return {
        v: report(
            tmp_path,
            f"SELECT * EXCLUDE (ingested_at) FROM report.{v}" if v == "quarantine" else f"SELECT * FROM report.{v}",
        )
        for v in VIEWS
    }


def temps(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob(".abuse.duckdb.*.tmp*"))


@pytest.fixture
def two_nights(tmp_path: Path, landing: Path) -> Path:
    """A landing with one good run behind it, and a new file waiting for the next run."""
    write_landing(landing, "orders", "day1.csv", [order(i) for i in range(1, 8)] + [order(9, amount="-1")])
    run_nightly(settings(tmp_path, landing), say=lambda _m: None)
    write_landing(landing, "orders", "day2.csv", [order(i) for i in range(20, 26)])
    return landing


def _killed_at(point: str, tmp_path: Path, landing: Path) -> None:
    """Start `abuse nightly` in a real process, wait until it reaches ``point``, kill -9 it."""
    proc = subprocess.Popen(
        [str(VENV_BIN / "abuse"), "nightly", "--landing", str(landing), "--db", str(tmp_path / "abuse.duckdb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, PAUSE_ENV: point, "ABUSE_DOSSIERS_TOP": "0"},
    )
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith(f"ABUSE_TEST_PAUSED {point}"):
                break
        else:
            raise AssertionError(f"the run never reached {point}: {proc.stderr.read()}")  # type: ignore[union-attr]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    "point, killed_run",
    [
        ("before_commit", "failed"),  # mid-run, its temp report built, the history not committed
        ("after_commit", "succeeded"),  # committed, not swapped in: the next start finishes the swap
        ("after_swap", "succeeded"),  # swapped in, not yet marked: the next start marks it
    ],
)
def test_kill_9_at_any_point_then_a_rerun_settles_it(
    tmp_path: Path, two_nights: Path, point: str, killed_run: str
) -> None:
    before = (tmp_path / "abuse.duckdb").read_bytes()
    _killed_at(point, tmp_path, two_nights)
    if point == "after_swap":  # the new report is in place and already shows run 2 as succeeded
        assert report(tmp_path, "SELECT max(run_id) FROM report.latest_run") == [(2,)]
    else:  # the report is exactly as the last good run left it
        assert (tmp_path / "abuse.duckdb").read_bytes() == before
    assert work(tmp_path, "SELECT status FROM runs WHERE run_id = 2") == [
        ("running",) if point == "before_commit" else ("publishing",)
    ]

    spill = tmp_path / "abuse.work.duckdb.tmp" / "duckdb_temp_storage_S32K-0.tmp"  # as DuckDB spills
    spill.parent.mkdir(exist_ok=True)
    spill.write_bytes(b"\0" * 4096)

    out = run_nightly(settings(tmp_path, two_nights), say=lambda _m: None)
    runs = report(tmp_path, "SELECT run_id, status, stage, failure_reason FROM report.runs ORDER BY run_id")
    assert [r[1] for r in runs] == ["succeeded", killed_run, "succeeded"]
    assert not spill.exists()
    if killed_run == "failed":
        assert runs[1][2] == "publish" and "killed or crashed" in runs[1][3]
        assert out["ingested"]["orders"] == 6  # the killed run's file is read again
    else:
        assert out["ingested"]["orders"] == 0  # it was published: nothing new for run 3
    assert report(tmp_path, "SELECT count(*) FROM report.flagged_accounts_all") is not None
    assert work(tmp_path, "SELECT count(*) FROM raw_orders") == [(14,)]  # no row lost or doubled
    assert temps(tmp_path) == []  # temp files of the killed run are gone


def test_a_publishing_run_whose_report_was_lost_is_rolled_back(tmp_path: Path, two_nights: Path) -> None:
    _killed_at("after_commit", tmp_path, two_nights)
    for tmp in tmp_path.glob(".abuse.duckdb.*.tmp"):
        tmp.unlink()  # the temporary report is gone (e.g. cleaned up by hand)
    out = run_nightly(settings(tmp_path, two_nights), say=lambda _m: None)
    runs = report(tmp_path, "SELECT run_id, status, failure_reason FROM report.runs ORDER BY run_id")
    assert [r[1] for r in runs] == ["succeeded", "failed", "succeeded"]
    assert "rolled back" in runs[1][2]
    assert out["ingested"]["orders"] == 6  # its file counts as never read
    assert work(tmp_path, "SELECT count(*) FROM raw_orders") == [(14,)]
    assert work(tmp_path, "SELECT count(*) FROM findings WHERE run_id = 2") == [(0,)]


def test_a_failing_detector_shows_in_report_runs_and_the_findings_stay(
    tmp_path: Path, two_nights: Path, monkeypatch
) -> None:
    good = findings(tmp_path)
    from abuse.detect.base import all_detectors

    def broken(self, ctx):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(all_detectors()["rings"], "run", broken)
    with pytest.raises(ZeroDivisionError) as caught:
        run_nightly(settings(tmp_path, two_nights), say=lambda _m: None)
    assert (
        caught.value.abuse_run_failure == "run 2 failed: the rings detector failed: ZeroDivisionError: division by zero"
    )
    runs = report(tmp_path, "SELECT run_id, status, stage, failure_reason FROM report.runs ORDER BY run_id")
    assert runs == [
        (1, "succeeded", None, None),
        (2, "failed", "detect:rings", "the rings detector failed: ZeroDivisionError: division by zero"),
    ]
    assert findings(tmp_path) == good  # the last good run's findings, as they were
    assert report(tmp_path, "SELECT run_id FROM report.latest_run") == [(1,)]
    assert temps(tmp_path) == []


def test_failure_reasons_read_as_one_line() -> None:
    db = Path("/data/abuse.duckdb")
    full = duckdb.IOException('Could not write file "/data/abuse.work.duckdb.wal": No space left on device')
    assert failure_reason(full, "ingest", db) == "disk full while writing abuse.work.duckdb (during ingest)"
    assert failure_reason(OSError(28, "No space left on device"), "publish", db).startswith(
        "disk full while writing abuse.duckdb"
    )
    hidden = duckdb.FatalException("database has been invalidated because of a previous fatal error")
    assert failure_reason(hidden, "stage", db, disk_free=0).startswith("disk full while writing abuse.work.duckdb")
    assert "invalidated" in failure_reason(hidden, "stage", db, disk_free=10 << 30)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 24 MB filesystem (tmpfs; needs root)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_fails_the_run_with_a_plain_reason(tmp_path: Path, small_disk: Path, landing: Path) -> None:
    write_landing(landing, "orders", "day1.csv", [order(i) for i in range(1, 8)])
    db = small_disk / "abuse.duckdb"
    assert cli(["nightly", "--quiet", "--landing", str(landing), "--db", str(db)]) == 0
    good = findings(small_disk)
    # a big new delivery, and a disk with little room left
    big = [order(i, shop_id=f"shop_{i % 997}", item_id=f"item-{i}-" + "x" * 40) for i in range(100, 200_100)]
    write_landing(landing, "orders", "day2.csv", big)
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * max(free - (3 << 20), 0))
    proc = subprocess.run(
        [str(VENV_BIN / "abuse"), "nightly", "--landing", str(landing), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ABUSE_DOSSIERS_TOP": "0"},
    )
    assert proc.returncode == 1
    line = proc.stderr.strip().splitlines()
    assert len(line) == 1 and "disk full while writing abuse.work.duckdb" in line[0], proc.stderr
    assert "invalidated" not in line[0]
    assert findings(small_disk) == good  # the report is as the last good run left it
    assert temps(small_disk) == []
    filler.unlink()  # room again: the next night runs and the failed one is in report.runs
    assert cli(["nightly", "--quiet", "--landing", str(landing), "--db", str(db)]) == 0
    runs = report(small_disk, "SELECT status, failure_reason FROM report.runs ORDER BY run_id")
    assert [r[0] for r in runs] == ["succeeded", "failed", "succeeded"]
    assert runs[1][1].startswith("disk full while writing abuse.work.duckdb"), proc.stdout[-2000:]


def test_db_in_a_missing_directory_needs_init(tmp_path: Path, landing: Path, capsys) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    db = tmp_path / "typo" / "abuse.duckdb"
    assert cli(["nightly", "--quiet", "--landing", str(landing), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "--init" in err and "does not exist" in err and len(err.strip().splitlines()) == 1
    assert not db.parent.exists()  # nothing was created
    assert cli(["nightly", "--quiet", "--init", "--landing", str(landing), "--db", str(db)]) == 0
    assert db.is_file()


def _hold_read_write(path: Path, seconds: float, insert: bool = False) -> subprocess.Popen:
    """An analyst's session: a real second process with a read-write connection."""
    add = "INSERT INTO verdicts (account_id, verdict, note) VALUES ('a9', 'dismissed', 'held')"
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(path)!r})\n"
        + (f"con.execute({add!r})\n" if insert else "")
        + "print('holding', flush=True)\n"
        f"time.sleep({seconds})\n"
        "con.close()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"  # type: ignore[union-attr]
    return proc


def test_an_open_feedback_session_does_not_fail_the_night(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    run_nightly(settings(tmp_path, landing), say=lambda _m: None)
    fb = duckdb.connect(str(feedback_path(tmp_path / "abuse.duckdb")))
    fb.execute("INSERT INTO verdicts (account_id, verdict) VALUES ('a1', 'confirmed')")
    fb.close()
    run_nightly(settings(tmp_path, landing), say=lambda _m: None)  # copies a1's verdict in

    holder = _hold_read_write(feedback_path(tmp_path / "abuse.duckdb"), 120)
    try:
        t0 = time.monotonic()
        run_nightly(settings(tmp_path, landing, feedback_wait_s=1.0), say=lambda _m: None)
        assert time.monotonic() - t0 < 60
    finally:
        holder.kill()
        holder.wait()
    status, notes = report(tmp_path, "SELECT status, notes FROM report.runs WHERE run_id = 3")[0]
    assert status == "succeeded" and "locked" in notes and "previous run" in notes
    assert report(tmp_path, "SELECT account_id FROM report.verdicts") == [("a1",)]  # kept, not lost

    holder = _hold_read_write(feedback_path(tmp_path / "abuse.duckdb"), 1.5, insert=True)  # a short one
    try:
        run_nightly(settings(tmp_path, landing, feedback_wait_s=60.0), say=lambda _m: None)
    finally:
        holder.wait(timeout=60)
    assert report(tmp_path, "SELECT notes FROM report.runs WHERE run_id = 4") == [(None,)]
    assert sorted(report(tmp_path, "SELECT account_id FROM report.verdicts")) == [("a1",), ("a9",)]


def test_ingest_reads_only_inside_the_landing_dir(tmp_path: Path, landing: Path) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    outside = write_landing(tmp_path / "elsewhere", "orders", "secret.csv", [order(2), order(3)])
    (landing / "orders" / "link.csv").symlink_to(outside)
    said: list[str] = []
    out = run_nightly(settings(tmp_path, landing), say=said.append)
    assert out["ingested"]["orders"] == 1
    assert any("passed over" in line and "link.csv" in line for line in said)


def test_a_swap_that_fails_after_the_commit_is_rolled_back(tmp_path: Path, two_nights: Path, monkeypatch) -> None:
    import abuse.pipeline.publishing as publishing

    good = findings(tmp_path)

    def no_rename(tmp, db):
        raise PermissionError(13, "Permission denied", str(db))

    monkeypatch.setattr(publishing, "swap_in", no_rename)
    with pytest.raises(PermissionError):
        run_nightly(settings(tmp_path, two_nights), say=lambda _m: None)
    monkeypatch.undo()
    assert work(tmp_path, "SELECT status, stage FROM runs WHERE run_id = 2") == [("failed", "publish")]
    assert work(tmp_path, "SELECT count(*) FROM findings WHERE run_id = 2") == [(0,)]
    assert work(tmp_path, "SELECT count(*) FROM ingest_files WHERE run_id = 2") == [(0,)]
    assert findings(tmp_path) == good and temps(tmp_path) == []
    out = run_nightly(settings(tmp_path, two_nights), say=lambda _m: None)
    assert out["ingested"]["orders"] == 6  # its file counts as never read
    assert work(tmp_path, "SELECT count(*) FROM raw_orders") == [(14,)]


def test_a_second_run_without_prefect_waits_for_the_first(tmp_path: Path, landing: Path, capsys) -> None:
    """Plain `abuse nightly` (no Prefect server, so no concurrency slot): a run that finds the
    working database held by another process waits for it (`lock_wait_s`) instead of failing."""
    write_landing(landing, "orders", "o.csv", [order(1)])
    run_nightly(settings(tmp_path, landing), say=lambda _m: None)
    work_db = tmp_path / "abuse.work.duckdb"
    holder = _hold_read_write(work_db, 3.0)  # another run, still busy for 3 s
    try:
        said: list[str] = []
        t0 = time.monotonic()
        run_nightly(settings(tmp_path, landing, lock_wait_s=120), say=said.append)
        assert time.monotonic() - t0 >= 1.0
        assert any("in use by another process; waiting" in m for m in said)
    finally:
        holder.wait(timeout=60)
    assert report(tmp_path, "SELECT status FROM report.runs ORDER BY run_id") == [("succeeded",), ("succeeded",)]

    holder = _hold_read_write(work_db, 120)
    try:  # with no patience the run fails at once, with a plain reason
        code = cli(
            ["nightly", "--quiet", "--landing", str(landing), "--db", str(tmp_path / "abuse.duckdb")]
            + ["--settings", str(_toml(tmp_path, "lock_wait_s = 0"))]
        )
    finally:
        holder.kill()
        holder.wait()
    assert code != 0
    assert "in use by another process" in capsys.readouterr().err


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "abuse.toml"
    path.write_text(text + "\n")
    return path
