"""A landing on object storage (``--landing s3://bucket/prefix``) against a real S3-compatible
server: moto's ``moto_server``, started on a free loopback port for this module and stopped
after it. The same files run locally and from the bucket give the same report; a later
delivery (a new day, an object overwritten with new bytes, the same bytes under another name)
is ingested by the same rules as in a local directory: what was ingested is skipped, a changed
object is a redelivery whose records win, the same bytes again are a no-op."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from abuse.cli import main as cli
from abuse.ingest import LandingError
from abuse.ingest.objstore import ObjectStore, landing_location
from abuse.pipeline import run_nightly
from abuse.settings import Settings, SettingsError, load_settings

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "landing"
BUCKET = "abuse-landing"
# kept small (the test runs four nights): the detectors that cost most here, and the optional
# activity folder they read, are left out; the staged tables are compared whole besides the views
FAST = {"disabled_detectors": ["spikes", "timing", "engagement", "brushing"], "dossiers_top": 0, "init": True}
STAGED = ("accounts", "orders", "reviews", "refunds", "campaigns", "coupon_events")
VIEWS = ("flagged_accounts", "clusters", "activity_spikes", "inflated_targets", "cluster_shops", "quarantine")
MTIME = 1_780_000_000  # every local file of a delivery gets one time: they count in path order, as
# the objects do (uploaded in path order, their LastModified never decreases along it)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 endpoint (moto_server) on a free loopback port; stopped at teardown."""
    port = _free_port()
    exe = Path(sys.executable).with_name("moto_server")
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # until it answers (it starts in a second or two)
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not answer")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def aws(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The standard AWS environment pointing at the server (no other source is read)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return s3_server


def _fs() -> Any:
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True)


def _upload(fs: Any, local: Path, files: list[Path], prefix: str) -> None:
    """``files`` (under ``local``) to ``prefix``, one after another in path order."""
    for path in sorted(files):
        fs.put_file(str(path), f"{prefix}/{path.relative_to(local).as_posix()}")


