"""Shared test helpers (plain functions; the fixtures are in conftest.py): landing directories
written by hand, nightly runs over them, queries of the report and work databases, and the
generated data sets, made once per test session per argument set.

Import them as ``from helpers import nightly, write_landing`` (pytest puts tests/ on the path)."""

from __future__ import annotations

import atexit
import csv
import gzip
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from abuse.pipeline import run_nightly
from abuse.settings import Settings

_MTIME = [1_780_000_000]


def _bump_mtime(path: Path) -> Path:
    """Give files written one after another strictly increasing modification times."""
    _MTIME[0] += 10
    os.utime(path, (_MTIME[0], _MTIME[0]))
    return path


def write_landing(
    landing: Path, kind: str, name: str, rows: list[dict[str, Any]], columns: list[str] | None = None
) -> Path:
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
        text = "".join(json.dumps({c: r.get(c) for c in columns if c in r}, ensure_ascii=False) + "\n" for r in rows)
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
    row = {
        "order_id": f"o_{i:04d}",
        "account_id": f"00{i % 7}",
        "shop_id": f"s_{i % 3}",
        "amount": f"{10 + i}.50",
        "created_at": f"2026-06-1{i % 9}T20:00:0{i % 10}+08:00",
    }
    row.update(kw)
    return row


# --------------------------------------------------------------------------- generated data
_GENERATED: dict[tuple, Path] = {}
_GENERATED_ROOT: list[Path] = []  # set by conftest to the session's pytest temp folder


def set_generated_root(root: Path) -> None:
    """Where ``generated`` writes its data sets (conftest points it at the session's temp dir)."""
    _GENERATED_ROOT[:] = [root]


def _generated_root() -> Path:
    if not _GENERATED_ROOT:  # used outside pytest: a temp folder removed at exit
        root = Path(tempfile.mkdtemp(prefix="abuse-generated-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _GENERATED_ROOT.append(root)
    return _GENERATED_ROOT[0]


def generated(seed: int, scale: float, **flags: Any) -> Path:
    """The generator's output (``landing/`` and ``truth/``) for ``generate(out, seed, scale,
    **flags)``, made once per test session for each argument set and shared by every test
    that asks for the same one. Shared: read it, never write into it (copy it first)."""
    key = (seed, float(scale), tuple(sorted(flags.items())))
    if key not in _GENERATED:
        from abuse.generate import generate

        tag = "-".join(f"{k}_{v}" for k, v in key[2])
        out = _generated_root() / f"seed{seed}-scale{scale:g}{'-' + tag if tag else ''}"
        if out.exists():
            shutil.rmtree(out)  # a half-written set from an interrupted call
        generate(out, seed, scale, **flags)
        _GENERATED[key] = out
    return _GENERATED[key]
