"""vote_inflation (the engagement detector): the statistics it rests on, a hand-made landing run
end to end into report.inflated_targets, and precision/recall on generated data (two seeds)
against the planted farms, their targets and the look-alikes (viral post, office vote, fans)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import helpers
import numpy as np
import polars as pl
import pytest
from helpers import nightly, report, write_landing

from abuse.detect.base import DetectContext
from abuse.detect.engagement import EngagementDetector
from abuse.detect.engagement.crews import fisher, multiples_surprise
from abuse.testing import empty_staged

P = EngagementDetector.Params()
TZ8 = timezone(timedelta(hours=8))


def test_fixed_multiples_stand_out_and_smooth_counts_do_not():
    rng = np.random.default_rng(0)
    bought = 3 * rng.integers(1, 6, 40)  # "one yuan, three votes"
    smooth = rng.integers(1, 9, 40)  # daily votes over a week
    s_bought, m = multiples_surprise(bought)
    s_smooth, _ = multiples_surprise(smooth)
    assert m == 3 and s_bought > 10
    assert s_smooth < 2


def test_fisher_adds_independent_evidence():
    assert fisher([]) == 0.0
    assert fisher([0.0, 0.0]) < 0.5
    assert fisher([3.0, 3.0]) > 3.0 > fisher([3.0, 0.0])


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def _hand_made(landing: Path) -> None:
    """1000 ordinary people engaging 200 targets; a 30-phone rig behind 2 IPs liking t_farm in
    8 bursts of 2 seconds; 20 colleagues voting daily for t_office from one NAT IP; a live
    audience of 40 liking eight moments within seconds, from their own phones and lines."""
    rng = np.random.default_rng(7)
    t0 = datetime(2026, 6, 1, tzinfo=TZ8)
    rows, i = [], 0

    def add(acc, t, action, target, ip, device):
        nonlocal i
        i += 1
        rows.append(
            {
                "event_id": f"e{i}",
                "account_id": acc,
                "ts": _ts(t),
                "action": action,
                "target_id": target,
                "ip": ip,
                "device_id": device,
            }
        )

    for k in range(1000):
        for _ in range(int(rng.integers(4, 14))):
            t = t0 + timedelta(seconds=float(rng.uniform(0, 19 * 86400)))
            add(
                f"p{k}",
                t,
                str(rng.choice(["view", "like", "vote"])),
                f"t_{int(rng.zipf(1.6)) % 200}",
                f"10.{k % 250}.{k}.{k % 200 + 1}",
                f"d{k}",
            )
        add(
            f"p{k}",
            t0 + timedelta(seconds=float(rng.uniform(0, 19 * 86400))),
            "checkin",
            None,
            f"10.{k % 250}.{k}.{k % 200 + 1}",
            f"d{k}",
        )
    for b in range(8):
        start = t0 + timedelta(days=2 * b, hours=float(rng.uniform(9, 22)))
        for k in range(30):
            if rng.random() < 0.85:
                add(
                    f"f{k}",
                    start + timedelta(seconds=float(rng.uniform(0, 2))),
                    "like",
                    "t_farm",
                    f"47.1.2.{1 + k % 2}",
                    f"rig{k}",
                )
    for day in range(6):
        remind = t0 + timedelta(days=day + 3, hours=10)
        for k in range(20):
            if rng.random() < 0.8:
                add(
                    f"p{k}",
                    remind + timedelta(seconds=float(30 + rng.lognormal(np.log(600), 1.0))),
                    "vote",
                    "t_office",
                    "58.30.1.9",
                    f"d{k}",
                )
    for k in range(40):  # a live audience: the same 40 people react to each moment within seconds
        line = f"60.{k}.{7 * k % 250}.{k + 1}"
        add(f"l{k}", t0 + timedelta(days=float(rng.uniform(0, 19))), "checkin", None, line, f"dl{k}")
        for _ in range(2):
            add(
                f"l{k}",
                t0 + timedelta(days=float(rng.uniform(0, 19))),
                "view",
                f"t_{int(rng.integers(0, 200))}",
                line,
                f"dl{k}",
            )
    for j in range(8):
        moment = t0 + timedelta(days=2 * j + 1, hours=20, minutes=int(rng.integers(0, 59)))
        for k in range(40):
            add(
                f"l{k}",
                moment + timedelta(seconds=float(rng.uniform(0, 3))),
                "like",
                f"t_live{j}",
                f"60.{k}.{7 * k % 250}.{k + 1}",
                f"dl{k}",
            )
    write_landing(landing, "activity", "activity.csv", rows)


def test_a_rig_is_reported_with_its_target_and_the_office_and_live_audience_are_not(tmp_path, landing):
    _hand_made(landing)
    nightly(tmp_path, landing)
    flagged = {
        a
        for (a,) in report(tmp_path, "SELECT account_id FROM report.flagged_accounts WHERE pattern = 'vote_inflation'")
    }
    assert flagged == {f"f{k}" for k in range(30)}
    ((cid, targets, summary),) = report(
        tmp_path, "SELECT cluster_id, target_ids, summary FROM report.clusters WHERE pattern = 'vote_inflation'"
    )
    assert targets == ["t_farm"] and cid.startswith("farm-")
    assert "30 accounts on 2 IPs" in summary and "t_farm" in summary and "bursts" in summary
    ((target, action, total, from_flagged, share, ids),) = report(
        tmp_path, "SELECT target_id, action, total, from_flagged, share, cluster_ids FROM report.inflated_targets"
    )
    assert (target, action, ids) == ("t_farm", "like", [cid])
    assert from_flagged == total > 150 and share == 1.0
    (reason,) = report(tmp_path, "SELECT reason FROM report.flagged_accounts WHERE account_id = 'f0'")[0]
    assert "lockstep" in reason and "1 inflated target" in reason


def test_no_engagement_no_findings():
    con = empty_staged()
    con.execute(
        "INSERT INTO stg_activity (event_id, account_id, ts, action) "
        "VALUES ('e1', 'a1', TIMESTAMPTZ '2026-06-01 10:00:00+08', 'login')"
    )
    ws, we = datetime(2026, 5, 20, tzinfo=TZ8), datetime(2026, 6, 20, tzinfo=TZ8)
    res = EngagementDetector().detect(DetectContext(con, ws, we, "Asia/Shanghai", P))
    assert res.findings == [] and res.clusters == []


# --------------------------------------------------------------------------- generated data
GENERATED_SCALE = 0.3


@pytest.fixture(scope="module", params=[1, 2])
def generated(request):
    con, ws, we, out = helpers.staged_world(request.param, GENERATED_SCALE)  # shared with test_hoarding's
    return con, ws, we, out / "truth"


def naive_ip_rule(con, min_accounts: int = 10) -> set[str]:
    """Every account that voted, liked or followed from an IP shared by >= 10 such accounts."""
    return set(
        con.sql(f"""
        SELECT DISTINCT account_id FROM stg_activity
        WHERE action IN ('vote', 'like', 'follow') AND ip IN (
            SELECT ip FROM stg_activity WHERE action IN ('vote', 'like', 'follow')
            GROUP BY ip HAVING count(DISTINCT account_id) >= {min_accounts})
    """)
        .fetchnumpy()["account_id"]
        .tolist()
    )


def scores(found: set[str], named: set[str], truth: Path) -> dict:
    acc = pl.read_csv(truth / "accounts.csv", infer_schema_length=0).filter(pl.col("pattern") == "vote_inflation")
    bad = set(acc["account_id"])
    look = pl.read_csv(truth / "lookalikes.csv", infer_schema_length=0)
    planted = set(pl.read_csv(truth / "inflated_targets.csv", infer_schema_length=0)["target_id"])
    tp = len(found & bad)
    return {
        "precision": tp / max(len(found), 1),
        "recall": tp / max(len(bad), 1),
        "targets_missed": sorted(planted - named),
        "planted_targets": len(planted),
        "lookalikes_flagged": look.filter(pl.col("account_id").is_in(list(found))).group_by("lookalike").len().rows(),
    }


def test_generated_farms_found_targets_named_lookalikes_left_alone(generated):
    con, ws, we, truth = generated
    res = EngagementDetector().detect(DetectContext(con, ws, we, "Asia/Shanghai", P))
    found = {f.account_id for f in res.findings}
    named = {t for c in res.clusters for t in c.target_ids}
    m = scores(found, named, truth)
    assert m["planted_targets"] > 0, m
    assert m["precision"] >= 0.95 and m["recall"] >= 0.90, m
    assert m["targets_missed"] == [] and m["lookalikes_flagged"] == [], m
    for c in res.clusters:  # targets ranked by inflated share, per-target rows in the evidence
        shares = [t["share"] for t in c.evidence["targets"]]
        assert shares == sorted(shares, reverse=True) and c.target_ids
        assert c.summary and not re.search(r"(?<![\d,])1 (accounts|IPs|bursts)\b", c.summary), c.summary
    # the naive "many accounts on one IP" rule takes in the office vote and campus NAT
    naive = scores(naive_ip_rule(con), set(), truth)
    assert naive["lookalikes_flagged"], naive
