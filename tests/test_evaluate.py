"""`abuse evaluate` computes the figures it claims, on a report and truth made by hand."""

from pathlib import Path
from typing import ClassVar

import pytest
from helpers import nightly, order, write_landing
from pydantic import BaseModel

import abuse.pipeline as pipeline
from abuse.cli import main as cli
from abuse.detect.base import Cluster, DetectorBase, DetectorResult, Finding, Spike
from abuse.evaluate import evaluate, format_scores


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


class Flagging(DetectorBase):
    """Flags b1 (coupon_hoarding) and v1 (vote_inflation); everything else is missed."""

    name: ClassVar[str] = "flagging"
    patterns: ClassVar[tuple[str, ...]] = ("coupon_hoarding", "vote_inflation")

    class Params(BaseModel):
        pass

    def run(self, ctx) -> DetectorResult:
        return DetectorResult(
            findings=[Finding("b1", "coupon_hoarding", 0.9, "r"), Finding("v1", "vote_inflation", 0.9, "r")]
        )


def test_in_window_recalls_count_only_members_that_acted_in_the_window(
    tmp_path: Path, landing: Path, monkeypatch
) -> None:
    """coupon_hoarding: recall over the members that claimed in the window (b1, b2, b4; b3 only
    registered, b5 claimed long before) and over those that redeemed there (b1, b4);
    vote_inflation: over the members that cast their crew's inflated action on its target in the
    window (v1, v2; v3 voted another target, v4 liked instead of voting, v5 voted before the
    window)."""
    monkeypatch.setattr(pipeline, "all_detectors", lambda: {"flagging": Flagging})
    day, old = "2026-06-18T20:00:00+08:00", "2026-04-01T20:00:00+08:00"
    ce = [
        ("b1", "claim", day),
        ("b1", "redeem", day),
        ("b2", "claim", day),
        ("b4", "claim", day),
        ("b4", "redeem", day),
        ("b5", "claim", old),
    ]
    write_landing(
        landing,
        "coupon_events",
        "ce.csv",
        [
            {"event_id": f"e{i}", "campaign_id": "c1", "coupon_id": f"k{i}", "account_id": a, "action": act, "ts": ts}
            for i, (a, act, ts) in enumerate(ce)
        ],
    )
    act = [("v1", "vote", "T1", day), ("v2", "vote", "T1", day), ("v3", "vote", "X", day)]
    act += [("v4", "like", "T1", day), ("v5", "vote", "T1", old)]
    write_landing(
        landing,
        "activity",
        "a.csv",
        [
            {"event_id": f"x{i}", "account_id": a, "ts": ts, "action": action, "target_id": t}
            for i, (a, action, t, ts) in enumerate(act)
        ],
    )
    nightly(tmp_path, landing)
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "accounts.csv").write_text(
        "account_id,pattern,cluster,role\n"
        + "".join(f"b{i},coupon_hoarding,B1,batch\n" for i in range(1, 6))
        + "".join(f"v{i},vote_inflation,V1,farm\n" for i in range(1, 6))
    )
    (truth / "inflated_targets.csv").write_text("cluster,target_id,action\nV1,T1,vote\n")
    s = evaluate(tmp_path / "abuse.duckdb", tmp_path)["patterns"]
    hoard, votes = s["coupon_hoarding"], s["vote_inflation"]
    assert hoard["recall"] == pytest.approx(0.2)
    assert (hoard["claiming_members"], hoard["claiming_member_recall"]) == (3, pytest.approx(1 / 3, abs=1e-3))
    assert (hoard["redeeming_members"], hoard["redeeming_member_recall"]) == (2, 0.5)
    assert votes["recall"] == pytest.approx(0.2)
    assert (votes["engaged_members"], votes["engaged_member_recall"]) == (2, 0.5)
    text = format_scores(evaluate(tmp_path / "abuse.duckdb", tmp_path))
    assert "recall 0.333 of the 3 members that claimed in the window; 0.500 of the 2 that redeemed" in text
    assert "recall 0.500 of the 2 members that engaged their crew's targets in the window" in text
