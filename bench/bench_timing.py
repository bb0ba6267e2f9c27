"""Time and peak memory of the scripted_timing and activity_spikes detectors at one scale.

    python bench/bench_timing.py --scale 0.3 --adversarial
    python bench/bench_timing.py --scale 3 --adversarial

Generates a sample at that scale into a temporary directory, stages it (neither is timed),
then runs each detector once and prints its wall time, the peak resident memory of the
process while it ran (sampled every 10 ms), and the input sizes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import PeakRSS

from abuse.detect.base import DetectContext
from abuse.detect.hoarding import HoardingDetector
from abuse.detect.spikes import SpikeDetector
from abuse.detect.timing import TimingDetector
from abuse.generate import generate
from abuse.testing import staged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tz", default="Asia/Shanghai")
    ap.add_argument("--adversarial", action="store_true", help="with the adaptive scripts and look-alikes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_timing_") as tmp:
        generate(Path(tmp), args.seed, args.scale, adversarial=args.adversarial, tz=args.tz)
        con, start, end = staged(Path(tmp) / "landing", args.tz)
        sizes = {
            t: con.sql(f"SELECT count(*) FROM stg_{t}").fetchone()[0]
            for t in ("accounts", "orders", "reviews", "coupon_events", "activity")
        }
        print(f"scale {args.scale}: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        upstream = {}
        for cls in (HoardingDetector, SpikeDetector, TimingDetector):  # timing reads the spikes' results
            ctx = DetectContext(con, start, end, args.tz, cls.Params(), upstream={r: upstream[r] for r in cls.requires})
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                result = cls().detect(ctx)
                took = time.perf_counter() - t0
            upstream[cls.name] = result
            rate = sizes["activity"] / max(took, 1e-9)
            print(
                f"  {cls.name:8s} {took:7.2f} s  {rate:10,.0f} activity rows/s  peak RSS {mem.peak / 2**20:7.0f} MiB "
                f"(+{(mem.peak - mem.start) / 2**20:.0f} MiB)  "
                f"{len(result.findings)} findings, {len(result.spikes)} spikes"
            )


if __name__ == "__main__":
    main()
