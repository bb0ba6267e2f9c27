"""Reading one landing file with DuckDB's own readers, every contract column declared as text.

Each reader returns SQL for a relation with the kind's contract columns as VARCHAR (NULL when
the file lacks an optional column), ``_row`` (the record number, from 1), ``_raw`` (the record
as text, for the quarantine), ``_json_ok`` and ``_pre_reject`` (the careful reader's reason a
record could not be read). Types are applied later by validation, so a bad value is caught and
named instead of silently turning a column into text. Headers and JSONL keys are read with
the careful reader's tolerant stream, so a damaged file is named, never raised through.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from abuse.ingest import careful
from abuse.ingest.discover import LandingFile
from abuse.schema import MONEY, Kind


class FileRejected(Exception):
    """The whole file is refused (unreadable, or a required column is missing)."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Free text: kept as written (a review may well say "null"). Every other column is a key, an
# id, a code, a number or a time, where these spellings are an exporter's way of writing "no
# value" (SQL NULL, MySQL/Postgres \N, Python None, pandas NaN, a bare NaN in JSON, which
# DuckDB's JSON reader accepts): read as missing, never as a device, shop or amount called
# "NULL" (one such "device" would tie every account together).
FREE_TEXT = {("reviews", "text"), ("refunds", "reason"), ("campaigns", "name")}
NULL_SPELLINGS = ("", "NULL", "null", "Null", "\\N", "None", "NaN", "nan")


def blank(kind: Kind, column: str, expr: str) -> str:
    """SQL: ``expr`` (text), NULL when it is empty or, outside free text, a spelling of null."""
    if (kind.name, column) in FREE_TEXT:
        return f"nullif({expr}, '')"
    # not ``IN (...)``: DuckDB's IN list here doubles ingest's peak memory; not a chain of
    # nullif either: DuckDB expands each nullif into a CASE naming its argument twice, so the
    # chain repeated ``expr`` 2^8 times and planning it cost 0.05-0.9 CPU s per file
    tests = " OR ".join(f"{expr} = {_lit(v)}" for v in NULL_SPELLINGS)
    return f"CASE WHEN {tests} THEN NULL ELSE {expr} END"


def _whole_float(expr: str) -> str:
    """SQL: a number written as a float (``7.0``, from a JSON or parquet writer that made an id
    column float) as the whole number it is (``7``); other text unchanged. Ids are strings:
    ``7.0`` and ``7`` would otherwise be two accounts."""
    return (
        f"CASE WHEN ends_with({expr}, '.0') AND regexp_full_match({expr}, '-?[0-9]{{1,15}}\\.0') "
        f"THEN left({expr}, -2) ELSE {expr} END"
    )


def csv_header(f: LandingFile) -> list[str]:
    """The header row (read with the careful reader: a damaged file does not raise here)."""
    raw, text = careful.text_of(f)
    try:
        with text:
            header = next(csv.reader(text, strict=True), None)
    except (OSError, csv.Error) as exc:
        raise FileRejected(f"cannot read the header: {exc}") from exc
    if not header:
        if raw.damage:
            raise FileRejected(f"cannot read the header: {raw.damage}")
        raise FileRejected("empty file: no header row")
    header = [h.strip() for h in header]
    if any(careful._undecodable(h) for h in header):
        utf16 = header[0][:2] in ("\udcff\udcfe", "\udcfe\udcff")
        hint = " (the file looks UTF-16 encoded; the contract's CSV is UTF-8)" if utf16 else ""
        raise FileRejected(f"cannot read the header: bytes that are not UTF-8{hint}")
    return header


def jsonl_keys(f: LandingFile, sample: int = 1000, want: list[str] | tuple[str, ...] = ()) -> list[str] | None:
    """The keys seen in the first ``sample`` JSON objects, which stand for the file's columns
    (None: no record at all). A key may be absent from some records (a withdrawn review need
    not carry a rating), so the union is taken; while a key of ``want`` (the required ones) is
    still unseen, reading goes on past the sample, so a file is refused for a missing column
    only when no record has it. Lines that are not objects are quarantined by row later; the
    file is refused only when none of the first lines is an object."""
    keys: dict[str, None] = {}
    seen = bad = 0
    raw, text = careful.text_of(f)
    with text:
        lines = iter(text)
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                keys.update(dict.fromkeys(record))
                seen += 1
            else:
                bad += 1
            if seen + bad >= sample:
                break
        unseen = [k for k in want if k not in keys] if seen else []
        for line in lines:  # past the sample only for a required key not seen yet (cheap test first)
            if not unseen:
                break
            if any(json.dumps(k) in line for k in unseen):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    keys.update(dict.fromkeys(record))
                    unseen = [k for k in unseen if k not in keys]
    if seen:
        return list(keys)
    if bad:
        raise FileRejected(f"none of the first {bad:,} lines is a JSON object")
    if raw.damage:
        raise FileRejected(f"cannot read the first record: {raw.damage}")
    return None


