"""Co-engaged crews (``engagement.coengage``): many targets sharing one audience beyond
activity-adjusted independence, found without shared blocks, lockstep or idle accounts."""

from __future__ import annotations

import csv

import numpy as np
import polars as pl
import pytest

from abuse.detect.base import DetectContext
from abuse.detect.engagement import EngagementDetector, coengage
from tests import helpers

ADV_SCALE = 0.5  # the adversarial world test_rings and test_hoarding stage too
P = EngagementDetector.Params()


def test_independent_engagement_overlaps_as_the_null_predicts():
    """Accounts engaging targets at random in proportion to popularity share as many engagers
    per pair as the null expects (no pair significant after correction)."""
    rng = np.random.default_rng(7)
    n_acc, n_t = 3000, 60
    pop = np.exp(rng.normal(0, 1.2, n_t))
    rows = []
    for a in range(n_acc):
        d = int(min(n_t - 1, 1 + rng.geometric(0.25)))
        for t in rng.choice(n_t, d, replace=False, p=pop / pop.sum()):
            rows.append((f"a{a}", f"t{t}", "like"))
    ev = pl.DataFrame(rows, schema=["account_id", "target_id", "action"], orient="row")
    act = ev.group_by("account_id", "action").agg(pl.len().cast(pl.Int64).alias("d"))
    n = ev.group_by("target_id", "action").len()
    shared = (
        ev.join(ev, on=["account_id", "action"], suffix="_2")
        .filter(pl.col("target_id") < pl.col("target_id_2"))
        .group_by("target_id", "target_id_2")
        .len()
    )
    pairs = (
        shared.rename({"target_id": "t1", "target_id_2": "t2", "len": "shared"})
        .with_columns(pl.lit("like").alias("a1"), pl.lit("like").alias("a2"))
        .join(n.select("target_id", pl.col("len").alias("n1")).rename({"target_id": "t1"}), on="t1")
        .join(n.select("target_id", pl.col("len").alias("n2")).rename({"target_id": "t2"}), on="t2")
    )
    mu = coengage._expected_shared(pairs, act)
    k = pairs["shared"].to_numpy()
    assert 0.8 < k.sum() / mu.sum() < 1.25
    from abuse import stats

    s = stats.corrected(stats.surprise_poisson(k, mu), n_t * (n_t - 1) / 2)
    assert (s < 3).all(), (s.max(), k[s.argmax()], mu[s.argmax()], pairs.row(int(s.argmax())))


@pytest.fixture(scope="module")
def adversarial():
    con, ws, we, out = helpers.staged_world(1, ADV_SCALE, adversarial=True, tz="Asia/Shanghai")
    res = EngagementDetector().detect(DetectContext(con, ws, we, "Asia/Shanghai", P))
    rows = lambda name: list(csv.DictReader((out / "truth" / name).open()))  # noqa: E731
    return res, rows("accounts.csv"), rows("lookalikes.csv"), rows("inflated_targets.csv")


def test_drip_and_mixed_crews_found_without_blocks_and_the_fandom_spared(adversarial):
    res, accounts, lookalikes, inflated = adversarial
    found = {f.account_id for f in res.findings}
    bad = {r["account_id"] for r in accounts if r["pattern"] == "vote_inflation"}
    adaptive = {r["account_id"] for r in accounts if r["cluster"].startswith(("drip_crew", "mixed_crew"))}
    assert adaptive, "the adversarial world plants drip and mixed crews"
    precision = len(found & bad) / max(len(found), 1)
    recall = len(found & adaptive) / len(adaptive)
    assert precision >= 0.95 and recall >= 0.85, (precision, recall)
    fans = {r["account_id"] for r in lookalikes if r["lookalike"] == "fandom"}
    assert fans and not (found & fans), len(found & fans)
    named = {t for c in res.clusters for t in (c.target_ids or [])}
    crew_targets = {r["target_id"] for r in inflated if r["cluster"].startswith(("drip_crew", "mixed_crew"))}
    assert len(crew_targets & named) >= 0.9 * len(crew_targets), sorted(crew_targets - named)
    co = [f for f in res.findings if f.account_id in adaptive and "whose audience" in f.reason]
    assert co and all("1 inflated targets" not in f.reason for f in co), co[:1]
