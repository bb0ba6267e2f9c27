"""Time and peak memory of the order-side detectors (brushing_ring, serial_refunder) at two
scales (default S and 10*S).

    python bench/bench_orders.py --scale 0.2 [--factor 10] [--seed 1] [--keep DIR]

Generates a landing directory per scale with ``abuse.generate``, stages it, then runs each
detector alone: timed while sampling the process's resident set size every 10 ms (growth
over the staged baseline), printing rows/s over the orders, seconds and peak RSS, and the
cost ratio between the two scales next to the ratio of orders (about linear = similar).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed_detect  # noqa: E402

from abuse.detect.brushing import BrushingDetector  # noqa: E402
from abuse.detect.refunds import RefundDetector  # noqa: E402
from abuse.generate import generate  # noqa: E402
from abuse.testing import staged  # noqa: E402


def bench(scale: float, seed: int, root: Path) -> list[dict]:
    out = root / f"scale_{scale:g}"
    if not (out / "landing").is_dir():
        generate(out, seed, scale)
    con, ws, we = staged(out / "landing")
    n_orders = con.execute("SELECT count(*) FROM stg_orders").fetchone()[0]
    rows = []
    for det in (BrushingDetector(), RefundDetector()):
        _, res, secs, grew = timed_detect(det, con, ws, we)
        rows.append(
            {
                "detector": det.name,
                "scale": scale,
                "orders": n_orders,
                "seconds": secs,
                "rows_per_s": n_orders / max(secs, 1e-9),
                "rss_growth_mb": grew,
                "clusters": len(res.clusters),
                "flagged": len(res.findings),
            }
        )
    con.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--factor", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="keep generated data here (reused if present)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = a.keep or Path(tmp)
        small = bench(a.scale, a.seed, root)
        large = bench(a.scale * a.factor, a.seed, root)
    for r in small + large:
        print(
            f"{r['detector']:<9} scale {r['scale']:>6g}: {r['orders']:>9,} orders  detect "
            f"{r['seconds']:7.2f} s  {r['rows_per_s']:>10,.0f} orders/s  RSS growth "
            f"{r['rss_growth_mb']:7.1f} MB  clusters {r['clusters']} flagged {r['flagged']}"
        )
    for s, big in zip(small, large, strict=True):
        print(
            f"{s['detector']:<9} x{big['orders'] / s['orders']:.1f} orders -> "
            f"x{big['seconds'] / max(s['seconds'], 1e-9):.1f} time"
        )


if __name__ == "__main__":
    main()
