"""The careful reader: a damaged CSV or JSONL file, record by record.

DuckDB's readers are fast and exact on a sound file but refuse a file as a whole at its first
damaged record (a short or long row, bytes that are not UTF-8, a record over the line-size
limit, a quoted field never closed), and they do not notice a ``.gz`` file cut short. Only
for a file they refused, or whose compressed stream is damaged, ingest falls back to this
module: Python's C ``csv`` parser splits the records, each record that cannot be read is set
apart with its record number and the reason, and the others go through the very same SQL
validation as the fast path. A damaged compressed file loads what precedes the damage; the
record the damage cuts, or the place where the stream ends, is quarantined by number.

This is the one place where Python touches records one by one, and only for damaged files.
"""

from __future__ import annotations

import csv
import io
import sys
import threading
import zlib
from typing import IO, Iterator

import pyarrow as pa

from abuse.ingest.discover import LandingFile

CHUNK = 1 << 20
BATCH = 50_000
SHOW = 1000  # characters of a bad record kept in the quarantine's raw column


class Decompressed(io.RawIOBase):
    """The bytes of a landing file, decompressed for ``.gz``. Damage does not raise: reading
    stops where the readable data ends and ``damage`` says what was wrong."""

    def __init__(self, source: IO[bytes], gz: bool) -> None:
        self._f = source  # a local file or a streamed object (``LandingFile.open``)
        self._gz = gz
        self._d = zlib.decompressobj(31)  # used only when gz
        self._pending = b""
        self._done = False
        self.damage: str | None = None
        self.produced = 0  # bytes handed out
        self.last_byte = b""

    def readable(self) -> bool:
        return True

    def _more(self) -> bytes:
        while not self._done:
            block = self._f.read(CHUNK)
            if not self._gz:
                if not block:
                    self._done = True
                return block
            try:
                if not block:
                    self._done = True
                    out = self._d.flush()
                    if not self._d.eof:
                        self.damage = "the compressed stream is cut short (it ends before its end-of-stream marker)"
                    return out
                out = self._d.decompress(block)
                while self._d.eof and self._d.unused_data:  # another gzip member follows
                    rest = self._d.unused_data
                    if not rest.strip(b"\0"):
                        break  # zero padding after the last member
                    self._d = zlib.decompressobj(31)
                    out += self._d.decompress(rest)
            except zlib.error as exc:
                self._done = True
                self.damage = f"the compressed data is damaged ({exc})"
                return b""
            if out:
                return out
        return b""

    def readinto(self, buf) -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = self._more()
            if not self._pending:
                return 0
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self.produced += n
        self.last_byte = buf[n - 1 : n]
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def text_of(f: LandingFile) -> tuple[Decompressed, io.TextIOWrapper]:
    raw = Decompressed(f.open(), f.format.endswith(".gz"))
    text = io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding="utf-8-sig", errors="surrogateescape", newline="")
    return raw, text


def gzip_damage(f: LandingFile) -> str | None:
    """Why a ``.gz`` file is damaged, or None when its whole stream checks out (CRC too).
    zlib releases the GIL, so this runs beside DuckDB's read of the same file (an object on
    object storage is streamed a second time for it)."""
    raw = Decompressed(f.open(), True)
    try:
        while raw.read(CHUNK):
            pass
    finally:
        raw.close()
    return raw.damage


class GzipCheck:
    """``gzip_damage`` in a thread of its own."""

    def __init__(self, f: LandingFile) -> None:
        self._result: str | None = None
        self._thread = threading.Thread(target=self._run, args=(f,), daemon=True)
        self._thread.start()

    def _run(self, f: LandingFile) -> None:
        try:
            self._result = gzip_damage(f)
        except Exception as exc:  # noqa: BLE001 - a store's error too: named, never raised in a thread
            self._result = f"cannot read the file ({exc})"

    def result(self) -> str | None:
        self._thread.join()
        return self._result


def shown(raw: str) -> str:
    """A bad record as text for the quarantine: undecodable bytes as ``\\xe9``, cut short."""
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = text.rstrip("\r\n")
    if len(text) > SHOW:
        return text[:SHOW] + f"... ({len(text):,} characters in all)"
    return text


def _undecodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _over(value: str, limit: int) -> int:
    """The UTF-8 length of ``value`` when it exceeds ``limit`` bytes, else 0."""
    if len(value) * 4 <= limit:
        return 0
    n = len(value.encode("utf-8", "surrogateescape"))
    return n if n > limit else 0


class _Batch:
    """Records gathered row-wise (cells in the order of ``source``, a list per record) and
    turned into columns once per batch."""

    def __init__(self, columns: list[str], source: list[str] | None = None) -> None:
        self.columns = columns
        source = source or columns
        self.pick = [source.index(c) if c in source else None for c in columns]
        self.width = len(source)
        self.rows: list[list[str] | None] = []
        self.numbers: list[int] = []
        self.raws: list[str | None] = []
        self.reasons: list[str | None] = []

    def __len__(self) -> int:
        return len(self.numbers)

    def add(self, row: int, cells: list[str] | None, raw: str | None, reason: str | None) -> None:
        self.rows.append(cells)
        self.numbers.append(row)
        self.raws.append(raw)
        self.reasons.append(reason)

    def table(self) -> pa.Table:
        blank = [None] * self.width
        columns = list(zip(*[r if r is not None else blank for r in self.rows])) or [()] * self.width
        data = {
            c: pa.array(columns[i] if i is not None else [None] * len(self), type=pa.string())
            for c, i in zip(self.columns, self.pick)
        }
        data["_row"] = pa.array(self.numbers, type=pa.int64())
        data["_raw"] = pa.array(self.raws, type=pa.string())
        data["_pre_reject"] = pa.array(self.reasons, type=pa.string())
        return pa.table(data)


