"""Resource limits for the engines a run uses: DuckDB's memory limit, threads and spill
directory, and the size of polars' thread pool.

``apply_limits`` is called on every working-database connection (``store.connect_work``).
``memory_limit`` is the whole process's budget: DuckDB gets ``DUCKDB_SHARE`` (60%) of it, the
rest is left for what DuckDB does not see (polars frames, numpy arrays, networkx graphs, Arrow
results). DuckDB's settings are per database instance, so cursors taken from the connection (detectors
that run in threads) share them. With a ``memory_limit`` DuckDB spills sorts, joins and
aggregates to ``temp_directory`` (``<work db>.tmp/`` beside the working database) instead of
growing past it; memory it cannot spill (Python objects, Arrow results handed to polars or
networkx) is not covered.

It also turns the run's detectors into picklable jobs (``detector_jobs``, ``run_job``) that a
task runner can run side by side, in threads of this process or on Dask workers.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb

DUCKDB_SHARE = 0.6  # of the process's memory budget (settings.memory_limit), DuckDB's part

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def size_bytes(text: str) -> int:
    """Bytes of a size as DuckDB writes it: ``'6GB'`` (10^9), ``'5.5 GiB'`` (2^30), ``'700MB'``."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a memory size: {text!r} (e.g. '6GB', '700MB', '5.5GiB')")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def duckdb_memory_limit(budget: str) -> str:
    """DuckDB's memory limit for a process budget ``budget`` (``DUCKDB_SHARE`` of it), in MB."""
    return f"{max(1, int(size_bytes(budget) * DUCKDB_SHARE / 10**6))}MB"


def duckdb_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The memory limit in force on ``con``, in bytes."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    return size_bytes(str(row[0] if row else "0"))


def temp_directory(work_db: Path) -> Path:
    """Where DuckDB spills for the working database ``work_db``."""
    return work_db.with_name(work_db.name + ".tmp")


def apply_limits(con: duckdb.DuckDBPyConnection, settings: Any, work_db: Path | None = None) -> None:
    """Apply ``settings.memory_limit`` (the process budget; DuckDB gets ``DUCKDB_SHARE`` of it)
    and ``settings.threads`` (either may be None: DuckDB's defaults, 80% of RAM and one thread
    per core) to ``con``, and point its spill directory
    beside ``work_db``. ``settings`` may be None (defaults only)."""
    memory_limit = getattr(settings, "memory_limit", None)
    threads = getattr(settings, "threads", None)
    if work_db is not None:
        con.execute("SET temp_directory = ?", [str(temp_directory(Path(work_db)))])
    if memory_limit:
        con.execute("SET memory_limit = ?", [duckdb_memory_limit(str(memory_limit))])
    if threads:
        con.execute(f"SET threads = {int(threads)}")
        # polars reads its pool size once, on import: effective when set before that
        os.environ.setdefault("POLARS_MAX_THREADS", str(int(threads)))


