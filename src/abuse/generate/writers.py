"""Turning coded columns into contract text and files (CSV, CSV.GZ, JSONL, JSONL.GZ, Parquet),
in chunks so that tens of millions of rows fit in memory, byte-identical for a given seed."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from abuse.generate.columns import COLUMNS, NULL_TS
from abuse.generate.world import OFFSET

CHUNK = 1_000_000
HEX = np.array([b"%02x" % i for i in range(256)], dtype="S2")
# how timestamps are spelled, per file: shares of naive local, "+08:00" and "Z"
TS_STYLES = {"mixed": (0.5, 0.35, 0.15), "local": (1.0, 0.0, 0.0), "offset": (0.0, 1.0, 0.0)}


def mix64(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of x ^ salt: a stable stand-in for a salted hash."""
    z = (x.astype(np.uint64) ^ np.uint64(salt)) + np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hex16(x: np.ndarray, salt: int) -> pa.Array:
    b = mix64(x, salt).astype(">u8").view(np.uint8).reshape(-1, 8)
    return pa.array(HEX[b].view("S16").ravel()).cast(pa.string())


def _nullify(arr: pa.Array, null: np.ndarray) -> pa.Array:
    if not null.any():
        return arr
    return pc.if_else(pa.array(null), pa.scalar(None, arr.type), arr)


def _id(codes: np.ndarray, prefix: str, width: int) -> pa.Array:
    s = pc.utf8_lpad(pa.array(np.maximum(codes, 0)).cast(pa.string()), width=width, padding="0")
    if prefix:
        s = pc.binary_join_element_wise(pa.scalar(prefix), s, "")
    return _nullify(s, codes < 0)


def _device(codes: np.ndarray, salt: int) -> pa.Array:
    emulator = (codes >= 0) & ((codes >> 40) & 1).astype(bool)
    h = hex16(codes, salt)
    emu = pc.binary_join_element_wise(pa.scalar("emu-"), pc.utf8_slice_codeunits(h, 0, 12), "")
    return _nullify(pc.if_else(pa.array(emulator), emu, pc.utf8_upper(h)), codes < 0)


def _ip(v: np.ndarray) -> pa.Array:
    parts = [pa.array((np.maximum(v, 0) >> s) & 255).cast(pa.string()) for s in (24, 16, 8, 0)]
    return _nullify(pc.binary_join_element_wise(*parts, "."), v < 0)


def _offset_text(offset_ms: int) -> str:
    """'+08:00', '+05:30', '-03:00' for a UTC offset in ms."""
    m = abs(offset_ms) // 60_000
    return f"{'-' if offset_ms < 0 else '+'}{m // 60:02d}:{m % 60:02d}"


def _ts_text(t: np.ndarray, style: np.ndarray, ms: bool, offset_ms: int = OFFSET) -> pa.Array:
    """ISO 8601 text: style 0 naive platform-local, 1 with the zone's offset (+08:00), 2 UTC with Z."""
    shown = np.where(style == 2, t, t + offset_ms)
    unit = "ms" if ms else "s"
    arr = pa.array(shown if ms else shown // 1000, pa.timestamp(unit))
    text = pc.replace_substring(arr.cast(pa.string()), " ", "T", max_replacements=1)
    suffix = pa.array(np.array(["", _offset_text(offset_ms), "Z"])[style])
    return _nullify(pc.binary_join_element_wise(text, suffix, ""), t == NULL_TS)


def arrow_table(
    kind: str,
    frame: dict[str, np.ndarray],
    texts: list[str],
    salt: int,
    rng: np.random.Generator,
    target: str,
    ts_style: str = "mixed",
    offset_ms: int = OFFSET,
) -> pa.Table:
    """Coded rows -> arrow table typed for `target` ('text' for CSV/JSON, 'parquet')."""
    cols = {}
    n = len(next(iter(frame.values())))
    style = rng.choice(3, n, p=TS_STYLES[ts_style])
    ms = kind in ("coupon_events", "activity")
    for name, (ctype, fmt) in COLUMNS[kind].items():
        v = frame[name]
        if ctype == "id":
            cols[name] = _id(v, *fmt)
        elif ctype == "ts":
            if target == "parquet":
                tz = "UTC" if kind == "activity" else None  # absolute vs platform-local
                shown = v if tz else v + offset_ms
                if not ms:  # whole seconds, as the text formats spell them
                    shown = shown // 1000 * 1000
                cols[name] = _nullify(
                    pa.array(np.where(v == NULL_TS, 0, shown), pa.timestamp("ms", tz=tz)), v == NULL_TS
                )
            else:
                cols[name] = _ts_text(v, style, ms, offset_ms)
        elif ctype == "money":
            yuan = pa.array(v / 100.0)
            cols[name] = yuan.cast(pa.decimal128(18, 2)) if target == "parquet" else yuan
        elif ctype == "int":
            cols[name] = _nullify(pa.array(v), v < 0)
        elif ctype == "float":
            cols[name] = pa.array(v, from_pandas=True)
        elif ctype == "enum":
            cols[name] = pa.array(list(fmt)).take(pa.array(np.where(v < 0, 0, v), mask=v < 0))
        elif ctype == "text":
            cols[name] = pa.array(texts).take(pa.array(np.where(v < 0, 0, v), mask=v < 0))
        elif ctype == "hex":
            cols[name] = _nullify(hex16(v, salt ^ hash_of(fmt)), v < 0)
        elif ctype == "device":
            cols[name] = _device(v, salt)
        elif ctype == "ip":
            cols[name] = _ip(v)
        elif ctype == "phone7":
            cols[name] = _nullify(pa.array(np.maximum(v, 0)).cast(pa.string()), v < 0)
    return pa.table(cols)


def hash_of(s: str) -> int:
    return int.from_bytes(s.encode().ljust(8, b"\0")[:8], "little")


def take(frame: dict[str, np.ndarray], idx) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in frame.items()}


def chunks(frame: dict[str, np.ndarray]):
    n = len(next(iter(frame.values())))
    for lo in range(0, max(n, 1), CHUNK):
        yield take(frame, slice(lo, lo + CHUNK))


def write(
    path: Path,
    kind: str,
    frame: dict[str, np.ndarray],
    texts: list[str],
    salt: int,
    rng: np.random.Generator,
    ts_style: str = "mixed",
    offset_ms: int = OFFSET,
) -> int:
    """Write rows to `path`; the format follows the extension. Returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name
    target = "parquet" if name.endswith(".parquet") else "text"
    tables = (arrow_table(kind, part, texts, salt, rng, target, ts_style, offset_ms) for part in chunks(frame))
    if name.endswith(".parquet"):
        writer = None
        for t in tables:
            if writer is None:
                writer = pq.ParquetWriter(path, t.schema, compression="zstd")
            writer.write_table(t, row_group_size=CHUNK)
        assert writer is not None  # chunks() yields at least one part
        writer.close()
    else:
        raw = open(path, "wb")
        out = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1)
            if name.endswith(".gz")
            else raw
        )
        for i, t in enumerate(tables):
            if ".csv" in name:
                buf = io.BytesIO()
                pcsv.write_csv(t, buf, pcsv.WriteOptions(include_header=i == 0))
                out.write(buf.getvalue())
            else:
                buf = io.BytesIO()
                cast(pl.DataFrame, pl.from_arrow(t)).write_ndjson(buf)
                out.write(buf.getvalue())
        if out is not raw:
            out.close()
        raw.close()
    return len(next(iter(frame.values())))