def _damage_reason(raw: Decompressed, last: int) -> str:
    where = f"after record {last:,}" if last else "before the first record"
    return f"{raw.damage} {where}: what follows could not be read"


_Record = tuple[int, list[str] | None, str | None, str | None]  # row, cells, _raw, _pre_reject


class _HeldBack:
    """Records gathered into batches, the last one held back: damage found at the end of the
    file (a cut gzip stream) may turn it into a record cut short. One for every batch reader."""

    def __init__(self, columns: list[str], source: list[str] | None, batch: int) -> None:
        self.columns, self.source, self.batch = columns, source, batch
        self.out = _Batch(columns, source)
        self.last: _Record | None = None

    def push(self, record: _Record) -> pa.Table | None:
        """Hold `record`, adding the one held before it; a batch that is full comes back."""
        full = None
        if self.last:
            self.out.add(*self.last)
            if len(self.out) >= self.batch:
                full = self.out.table()
                self.out = _Batch(self.columns, self.source)
        self.last = record
        return full

    def finish(self, raw: Decompressed, rows: int, last_text: str, unit: str) -> Iterator[pa.Table]:
        """The rest, after the last of `rows` records (`last_text` the text of the last one, a
        `unit` of the file): with damage, the last record is cut short if the file stops
        inside it, else one more record says what could not be read."""
        if raw.damage:
            if self.last and raw.last_byte not in (b"\n", b"\r"):
                # the damage cut this record: whatever it holds may be a truncated value
                self.last = (
                    self.last[0],
                    None,
                    self.last[2] or shown(last_text),
                    f"{raw.damage}: this {unit} is cut short, what follows could not be read",
                )
            else:
                if self.last:
                    self.out.add(*self.last)
                self.last = (rows + 1, None, None, _damage_reason(raw, rows))
        if self.last:
            self.out.add(*self.last)
        if len(self.out):
            yield self.out.table()


def _judge_cells(record: str, header: list[str], cells: list[str], max_field_bytes: int) -> str | None:
    """Why a parsed CSV record cannot be kept (None: it can)."""
    width = len(header)
    if len(cells) != width:
        kind = "short" if len(cells) < width else "long"
        return f"wrong number of fields (a {kind} row): {len(cells)} where the header has {width}"
    if len(record) * 4 > max_field_bytes or _undecodable(record):  # else no cell can be
        for name, cell in zip(header, cells):
            if _undecodable(cell):
                return f"bytes that are not UTF-8 in column {name}"
            size = _over(cell, max_field_bytes)
            if size:
                return f"over-long value in {name}: {size:,} bytes (the maximum is {max_field_bytes:,}, setting max_field_bytes)"
    return None


def csv_batches(
    f: LandingFile, header: list[str], columns: list[str], max_field_bytes: int, batch: int = BATCH
) -> Iterator[pa.Table]:
    """The records of a CSV file in batches: the contract ``columns`` (text, as in the file),
    ``_row``, and for a record that cannot be read its ``_raw`` text and ``_pre_reject`` reason."""
    csv.field_size_limit(min(sys.maxsize, max(64 * max_field_bytes, 1 << 28)))
    raw, text = text_of(f)
    lines: list[str] = []

    def feed() -> Iterator[str]:
        for line in text:
            lines.append(line)
            yield line

    held = _HeldBack(columns, header, batch)
    reader = csv.reader(feed(), strict=True)
    row = 0
    record = ""
    try:
        next(reader)  # the header (already read and checked)
        lines.clear()
        while True:
            error: csv.Error | None = None
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                error, cells = exc, []
            record = "".join(lines)
            lines.clear()
            if error is None and not cells:
                continue  # a blank line is no record (DuckDB skips them too)
            row += 1
            if error is not None:
                end = "a quoted field is never closed" if "end of data" in str(error) else f"{error}"
                full = held.push((row, None, shown(record), f"cannot parse this record: {end}"))
            else:
                reason = _judge_cells(record, header, cells, max_field_bytes)
                full = held.push((row, None, shown(record), reason) if reason else (row, cells, None, None))
            if full is not None:
                yield full
        yield from held.finish(raw, row, record, "record")
    finally:
        text.close()


def jsonl_batches(f: LandingFile, batch: int = BATCH) -> Iterator[pa.Table]:
    """The non-blank lines of a JSONL file in batches: ``_line`` (NULL for a line that cannot
    be read), ``_row`` and ``_pre_reject``."""
    raw, text = text_of(f)
    held = _HeldBack(["_line"], None, batch)
    row = 0
    last = ""
    try:
        for line in text:
            if not line.strip():
                continue
            row += 1
            last = line
            if _undecodable(line):
                full = held.push((row, None, shown(line), "bytes that are not UTF-8 in this line"))
            else:
                full = held.push((row, [line], None, None))
            if full is not None:
                yield full
        yield from held.finish(raw, row, last, "line")
    finally:
        text.close()