def limits(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The limits in force on ``con`` (for run records and the benchmark)."""
    rows = con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', 'threads', 'temp_directory')"
    ).fetchall()
    return dict(rows)


# --- detectors as independent jobs (a task runner, a Dask cluster) -------------------------
#
# A DuckDB connection is not safe to share between threads, and cannot be pickled. A job
# therefore names its source: the key of a live connection registered in this process (a job
# running in a thread of this process, e.g. Prefect's thread pool or a Dask LocalCluster with
# processes=False, takes its own cursor of it), or the path of the working database, which a
# job in another process opens read-only (the run must have released its own connection:
# ``release``/``reopen``). Either way the job sets the session zone and the window variables
# itself: a fresh cursor has neither.

_LIVE: dict[str, duckdb.DuckDBPyConnection] = {}
_CURSOR_LOCK = threading.Lock()


@dataclass(frozen=True)
class DetectorJob:
    """Everything one detector needs, picklable: it can travel to a Dask worker."""

    name: str
    requires: tuple[str, ...]
    source: str  # a key of a live connection of this process, or a working-database path
    work_db: str
    window_start: datetime
    window_end: datetime
    tz: str
    params: Any  # the detector's pydantic Params
    memory_limit: str | None = None
    threads: int | None = None


@contextmanager
def shared(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """Register ``con`` so that jobs in threads of this process take cursors of it."""
    key = f"live:{uuid.uuid4().hex}"
    _LIVE[key] = con
    try:
        yield key
    finally:
        _LIVE.pop(key, None)


def detector_jobs(run: Any, source: str) -> list[DetectorJob]:
    """The run's enabled detectors as jobs, in an order that honours ``requires``."""
    from abuse.detect.base import all_detectors, ordered, params_for
    from abuse.store import work_path

    settings = run.settings
    detectors = {n: c for n, c in all_detectors().items() if n not in settings.disabled_detectors}
    return [
        DetectorJob(
            name,
            tuple(r for r in detectors[name].requires if r in detectors),
            source,
            str(work_path(Path(settings.db))),
            run.window_start,
            run.window_end,
            settings.tz,
            params_for(detectors[name], settings.detectors.get(name)),
            settings.memory_limit,
            settings.threads,
        )
        for name in ordered(detectors)
    ]


@contextmanager
def _job_connection(job: DetectorJob) -> Iterator[duckdb.DuckDBPyConnection]:
    from abuse.sqlfiles import set_variables

    with _CURSOR_LOCK:
        live = _LIVE.get(job.source)
        con = live.cursor() if live is not None else None
    if con is None:
        if job.source.startswith("live:"):
            raise RuntimeError(
                f"detector {job.name!r}: the run's connection lives in another process; "
                "release it (abuse.engine.release) and give jobs the working-database path"
            )
        con = duckdb.connect(job.source, read_only=True)
        apply_limits(con, job)
    try:
        con.execute("SET TimeZone = ?", [job.tz])
        set_variables(con, window_start=job.window_start, window_end=job.window_end)
        yield con
    finally:
        con.close()


def _result(value: Any) -> Any:
    return value[0] if isinstance(value, tuple) else value


def run_job(job: DetectorJob, upstream: dict[str, Any]) -> tuple[Any, float]:
    """Run one detector; returns (its DetectorResult, seconds). ``upstream`` maps each detector
    it requires to that detector's result (or to what ``run_job`` returned for it)."""
    from abuse.detect.base import DetectContext, all_detectors

    t0 = time.perf_counter()
    cls = all_detectors()[job.name]
    with _job_connection(job) as con:
        ctx = DetectContext(
            con,
            job.window_start,
            job.window_end,
            job.tz,
            job.params,
            upstream={r: _result(upstream[r]) for r in job.requires},
        )
        result = cls().detect(ctx)
    return result, time.perf_counter() - t0


def record_result(run: Any, name: str, result: Any, seconds: float) -> None:
    """Keep a job's result on the run, as ``pipeline.detect`` does."""
    run.results[name] = result
    run.timings[f"detect:{name}"] = seconds
    run.say(detected_line(name, result, seconds))


def detected_line(name: str, result: Any, seconds: float) -> str:
    """The progress line of one detector: ``[detect] rings: 40 accounts, 1 cluster, ...``."""
    from abuse.report_text import plural

    return (
        f"[detect] {name}: {plural(len(result.findings), 'account')}, "
        f"{plural(len(result.clusters), 'cluster')}, {plural(len(result.spikes), 'spike')} "
        f"in {seconds:.1f}s"
    )


def release(run: Any) -> str:
    """Close the run's connection (committed state only: call between stages) so that jobs in
    other processes can open the working database read-only; returns its path."""
    from abuse.store import work_path

    run.con.close()
    return str(work_path(Path(run.settings.db)))


def reopen(run: Any) -> None:
    """Open the run's connection again after ``release``, with the session as ``stage`` left it."""
    from abuse.sqlfiles import set_variables
    from abuse.store import connect_work

    run.con = connect_work(Path(run.settings.db), run.settings.tz, settings=run.settings)
    set_variables(run.con, window_start=run.window_start, window_end=run.window_end)


def detect_with(run: Any, submit: Callable[[DetectorJob, dict[str, Any]], Any], remote: bool) -> dict[str, Any]:
    """The detect stage on a task runner: ``submit(job, upstream_futures)`` starts one job and
    returns a future (``.wait()``, ``.result()``), each job handed the futures of the detectors
    it requires. ``remote``: the workers may be other processes or machines, so the run releases
    its connection while they work and each job opens the working database read-only. Every job
    has finished before this returns or raises; a failure is recorded as the run being in the
    first failing detector (``run.stage_name``), as ``pipeline.detect`` does."""
    from abuse import pipeline

    pipeline.enter_stage(run, "detect")
    outcomes: dict[str, tuple[Any, float]] = {}
    failed: tuple[str, BaseException] | None = None
    with shared(run.con) as live:
        source = release(run) if remote else live
        try:
            futures: dict[str, Any] = {}
            for job in detector_jobs(run, source):
                futures[job.name] = submit(job, {r: futures[r] for r in job.requires})
            for future in futures.values():
                future.wait()  # none still running when a failure undoes the run
            for name, future in futures.items():
                try:
                    outcomes[name] = future.result()
                except Exception as exc:  # noqa: BLE001 - re-raised below, after the reopen
                    failed = failed or (name, exc)
        finally:
            if remote:
                reopen(run)
    if failed:
        pipeline.enter_stage(run, f"detect:{failed[0]}")
        raise failed[1]
    for name, (result, seconds) in outcomes.items():
        record_result(run, name, result, seconds)
    return run.results
