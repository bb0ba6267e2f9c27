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


def _heavy_browser_world(seed: int):
    """A mixed population with no crew: heavy organic users browse the popular head of the
    catalogue (so head pairs share more engagers than independence predicts, as real browsing
    does), casual users like a few targets by popularity, and many single-purpose accounts like
    only a few niche targets and never touch the head."""
    import duckdb

    rng = np.random.default_rng(seed)
    n_head, n_tail = 36, 400
    head = [f"h{i}" for i in range(n_head)]
    tail = [f"n{i}" for i in range(n_tail)]
    pop = np.exp(rng.normal(0, 1.0, n_tail))
    rows = []

    def add(acc, targets):
        for t in targets:
            rows.append((acc, t, "like", float(rng.uniform(0, 30 * 86400))))

    for a in range(600):  # heavy browsers: about 40 targets, 6-10 of them from the head, and
        # a quarter of them enthusiasts of the head (25-30 of it): each of those beats its own
        # activity's prediction, yet they are a minority of every head target's audience
        k_head = int(rng.integers(25, 31)) if a % 4 == 0 else int(rng.integers(6, 11))
        add(f"heavy{a}", list(rng.choice(head, k_head, replace=False)))
        add(f"heavy{a}", list(rng.choice(tail, 40 - k_head, replace=False, p=pop / pop.sum())))
    for a in range(4000):  # casual users: a few targets by popularity, the head now and then
        add(f"casual{a}", list(rng.choice(tail, int(rng.integers(1, 6)), replace=False, p=pop / pop.sum())))
        if rng.random() < 0.3:
            add(f"casual{a}", [head[int(rng.integers(n_head))]])
    for a in range(1500):  # single-purpose accounts: niche targets only
        add(f"single{a}", list(rng.choice(tail[:40], int(rng.integers(3, 8)), replace=False)))
    con = duckdb.connect()
    ev = pl.DataFrame(rows, schema=["account_id", "target_id", "action", "s"], orient="row")
    con.register("_ev", ev.to_arrow())
    con.execute(
        "CREATE TABLE engagement_events AS SELECT account_id, target_id, action, "
        "TIMESTAMPTZ '2026-07-01 00:00:00+00' + to_seconds(s) AS ts FROM _ev"
    )
    accounts = ev.select("account_id").unique().sort("account_id")
    return con, accounts


@pytest.mark.parametrize("seed", [1, 2])
def test_heavy_browsers_of_the_popular_head_are_no_crew(seed):
    """Popular targets that heavy users share are co-engaged beyond independence, and a user of
    forty targets touches two of them by chance: a target is a crew's only when accounts that beat
    their own activity's prediction are most of its audience, so no crew forms here."""
    con, accounts = _heavy_browser_world(seed)
    crews, members, _targets = coengage.coengaged_crews(con, accounts, P.alpha, P.member_fdr)
    assert members.is_empty(), (len(crews), len(members), members["account_id"].head(5).to_list())


def test_pairs_in_hash_partitioned_passes_are_the_pairs_of_one_pass():
    """The bands and pairs queries split into passes (a large input under the memory limit)
    give the same pairs, counts and expectations as one pass."""
    import duckdb

    rng = np.random.default_rng(3)
    rows = []
    for a in range(800):
        for t in rng.choice(40, int(1 + rng.geometric(0.3)) % 40, replace=False):
            rows.append((f"a{a}", f"t{t}", "like" if t % 3 else "vote", int(rng.integers(0, 10**6))))
    for a in range(30):  # a crew on five targets
        rows += [(f"c{a}", f"t{t}", "like", 10**6 + a) for t in (1, 2, 4, 5, 7)]
    ev = pl.DataFrame(rows, schema=["account_id", "target_id", "action", "s"], orient="row")
    con = duckdb.connect()
    con.register("_ev", ev.to_arrow())
    con.execute(
        "CREATE TEMP TABLE engagement_events AS SELECT account_id, target_id, action, to_timestamp(s) AS ts FROM _ev"
    )
    keys = ["t1", "a1", "t2", "a2"]
    one, n_one, _, _ = coengage.coengaged_pairs(con, parts=1)
    for parts in (2, 5):
        many, n_many, _, _ = coengage.coengaged_pairs(con, parts=parts)
        assert n_many == n_one
        assert many.sort(keys).equals(one.sort(keys)), parts
    assert len(one) > 0


def test_memory_limit_is_the_process_budget_duckdb_gets_its_share():
    from abuse import engine

    assert engine.duckdb_memory_limit("6GB") == "3600MB"
    assert engine.duckdb_memory_limit("700MB") == "420MB"
    assert engine.size_bytes("5.5 GiB") == int(5.5 * 2**30)
    with pytest.raises(ValueError):
        engine.size_bytes("lots")
    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")
    small = coengage.coengage_parts(con, 10_000)
    assert small == 1 and coengage.coengage_parts(con, 10_000_000) > 1
