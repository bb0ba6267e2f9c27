"""Time and peak memory of the engagement (vote_inflation) detector at two scales 10x apart.

    python bench/bench_engagement.py                 # scales 0.2 and 2
    python bench/bench_engagement.py --scales 0.1 1

For each scale: generates a sample into a temporary directory and stages it (neither is
timed), then runs the detector once and prints its wall time, the peak resident memory of the
process while it ran (sampled every 10 ms), the engagement events it read and events per
second. Cost should grow about linearly with the events (no all-pairs projection of accounts).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from _common import PeakRSS

from abuse.detect.base import DetectContext
from abuse.detect.engagement import EngagementDetector
from abuse.generate import generate
from abuse.testing import staged


def one(scale: float, seed: int, tz: str) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(prefix="bench_engagement_") as tmp:
        generate(Path(tmp), seed, scale)
        con, start, end = staged(Path(tmp) / "landing", tz)
        events = con.sql("SELECT count(*) FROM stg_activity WHERE target_id IS NOT NULL").fetchone()[0]
        ctx = DetectContext(con, start, end, tz, EngagementDetector.Params())
        gc.collect()
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            result = EngagementDetector().detect(ctx)
            took = time.perf_counter() - t0
        print(
            f"scale {scale:g}: {events:,} activity rows with a target; engagement {took:6.2f} s "
            f"({events / took:,.0f} rows/s), peak RSS {mem.peak / 2**20:.0f} MiB "
            f"(+{(mem.peak - mem.start) / 2**20:.0f} MiB); {len(result.clusters)} farms, "
            f"{len(result.findings)} accounts"
        )
        con.close()
        return events, took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs=2, default=[0.2, 2.0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tz", default="Asia/Shanghai")
    args = ap.parse_args()
    (n1, t1), (n2, t2) = (one(s, args.seed, args.tz) for s in args.scales)
    print(f"rows x{n2 / n1:.1f} -> time x{t2 / t1:.1f}")


if __name__ == "__main__":
    main()
