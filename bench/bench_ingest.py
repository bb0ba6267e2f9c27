"""Ingest throughput per format against a bare DuckDB read of the same files.

    python bench/bench_ingest.py --orders 10000000            # the issue's scale
    python bench/bench_ingest.py --orders 1000000 --formats csv parquet
    python bench/bench_ingest.py --orders 1000000 --formats csv-damaged   # the careful reader

``csv-damaged`` is the CSV with one short row appended: DuckDB refuses the file, so ingest reads
it with the careful record-by-record reader (the bare read is told to skip the bad row).

For each format it writes the orders once (with DuckDB), then measures, each in a fresh
process: (a) a bare `CREATE TABLE AS SELECT * FROM read_csv/read_parquet/read_json` and
(b) `abuse` ingest of the same file (raw table with provenance and validation). Prints rows/s,
seconds, peak memory (max RSS of the process) and the ratio ingest / bare.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXT = {"csv": ".csv", "csv.gz": ".csv.gz", "jsonl": ".jsonl", "parquet": ".parquet", "csv-damaged": ".csv"}

MAKE = """
SELECT 'o_' || lpad(i::VARCHAR, 9, '0') AS order_id,
       lpad((i * 7919 % 2000000)::VARCHAR, 8, '0') AS account_id,
       's_' || (i * 104729 % 50000) AS shop_id,
       'item_' || (i % 100000) AS item_id,
       round(5 + (i * 31 % 50000) / 100.0, 2) AS amount,
       CASE WHEN i % 5 = 0 THEN 20 ELSE 0 END AS discount,
       CASE WHEN i % 5 = 0 THEN 'c_' || i ELSE NULL END AS coupon_id,
       strftime(TIMESTAMP '2026-05-01' + to_seconds(i % 5000000), '%Y-%m-%dT%H:%M:%S') || '+08:00' AS created_at,
       'd_' || (i % 900000) AS device_id,
       '10.' || (i % 250) || '.' || (i % 199) || '.' || (i % 251) AS ip,
       md5(i::VARCHAR) AS ship_addr_hash,
       'paid' AS status
FROM range({n}) t(i)
"""


def make(path: Path, fmt: str, n: int) -> None:
    import duckdb

    con = duckdb.connect()
    opts = {
        "csv": "(FORMAT csv, HEADER)",
        "csv.gz": "(FORMAT csv, HEADER, COMPRESSION gzip)",
        "jsonl": "(FORMAT json)",
        "parquet": "(FORMAT parquet)",
        "csv-damaged": "(FORMAT csv, HEADER)",
    }[fmt]
    con.execute(f"COPY ({MAKE.format(n=n)}) TO '{path}' {opts}")
    if fmt == "csv-damaged":
        with path.open("a") as f:
            f.write("o_short_row,00000001\n")


def measure(mode: str, fmt: str, path: Path, work: Path) -> dict:
    """Runs in a child process so max RSS belongs to one measurement."""
    import duckdb

    t0 = time.perf_counter()
    if mode == "bare":
        con = duckdb.connect(str(work / "bare.duckdb"))
        reader = {
            "csv": "read_csv",
            "csv.gz": "read_csv",
            "jsonl": "read_json",
            "parquet": "read_parquet",
            "csv-damaged": "read_csv",
        }[fmt]
        extra = ", ignore_errors=true" if fmt == "csv-damaged" else ""
        rows = con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{path}'{extra})").fetchone()[0]
    else:
        from datetime import datetime, timezone

        from abuse import ingest
        from abuse.sqlfiles import run_folder

        con = duckdb.connect(str(work / "abuse.duckdb"))
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        run_folder(con, "state")
        landing = path.parent.parent
        rep = ingest.load_new_files(con, landing, 1, datetime.now(timezone.utc))
        rows = sum(f.rows for f in rep.files)
    con.close()
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "seconds": seconds, "peak_mb": peak_mb}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--orders", type=int, default=1_000_000, help="rows per format (scale factor)")
    p.add_argument("--formats", nargs="+", default=["csv", "parquet", "csv.gz", "jsonl"], choices=list(EXT))
    p.add_argument("--child", nargs=4, metavar=("MODE", "FMT", "PATH", "WORK"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        mode, fmt, path, work = args.child
        print(json.dumps(measure(mode, fmt, Path(path), Path(work))))
        return
    print(f"{'format':<8} {'mode':<7} {'rows':>12} {'seconds':>8} {'rows/s':>12} {'peak MB':>8} {'ratio':>6}")
    for fmt in args.formats:
        with tempfile.TemporaryDirectory(dir=".") as d:
            land = Path(d) / "landing" / "orders"
            land.mkdir(parents=True)
            path = land / f"orders{EXT[fmt]}"
            make(path, fmt, args.orders)
            results = {}
            for mode in ("bare", "ingest"):
                work = Path(d) / mode
                work.mkdir()
                out = subprocess.run(
                    [sys.executable, __file__, "--child", mode, fmt, str(path), str(work)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                results[mode] = r
                ratio = r["seconds"] / results["bare"]["seconds"]
                print(
                    f"{fmt:<8} {mode:<7} {r['rows']:>12,} {r['seconds']:>8.2f} "
                    f"{r['rows'] / r['seconds']:>12,.0f} {r['peak_mb']:>8.0f} {ratio:>6.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