def _views(db: Path, landing: str) -> dict[str, list[tuple]]:
    """The report views without run ids and times; a quarantined file by its path under the landing."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for view in VIEWS:
            cols = [r[0] for r in con.execute(f"DESCRIBE report.{view}").fetchall()]
            keep = [c for c in cols if c not in ("run_id", "ingested_at")]
            sel = ", ".join(
                f"replace(\"{c}\", '{landing}/', '')" if c == "file" else f'CAST("{c}" AS VARCHAR)' for c in keep
            )
            out[view] = sorted(con.execute(f"SELECT {sel} FROM report.{view}").fetchall(), key=repr)
        return out
    finally:
        con.close()


def _run(landing: str | Path, db: Path) -> dict[str, Any]:
    return run_nightly(Settings(landing=landing, db=db, **FAST), say=lambda _m: None)


def _files(db: Path, run_id: int) -> list[tuple]:
    con = duckdb.connect(str(db).replace("abuse.duckdb", "abuse.work.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT path, sha256, rows, quarantined FROM ingest_files WHERE run_id = ? ORDER BY file_seq", [run_id]
        ).fetchall()
    finally:
        con.close()


def _staged(db: Path) -> dict[str, list[tuple]]:
    """Every staged record (its file by sequence number, not by name)."""
    con = duckdb.connect(str(db).replace("abuse.duckdb", "abuse.work.duckdb"), read_only=True)
    try:
        out = {}
        for kind in STAGED:
            cols = [r[0] for r in con.execute(f"DESCRIBE stg_{kind}").fetchall()]
            keep = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols if c not in ("_file", "_ingested_at"))
            out[kind] = sorted(con.execute(f"SELECT {keep} FROM stg_{kind}").fetchall(), key=repr)
        return out
    finally:
        con.close()


def _refund(db: Path, refund_id: str) -> tuple:
    con = duckdb.connect(str(db).replace("abuse.duckdb", "abuse.work.duckdb"), read_only=True)
    try:
        return con.execute("SELECT amount, reason FROM stg_refunds WHERE refund_id = ?", [refund_id]).fetchall()[0]
    finally:
        con.close()


def test_s3_landing_gives_the_local_report_and_ingests_incrementally(aws: str, tmp_path: Path) -> None:
    fs = _fs()
    fs.mkdir(BUCKET)
    local = tmp_path / "landing"
    shutil.copytree(SAMPLE, local, ignore=shutil.ignore_patterns("activity"))  # every format but activity
    first = sorted(p for p in local.rglob("*") if p.is_file())
    for p in first:
        os.utime(p, (MTIME, MTIME))
    prefix = f"{BUCKET}/exports/landing"
    _upload(fs, local, first, prefix)
    url = f"s3://{prefix}"

    s3_db, local_db = tmp_path / "s3" / "abuse.duckdb", tmp_path / "local" / "abuse.duckdb"
    s3_out, local_out = _run(url, s3_db), _run(local, local_db)
    assert s3_out["ingested"] == local_out["ingested"] and s3_out["ingested"]["orders"] > 10_000
    assert _staged(s3_db) == _staged(local_db)
    got, want = _views(s3_db, url), _views(local_db, str(local))
    assert got["flagged_accounts"] and got["clusters"]
    assert got == want

    # files are known by ETag and size, recorded under their URL; nothing of them was copied
    recorded = _files(s3_db, 1)
    assert len(recorded) == len(first)
    assert all(path.startswith(url + "/") and sha.startswith("etag:") for path, sha, *_ in recorded)
    etag = fs.info(f"{prefix}/orders/orders_01.csv.gz")["ETag"].strip('"')
    size = (local / "orders" / "orders_01.csv.gz").stat().st_size
    assert f"etag:{etag}:{size}" in {sha for _p, sha, *_ in recorded}

    # the next delivery: a new day of refunds (one row bad; a glob character in its name, which
    # DuckDB would expand: the one object copied to a local file first), a corrected refunds_corrections.jsonl
    # overwriting the object (new bytes: a redelivery), and campaigns.csv again under another name
    # (the same bytes: a no-op)
    refund_id = _first_refund_id(local / "refunds" / "refunds_corrections.jsonl")
    corrected = (local / "refunds" / "refunds_corrections.jsonl").read_text(encoding="utf-8")
    first_line, rest = corrected.split("\n", 1)
    record = json.loads(first_line)
    record.update(amount=12.34, reason="corrected on redelivery")
    (local / "refunds" / "refunds_corrections.jsonl").write_text(
        json.dumps(record, ensure_ascii=False) + "\n" + rest, encoding="utf-8"
    )
    day = local / "refunds" / "refunds_day[2].csv"
    day.write_text(
        "refund_id,account_id,shop_id,amount,requested_at,reason\n"
        "rf_new_1,a_new_1,s_new_1,30.00,2026-06-20T10:00:00+08:00,day two\n"
        "rf_new_2,a_new_2,s_new_1,-5,2026-06-20T11:00:00+08:00,negative amount\n",
        encoding="utf-8",
    )
    copy = local / "campaigns" / "campaigns_again.csv"
    shutil.copyfile(local / "campaigns" / "campaigns.csv", copy)
    later = [copy, local / "refunds" / "refunds_corrections.jsonl", day]
    for p in later:
        os.utime(p, (MTIME + 100, MTIME + 100))
    _upload(fs, local, later, prefix)

    _run(url, s3_db), _run(local, local_db)
    new = _files(s3_db, 2)
    assert [p.removeprefix(url + "/") for p, *_ in new] == [
        "refunds/refunds_corrections.jsonl",
        "refunds/refunds_day[2].csv",
    ]  # the eleven objects seen before and the copy of campaigns.csv were not read again
    assert [(p.removeprefix(str(local) + "/"), r, q) for p, _s, r, q in _files(local_db, 2)] == [
        (p.removeprefix(url + "/"), r, q) for p, _s, r, q in new
    ]
    assert new[1][2:] == (2, 1)  # the bad row quarantined by number, the rest loaded
    assert _refund(s3_db, refund_id) == _refund(local_db, refund_id)
    assert float(_refund(s3_db, refund_id)[0]) == 12.34  # the redelivery's record won
    assert _staged(s3_db) == _staged(local_db)
    got, want = _views(s3_db, url), _views(local_db, str(local))
    assert got == want
    assert any(f == "refunds/refunds_day[2].csv" and row == "2" for f, row, *_ in got["quarantine"])


def _first_refund_id(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8").split("\n", 1)[0])["refund_id"])


def test_missing_bucket_or_prefix_is_one_clear_error(aws: str, tmp_path: Path, capsys) -> None:
    fs = _fs()
    fs.mkdir("abuse-empty")
    with pytest.raises(SettingsError, match=r"cannot list the landing s3://no-such-bucket/x: .*bucket"):
        Settings(landing="s3://no-such-bucket/x", db=tmp_path / "abuse.duckdb").check_paths()
    with pytest.raises(SettingsError, match=r"s3://abuse-empty/nothing does not exist: no object under it"):
        Settings(landing="s3://abuse-empty/nothing", db=tmp_path / "abuse.duckdb").check_paths()
    # the command line: non-zero, one line naming the landing, nothing written
    code = cli(["nightly", "--landing", "s3://no-such-bucket/x", "--db", str(tmp_path / "abuse.duckdb"), "--init"])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "s3://no-such-bucket/x" in err[0]
    assert not (tmp_path / "abuse.duckdb").exists()


def test_missing_s3fs_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs raises ImportError
    with pytest.raises(LandingError, match=r"needs s3fs, which is not installed .*abuse\[s3\]"):
        ObjectStore("s3://bucket/prefix")


def test_a_landing_url_stays_a_url_everywhere_it_is_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a Path would fold s3:// into s3:/; file:// is a local directory
    assert landing_location("s3://bucket/prefix/") == "s3://bucket/prefix"
    assert landing_location("file:///data/landing") == Path("/data/landing")
    assert landing_location("sample_data/landing") == Path("sample_data/landing")
    monkeypatch.chdir(tmp_path)  # no abuse.toml, no pyproject.toml here
    monkeypatch.setenv("ABUSE_LANDING", "s3://bucket/from-env")
    assert load_settings().landing == "s3://bucket/from-env"
    toml = tmp_path / "abuse.toml"
    toml.write_text('landing = "s3://bucket/from-file"\nlanding_endpoint_url = "http://127.0.0.1:9000"\n')
    monkeypatch.delenv("ABUSE_LANDING")
    s = load_settings(toml)
    assert (s.landing, s.landing_endpoint_url) == ("s3://bucket/from-file", "http://127.0.0.1:9000")
    assert load_settings(toml, landing="s3://other/p").landing == "s3://other/p"
    assert isinstance(Settings().landing, Path)
