"""Speed of the shared network-block macro ip_block(ip) (sql/intermediate/macros/ip_block.sql)
and of reading the int_account_identifiers view, on synthetic IPs (5 % IPv6) at two sizes.

    python bench/bench_ip_block.py                  # 1e6 and 1e7 addresses
    python bench/bench_ip_block.py --rows 200000 2000000

Prints, per size: seconds and rows/s of ip_block over every address, of the bare
regexp_extract of an IPv4 /24 it replaced (the floor), and of reading every 'ip_block' row
of int_account_identifiers over an orders table of that many rows; and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time

from abuse.sqlfiles import use_intermediate
from abuse.testing import empty_staged

IPS = """SELECT CASE WHEN i % 20 = 0 THEN '2409:8a00:' || (i % 997)::VARCHAR || '::' || (i % 13)::VARCHAR
                ELSE ((i % 200) + 10)::VARCHAR || '.' || (i % 251)::VARCHAR || '.' || (i % 13)::VARCHAR
                     || '.' || (i % 250)::VARCHAR END AS ip
         FROM range(?) r(i)"""


def timed(con, sql: str) -> float:
    t = time.perf_counter()
    con.execute(sql).fetchall()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = ap.parse_args()
    for n in args.rows:
        con = empty_staged(seeds=False)
        con.execute(f"CREATE TABLE ips AS {IPS}", [n])
        con.execute(
            "INSERT INTO stg_orders (order_id, account_id, shop_id, amount, created_at, ip) "
            "SELECT 'o' || row_number() OVER (), 'a' || (row_number() OVER () % 5000), 's', 1, "
            "TIMESTAMPTZ '2026-06-01 00:00:00+08', ip FROM ips"
        )
        use_intermediate(con)
        floor = timed(con, r"SELECT count(DISTINCT regexp_extract(ip, '^(\d+\.\d+\.\d+)\.', 1)) FROM ips")
        macro = timed(con, "SELECT count(DISTINCT ip_block(ip)) FROM ips")
        view = timed(
            con,
            "SELECT count(DISTINCT value) FROM int_account_identifiers WHERE kind = 'ip_block' AND source = 'orders'",
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"rows {n:>11,}  ip_block {macro:6.2f} s ({n / macro:>12,.0f} rows/s)  "
            f"bare IPv4 regexp {floor:6.2f} s  int_account_identifiers ip_block rows {view:6.2f} s  "
            f"peak RSS {rss:,.0f} MiB"
        )
        con.close()


if __name__ == "__main__":
    main()
