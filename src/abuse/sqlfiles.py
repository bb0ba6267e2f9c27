"""Finding and running the SQL files under ``sql/`` and the reference tables under ``seeds/``.

Each SQL file builds one thing and is named after it (``sql/staging/stg_orders.sql`` builds
``stg_orders``). Files of a folder run in name order. Parameters reach SQL as DuckDB variables
(``getvariable('window_start')``), never by string formatting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

_HERE = Path(__file__).resolve().parent


def _root(name: str) -> Path:
    # A checkout (editable install) has sql/ and seeds/ at the repo root; a wheel ships them
    # inside the package as _sql/ and _seeds/.
    for candidate in (_HERE.parent.parent / name, _HERE / f"_{name}"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder next to {_HERE}")


def sql_dir() -> Path:
    return _root("sql")


def seeds_dir() -> Path:
    return _root("seeds")


def read_sql(relative: str) -> str:
    """The text of ``sql/<relative>``."""
    return (sql_dir() / relative).read_text(encoding="utf-8")


def sql_files(folder: str) -> list[Path]:
    return sorted((sql_dir() / folder).glob("*.sql"))


def run_macros(con: duckdb.DuckDBPyConnection, folder: str) -> None:
    """Define the macros of ``sql/<folder>/macros/`` (the shared steps the folder's files call)."""
    for path in sql_files(f"{folder}/macros"):
        con.execute(path.read_text(encoding="utf-8"))


def run_folder(con: duckdb.DuckDBPyConnection, folder: str) -> list[str]:
    """Run every file of ``sql/<folder>`` in name order, after its ``macros/``; returns the
    names built."""
    run_macros(con, folder)
    built = []
    for path in sql_files(folder):
        con.execute(path.read_text(encoding="utf-8"))
        built.append(path.stem)
    return built


def set_variables(con: duckdb.DuckDBPyConnection, **values: Any) -> None:
    """Make values visible to SQL as ``getvariable('name')``."""
    for name, value in values.items():
        if isinstance(value, datetime):
            con.execute(f"SET VARIABLE {name} = CAST(? AS TIMESTAMPTZ)", [value.isoformat()])
        else:
            con.execute(f"SET VARIABLE {name} = ?", [value])


def load_seeds(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Load every ``seeds/*.csv`` as table ``seed_<name>``, all columns declared as text
    unless the seed's header says ``name:TYPE``."""
    loaded = []
    for path in sorted(seeds_dir().glob("*.csv")):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        columns = {}
        for h in header:
            name, _, type_ = h.partition(":")
            columns[h] = (name, type_ or "VARCHAR")
        select = ", ".join(f'CAST("{h}" AS {t}) AS "{n}"' for h, (n, t) in columns.items())
        cols = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"
        con.execute(
            f"CREATE OR REPLACE TABLE seed_{path.stem} AS SELECT {select} FROM read_csv(?, "
            f"header=true, auto_detect=false, columns={cols}, delim=',', quote='\"', escape='\"')",
            [str(path)],
        )
        loaded.append(f"seed_{path.stem}")
    return loaded


def use_intermediate(con: duckdb.DuckDBPyConnection) -> None:
    """Define on ``con`` (as TEMP objects, so a read-only connection works too) the shared
    macros of ``sql/intermediate/macros/`` and the ``int_*`` views of ``sql/intermediate/``
    (identifier kinds, network blocks, coupon claims). Cheap: call it before reading them."""
    for path in sql_files("intermediate/macros") + sql_files("intermediate"):
        con.execute(path.read_text(encoding="utf-8"))


@contextmanager
def temp_table(con: duckdb.DuckDBPyConnection, name: str, frame: Any) -> Iterator[None]:
    """``frame`` (polars or arrow) as the TEMP table ``name`` while the block runs (the SQL a
    detector reads it with sees an ordinary table); dropped afterwards, also on error."""
    data = frame.to_arrow() if hasattr(frame, "to_arrow") else frame
    con.register(f"{name}_frame", data)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
    finally:
        con.unregister(f"{name}_frame")
    try:
        yield
    finally:
        con.execute(f"DROP TABLE IF EXISTS {name}")