def parquet_columns(con: duckdb.DuckDBPyConnection, path: str) -> dict[str, str]:
    """Column name -> DuckDB type of a parquet file."""
    try:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    except duckdb.Error as exc:
        raise FileRejected(f"cannot read the parquet file: {_first_line(exc)}") from exc
    return {r[0]: r[1] for r in rows}


GLOB = set("*?[]{}")


@contextmanager
def readable_path(f: LandingFile) -> Iterator[str]:
    """A path DuckDB's readers take literally: DuckDB expands ``*?[]{}`` in a file name as a
    glob, so a name holding one is read through a link with a plain name. An object on object
    storage is read in place by its URL (the store is registered on the connection); one whose
    name holds a glob character is copied to a local temporary file (there is no link to make)."""
    if not GLOB & set(f.path.name):
        yield f.name if f.store else str(f.path)
        return
    tmp = tempfile.mkdtemp(prefix="abuse-ingest-")
    try:
        link = Path(tmp) / ("file" + f.format)
        if f.store:
            with f.open() as src, link.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            try:
                os.symlink(Path(f.path).resolve(), link)
            except OSError:
                shutil.copyfile(f.path, link)
        yield str(link)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_required(kind: Kind, present: list[str]) -> None:
    missing = [c for c in kind.required if c not in present]
    if kind.name == "reviews" and "action" in present and "rating" in missing:
        # rating may be empty on a withdrawn action: a file of withdrawals need not carry the
        # column; its other actions are quarantined one by one for the missing rating
        missing.remove("rating")
    if missing:
        cols = ", ".join(repr(c) for c in missing)
        hint = ""
        if len(present) == 1:
            for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
                if sep in present[0]:
                    hint = f" (the header looks separated by {name}; the contract's CSV is comma-separated)"
                    break
        if present and present[0].lower().startswith("sep="):
            hint = " (the first line is a spreadsheet's 'sep=' line; the header must be the first line)"
        if not hint:
            near = {p.strip().strip('"').lower(): p for p in present}
            found = [f"{near[c]!r} for {c!r}" for c in missing if c in near]
            if found:
                hint = f" (the file has {', '.join(found)}: column names are matched exactly, in lower case)"
        raise FileRejected(f"missing required column{'s' if len(missing) > 1 else ''} {cols}{hint}")


def raw_text(columns: list[str]) -> str:
    """SQL for a record as text: the JSONL line itself, else its contract columns as JSON.
    Only evaluated for rejected records."""
    pairs = ", ".join(f"{_lit(c)}, {_q(c)}" for c in columns)
    return f"coalesce(_raw, CAST(json_object({pairs}) AS VARCHAR))"


def csv_relation(kind: Kind, f: LandingFile, path: str, header: list[str], careful_source: str | None = None) -> str:
    """SQL of a CSV file's records: DuckDB's strict reader, or (``careful_source``) a batch
    of the careful reader registered under that name."""
    cols = kind.column_names
    if careful_source:
        select = ", ".join(f"{blank(kind, c, _q(c))} AS {_q(c)}" for c in cols)
        return f"SELECT {select}, _row, _raw, true AS _json_ok, _pre_reject FROM {careful_source}"
    declared = "{" + ", ".join(f"{_lit(h)}: 'VARCHAR'" for h in header) + "}"
    select = ", ".join(
        f"{blank(kind, c, _q(c))} AS {_q(c)}" if c in header else f"NULL::VARCHAR AS {_q(c)}" for c in cols
    )
    source = (
        f"read_csv({_lit(path)}, header=true, auto_detect=false, columns={declared}, "
        "delim=',', quote='\"', escape='\"', strict_mode=true, encoding='utf-8', "
        f"compression={_compression(f.format)})"
    )
    return (
        f"WITH src AS (SELECT {select} FROM {source}) "
        "SELECT *, row_number() OVER () AS _row, NULL::VARCHAR AS _raw, true AS _json_ok, "
        "NULL::VARCHAR AS _pre_reject FROM src"
    )


def _compression(fmt: str) -> str:
    # by the contract's format, never by DuckDB's guess from the name: a ``.CSV.GZ`` read as
    # plain text is binary noise that yields no records and no error
    return "'gzip'" if fmt.endswith(".gz") else "'none'"


