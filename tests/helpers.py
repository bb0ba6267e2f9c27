"""Shared test helpers (plain functions; the fixtures are in conftest.py): landing directories
written by hand, nightly runs over them, queries of the report and work databases, and the
generated data sets, made once per test session per argument set.

Import them as ``from helpers import nightly, write_landing`` (pytest puts tests/ on the path)."""

from __future__ import annotations

import atexit
import csv
import fcntl
import gzip
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from abuse.pipeline import run_nightly
from abuse.settings import Settings
from abuse.sqlfiles import run_folder

T = TypeVar("T")
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


def state_db(db: Path | str, tz: str) -> duckdb.DuckDBPyConnection:
    """A working database at ``db`` (``":memory:"``: in memory) with the state tables, in zone
    ``tz``; closing it (``with``) is the caller's."""
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = ?", [tz])
    run_folder(con, "state")
    return con


def rows_apart(con: duckdb.DuckDBPyConnection, a: str, b: str) -> tuple[int, int]:
    """(rows of ``a`` not in ``b``, rows of ``b`` not in ``a``): EXCEPT ALL both ways, so a
    duplicated row counts."""
    n = con.execute(
        f"SELECT (SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})), "
        f"(SELECT count(*) FROM (FROM {b} EXCEPT ALL FROM {a}))"
    ).fetchone()
    assert n is not None
    return int(n[0]), int(n[1])


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
_GENERATED_ROOT: list[Path] = []  # set by conftest: the session's folder, shared by its xdist workers


def set_generated_root(root: Path) -> None:
    """Where ``generated`` and ``staged_world`` keep their data sets (conftest points it at a
    folder of the session's pytest temp dir that every pytest-xdist worker of the run shares)."""
    _GENERATED_ROOT[:] = [root]


def _generated_root() -> Path:
    if not _GENERATED_ROOT:  # used outside pytest: a temp folder removed at exit
        root = Path(tempfile.mkdtemp(prefix="abuse-generated-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _GENERATED_ROOT.append(root)
    return _GENERATED_ROOT[0]


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path.lock`` (``flock``; released when the block ends, or
    when the process dies): the processes of one test session (pytest-xdist workers) take
    turns at building a thing they share."""
    with open(path.with_name(path.name + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def built_once(dest: Path, build: Callable[[Path], T]) -> tuple[Path, T | None]:
    """``dest`` made by ``build(dest)`` once for every process that shares its folder:
    ``(dest, what build returned)`` in the process that built it, ``(dest, None)`` in the
    others, which wait for it. Finished builds are marked (``dest.done``), so a half-made
    ``dest`` (an interrupted build) is removed and made again."""
    done = dest.with_name(dest.name + ".done")
    if done.exists():
        return dest, None
    with exclusive(dest):
        if done.exists():
            return dest, None
        if dest.is_dir():
            shutil.rmtree(dest)
        elif dest.exists():
            dest.unlink()
        value = build(dest)
        done.touch()
        return dest, value


def _world_name(key: tuple) -> str:
    seed, scale, flags = key
    tag = "-".join(f"{k}_{str(v).replace('/', '_')}" for k, v in flags)
    return f"seed{seed}-scale{scale:g}{'-' + tag if tag else ''}"


def generated(seed: int, scale: float, **flags: Any) -> Path:
    """The generator's output (``landing/`` and ``truth/``) for ``generate(out, seed, scale,
    **flags)``, made once per test session for each argument set (once for all xdist workers)
    and shared by every test that asks for the same one. Shared: read it, never write into it
    (copy it first)."""
    key = (seed, float(scale), tuple(sorted(flags.items())))
    if key not in _GENERATED:
        from abuse.generate import generate

        out, _ = built_once(_generated_root() / _world_name(key), lambda out: generate(out, seed, scale, **flags))
        _GENERATED[key] = out
    return _GENERATED[key]


_STAGED: dict[tuple, tuple] = {}
_STAGED_KEEP = 8  # staged worlds kept open at once (each reads its saved file: a buffer pool, no copy)


def _sql_string(path: Path) -> str:
    """``path`` as a SQL string literal (ATTACH takes no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def _stage_to_file(landing: Path, tz: str, db: Path) -> None:
    """Stage ``landing`` (``abuse.testing.staged``) and save the database as ``db`` (its window
    beside it, ``db.window.json``), without the ``raw_*`` tables staging read: detectors and the
    tests read the staged tables, and a saved world is half the size without them."""
    from abuse.testing import staged

    con, window_start, window_end = staged(landing, tz)
    try:
        raw = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 'raw_')"
            ).fetchall()
        ]
        for table in raw:
            con.execute(f'DROP TABLE "{table}"')
        con.execute(f"ATTACH {_sql_string(db)} AS saved")
        con.execute("COPY FROM DATABASE memory TO saved")
        con.execute("DETACH saved")
    finally:
        con.close()
    window = {"window_start": window_start.isoformat(), "window_end": window_end.isoformat()}
    db.with_name(db.name + ".window.json").write_text(json.dumps(window))


