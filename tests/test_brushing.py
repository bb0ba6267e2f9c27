"""brushing_ring: precision/recall and client-shop recall on generated data (crews of bought
and part-time accounts serving many client shops, with the look-alikes: a new shop's genuine
launch week, loyal customers, households ordering together), the report's figures, and the
shared helpers it uses."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import helpers
import numpy as np
import pytest

from abuse import graphs, stats
from abuse.detect.base import DetectContext
from abuse.detect.brushing import BrushingDetector

SEEDS = (1, 2)
SCALE = 0.6


_STAGED: dict = {}


def staged_data(tmp_path_factory, seed: int):
    """(connection, window_start, window_end, truth) of the generated data set, staged once
    per test session for both test files."""
    if seed not in _STAGED:
        con, ws, we, out = helpers.staged_world(seed, SCALE)  # Asia/Shanghai, the generator's default zone
        _STAGED[seed] = (con, ws, we, truth_of(out))
    return _STAGED[seed]


def truth_of(out: Path) -> dict:
    rows = lambda name: list(csv.DictReader((out / "truth" / name).open(encoding="utf-8")))  # noqa: E731
    return {
        "accounts": {r["account_id"]: r["pattern"] for r in rows("accounts.csv")},
        "clients": {r["shop_id"] for r in rows("brushing_shops.csv")},
        "lookalike": {r["account_id"]: r["lookalike"] for r in rows("lookalikes.csv")},
    }


@pytest.fixture(scope="module")
def brushing(tmp_path_factory):
    @functools.cache
    def get(seed: int):
        con, ws, we, truth = staged_data(tmp_path_factory, seed)
        return con, helpers.run_detector(BrushingDetector, con, ws, we), truth

    return get


def prf(flagged: set, truth: set) -> tuple[float, float]:
    tp = len(flagged & truth)
    return (tp / len(flagged) if flagged else 0.0), (tp / len(truth) if truth else 1.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_crews_found_with_their_client_shops_and_lookalikes_spared(brushing, seed):
    _, res, truth = brushing(seed)
    crew, flagged = helpers.planted_and_flagged(res, truth["accounts"], "brushing_ring")
    p, r = prf(flagged, crew)
    assert p >= 0.95 and r >= 0.90, (p, r)
    clients = {s for c in res.clusters for s in c.shop_ids}
    assert len(clients & truth["clients"]) / len(truth["clients"]) >= 0.90
    wrongly = helpers.lookalikes_flagged(flagged, truth["lookalike"])
    assert not wrongly, wrongly


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_generated_report_figures(brushing, seed):
    con, res, _ = brushing(seed)
    keys = {c.cluster_key for c in res.clusters}
    accounts = [f.account_id for f in res.findings]
    assert len(accounts) == len(set(accounts))
    for f in res.findings:
        assert f.pattern == "brushing_ring" and f.cluster_key in keys and 0 < f.score <= 1
        assert " 1 positive reviews" not in f.reason and f.evidence["fake_gmv"] > 0
    for c in res.clusters:
        assert c.first_seen <= c.last_seen and c.summary and 0 < c.score <= 1
        shops = c.evidence["client_shops"]
        assert sorted(shops) == sorted(c.shop_ids)
        for s in shops.values():
            assert 0 <= s["share"] <= 1 and s["crew_five_star"] <= s["shop_five_star"]
            assert s["crew_five_star"] <= s["inflated_reviews"] == s["crew_positive"] <= s["shop_positive"]
        # loss = fake GMV: the members' orders at the client shops in the window
        gmv = con.execute(
            "SELECT sum(amount)::DOUBLE FROM stg_orders WHERE account_id IN (SELECT unnest(?)) "
            "AND shop_id IN (SELECT unnest(?)) AND created_at >= getvariable('window_start') "
            "AND created_at < getvariable('window_end')",
            [c.account_ids, c.shop_ids],
        ).fetchone()[0]
        assert 0 < c.loss_estimate <= gmv + 0.01
        assert abs(sum(s["fake_gmv"] for s in shops.values()) - c.loss_estimate) < 1.0


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_generated_naive_rule_flags_lookalikes(brushing, seed):
    """A first analyst's rule, 'three or more five-star reviews within a day of ordering',
    trips over loyal customers and households; the detector does not."""
    con, res, truth = brushing(seed)
    naive = {
        a
        for (a,) in con.execute("""
        SELECT r.account_id FROM stg_reviews r JOIN stg_orders o USING (order_id)
        WHERE r.action = 'posted' AND r.rating = 5 AND r.created_at - o.created_at < INTERVAL 1 DAY
          AND r.created_at >= getvariable('window_start')
        GROUP BY r.account_id HAVING count(*) >= 3""").fetchall()
    }
    kinds = {truth["lookalike"][a] for a in naive if a in truth["lookalike"]}
    assert kinds & {"loyal_customer", "launch_week_buyer", "household_orders"}, kinds
    ours = {f.account_id for f in res.findings}
    assert not ours & set(truth["lookalike"])


def test_lonely_launch_and_one_shop_fans_make_no_crew():
    """Shop-pair co-targeting under the configuration null: many unrelated buyers reviewing
    one new shop, plus random popular shops, give no significant pair."""
    rng = np.random.default_rng(0)
    k = rng.pareto(1.2, 200) + 1
    d = rng.integers(1, 6, 3000)
    q = float((d * (d - 1)).sum()) / float(d.sum()) ** 2
    expected = np.outer(k, k) * q
    observed = rng.poisson(expected)
    s = stats.corrected(stats.surprise_poisson(observed, expected), observed.size / 2)
    assert s.max() < 1.0


def test_leave_out_strength_drops_the_strongest_targets():
    assert graphs.leave_out_strength([50.0, 3.0, 2.0, 1.0], 1) == 6.0
    assert graphs.leave_out_strength([50.0], 2) == 0.0


def test_union_components_link_members_through_shared_identifiers():
    comps = graphs.union_components(
        [("a", "addr1"), ("b", "addr1"), ("b", "dev9"), ("c", "dev9"), ("x", "addr7"), ("a", "dev1")]
    )
    assert sorted(map(sorted, comps)) == [["a", "b", "c"], ["x"]]


def test_fisher_combination_of_surprises():
    assert float(stats.combined(0.0, 0.0)) == pytest.approx(0.0, abs=1e-9)
    one = float(stats.combined(3.0))
    assert one == pytest.approx(3.0, rel=1e-6)
    both = float(stats.combined(3.0, 3.0))
    assert 3.0 < both < 6.0


def test_client_shop_recall_in_evaluate(tmp_path):
    from abuse.evaluate import _client_shop_recall

    (tmp_path / "brushing_shops.csv").write_text("cluster,shop_id\nb1,s1\nb1,s2\nb2,s3\nb2,s4\n")
    scores: dict = {}
    clusters = [("c1", "brushing_ring", ["a"], ["s1", "s2", "s9"]), ("c2", "extortion_ring", ["b"], ["s3"])]
    _client_shop_recall(scores, clusters, tmp_path)
    assert scores["brushing_ring"]["client_shop_recall"] == 0.5
    assert scores["brushing_ring"]["client_shop_precision"] == round(2 / 3, 4)


def test_recall_of_members_that_brushed_in_the_window_in_evaluate(tmp_path):
    """A planted member with no four- or five-star review at its crew's clients in the window
    (idle, reviewing another crew's client, or a one-star review) is left out of the
    reachable recall; the plain recall still counts it."""
    import duckdb

    from abuse.evaluate.window import active_brusher_recall

    (tmp_path / "brushing_shops.csv").write_text("cluster,shop_id\nb1,s1\nb1,s2\nb2,s3\n")
    (tmp_path / "accounts.csv").write_text(
        "account_id,pattern,cluster,role,evasion\n"
        + "".join(f"{a},brushing_ring,b1,member,\n" for a in ("a1", "a2", "a3", "a4", "a5"))
    )
    db = tmp_path / "abuse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA report")
        con.execute(
            "CREATE TABLE report.runs AS SELECT TIMESTAMPTZ '2026-06-01 00:00:00+00' AS window_start, "
            "TIMESTAMPTZ '2026-07-01 00:00:00+00' AS window_end, now() AS started_at"
        )
    with duckdb.connect(str(tmp_path / "abuse.work.duckdb")) as con:
        con.execute(
            "CREATE TABLE stg_reviews AS SELECT * FROM (VALUES "
            "('a1', 's1', 5, TIMESTAMPTZ '2026-06-10 10:00:00+00'), "
            "('a2', 's2', 4, TIMESTAMPTZ '2026-06-11 10:00:00+00'), "
            "('a3', 's3', 5, TIMESTAMPTZ '2026-06-12 10:00:00+00'), "  # another crew's client
            "('a4', 's1', 1, TIMESTAMPTZ '2026-06-12 10:00:00+00'), "  # not praise
            "('a5', 's1', 5, TIMESTAMPTZ '2026-05-12 10:00:00+00')"  # before the window
            ") t(account_id, shop_id, rating, created_at)"
        )
    scores: dict = {}
    active_brusher_recall(db, tmp_path, scores, [("a1", "brushing_ring", None), ("a3", "brushing_ring", None)])
    assert scores["brushing_ring"]["active_members"] == 2
    assert scores["brushing_ring"]["active_member_recall"] == 0.5


# --------------------------------------------------------------------------- adaptive crews
# ``generate --adversarial``: slow reviews, few templates and drops, four-star ratings and
# single-task members (one fake order and one review at one client). One seed in a zone that
# is not a whole hour off UTC. Recall floors are the measured values less a margin, below the
# issue's 0.90 goal (see the report of branch brushref3): they catch regressions, not success.
ADV = ((1, "Asia/Shanghai"), (4, "Asia/Kolkata"))
_ADV: dict = {}


def adversarial_data(tmp_path_factory, seed: int, tz: str):
    """(connection, window_start, window_end, truth, tz) of adversarial data, shared with
    test_refunds.py."""
    if seed not in _ADV:
        con, ws, we, out = helpers.staged_world(seed, SCALE, adversarial=True, tz=tz)
        _ADV[seed] = (con, ws, we, truth_of(out), tz)
    return _ADV[seed]


@pytest.mark.parametrize(("seed", "tz"), ADV)
def test_adaptive_crews_and_single_task_members_found_lookalikes_spared(tmp_path_factory, seed, tz):
    con, ws, we, truth, tz = adversarial_data(tmp_path_factory, seed, tz)
    res = helpers.run_detector(BrushingDetector, con, ws, we, tz)
    crew, flagged = helpers.planted_and_flagged(res, truth["accounts"], "brushing_ring")
    p, r = prf(flagged, crew)
    assert p >= 0.95 and r >= 0.75, (p, r)  # measured R 0.887 (seed 1), 0.852 (seed 4)
    wrongly = helpers.lookalikes_flagged(flagged, truth["lookalike"])
    assert not wrongly, wrongly
    named = {s for c in res.clusters for s in c.shop_ids}
    assert len(named & truth["clients"]) >= 0.9 * len(truth["clients"])
    assert len(named - truth["clients"]) <= 0.05 * max(len(named), 1)


def test_step_up_keeps_many_members_each_short_of_the_bonferroni_bar():
    """Benjamini-Hochberg at the member level: 30 accounts at 3.5 bits among 40 tried are kept
    (their number is beyond chance), though each is short of Bonferroni's 3 + log10(40); one
    such account among 39 unremarkable ones is not."""
    from abuse.detect.brushing.recruit import step_up

    many = [(f"m{i}", 3.5) for i in range(30)] + [(f"o{i}", 0.2) for i in range(10)]
    assert 3.5 < 3.0 + np.log10(len(many))
    assert {a for a, _ in step_up(many, 3.0)} == {f"m{i}" for i in range(30)}
    lone = [("m0", 3.5)] + [(f"o{i}", 0.2) for i in range(39)]
    assert step_up(lone, 3.0) == []
    assert step_up([("m0", 5.0)] + lone[1:], 3.0) == [("m0", 5.0)]


def test_candidate_client_sets_keep_a_cut_chain_whole_and_do_not_depend_on_hashing():
    """Louvain cuts two clusters of shops joined by one pair; the component comes back beside
    the communities, and the result is the same whatever the process's string hashing."""
    import json
    import subprocess
    import sys

    code = (
        "import json, polars as pl\n"
        "from abuse.detect.brushing.crews import _candidate_sets\n"
        "s = ['a1','a1','a2','a3','b1','b1','b2','b3','a3']\n"
        "t = ['a2','a3','a3','a4','b2','b3','b3','b4','b1']\n"
        "w = [9.0, 8.0, 7.0, 6.0, 9.0, 8.0, 7.0, 6.0, 3.1]\n"
        "c, k = _candidate_sets(pl.DataFrame({'s': s, 't': t, 'surprise': w}), 0)\n"
        "print(json.dumps([sorted(map(sorted, c)), sorted(map(sorted, k))]))\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], env={"PYTHONHASHSEED": str(h)}, capture_output=True, text=True, check=True
        ).stdout
        for h in (1, 2, 3)
    }
    assert len(outs) == 1, outs
    comms, split = json.loads(outs.pop())
    assert len(comms) >= 2 and all(len(c) < 8 for c in comms)
    assert split == [["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]]


def test_one_task_hires_for_one_push_day_flag_no_lookalike(tmp_path_factory):
    """``generate --adversarial``: the first crew (then half the others) hires one-task
    accounts for one push day at one client, mostly on the crew's hero items there, which few
    of its regulars bought (the tactic that beat the detector on held-out h2). Recruitment in
    rounds (the crew's items grow with its recruits) finds no fewer crew members than one
    round, flags no look-alike and keeps precision; the hires' recall floor is the measured
    value less a margin (2 of 6 on this seed): a regression floor, the tactic is not beaten."""
    import csv

    seed, tz = 4, "Asia/Kolkata"
    con, ws, we, truth, tz = adversarial_data(tmp_path_factory, seed, tz)
    out = helpers.generated(seed, SCALE, adversarial=True, tz=tz)  # the folder adversarial_data staged
    rows = list(csv.DictReader((out / "truth" / "accounts.csv").open(encoding="utf-8")))
    hired = {r["account_id"] for r in rows if r["pattern"] == "brushing_ring" and r["role"] == "hired"}
    crew = {a for a, p in truth["accounts"].items() if p == "brushing_ring"}
    assert hired and hired <= crew
    det = BrushingDetector()
    found = {}
    for rounds in (1, 3):
        res = det.detect(DetectContext(con, ws, we, tz, det.Params(max_recruit_rounds=rounds)))
        found[rounds] = {f.account_id for f in res.findings}
    p, _ = prf(found[3], crew)
    assert p >= 0.95, p
    assert len(found[3] & hired) >= 0.3 * len(hired), (len(found[3] & hired), len(hired))
    assert len(found[3] & crew) >= len(found[1] & crew)
    wrongly = {a: truth["lookalike"][a] for a in found[3] if a in truth["lookalike"]}
    assert not wrongly, wrongly


# --------------------------------------------------------------------------- own-staff brushing
# ``generate --adversarial`` also plants shops brushed by their own staff (brushing_own.py):
# a dozen accounts ordering there every few days, each to its own address, varied texts,
# the shop's work phones and office network on part of the orders; beside them a small shop's
# regulars, a company's procurement buyers at one supplier and a family shop's owners.
@pytest.mark.parametrize(("seed", "tz"), ADV)
def test_own_staff_brushing_found_regulars_procurement_and_family_shops_spared(tmp_path_factory, seed, tz):
    import csv

    con, ws, we, truth, tz = adversarial_data(tmp_path_factory, seed, tz)
    out = helpers.generated(seed, SCALE, adversarial=True, tz=tz)
    rows = list(csv.DictReader((out / "truth" / "accounts.csv").open(encoding="utf-8")))
    staff = {r["account_id"] for r in rows if r["pattern"] == "brushing_ring" and r["role"] == "staff"}
    own_shops = {
        r["shop_id"]
        for r in csv.DictReader((out / "truth" / "brushing_shops.csv").open())
        if r["cluster"].startswith("own_")
    }
    assert staff and own_shops
    res = helpers.run_detector(BrushingDetector, con, ws, we, tz)
    own = [c for c in res.clusters if c.evidence.get("kind") == "own_staff"]
    flagged = {a for c in own for a in c.account_ids}
    p, r = prf(flagged, staff)
    assert p >= 0.95 and r >= 0.90, (p, r)
    assert {s for c in own for s in c.shop_ids} <= own_shops
    spared = {"small_shop_regular", "procurement_buyer", "family_shop_owner", "loyal_customer", "household_orders"}
    assert spared <= set(truth["lookalike"].values()) | {"loyal_customer", "household_orders"}
    every = {f.account_id for f in res.findings}
    wrongly = helpers.lookalikes_flagged(every, truth["lookalike"])
    assert not wrongly, wrongly
    for c in own:  # the figures behind the sentence, and no "1 devoted buyers"
        ev = c.evidence
        assert (
            ev["devoted_positive_reviews"] <= ev["positive_reviews"] and ev["devoted_buyers"] >= len(c.account_ids) // 2
        )
        assert " 1 devoted buyers" not in c.summary and c.loss_estimate > 0
    for f in res.findings:
        if f.cluster_key in {c.cluster_key for c in own}:
            assert f.evidence["orders_at_shop"] >= 2 and " 1 orders" not in f.reason


def test_own_staff_needs_shared_devices_or_networks_not_just_devotion():
    """Twelve devoted, reviewing buyers at a small shop are a shop's regulars unless they share
    the shop's phones or network: the same rows with one phone and one office IP among them
    make an own-staff crew."""
    import polars as pl

    from abuse.detect.brushing import own

    rng = np.random.default_rng(5)
    rows = []
    for i in range(3000):  # the platform: buyers placing an order or two at one of 300 shops
        rows.append(
            (
                f"b{i}",
                f"s{i % 300}",
                int(rng.integers(1, 3)),
                int(rng.random() < 0.3),
                [f"d{i}"],
                [f"ip{i}"],
                [f"ad{i}"],
            )
        )
    regulars = [(f"r{i}", "small", 7, 6, [f"dr{i}"], [f"ipr{i}"], [f"adr{i}"]) for i in range(12)]
    staff = [(f"r{i}", "small", 7, 6, [f"dr{i}", "work_phone"], [f"ipr{i}", "office"], [f"adr{i}"]) for i in range(12)]
    kw = dict(
        devoted_q=0.05, min_members=4, min_shop_surprise=3.0, min_behaviour_bits=3.0, min_infra_bits=2.0, fdr=0.05
    )

    def frame(extra):
        cols = ["account_id", "shop_id", "n_orders", "n_pos", "devices", "ips", "addrs"]
        df = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows + extra])
        return df.with_columns(
            n_all=pl.col("n_orders").sum().over("account_id"),
            shop_buyers=pl.len().over("shop_id"),
            n_reviews=pl.col("n_pos"),
        )

    assert own.find_own_crews(frame(regulars), **kw)[0] == []
    crews, tried = own.find_own_crews(frame(staff), **kw)
    assert [c.shop_id for c in crews] == ["small"] and set(crews[0].members) == {f"r{i}" for i in range(12)}
    assert tried >= 1


