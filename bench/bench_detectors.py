"""Cost of the scripted_timing and coupon_hoarding detectors, per detector and per signal.

    python bench/bench_detectors.py --data /tmp/abuse-bench/gen-s0.5-seed1
    python bench/bench_detectors.py --scale 5 --adversarial     # generates into a temp dir

Stages the landing folder (not timed), then runs each detector once as a whole (wall and CPU
seconds, input rows per second, peak RSS) and once step by step: timing's event table, its
streams, arcs and rhythm queries, and the statistics of each way to be a machine (alignment,
regular gaps, volume, rhythm, steady durations, the conjunction); hoarding's identifier graph,
claimer features, the linkage passes and the report. Run it at two scales 10x apart: cost per
row that stays flat means the step is linear in the logs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from _common import PeakRSS

from abuse.detect.base import DetectContext
from abuse.detect.hoarding import HoardingDetector
from abuse.detect.hoarding import features as hf
from abuse.detect.hoarding import groups as hg
from abuse.detect.spikes import SpikeDetector
from abuse.detect.timing import TimingDetector, bind_sql, score_accounts, steadiness
from abuse.detect.timing import stats as ts
from abuse.sqlfiles import read_sql
from abuse.testing import staged

ROWS = ("accounts", "orders", "reviews", "coupon_events", "activity")


@contextmanager
def step(name: str, rows: int, out: list):
    """Time one step (wall, CPU, peak RSS above the start) and append a printable row."""
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        yield
        wall = time.perf_counter() - t0
    cpu = mem.cpu_s()
    out.append((name, wall, cpu, rows / max(cpu, 1e-6), mem.peak / 2**20, (mem.peak - mem.start) / 2**20))


def show(title: str, rows: list) -> None:
    print(f"  {title}")
    for name, wall, cpu, rate, peak, grew in rows:
        print(
            f"    {name:24s} {wall:7.2f} s wall {cpu:7.2f} s CPU {rate:12,.0f} rows/CPU s  peak {peak:6.0f} MiB (+{grew:.0f})"
        )


def timing_steps(con, ctx, n_rows: int) -> list:
    p, out = ctx.params, []
    bind_sql(ctx)
    with step("events (timing_events)", n_rows, out):
        con.execute("CREATE OR REPLACE TEMP TABLE timing_events AS " + read_sql("features/timing_events.sql"))
    events = con.sql("SELECT count(*) FROM timing_events").fetchone()[0]
    with step("streams (sql)", events, out):
        streams = con.sql(read_sql("features/timing_streams.sql")).pl()
    with step("arcs (sql)", events, out):
        arcs = con.sql(read_sql("features/timing_arcs.sql")).pl()
    with step("rhythm (sql)", events, out):
        rows = con.sql(read_sql("features/timing_rhythm.sql")).pl()
    con.execute("DROP TABLE IF EXISTS timing_events")
    with step("rhythm (stats)", events, out):
        rhythm = ts.rhythm(rows, p.sleep_h, p.min_gaps, p.min_durations, p.sleep_gap_h, p.awake_max)
    with step("alignment (arc scan)", events, out):
        ts.alignment(arcs)
    with step("regular gaps", events, out):
        ts.regular_gaps(streams, p.min_gaps, p.min_regular_gap_s, p.max_gap_jitter_s, p.max_gap_rel)
    with step("volume", events, out):
        ts.volume_outliers(streams, p.volume_min_accounts, p.volume_mad_floor)
    with step("steady durations", events, out):
        steadiness(streams, p)
    with step("conjunction (score)", events, out):
        score_accounts(streams, arcs, rhythm, p)
    return out


def hoarding_steps(con, p, n_rows: int) -> list:
    out = []
    with step("identifier graph", n_rows, out):
        edges, _sizes = hf.identifiers(con)
    with step("claimer features", n_rows, out):
        claimers = hf.claimers(con, p, edges)
        use = hf.campaign_use(con)
    base = None
    with step("linkage (2 passes)", len(edges), out):
        for _ in range(2):
            idents = hg.link_identifiers(edges, claimers, p, base)
            members = hg.batches(edges, idents, claimers, p, use)
            if members.is_empty():
                break
            flagged = hg.score_groups(members, claimers, p, base).filter("flagged")
            members = members.join(flagged.select("group"), on="group")
            if members.is_empty():
                break
            base = hg.ordinary_rate(claimers, members)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="a generate --out folder (landing/, truth/) to read")
    ap.add_argument("--scale", type=float, default=0.5, help="without --data: generate at this scale")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--adversarial", action="store_true", help="without --data: generate --adversarial")
    ap.add_argument("--tz", default=None, help="platform zone (default: the data's truth/meta.json)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_detectors_") as tmp:
        data = args.data
        if data is None:
            from abuse.generate import generate

            data = Path(tmp)
            generate(data, args.seed, args.scale, adversarial=args.adversarial, tz=args.tz or "Asia/Shanghai")
        meta = json.loads((data / "truth" / "meta.json").read_text()) if (data / "truth").exists() else {}
        tz = args.tz or meta.get("tz", "Asia/Shanghai")
        con, start, end = staged(data / "landing", tz)
        sizes = {t: con.sql(f"SELECT count(*) FROM stg_{t}").fetchone()[0] for t in ROWS}
        n_rows = sum(sizes.values())
        print(f"{data} (scale {meta.get('scale', '?')}): " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        spikes = SpikeDetector().detect(DetectContext(con, start, end, tz, SpikeDetector.Params()))
        whole = []
        for cls, up in ((TimingDetector, {"spikes": spikes}), (HoardingDetector, {})):
            with step(cls.name, n_rows, whole):
                cls().detect(DetectContext(con, start, end, tz, cls.Params(), upstream=up))
        show("per detector (input rows = every staged row)", whole)
        tctx = DetectContext(con, start, end, tz, TimingDetector.Params(), upstream={"spikes": spikes})
        show("timing per signal (rows = events of the window)", timing_steps(con, tctx, n_rows))
        show("hoarding per step", hoarding_steps(con, HoardingDetector.Params(), n_rows))


if __name__ == "__main__":
    main()
