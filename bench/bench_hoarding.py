"""Time and peak memory of the coupon_hoarding detector on generated data.

    python bench/bench_hoarding.py --scale 1
    python bench/bench_hoarding.py --scale 10 --seed 3
    python bench/bench_hoarding.py --scale 0.2 --adversarial   # maintained crews, look-alikes

Generates (or reuses) a landing directory under --work, stages it in memory, then runs the
detector alone, sampling the process's resident memory while it runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import PeakRSS

from abuse.detect.base import DetectContext
from abuse.detect.hoarding import HoardingDetector
from abuse.generate import generate
from abuse.testing import staged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_hoarding"))
    ap.add_argument("--adversarial", action="store_true", help="generate --adversarial data")
    args = ap.parse_args()
    out = args.work / f"seed{args.seed}_scale{args.scale:g}{'_adv' * args.adversarial}"
    if not (out / "landing").is_dir():
        t = time.perf_counter()
        generate(out, args.seed, args.scale, adversarial=args.adversarial)
        print(f"generated {out} in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    con, ws, we = staged(out / "landing")
    con.execute("SET enable_progress_bar = false")
    n_acc, n_ev, n_rows = con.sql(
        "SELECT (SELECT count(*) FROM stg_accounts), (SELECT count(*) FROM stg_coupon_events), "
        "(SELECT count(*) FROM stg_accounts) + (SELECT count(*) FROM stg_orders) "
        "+ (SELECT count(*) FROM stg_coupon_events) + (SELECT count(*) FROM stg_activity)"
    ).fetchone()
    print(f"staged {n_acc} accounts, {n_ev} coupon events in {time.perf_counter() - t:.1f} s")
    ctx = DetectContext(con, ws, we, "Asia/Shanghai", HoardingDetector.Params())
    with PeakRSS() as mem:
        t = time.perf_counter()
        res = HoardingDetector().detect(ctx)
        elapsed = time.perf_counter() - t
    mib = 1024 * 1024
    print(
        f"scale={args.scale:g} detect: {elapsed:.2f} s ({n_rows / elapsed:,.0f} rows/s over "
        f"{n_rows} account, order, coupon and activity rows), peak RSS {mem.peak / mib:.0f} MiB "
        f"(+{(mem.peak - mem.start) / mib:.0f} MiB over staged data); "
        f"{len(res.findings)} accounts in {len(res.clusters)} batches"
    )


if __name__ == "__main__":
    main()
