"""`abuse evaluate` computes the figures it claims, on a report and truth made by hand."""

from pathlib import Path
from typing import ClassVar

import pytest
from helpers import nightly, order, write_landing
from pydantic import BaseModel

import abuse.pipeline as pipeline
from abuse.cli import main as cli
from abuse.detect.base import Cluster, DetectorBase, DetectorResult, Finding, Spike
from abuse.evaluate import evaluate


class Planned(DetectorBase):
    name: ClassVar[str] = "planned"
    patterns: ClassVar[tuple[str, ...]] = ("extortion_ring",)

    class Params(BaseModel):
        pass

    def run(self, ctx) -> DetectorResult:
        from datetime import datetime, timezone

        ring = ["a1", "a2", "a3", "x9"]  # x9 is a false positive; a4 is missed
        t = datetime(2026, 6, 18, 12, 0, tzinfo=timezone.utc)
        return DetectorResult(
            findings=[Finding(a, "extortion_ring", 0.9, "r", {}, "k") for a in ring]
            + [Finding("h1", "extortion_ring", 0.5, "r")],  # a household member, flagged
            clusters=[Cluster("k", "extortion_ring", ring, 0.9, "s", shop_ids=["s1", "s2"])],
            spikes=[
                Spike("registrations", t, t.replace(minute=5), 50, 3, 0.9),
                Spike(
                    "coupon_claims:c1",
                    t.replace(hour=13),
                    t.replace(hour=13, minute=3),
                    80,
                    4,
                    0.9,
                    explained_by="campaign:c1",
                ),
            ],
        )


def test_scores_match_a_hand_count(tmp_path: Path, landing: Path, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "all_detectors", lambda: {"planned": Planned})
    write_landing(landing, "orders", "o.csv", [order(1)])
    nightly(tmp_path, landing)
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "accounts.csv").write_text(
        "account_id,pattern,cluster,role\n"
        + "".join(f"a{i},extortion_ring,R1,member\n" for i in range(1, 5))
        + "b1,coupon_hoarding,B1,batch\n"
    )
    (truth / "ring_shops.csv").write_text("cluster,shop_id\nR1,s1\nR1,s2\nR1,s3\n")
    (truth / "lookalikes.csv").write_text("account_id,lookalike,group\nh1,household,H1\nh2,household,H1\n")
    (truth / "spikes.csv").write_text(
        "scope,window_start,window_end,kind,campaign_id\n"
        "registrations,2026-06-18T20:01:00+08:00,2026-06-18T20:02:00+08:00,abusive,\n"
        "coupon_claims:c1,2026-06-18T21:00:00+08:00,2026-06-18T21:01:00+08:00,benign_campaign,c1\n"
        "activity,2026-06-10T01:00:00+08:00,2026-06-10T01:01:00+08:00,abusive,\n"
    )
    s = evaluate(tmp_path / "abuse.duckdb", tmp_path)
    ring = s["patterns"]["extortion_ring"]
    assert (ring["tp"], ring["fp"], ring["fn"]) == (3, 2, 1)
    assert ring["precision"] == pytest.approx(0.6) and ring["recall"] == pytest.approx(0.75)
    assert ring["clusters_recovered"] == 1 and ring["victim_shop_recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["patterns"]["coupon_hoarding"]["recall"] == 0
    assert s["lookalikes"]["household"] == {
        "accounts": 2,
        "flagged": 1,
        "groups_flagged": 1,
        "by_pattern": {"extortion_ring": 1},
    }
    assert [(sp["scope"], sp["reported"], sp["ok"]) for sp in s["spikes"]] == [
        ("registrations", True, True),
        ("coupon_claims:c1", True, True),
        ("activity", False, False),
    ]
    assert cli(["evaluate", "--db", str(tmp_path / "abuse.duckdb"), "--truth", str(tmp_path), "--json"]) == 0
