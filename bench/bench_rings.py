"""Time and peak memory of the extortion-ring detector at two scales (default S and 10*S).

    python bench/bench_rings.py --scale 0.5 [--factor 10] [--seed 1] [--keep DIR] [--adversarial]

Generates a landing directory per scale with ``abuse.generate``, stages it, then runs only
the detector: once timed while sampling the process's resident set size every 10 ms (psutil;
includes DuckDB's and polars' native memory, reported as growth over the staged baseline),
once under tracemalloc for the peak of Python-heap allocations.
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from pathlib import Path

from _common import timed_detect

from abuse.detect.rings import RingDetector
from abuse.generate import generate
from abuse.testing import staged


def bench(scale: float, seed: int, root: Path, adversarial: bool = False) -> dict:
    out = root / f"scale_{scale:g}{'_adv' if adversarial else ''}"
    if not (out / "landing").is_dir():
        generate(out, seed, scale, adversarial=adversarial)
    con, ws, we = staged(out / "landing")
    n_edges = con.execute("SELECT count(*) FROM stg_reviews").fetchone()[0]
    n_orders = con.execute("SELECT count(*) FROM stg_orders").fetchone()[0]
    det = RingDetector()
    ctx, res, secs, grew = timed_detect(det, con, ws, we)
    tracemalloc.start()  # a second run: tracing slows Python down, so it is not timed
    det.detect(ctx)
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "scale": scale,
        "orders": n_orders,
        "reviews": n_edges,
        "seconds": secs,
        "py_peak_mb": py_peak / 2**20,
        "rss_growth_mb": grew,
        "rings": len(res.clusters),
        "flagged": len(res.findings),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--factor", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="keep generated data here (reused if present)")
    ap.add_argument(
        "--adversarial",
        action="store_true",
        help="adaptive crews (abuse generate --adversarial): exercises the sparse search",
    )
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = a.keep or Path(tmp)
        for s in (a.scale, a.scale * a.factor):
            r = bench(s, a.seed, root, a.adversarial)
            print(
                f"scale {r['scale']:>6g}: {r['orders']:>9,} orders {r['reviews']:>8,} review "
                f"actions  detect {r['seconds']:7.2f} s ({r['orders'] / r['seconds']:,.0f} orders/s)  python peak {r['py_peak_mb']:7.1f} MB  "
                f"RSS growth {r['rss_growth_mb']:7.1f} MB  rings {r['rings']} "
                f"flagged {r['flagged']}"
            )


if __name__ == "__main__":
    main()
