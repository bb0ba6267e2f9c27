"""batch_registration: the idle registrants of a manufactured registration burst are one batch;
those that share identifiers with a coupon-hoarding batch (the hoarding detector's result) join
it as coupon_hoarding members; a TV ad's signups, who go on to use the app, are never flagged."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from abuse.detect.base import Cluster, DetectContext, DetectorResult, Finding
from abuse.detect.batches import BatchDetector
from abuse.detect.spikes import SpikeDetector
from abuse.testing import empty_staged

TZ = "Asia/Kolkata"  # half an hour off UTC


def insert(con, kind: str, rows: list[tuple], columns: list[str]) -> None:
    frame = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)  # noqa: F841
    con.execute(f"INSERT INTO stg_{kind} ({', '.join(columns)}) SELECT * FROM frame")


def world():
    rng = np.random.default_rng(11)
    zone = ZoneInfo(TZ)
    start = datetime(2026, 5, 1, tzinfo=zone)
    end = start + timedelta(days=30)
    con = empty_staged(TZ, seeds=False)
    con.execute("CREATE TABLE seed_sales_calendar (date DATE, name VARCHAR)")
    regs, acts, claims = [], [], []
    for i in range(3000):  # ordinary signups over history and window, most of them then active
        at = start - timedelta(days=28) + timedelta(seconds=float(rng.uniform(0, 58 * 86400)))
        regs.append((f"p{i}", at, f"dev-p{i}", f"10.{i % 250}.{i // 250}.1", f"13{i:05d}", None))
        if rng.random() < 0.8 and at > start:
            acts.append((f"pa{i}", f"p{i}", at + timedelta(hours=1), "login"))
    ad = start + timedelta(days=12, hours=20)
    for i in range(300):  # a TV ad: a surge of real signups who go on to browse
        at = ad + timedelta(seconds=float(rng.lognormal(np.log(480), 0.7)))
        regs.append((f"tv{i}", at, f"dev-tv{i}", f"172.16.{i}.9", f"15{i:05d}", None))
        if rng.random() < 0.8:
            acts.append((f"ta{i}", f"tv{i}", at + timedelta(days=1), "view"))
    # a hoarding crew registers 80 accounts in two minutes on its proxy block; 50 claim, 30 wait
    hoard = start + timedelta(days=8, hours=23, minutes=50)
    for i in range(80):
        regs.append(
            (
                f"h{i}",
                hoard + timedelta(seconds=float(rng.uniform(0, 120))),
                f"dev-h{i % 4}",
                f"45.77.12.{i}",
                "1700123",
                "h0" if i else None,
            )
        )
        if i < 50:
            claims.append((f"c{i}", "cmp", f"cp{i}", f"h{i}", "claim", hoard + timedelta(days=2, seconds=i)))
    # a registration batch of 60 throwaway accounts, each on its own device and address
    batch = start + timedelta(days=20, hours=3, minutes=17)
    for i in range(60):
        regs.append(
            (
                f"b{i}",
                batch + timedelta(seconds=float(rng.uniform(0, 110))),
                f"dev-b{i}",
                f"2408:{i:x}:{i * 7:x}:1::{i:x}",
                f"18{i:05d}",
                None,
            )
        )
    insert(con, "accounts", regs, ["account_id", "registered_at", "device_id", "ip", "phone_prefix", "invited_by"])
    insert(con, "activity", acts, ["event_id", "account_id", "ts", "action"])
    insert(con, "coupon_events", claims, ["event_id", "campaign_id", "coupon_id", "account_id", "action", "ts"])
    hoarders = [f"h{i}" for i in range(50)]
    hoarding = DetectorResult(
        findings=[
            Finding(a, "coupon_hoarding", 0.9, "claims at release with its batch", {}, "batch:h") for a in hoarders
        ],
        clusters=[Cluster("batch:h", "coupon_hoarding", hoarders, 0.9, "50 accounts")],
    )
    return con, start, end, hoarding


def test_idle_burst_registrants_are_their_batch():
    con, start, end, hoarding = world()
    spikes = SpikeDetector().detect(
        DetectContext(con, start, end, TZ, SpikeDetector.Params(), upstream={"hoarding": hoarding})
    )
    result = BatchDetector().detect(
        DetectContext(con, start, end, TZ, BatchDetector.Params(), upstream={"spikes": spikes, "hoarding": hoarding})
    )
    by = {f.account_id: f for f in result.findings}
    assert len(by) == len(result.findings), "one finding per account"
    reserve = {a for a, f in by.items() if f.pattern == "coupon_hoarding"}
    regs = {a for a, f in by.items() if f.pattern == "batch_registration"}
    # the crew's 30 idle accounts join its hoarding batch; its 50 claimers are hoarding's own findings
    assert reserve == {f"h{i}" for i in range(50, 80)}, sorted(reserve)
    assert all(by[a].cluster_key == "batch:h" and "coupon_hoarding batch" in by[a].reason for a in reserve)
    # the throwaway batch: one cluster, nearly all of it, nothing else
    assert len(regs) >= 55 and regs <= {f"b{i}" for i in range(60)}, sorted(regs)
    assert [c.pattern for c in result.clusters] == ["batch_registration"]
    c = result.clusters[0]
    assert set(c.account_ids) == regs and c.loss_estimate is None and 0.5 < c.score < 1
    assert c.evidence["burst_observed"] >= 55 and c.evidence["shared"]["devices"] == len(regs)
    assert "did nothing else" in c.summary and "idle" in by[min(regs)].reason
    assert not [a for a in by if a.startswith(("tv", "p"))]


def test_no_bursts_no_batches():
    con = empty_staged(TZ, seeds=False)
    t = datetime(2026, 1, 1, tzinfo=ZoneInfo(TZ))
    ctx = DetectContext(
        con,
        t,
        t + timedelta(days=30),
        TZ,
        BatchDetector.Params(),
        upstream={"spikes": DetectorResult(), "hoarding": DetectorResult()},
    )
    assert BatchDetector().detect(ctx).findings == []
