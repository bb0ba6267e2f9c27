"""Resource limits for the engines a run uses: DuckDB's memory limit, threads and spill
directory, and the size of polars' thread pool.

``apply_limits`` is called on every working-database connection (``store.connect_work``).
DuckDB's settings are per database instance, so cursors taken from the connection (detectors
that run in threads) share them. With a ``memory_limit`` DuckDB spills sorts, joins and
aggregates to ``temp_directory`` (``<work db>.tmp/`` beside the working database) instead of
growing past it; memory it cannot spill (Python objects, Arrow results handed to polars or
networkx) is not covered.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb


def temp_directory(work_db: Path) -> Path:
    """Where DuckDB spills for the working database ``work_db``."""
    return work_db.with_name(work_db.name + ".tmp")


def apply_limits(con: duckdb.DuckDBPyConnection, settings: Any, work_db: Path | None = None) -> None:
    """Apply ``settings.memory_limit`` and ``settings.threads`` (either may be None: DuckDB's
    defaults, 80% of RAM and one thread per core) to ``con``, and point its spill directory
    beside ``work_db``. ``settings`` may be None (defaults only)."""
    memory_limit = getattr(settings, "memory_limit", None)
    threads = getattr(settings, "threads", None)
    if work_db is not None:
        con.execute("SET temp_directory = ?", [str(temp_directory(Path(work_db)))])
    if memory_limit:
        con.execute("SET memory_limit = ?", [str(memory_limit)])
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