def _open_staged(db: Path, tz: str) -> tuple:
    """A read-only connection to a database ``_stage_to_file`` saved (every worker reads the
    one file; nothing is copied), with its session variables set again. Read-only: a test
    that would change a shared world's tables fails loudly; detectors' TEMP tables work."""
    from datetime import datetime

    from abuse.sqlfiles import set_variables

    window = json.loads(db.with_name(db.name + ".window.json").read_text())
    window_start, window_end = (datetime.fromisoformat(window[k]) for k in ("window_start", "window_end"))
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = ?", [tz])
    set_variables(con, window_start=window_start, window_end=window_end)
    return con, window_start, window_end


def staged_world(seed: int, scale: float, **flags: Any) -> tuple:
    """``(con, window_start, window_end, out)``: the ``generated(seed, scale, **flags)`` data
    staged (``abuse.testing.staged``) in the zone the generator wrote it in (truth/meta.json),
    once per session for the test files that ask for the same world: staged once for all
    xdist workers and saved (without its ``raw_*`` tables), and every worker reads that file
    through a read-only connection. Shared: query it and run detectors on it (TEMP tables
    work), never change its tables (read-only: that fails). The latest few stay cached; an
    older one is dropped from the cache (not closed: a module may still hold it)."""
    out = generated(seed, scale, **flags)
    key = (seed, float(scale), tuple(sorted(flags.items())))
    if key not in _STAGED:
        tz = json.loads((out / "truth" / "meta.json").read_text())["tz"]
        db, _ = built_once(
            _generated_root() / f"{_world_name(key)}.staged.duckdb", lambda db: _stage_to_file(out / "landing", tz, db)
        )
        _STAGED[key] = (*_open_staged(db, tz), out)
        while len(_STAGED) > _STAGED_KEEP:
            _STAGED.pop(next(iter(_STAGED)))
    else:
        _STAGED[key] = _STAGED.pop(key)  # most recently used last
    return _STAGED[key]


def run_detector(cls: type, con: Any, window_start: Any, window_end: Any, tz: str = "Asia/Shanghai", **params: Any):
    """``cls().detect(...)`` on staged tables with the detector's default Params (overridden by
    ``params``); no upstream results."""
    from abuse.detect.base import DetectContext

    det = cls()
    return det.detect(DetectContext(con, window_start, window_end, tz, det.Params(**params)))


def planted_and_flagged(result: Any, accounts: dict[str, str], pattern: str) -> tuple[set, set]:
    """``(the accounts the truth plants as pattern, the accounts result flags)``; ``accounts``
    maps account to planted pattern (truth/accounts.csv)."""
    return {a for a, p in accounts.items() if p == pattern}, {f.account_id for f in result.findings}


def lookalikes_flagged(flagged: set, lookalike: dict[str, str]) -> dict[str, str]:
    """The flagged accounts the truth lists as look-alikes, with their kind (should be empty)."""
    return {a: lookalike[a] for a in flagged if a in lookalike}


# --------------------------------------------------------------------------- chromium
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_exe() -> str:
    """The headless browser the UI and dossier tests drive: skipped when it is missing, a
    failure when CI is set (.ci/run installs Debian's chromium)."""
    import pytest

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must have it: .ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed")
    return exe


def chromium(exe: str, profile: Path | str, *flags: str) -> list[str]:
    """The command line of one headless chromium run with its own profile folder."""
    return [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags]
