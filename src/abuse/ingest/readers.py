"""Reading one landing file with DuckDB's own readers, every contract column declared as text.

Each reader returns SQL for a relation with the kind's contract columns as VARCHAR (NULL when
the file lacks an optional column), ``_row`` (the record number, from 1) and ``_raw`` (the
record as text, for the quarantine). Types are applied later by validation and staging, so a
bad value is caught and named instead of silently turning a column into text.
"""

from __future__ import annotations

import csv
import gzip
import io
import json

import duckdb

from abuse.ingest.discover import LandingFile
from abuse.schema import Kind


class FileRejected(Exception):
    """The whole file is refused (unreadable, or a required column is missing)."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _open_text(f: LandingFile) -> io.TextIOBase:
    raw = gzip.open(f.path, "rb") if f.format.endswith(".gz") else open(f.path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def csv_header(f: LandingFile) -> list[str]:
    try:
        with _open_text(f) as text:
            header = next(csv.reader(text), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileRejected(f"cannot read the header: {exc}") from exc
    if not header:
        raise FileRejected("empty file: no header row")
    return [h.strip() for h in header]


def jsonl_keys(f: LandingFile, sample: int = 1000) -> list[str] | None:
    """The keys seen in the first ``sample`` records, which stand for the file's columns
    (None: no record). A key may be absent from some records (a withdrawn review need not
    carry a rating), so the union is taken."""
    keys: dict[str, None] = {}
    seen = 0
    try:
        with _open_text(f) as text:
            for line in text:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    if seen == 0:
                        raise
                    continue  # a bad line later on is quarantined by row, not here
                if isinstance(record, dict):
                    keys.update(dict.fromkeys(record))
                elif seen == 0:
                    raise FileRejected("the first line is not a JSON object")
                seen += 1
                if seen >= sample:
                    break
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileRejected(f"cannot read the first record: {exc}") from exc
    return list(keys) if seen else None


def parquet_columns(con: duckdb.DuckDBPyConnection, f: LandingFile) -> list[str]:
    try:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(f.path)]).fetchall()
    except duckdb.Error as exc:
        raise FileRejected(f"cannot read the parquet file: {_first_line(exc)}") from exc
    return [r[0] for r in rows]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_required(kind: Kind, present: list[str]) -> None:
    missing = [c for c in kind.required if c not in present]
    if missing:
        cols = ", ".join(repr(c) for c in missing)
        raise FileRejected(f"missing required column{'s' if len(missing) > 1 else ''} {cols}")


def raw_text(columns: list[str]) -> str:
    """SQL for a record as text: the JSONL line itself, else its contract columns as JSON.
    Only evaluated for rejected records."""
    pairs = ", ".join(f"{_lit(c)}, {_q(c)}" for c in columns)
    return f"coalesce(_raw, CAST(json_object({pairs}) AS VARCHAR))"


def relation_sql(con: duckdb.DuckDBPyConnection, kind: Kind, f: LandingFile) -> str:
    """SQL selecting the file's records as text columns plus ``_row``, ``_raw`` (the JSONL
    line, NULL for other formats) and
    ``_json_ok`` (false for a JSONL line that is not a JSON object)."""
    path = _lit(str(f.path))
    cols = kind.column_names
    if f.format in (".csv", ".csv.gz"):
        header = csv_header(f)
        _check_required(kind, header)
        if len(set(header)) != len(header):
            raise FileRejected("the header names a column twice")
        declared = "{" + ", ".join(f"{_lit(h)}: 'VARCHAR'" for h in header) + "}"
        select = ", ".join(
            f"nullif({_q(c)}, '') AS {_q(c)}" if c in header else f"NULL::VARCHAR AS {_q(c)}"
            for c in cols
        )
        source = (
            f"read_csv({path}, header=true, auto_detect=false, columns={declared}, "
            "delim=',', quote='\"', escape='\"', strict_mode=true, encoding='utf-8')"
        )
        return (
            f"WITH src AS (SELECT {select} FROM {source}) "
            f"SELECT *, row_number() OVER () AS _row, NULL::VARCHAR AS _raw, true AS _json_ok FROM src"
        )
    if f.format in (".jsonl", ".jsonl.gz"):
        keys = jsonl_keys(f)
        if keys is None:
            return "SELECT " + ", ".join(f"NULL::VARCHAR AS {_q(c)}" for c in cols) + (
                ", NULL::BIGINT AS _row, NULL::VARCHAR AS _raw, true AS _json_ok WHERE false"
            )
        _check_required(kind, keys)
        select = ", ".join(
            f"nullif(json_extract_string(_obj, {_lit('$.' + json.dumps(c))}), '') AS {_q(c)}"
            for c in cols
        )
        source = (
            f"read_csv({path}, header=false, auto_detect=false, columns={{'_line': 'VARCHAR'}}, "
            "delim='\x1f', quote='', escape='', strict_mode=false, encoding='utf-8')"
        )
        return (
            f"WITH lines AS (SELECT _line FROM {source} WHERE trim(_line) <> ''), "
            "numbered AS (SELECT _line, row_number() OVER () AS _row, "
            "CASE WHEN json_valid(_line) THEN json_type(_line) = 'OBJECT' ELSE false END AS _ok "
            "FROM lines), "
            "objects AS (SELECT *, CASE WHEN _ok THEN _line ELSE '{}' END AS _obj FROM numbered) "
            f"SELECT {select}, _row, _line AS _raw, _ok AS _json_ok FROM objects"
        )
    if f.format == ".parquet":
        present = parquet_columns(con, f)
        _check_required(kind, present)
        select = ", ".join(
            f"nullif(CAST({_q(c)} AS VARCHAR), '') AS {_q(c)}" if c in present else f"NULL::VARCHAR AS {_q(c)}"
            for c in cols
        )
        return (
            f"WITH src AS (SELECT {select}, file_row_number + 1 AS _row "
            f"FROM read_parquet({path}, file_row_number=true)) "
            f"SELECT *, NULL::VARCHAR AS _raw, true AS _json_ok FROM src"
        )
    raise FileRejected(f"unsupported format {f.format}")
