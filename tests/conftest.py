"""Shared test helpers: landing directories written by hand, and nightly runs over them."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from abuse.pipeline import run_nightly
from abuse.settings import Settings

_MTIME = [1_780_000_000]


def _bump_mtime(path: Path) -> Path:
    """Give files written one after another strictly increasing modification times."""
    _MTIME[0] += 10
    os.utime(path, (_MTIME[0], _MTIME[0]))
    return path


def write_landing(landing: Path, kind: str, name: str, rows: list[dict[str, Any]],
                  columns: list[str] | None = None) -> Path:
    """Write ``rows`` as ``landing/kind/name`` in the format its extension names."""
    path = landing / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    if name.endswith((".csv", ".csv.gz")):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
        data = buf.getvalue().encode()
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    elif name.endswith((".jsonl", ".jsonl.gz")):
        text = "".join(json.dumps({c: r.get(c) for c in columns if c in r}, ensure_ascii=False) + "\n"
                       for r in rows)
        data = text.encode()
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    elif name.endswith(".parquet"):
        table = pa.table({c: [r.get(c) for r in rows] for c in columns})
        pq.write_table(table, path)
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows))
    return _bump_mtime(path)


def nightly(tmp_path: Path, landing: Path, **kw: Any) -> dict[str, Any]:
    kw.setdefault("init", True)  # tests start new histories in folders of their own
    settings = Settings(landing=landing, db=tmp_path / "abuse.duckdb", **kw)
    return run_nightly(settings, say=lambda _m: None)


def report(tmp_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "abuse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def work(tmp_path: Path, sql: str, tz: str = "Asia/Shanghai") -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "abuse.work.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = ?", [tz])
        return con.execute(sql).fetchall()
    finally:
        con.close()


def order(i: int, **kw: Any) -> dict[str, Any]:
    row = {"order_id": f"o_{i:04d}", "account_id": f"00{i % 7}", "shop_id": f"s_{i % 3}",
           "amount": f"{10 + i}.50", "created_at": f"2026-06-1{i % 9}T20:00:0{i % 10}+08:00"}
    row.update(kw)
    return row


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on loopback, shared by the tests of one session."""
    from prefect_server import PrefectServer

    server = PrefectServer(tmp_path_factory.mktemp("prefect-home")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> Path:
    """The bundled sample run once per session (report + work database + dossiers): for tests
    that check what an analyst sees on the sample (README queries, dossier figures)."""
    out = tmp_path_factory.mktemp("sample-report")
    root = Path(__file__).resolve().parent.parent
    run_nightly(Settings(landing=root / "sample_data" / "landing", db=out / "abuse.duckdb", dossiers_top=3),
                say=lambda _m: None)
    return out / "abuse.duckdb"