def test_push_day_needs_shared_addresses_not_just_a_burst():
    """A shop's burst of one-day reviewers is a launch or a sale unless they are tied: twelve
    strangers on one day are spared; twelve of whom eight ship to two addresses are a push
    day, and its members are the tied ones."""
    import datetime as dt

    import polars as pl

    from abuse.detect.brushing import push

    rng = np.random.default_rng(3)
    day0 = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    rows = []
    for i in range(4000):  # the platform: one positive review a day or so at each of 200 shops
        rows.append(
            (
                f"r{i}",
                f"b{i}",
                f"s{i % 200}",
                day0 + dt.timedelta(days=int(rng.integers(30))),
                f"i{i % 7}",
                f"ad{i}",
                "",
            )
        )

    def burst(addrs):
        d = day0 + dt.timedelta(days=12)
        return [(f"x{j}", f"h{j}", "s7", d, f"it{j}", a, "") for j, a in enumerate(addrs)]

    schema = ["review_id", "account_id", "shop_id", "day", "item_id", "addr", "text"]
    kw = dict(n_days=30, min_members=4, min_burst_surprise=3.0, min_tie_bits=2.0, base_dup=0.05, threshold=0.5)

    def frame(extra):
        return pl.DataFrame([dict(zip(schema, r, strict=True)) for r in rows + extra])

    strangers = [f"own{j}" for j in range(12)]
    assert push.find_push_days(frame(burst(strangers)), **kw)[0] == []
    tied = ["drop1"] * 4 + ["drop2"] * 4 + [f"own{j}" for j in range(4)]
    days, tests = push.find_push_days(frame(burst(tied)), **kw)
    assert tests == 200 * 30
    assert [d.shop_id for d in days] == ["s7"] and set(days[0].members) == {f"h{j}" for j in range(8)}
    assert days[0].figures["sharing_addresses"] == 8


def test_one_task_hires_found_on_their_push_day(tmp_path_factory):
    """``generate --adversarial`` seed 1: the hires of the crew's push day are found (measured
    13 of 19 with the crews and push days together; the floor is a regression floor), every
    push-day cluster names one client shop of the truth, and no look-alike is flagged."""
    import csv

    seed, tz = ADV[0]
    con, ws, we, truth, tz = adversarial_data(tmp_path_factory, seed, tz)
    out = helpers.generated(seed, SCALE, adversarial=True, tz=tz)
    rows = list(csv.DictReader((out / "truth" / "accounts.csv").open(encoding="utf-8")))
    hired = {r["account_id"] for r in rows if r["pattern"] == "brushing_ring" and r["role"] == "hired"}
    res = helpers.run_detector(BrushingDetector, con, ws, we, tz)
    flagged = {f.account_id for f in res.findings}
    assert len(flagged & hired) >= 0.5 * len(hired), (len(flagged & hired), len(hired))
    pushed = [c for c in res.clusters if c.evidence.get("kind") == "push_day"]
    assert pushed and all(len(c.shop_ids) == 1 and c.shop_ids[0] in truth["clients"] for c in pushed)
    assert not helpers.lookalikes_flagged(flagged, truth["lookalike"])