def jsonl_relation(kind: Kind, path: str, careful_source: str | None = None) -> str:
    cols = kind.column_names
    paths = "[" + ", ".join(_lit("$." + json.dumps(c)) for c in cols) + "]"
    types = {c.name: c.type for c in kind.columns}

    def value(i: int, c: str) -> str:
        v = f"_vals[{i}]"
        if types[c] == "VARCHAR" and (kind.name, c) not in FREE_TEXT:
            # a JSON number 7.0 in an id column is the id 7 (a JSON string "7.0" stays as it is)
            v = (
                f"CASE WHEN ends_with({v}, '.0') AND json_type(_obj, {_lit('$.' + json.dumps(c))}) = 'DOUBLE' "
                f"THEN {_whole_float(v)} ELSE {v} END"
            )
        return v

    # each value computed in its own step and ``blank`` applied to its column, so ``blank``
    # repeats a column name, not the whole expression (planning it cost 0.8 CPU s per file)
    values = ", ".join(f"{value(i, c)} AS {_q('_v_' + c)}" for i, c in enumerate(cols, start=1))
    select = ", ".join(f"{blank(kind, c, _q('_v_' + c))} AS {_q(c)}" for c in cols)
    if careful_source:
        lines = f"SELECT _line, _row, _raw, _pre_reject FROM {careful_source}"
    else:
        source = (
            f"read_csv({_lit(path)}, header=false, auto_detect=false, columns={{'_line': 'VARCHAR'}}, "
            "delim='\x1f', quote='', escape='', strict_mode=false, encoding='utf-8', "
            f"compression={_compression('.gz' if path.lower().endswith('.gz') else '')})"
        )
        lines = (
            f"SELECT _line, row_number() OVER () AS _row, NULL::VARCHAR AS _raw, "
            f"NULL::VARCHAR AS _pre_reject FROM {source} WHERE trim(_line) <> ''"
        )
    return (
        f"WITH lines AS ({lines}), "
        # a byte-order mark before the first line is no part of the JSON
        "unmarked AS (SELECT * REPLACE (CASE WHEN _row = 1 THEN ltrim(_line, chr(65279)) "
        "ELSE _line END AS _line) FROM lines), "
        "numbered AS (SELECT *, "
        "CASE WHEN json_valid(_line) THEN json_type(_line) = 'OBJECT' ELSE _line IS NULL END AS _ok "
        "FROM unmarked), "
        "objects AS (SELECT *, CASE WHEN _ok AND _line IS NOT NULL THEN _line ELSE '{}' END AS _obj "
        "FROM numbered), "
        # every field in one pass over the text (one parse per line, not one per column)
        f"fields AS (SELECT *, json_extract_string(_obj, {paths}) AS _vals FROM objects), "
        f"valued AS (SELECT {values}, _row, _raw, _line, _ok, _pre_reject FROM fields) "
        f"SELECT {select}, _row, coalesce(_raw, _line) AS _raw, _ok AS _json_ok, _pre_reject FROM valued"
    )


def parquet_relation(con: duckdb.DuckDBPyConnection, kind: Kind, path: str) -> str:
    present = parquet_columns(con, path)
    _check_required(kind, list(present))
    types = {c.name: c.type for c in kind.columns}

    def text(c: str) -> str:
        # a float in a money or count column: read its value, not its binary noise
        # (0.30000000000000004 is 0.3); 1.234 still shows as 1.234 and is quarantined
        if present[c] in ("DOUBLE", "FLOAT") and types[c] in (MONEY, "INTEGER"):
            return f"CAST(round({_q(c)}, 9) AS VARCHAR)"
        if present[c] in ("DOUBLE", "FLOAT") and types[c] == "VARCHAR":
            return _whole_float(f"CAST({_q(c)} AS VARCHAR)")  # an id column made float: 7.0 is 7
        return f"CAST({_q(c)} AS VARCHAR)"

    select = ", ".join(
        f"{blank(kind, c, text(c))} AS {_q(c)}" if c in present else f"NULL::VARCHAR AS {_q(c)}"
        for c in kind.column_names
    )
    return (
        f"WITH src AS (SELECT {select}, file_row_number + 1 AS _row "
        f"FROM read_parquet({_lit(path)}, file_row_number=true)) "
        "SELECT *, NULL::VARCHAR AS _raw, true AS _json_ok, NULL::VARCHAR AS _pre_reject FROM src"
    )


def empty_relation(kind: Kind) -> str:
    return (
        "SELECT "
        + ", ".join(f"NULL::VARCHAR AS {_q(c)}" for c in kind.column_names)
        + (", NULL::BIGINT AS _row, NULL::VARCHAR AS _raw, true AS _json_ok, NULL::VARCHAR AS _pre_reject WHERE false")
    )


def csv_checked_header(kind: Kind, f: LandingFile) -> list[str]:
    """The header with every required column present and no contract column named twice. A
    column the contract does not list is ignored whatever its name: unnamed (a trailing comma
    on every line) or named twice, it gets a placeholder name (``_column_<n>``)."""
    header = csv_header(f)
    _check_required(kind, header)
    listed = set(kind.column_names)
    twice = [c for c in dict.fromkeys(header) if c in listed and header.count(c) > 1]
    if twice:
        cols = ", ".join(repr(c) for c in twice)
        raise FileRejected(f"the header names column{'s' if len(twice) > 1 else ''} {cols} more than once")
    seen: set[str] = set()
    out = []
    for n, h in enumerate(header, start=1):
        if h not in listed and (not h or h in seen or h.startswith("_column_")):
            h = f"_column_{n}"
        seen.add(h)
        out.append(h)
    return out
