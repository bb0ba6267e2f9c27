"""extortion_ring: precision/recall on generated data, a naive rule for contrast, a hand-made
world with the benign look-alikes, and unit tests of the graph helpers."""

from __future__ import annotations

import csv
import json
import random
import re
from datetime import datetime, timedelta, timezone

import duckdb
import helpers
import polars as pl
import pytest

from abuse import graphs, stats
from abuse.detect.base import DetectContext, DetectorResult
from abuse.detect.rings import RingDetector
from abuse.schema import KINDS
from abuse.sqlfiles import set_variables

SEEDS = (1, 2)
SCALE = 1.0


# --------------------------------------------------------------------------- hand-made world
T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)


def toy(
    seed: int = 0,
    n_buyers: int = 600,
    n_shops: int = 120,
    ring: int = 8,
    targets: int = 8,
    sparse: bool = False,
    signature_serials: int = 0,
    scattered: int = 0,
):
    """Staged tables for background buyers, a genuinely bad seller with two storefronts,
    lone serial complainers, a household on one device, and one ring with camouflage orders.
    ``sparse``: each ring member hits only 2-4 of the targets (most pairs share 0-1 shops)
    but always demands, is paid and withdraws. ``signature_serials`` lone complainers also
    withdraw their reviews once refunded, on every shop. ``scattered``: a crew of that many
    members over a long tail of 300 small shops, one or two each, threats from a script in
    several languages (amounts varied), compensation or a plain refund, the review often
    withdrawn; beside it, look-alikes that copy one demanding template at the bad seller.
    Returns (con, window_start, window_end, truth)."""
    rng = random.Random(seed)
    accounts, orders, reviews, refunds = [], [], [], []
    ids = {"o": 0, "r": 0, "f": 0}

    def nid(k):
        ids[k] += 1
        return f"{k}{ids[k]:06d}"

    def account(aid, reg, device):
        accounts.append((aid, reg, device, f"10.0.{rng.randint(0, 255)}.{rng.randint(0, 255)}"))

    def buy(aid, shop, ts, rating=None, text="", refund=None, comp=None, withdraw=False):
        oid = nid("o")
        orders.append((oid, aid, shop, 50.0, ts, f"d_{aid}"))
        if rating is not None:
            rid = nid("r")
            reviews.append((rid, oid, aid, shop, rating, ts + timedelta(days=2), "posted", text))
            if withdraw:
                reviews.append((rid, oid, aid, shop, None, ts + timedelta(days=6), "withdrawn", None))
        for kind, amt in (("refund", refund), ("compensation", comp)):
            if amt is not None:
                refunds.append(
                    (nid("f"), oid, aid, shop, amt, kind, ts + timedelta(days=3), ts + timedelta(days=4), "approved")
                )

    shops = [f"s{i:04d}" for i in range(n_shops)]
    day = lambda: T0 + timedelta(days=rng.uniform(0, 30))  # noqa: E731
    buyers = [f"b{i:05d}" for i in range(n_buyers)]
    for b in buyers:
        account(b, T0 - timedelta(days=rng.uniform(30, 900)), f"d_{b}")
        for _ in range(rng.randint(2, 8)):
            r = rng.random()
            rating = 1 if r < 0.04 else (rng.choice([4, 5]) if r < 0.5 else None)
            buy(b, rng.choice(shops), day(), rating, "not as described")
    truth = {"ring": set(), "ring_shops": set(), "lookalike": set()}
    # a genuinely bad seller with two storefronts: many unrelated buyers complain at both,
    # some demanding compensation
    for b in rng.sample(buyers, 60):
        for bad in rng.sample(shops[:2], rng.randint(1, 2)):
            buy(b, bad, day(), 1, "broken on arrival, terrible", refund=50.0, comp=20.0 if rng.random() < 0.3 else None)
        truth["lookalike"].add(b)
    for i in range(6):  # lone serial complainers
        a = f"serial{i}"
        account(a, T0 - timedelta(days=400), f"d_{a}")
        for s in rng.sample(shops, 12):
            buy(a, s, day(), 1, f"awful {rng.random()}", refund=30.0)
        truth["lookalike"].add(a)
    for i in range(signature_serials):  # lone, but paid-then-withdrawn everywhere
        a = f"sigserial{i}"
        account(a, T0 - timedelta(days=400), f"d_{a}")
        for s in rng.sample(shops[3:], rng.randint(3, 8)):
            buy(a, s, day(), 1, f"awful {rng.random()}", refund=30.0, withdraw=True)
        truth["lookalike"].add(a)
    for i in range(3):  # a household: one device, the same two shops
        a = f"house{i}"
        account(a, T0 - timedelta(days=300), "d_house")
        for s in shops[1:3]:
            buy(a, s, day(), 2, "slow delivery")
        truth["lookalike"].add(a)
    truth["scattered"] = set()
    if scattered:
        tail = [f"t{i:04d}" for i in range(300)]  # the long tail: a few ordinary buyers each
        for t in tail:
            for b in rng.sample(buyers, rng.randint(1, 6)):
                r = rng.random()
                buy(b, t, day(), 1 if r < 0.04 else (rng.choice([4, 5]) if r < 0.5 else None), "not as described")
        script = [
            "Broken. Pay {} yuan or I post this everywhere.",
            "商品が壊れていました。{}元補償しなければ通報します。",
            "Товар бракованный. Верните {} юаней, иначе будут отзывы везде.",
            "Hàng giả, bồi thường {} tệ ngay, nếu không sẽ đánh giá 1 sao khắp nơi.",
        ]
        for i in range(scattered):
            a = f"scat{i}"
            account(a, T0 - timedelta(days=rng.uniform(300, 1000)), f"d_{a}")
            truth["scattered"].add(a)
            for _ in range(2):  # camouflage
                buy(a, rng.choice(shops), day(), 5, "good")
            for t in rng.sample(tail, rng.randint(1, 2)):
                amt = rng.randint(20, 300)
                comp = rng.random() < 0.6
                buy(
                    a,
                    t,
                    day(),
                    rng.choice([1, 2]),
                    rng.choice(script).format(amt),
                    refund=None if comp else 50.0,
                    comp=float(amt) if comp else None,
                    withdraw=rng.random() < 0.6,
                )
        for i in range(12):  # one demanding template, copied, at the bad seller's storefronts
            a = f"copycat{i}"
            account(a, T0 - timedelta(days=500), f"d_{a}")
            buy(
                a,
                shops[i % 2],
                day(),
                1,
                "Broken on arrival. Refund me now or I report you.",
                comp=50.0,
                withdraw=i % 3 == 0,
            )
            truth["lookalike"].add(a)
    victims = rng.sample(shops[3:], targets)
    truth["ring_shops"] = set(victims)
    for i in range(ring):
        a = f"ring{i}"
        account(a, T0 - timedelta(days=rng.uniform(300, 900)), f"d_ring{i % 3}")
        truth["ring"].add(a)
        for _ in range(3):  # camouflage
            buy(a, rng.choice(shops), day(), 5, "good")
        hit = set(rng.sample(victims, rng.randint(2, 4))) if sparse else set(victims)
        for j, s in enumerate(victims):
            if s in hit and (sparse or rng.random() < 0.7):
                ts = T0 + timedelta(days=2 + 30 * j / targets + rng.uniform(0, 3))
                buy(
                    a,
                    s,
                    ts if not sparse else day(),
                    1,
                    f"差评 {rng.random()}",
                    refund=20.0,
                    comp=30.0,
                    withdraw=sparse or rng.random() < 0.5,
                )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    frames = {
        "stg_accounts": pl.DataFrame(
            accounts,
            orient="row",
            schema={
                "account_id": pl.Utf8,
                "registered_at": pl.Datetime("us", "UTC"),
                "device_id": pl.Utf8,
                "ip": pl.Utf8,
            },
        ),
        "stg_orders": pl.DataFrame(
            orders,
            orient="row",
            schema={
                "order_id": pl.Utf8,
                "account_id": pl.Utf8,
                "shop_id": pl.Utf8,
                "amount": pl.Float64,
                "created_at": pl.Datetime("us", "UTC"),
                "device_id": pl.Utf8,
            },
        ).with_columns(ip=pl.lit(None, pl.Utf8)),
        "stg_reviews": pl.DataFrame(
            reviews,
            orient="row",
            schema={
                "review_id": pl.Utf8,
                "order_id": pl.Utf8,
                "account_id": pl.Utf8,
                "shop_id": pl.Utf8,
                "rating": pl.Int32,
                "created_at": pl.Datetime("us", "UTC"),
                "action": pl.Utf8,
                "text": pl.Utf8,
            },
        ),
        "stg_refunds": pl.DataFrame(
            refunds,
            orient="row",
            schema={
                "refund_id": pl.Utf8,
                "order_id": pl.Utf8,
                "account_id": pl.Utf8,
                "shop_id": pl.Utf8,
                "amount": pl.Float64,
                "kind": pl.Utf8,
                "requested_at": pl.Datetime("us", "UTC"),
                "resolved_at": pl.Datetime("us", "UTC"),
                "outcome": pl.Utf8,
            },
        ),
    }
    casts = {"amount": "DECIMAL(18,2)"}
    for name, df in frames.items():
        con.register("_tmp", df.to_arrow())
        cols = ", ".join(
            f"CAST({c} AS {casts[c]}) AS {c}"
            if c in casts
            else (f"CAST({c} AS TIMESTAMPTZ) AS {c}" if df[c].dtype == pl.Datetime("us", "UTC") else c)
            for c in df.columns
        )
        con.execute(f"CREATE TABLE {name} AS SELECT {cols} FROM _tmp")
        con.unregister("_tmp")
    # optional contract columns the toy leaves empty (staging always has them)
    con.execute("ALTER TABLE stg_refunds ADD COLUMN reason VARCHAR")
    con.execute("ALTER TABLE stg_accounts ADD COLUMN invited_by VARCHAR")
    # the rest of the contract's staging schema, empty: shared views (int_account_identifiers)
    # read every stg_* table
    for kind in KINDS.values():
        have = {
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [f"stg_{kind.name}"]
            ).fetchall()
        }
        if not have:
            con.execute(f"CREATE TABLE stg_{kind.name} (_ VARCHAR)")
        for c in kind.columns:
            if c.name not in have:
                con.execute(f'ALTER TABLE stg_{kind.name} ADD COLUMN "{c.name}" {c.type}')
    ws, we = T0, T0 + timedelta(days=40)
    set_variables(con, window_start=ws, window_end=we)
    return con, ws, we, truth


def run(con, ws, we, tz: str = "Asia/Shanghai", **params) -> DetectorResult:
    det = RingDetector()
    return det.detect(DetectContext(con, ws, we, tz, det.Params(**params)))


def naive_rule(con) -> set[str]:
    """The rule a first analyst would write: three or more one-star reviews in the window."""
    return {
        a
        for (a,) in con.execute("""
        SELECT account_id FROM stg_reviews
        WHERE action = 'posted' AND rating = 1
          AND created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
        GROUP BY account_id HAVING count(*) >= 3""").fetchall()
    }


def prf(flagged: set, truth: set) -> tuple[float, float, float]:
    tp = len(flagged & truth)
    p = tp / len(flagged) if flagged else 0.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("size,targets", [(8, 8), (6, 5), (40, 5), (8, 30)])
def test_toy_world_ring_found_and_lookalikes_spared(seed, size, targets):
    con, ws, we, truth = toy(seed, ring=size, targets=targets)
    res = run(con, ws, we)
    flagged = {f.account_id for f in res.findings}
    p, r, _ = prf(flagged, truth["ring"])
    assert p == 1.0 and r >= 0.9, (p, r)
    assert not flagged & truth["lookalike"]
    assert len(res.clusters) == 1
    victims = set(res.clusters[0].shop_ids)
    assert victims <= truth["ring_shops"]
    assert len(victims) >= 0.9 * len(truth["ring_shops"])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size,targets", [(6, 12), (10, 15)])
def test_sparse_ring_is_found_through_its_extortion_signature(seed, size, targets):
    """Members hit 2-4 of the targets each, at any time, in their own words: pairwise
    co-targeting sees little, being paid and then withdrawing on several shops gives them
    away. The bad seller, serial complainers and the household stay unflagged."""
    con, ws, we, truth = toy(seed, ring=size, targets=targets, sparse=True)
    res = run(con, ws, we)
    flagged = {f.account_id for f in res.findings}
    p, r, _ = prf(flagged, truth["ring"])
    assert p == 1.0 and r >= 0.6, (p, r, sorted(flagged))
    assert not flagged & truth["lookalike"]
    assert len(res.clusters) == 1


@pytest.mark.xfail(
    strict=True,
    reason="a lone account that is paid and then withdraws on every "
    "shop, and happens to extort 2-3 of a sparse ring's victims (at random times, "
    "in its own words), is taken for a member: seed 1 flags 2-3 such accounts",
)
def test_sparse_ring_spares_lone_signature_complainers_on_its_victims():
    con, ws, we, truth = toy(1, ring=10, targets=15, sparse=True, signature_serials=3)
    flagged = {f.account_id for f in run(con, ws, we).findings}
    assert flagged >= truth["ring"] and not flagged & truth["lookalike"], sorted(flagged)


def test_lone_signature_complainers_are_not_a_ring():
    for seed in range(3):
        con, ws, we, _ = toy(seed, ring=0, signature_serials=12)
        assert not run(con, ws, we).findings


def test_toy_world_naive_rule_flags_serial_complainers():
    con, ws, we, truth = toy(0)
    naive = naive_rule(con)
    ours = {f.account_id for f in run(con, ws, we).findings}
    assert naive & truth["lookalike"], "the naive rule should trip over serial complainers"
    assert prf(naive, truth["ring"])[0] <= prf(ours, truth["ring"])[0] - 0.3


def test_empty_tables_give_no_findings():
    con, ws, we, _ = toy(0)
    for t in ("stg_reviews", "stg_refunds"):
        con.execute(f"DELETE FROM {t}")
    assert run(con, ws, we) == DetectorResult()


def test_without_orders_the_baseline_falls_back_to_uniform_and_still_finds_the_ring():
    con, ws, we, truth = toy(1)
    con.execute("DELETE FROM stg_orders")
    flagged = {f.account_id for f in run(con, ws, we).findings}
    assert prf(flagged, truth["ring"])[:2] == (1.0, 1.0)


def test_household_sharing_a_device_is_not_a_ring_even_when_it_cotargets():
    con, ws, we, truth = toy(3, ring=0)
    assert not run(con, ws, we).findings


# --------------------------------------------------------------------------- generated data
@pytest.fixture(scope="module")
def generated():
    cache = {}

    def get(seed: int):
        if seed not in cache:
            con, ws, we, out = helpers.staged_world(seed, SCALE)  # shared with test_timing's
            rows = lambda name: list(csv.DictReader((out / "truth" / name).open()))  # noqa: E731
            truth = {
                "ring": {r["account_id"] for r in rows("accounts.csv") if r["pattern"] == "extortion_ring"},
                "shops": {r["shop_id"] for r in rows("ring_shops.csv")},
                "lookalike": {r["account_id"]: r["lookalike"] for r in rows("lookalikes.csv")},
            }
            cache[seed] = (con, run(con, ws, we), truth)
        return cache[seed]

    return get


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_precision_recall_and_victims(generated, seed):
    _, res, truth = generated(seed)
    flagged = {f.account_id for f in res.findings}
    p, r, _ = prf(flagged, truth["ring"])
    assert p >= 0.95 and r >= 0.90, (p, r)
    victims = {s for c in res.clusters for s in c.shop_ids}
    assert len(victims & truth["shops"]) / len(truth["shops"]) >= 0.90
    wrongly = {a: truth["lookalike"][a] for a in flagged if a in truth["lookalike"]}
    assert not wrongly, wrongly


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_naive_rule_is_clearly_worse(generated, seed):
    """The generated background holds lone serial complainers (3-10 low reviews each over
    two months, refunds, now and then a compensation or an amended review): a rule on
    one-star counts flags them, the detector must not."""
    con, res, truth = generated(seed)
    ours = prf({f.account_id for f in res.findings}, truth["ring"])
    flagged = naive_rule(con)
    naive = prf(flagged, truth["ring"])
    serial = {a for a, kind in truth["lookalike"].items() if kind == "serial_complainer"}
    assert len(flagged & serial) >= 5, "the naive rule should trip over serial complainers"
    assert naive[0] <= ours[0] - 0.2 and naive[2] < ours[2], (naive, ours)


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_generated_output_follows_the_contract(generated, seed):
    con, res, _ = generated(seed)
    keys = {c.cluster_key for c in res.clusters}
    accounts = [f.account_id for f in res.findings]
    assert len(accounts) == len(set(accounts)), "one finding per account and pattern"
    for f in res.findings:
        assert f.pattern == "extortion_ring" and 0 <= f.score <= 1 and f.cluster_key in keys
        assert f"on {f.evidence['shops']} shops" in f.reason
    paid = dict(
        con.execute("""
        SELECT account_id, sum(amount)::DOUBLE FROM stg_refunds WHERE outcome = 'approved'
        GROUP BY 1""").fetchall()
    )
    for c in res.clusters:
        assert c.first_seen <= c.last_seen and 0 < c.score <= 1 and c.summary
        assert 0 < c.loss_estimate <= sum(paid.get(a, 0) for a in c.account_ids) + 0.01


# --------------------------------------------------------------------------- graph helpers
def test_peeling_finds_the_planted_block_and_column_weights_shed_a_hub():
    block = [(f"r{i}", f"c{j}") for i in range(5) for j in range(4)]
    noise = [(f"x{i}", f"c{10 + i}") for i in range(20)]
    # every block row also buys at a hugely popular shop (camouflage)
    hub = [(f"y{i}", "hub") for i in range(500)] + [(f"r{i}", "hub") for i in range(5)]
    edges = block + noise + hub
    deg = pl.DataFrame(edges, schema=["r", "c"], orient="row").group_by("c").len()
    weights = graphs.log_column_weights(dict(deg.iter_rows()))
    found = graphs.peel_dense_block(edges, weights)
    assert found.rows == {f"r{i}" for i in range(5)}
    assert found.cols == {f"c{j}" for j in range(4)}
    unweighted = graphs.peel_dense_block(edges)
    assert unweighted.rows == found.rows and "hub" in unweighted.cols


def test_peeling_of_nothing():
    assert graphs.peel_dense_block([]).rows == frozenset()


def test_poisson_surprise_grows_with_the_count_and_shrinks_with_the_baseline():
    s = stats.surprise_poisson([0, 1, 3, 6], [1.0, 1.0, 1.0, 1.0])
    assert s[0] == 0 and list(s) == sorted(s)
    assert stats.surprise_poisson(5, 0.1) > stats.surprise_poisson(5, 2.0) > 0


def test_shingles_catch_near_duplicate_texts_in_chinese_and_english():
    a, b = graphs.shingles("质量太差了，要求赔偿！"), graphs.shingles("质量太差了 要求赔偿")
    assert graphs.jaccard(a, b) == 1.0
    assert (
        graphs.jaccard(
            graphs.shingles("Terrible quality, refund now"), graphs.shingles("terrible quality - refund now!!")
        )
        == 1.0
    )
    assert graphs.jaccard(a, graphs.shingles("物流很快，好评")) < 0.2


# --------------------------------------------------------------------------- adaptive crews
ADV_SEEDS = (1, 3)
ADV_TZ = {1: "Asia/Shanghai", 3: "Asia/Kolkata"}  # one zone not a whole hour off UTC
ADV_SCALE = 0.5


@pytest.fixture(scope="module")
def adversarial():
    """``abuse generate --adversarial`` data: crews without shared ids, recruited in waves,
    each member hitting a few of dozens of victims once, money asked for in words or off the
    platform; hard look-alikes (a quality-problem shop, loud complainers, procurement)."""
    cache = {}

    def get(seed: int):
        if seed not in cache:
            tz = ADV_TZ.get(seed, "Asia/Shanghai")
            con, ws, we, out = helpers.staged_world(seed, ADV_SCALE, adversarial=True, tz=tz)  # and test_hoarding's
            rows = lambda name: list(csv.DictReader((out / "truth" / name).open()))  # noqa: E731
            ring = [r for r in rows("accounts.csv") if r["pattern"] == "extortion_ring"]
            crews: dict[str, set] = {}
            for r in ring:
                crews.setdefault(r["cluster"], set()).add(r["account_id"])
            truth = {
                "ring": {r["account_id"] for r in ring},
                "crews": crews,
                "evasion": {r["cluster"]: r["evasion"] for r in ring},
                "shops": {r["shop_id"] for r in rows("ring_shops.csv")},
                "crew_shops": {(r["cluster"], r["shop_id"]) for r in rows("ring_shops.csv")},
                "lookalike": {r["account_id"]: r["lookalike"] for r in rows("lookalikes.csv")},
            }
            cache[seed] = (con, run(con, ws, we, tz), truth, out)
        return cache[seed]

    return get


@pytest.mark.parametrize("seed", ADV_SEEDS)
def test_adaptive_crews_are_found_with_their_victims_and_lookalikes_spared(adversarial, seed):
    _, res, truth, _ = adversarial(seed)
    assert any("sparse_block" in e for e in truth["evasion"].values())  # the adversary is there
    flagged = {f.account_id for f in res.findings}
    # the crew scattered over the long tail has a test of its own (below)
    crews = {c: m for c, m in truth["crews"].items() if c not in _scattered(truth)}
    ring = set().union(*crews.values())
    shops = {s for c, s in truth["crew_shops"] if c in crews}
    p, _, _ = prf(flagged, truth["ring"])
    _, r, _ = prf(flagged & ring, ring)
    assert p >= 0.95 and r >= 0.90, (p, r)
    found = [set(c.account_ids) for c in res.clusters]
    recovered = sum(any(len(m & c) >= 0.5 * len(m) for c in found) for m in crews.values())
    assert recovered >= 0.9 * len(crews), (recovered, len(crews))
    victims = {s for c in res.clusters for s in c.shop_ids}
    assert len(victims & shops) / len(shops) >= 0.90
    wrongly = {a: truth["lookalike"][a] for a in flagged if a in truth["lookalike"]}
    assert not wrongly, wrongly


def _scattered(truth) -> set[str]:
    """The crews with tests of their own: scattered over the long tail, and the quiet crew
    (most of whose members do nothing an honest buyer would not: ``test_quiet_crew_...``)."""
    return {c for c, e in truth["evasion"].items() if "one_or_two_shops" in e or "quiet" in e}


def test_adversarial_scattered_crew_is_found_by_its_acts_each_against_its_base_rate():
    """The adversarial world's crew over the long tail of small shops (one or two hits each,
    threats in several languages, money through the kind field, plain refunds or off the
    platform, some members on shared phones or one network) where ordinary unhappy buyers
    often ask for a goodwill compensation too: asking is no rare act there, a threat in any
    language or a review withdrawn once paid is. Found only when each act is measured against
    its own base rate (main found none of it). Scale 1: at 0.5 the crew is too small to
    stand out of its neighbourhood."""
    con, ws, we, out = helpers.staged_world(1, 1.0, adversarial=True)
    res = run(con, ws, we)
    rows = list(csv.DictReader((out / "truth" / "accounts.csv").open()))
    members = {r["account_id"] for r in rows if "one_or_two_shops" in r["evasion"]}
    lookalike = {r["account_id"] for r in csv.DictReader((out / "truth" / "lookalikes.csv").open())}
    scattered = [c for c in res.clusters if c.evidence.get("method") == "scattered"]
    got = {a for c in scattered for a in c.account_ids}
    p, r, _ = prf(got, members)
    assert p >= 0.95 and r >= 0.4, (p, r)
    assert not got & lookalike, sorted(got & lookalike)


def test_generous_seller_and_quality_problem_buyers_make_no_ring():
    """Adversarial seed 1 at scale 1: a generous seller (and a shop with a real quality
    problem) pays its unhappy buyers and they revise their reviews, each once, there and
    nowhere else. Main took that crowd for a 55-account ring through the extortion-signature
    meeting-place test (precision 0.681, recall 0.672, 30 generous-seller and 10
    quality-problem buyers flagged): a shop's own habit explains the signature its buyers
    carry there, so an account now counts at a shop only with the signature on another shop,
    and the scattered stage leaves the accounts such a shop settled with out of its base
    rates. Measured after: precision 0.980, recall 0.715."""
    con, ws, we, out = helpers.staged_world(1, 1.0, adversarial=True)
    res = run(con, ws, we)
    rows = list(csv.DictReader((out / "truth" / "accounts.csv").open()))
    ring = {r["account_id"] for r in rows if r["pattern"] == "extortion_ring"}
    kind = {r["account_id"]: r["lookalike"] for r in csv.DictReader((out / "truth" / "lookalikes.csv").open())}
    flagged = {f.account_id for f in res.findings}
    p, r, _ = prf(flagged, ring)
    assert p >= 0.95 and r >= 0.672, (p, r)
    hard = {a: kind[a] for a in flagged if kind.get(a) in ("generous_seller", "quality_problem_shop")}
    assert not hard, hard
    # no ring is mostly strangers to every crew
    for c in res.clusters:
        assert len(set(c.account_ids) & ring) >= 0.9 * len(c.account_ids), (c.cluster_key, len(c.account_ids))


def test_adaptive_crews_beat_the_dense_detector_alone(adversarial):
    """Without the co-victim search the adaptive crews are mostly missed: the test above
    can fail, and what makes it pass is the sparse search."""
    con, res, truth, _ = adversarial(ADV_SEEDS[0])
    det = RingDetector()
    from abuse.detect.base import DetectContext as Ctx

    ws = con.execute("SELECT getvariable('window_start')").fetchone()[0]
    we = con.execute("SELECT getvariable('window_end')").fetchone()[0]
    dense = det.detect(Ctx(con, ws, we, "Asia/Shanghai", det.Params(sparse=False)))
    adaptive = {a for cl, m in truth["crews"].items() if "sparse_block" in truth["evasion"][cl] for a in m}
    with_sparse = prf({f.account_id for f in res.findings} & adaptive, adaptive)[1]
    without = prf({f.account_id for f in dense.findings} & adaptive, adaptive)[1]
    # measured after all of this session's generator changes: 0.88 with, 0.44 without
    assert with_sparse >= 0.85 and without <= with_sparse - 0.2, (without, with_sparse)


def test_sparse_crew_reasons_and_evidence_name_the_weak_signals(adversarial):
    _, res, truth, _ = adversarial(ADV_SEEDS[0])
    sparse = [c for c in res.clusters if c.evidence.get("method") == "covictims"]
    assert sparse
    for c in sparse:
        bits = c.evidence["sparse_bits"]
        assert set(bits) == {"co_victims", "timing", "payment", "invitations", "cohorts", "dup_texts"}
        assert bits["co_victims"] > 0 and c.evidence["shared_victims"] >= 3
        assert 0 < c.score < 1 and c.loss_estimate is not None and c.summary
    for f in res.findings:
        assert not re.search(r"\b1 (devices|IPs|shops|low ratings|refunds|other accounts)\b", f.reason), f.reason


def test_evaluate_breaks_recall_down_by_evasion(adversarial, tmp_path):
    """``abuse.evaluate.by_evasion``: recall per tactic over the crews using it, precision
    of their clusters; crews of the default mode count as 'none'."""
    from abuse.evaluate import by_evasion

    _, res, truth, out = adversarial(ADV_SEEDS[0])
    rows = list(csv.DictReader((out / "truth" / "accounts.csv").open()))
    flagged = [(f.account_id, f.pattern, f.cluster_key) for f in res.findings]
    clusters = [(c.cluster_key, c.pattern, c.account_ids, c.shop_ids) for c in res.clusters]
    table = by_evasion(rows, flagged, clusters)["extortion_ring"]
    assert {"none", "sparse_block", "no_shared_ids"} <= set(table)
    for tactic, r in table.items():
        accs = {
            x["account_id"]
            for x in rows
            if x["pattern"] == "extortion_ring"
            and (tactic in x["evasion"].split(";") or (tactic == "none" and not x["evasion"]))
        }
        assert r["accounts"] == len(accs)
        assert r["recall"] == round(len(accs & {a for a, *_ in flagged}) / len(accs), 4)
    # a detector that misses every adaptive crew shows it in exactly those rows
    only_dense = [
        f
        for f in flagged
        if truth["evasion"].get(next((cl for cl, m in truth["crews"].items() if f[0] in m), ""), "") == ""
    ]
    t2 = by_evasion(rows, only_dense, clusters)["extortion_ring"]
    assert t2["sparse_block"]["recall"] == 0 and t2["none"]["recall"] == table["none"]["recall"]


# --------------------------------------------------------------------------- victims
def _members_per_victim(con, truth) -> dict[tuple[str, str], int]:
    """(crew, victim) -> how many of the crew's members posted a low rating there."""
    member = pl.DataFrame(
        [(a, cl) for cl, m in truth["crews"].items() for a in m],
        schema={"account_id": pl.Utf8, "cluster": pl.Utf8},
        orient="row",
    )
    con.register("_crew", member.to_arrow())
    try:
        rows = con.execute("""
            SELECT c.cluster, r.shop_id, count(DISTINCT r.account_id)
            FROM stg_reviews r JOIN _crew c USING (account_id)
            WHERE r.rating <= 2 AND r.created_at >= getvariable('window_start')
              AND r.created_at < getvariable('window_end')
            GROUP BY ALL""").fetchall()
    finally:
        con.unregister("_crew")
    return {(cl, s): n for cl, s, n in rows if (cl, s) in truth["crew_shops"]}


@pytest.mark.parametrize("seed", ADV_SEEDS)
def test_victims_hit_by_a_single_member_are_named(adversarial, seed):
    """Adaptive crews leave many victims with a single attacker: a ring's victims are the
    shops where its members' hostility is beyond the shop's own base rate, not only the
    shops two members hit. Each victim comes with the figures behind it."""
    con, res, truth, _ = adversarial(seed)
    assert any("lone_victims" in e for e in truth["evasion"].values())  # the adversary is there
    per = _members_per_victim(con, truth)
    lone = {s for (c, s), n in per.items() if n == 1 and c not in _scattered(truth)}  # that crew: its own test
    assert len(lone) >= 5, len(lone)
    named = {s for c in res.clusters for s in c.shop_ids}
    assert len(named & lone) / len(lone) >= 0.85, (len(named & lone), len(lone))
    for c in res.clusters:
        ev = {v["shop_id"]: v for v in c.evidence["victims"]}
        assert set(c.shop_ids) == set(ev)
        for v in ev.values():
            assert 0 < v["base_rate"] < 1 and v["members_hostile"] >= 1 and v["surprise"] > 0
            assert v["members_bought"] >= v["members_hostile"]


def test_a_shop_with_a_genuine_quality_problem_is_not_named_a_victim():
    """A ring member who also complains at a shop that many unrelated buyers complain about
    (a genuine quality problem) does not make that shop a victim; its lone hits on quiet
    shops are named."""
    con, ws, we, truth = toy(2, ring=10, targets=15, sparse=True)
    for i, a in enumerate(sorted(truth["ring"])[:3]):  # ring members at the bad seller
        con.execute(
            "INSERT INTO stg_orders (order_id, account_id, shop_id, amount, created_at) VALUES (?, ?, 's0000', 40, ?)",
            [f"ox{i}", a, T0 + timedelta(days=5 + i)],
        )
        con.execute(
            "INSERT INTO stg_reviews (review_id, order_id, account_id, shop_id, rating, "
            "created_at, action, text) VALUES (?, ?, ?, 's0000', 1, ?, 'posted', 'bad')",
            [f"rx{i}", f"ox{i}", a, T0 + timedelta(days=6 + i)],
        )
    res = run(con, ws, we)
    named = {s for c in res.clusters for s in c.shop_ids}
    assert "s0000" not in named and "s0001" not in named
    assert named <= truth["ring_shops"]
    hit = con.execute("""SELECT shop_id FROM stg_reviews WHERE account_id LIKE 'ring%'
                         AND rating = 1 AND shop_id <> 's0000' GROUP BY 1""").fetchall()
    assert len(named) >= 0.9 * len(hit), (len(named), len(hit))


def test_benjamini_hochberg_keeps_more_when_most_candidates_are_real():
    """Victims are named by stats.step_up over the shops' p-values (as surprises)."""
    import numpy as np

    from abuse import stats

    def bh(p, q):
        return stats.step_up(-np.log10(np.asarray(p, dtype=float)), q)

    mostly_real = [0.001, 0.01, 0.02, 0.03, 0.04, 0.06, 0.5]
    assert bh(mostly_real, 0.1).tolist() == [True] * 6 + [False]
    mostly_noise = [0.03, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert not bh(mostly_noise, 0.1).any()
    assert bh([], 0.1).tolist() == []


def test_ring_reasons_read_well(adversarial):
    _, res, _, _ = adversarial(ADV_SEEDS[1])
    texts = [f.reason for f in res.findings] + [c.summary for c in res.clusters]
    for t in texts:
        assert not re.search(
            r"\b1 (devices|IPs|shops|low ratings|refunds|other accounts|"
            r"members|attacks|compensations)\b",
            t,
        ), t
        assert "pair" not in t, t  # no raw pair counts
    assert all("other account" in f.reason for f in res.findings)


def test_evaluate_scores_victims_over_the_ones_a_member_attacked(tmp_path):
    """A planted target that no member got to is left out of the attacked-victim recall."""
    from abuse.evaluate.window import attacked_victim_recall

    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "ring_shops.csv").write_text("cluster,shop_id\nR,s1\nR,s2\nR,s3\nR,s4\n")
    (truth / "accounts.csv").write_text(
        "account_id,pattern,cluster,role\nm1,extortion_ring,R,member\nm2,extortion_ring,R,member\nx,,,\n"
    )
    db = tmp_path / "abuse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE SCHEMA report; CREATE TABLE report.runs AS SELECT "
            "TIMESTAMPTZ '2026-06-01 00:00:00+00' AS window_start, "
            "TIMESTAMPTZ '2026-07-01 00:00:00+00' AS window_end, now() AS started_at"
        )
    with duckdb.connect(str(tmp_path / "abuse.work.duckdb")) as con:
        con.execute(
            "CREATE TABLE stg_reviews (account_id VARCHAR, shop_id VARCHAR, rating INT, created_at TIMESTAMPTZ)"
        )
        con.execute(
            "INSERT INTO stg_reviews VALUES ('m1', 's1', 1, '2026-06-05 00:00:00+00'), "
            "('m2', 's2', 5, '2026-06-05 00:00:00+00'), ('x', 's3', 1, '2026-06-05 00:00:00+00'),"
            "('m2', 's4', 2, '2026-05-05 00:00:00+00')"
        )  # s4: before the window
        con.execute("CREATE TABLE stg_refunds (account_id VARCHAR, shop_id VARCHAR, requested_at TIMESTAMPTZ)")
        con.execute("INSERT INTO stg_refunds VALUES ('m2', 's2', '2026-06-06 00:00:00+00')")
    scores: dict = {}
    attacked_victim_recall(db, truth, scores, [("c", "extortion_ring", ["m1"], ["s1", "s3"])])
    assert scores["extortion_ring"]["victims_attacked"] == 2  # s1 (low rating), s2 (refund)
    assert scores["extortion_ring"]["victim_shop_recall_attacked"] == 0.5


@pytest.mark.parametrize("seed", [0, 1])
def test_scattered_crew_over_small_shops_is_found_and_copycats_at_a_bad_seller_spared(seed):
    """A crew whose members hit one or two of 300 small shops each (no two members share a
    victim often enough for the co-victim search) is linked by its script (threats in four
    languages, amounts varied) and its victims' quiet base rate; buyers who copy one demanding
    template at a bad seller, whose shops draw many complaints, are not a crew."""
    con, ws, we, truth = toy(seed, ring=0, scattered=24)
    res = run(con, ws, we)
    flagged = {f.account_id for f in res.findings}
    p, r, _ = prf(flagged, truth["scattered"])
    assert p >= 0.95 and r >= 0.6, (p, r, sorted(flagged - truth["scattered"]))
    assert not flagged & truth["lookalike"], sorted(flagged & truth["lookalike"])
    crews = [c for c in res.clusters if c.evidence.get("method") == "scattered"]
    assert crews and all(c.evidence["scatter_bits"] >= 3.0 for c in crews)
    assert "linked by texts, identifiers or victims" in crews[0].summary
    without = {f.account_id for f in run(con, ws, we, scattered=False).findings}
    assert len(without & truth["scattered"]) < 0.5 * len(truth["scattered"])  # what finds them is this step


# --------------------------------------------------------------------------- member habits
def _habit_world(seed: int):
    """Hostile edges (the columns the sparse member test reads) of a background of hostile
    buyers (a third of their complaints ask for money), a crew of 10 hitting 6 of 20 quiet
    victims each and asking for money on every one, and 4 genuine complainers who meet the
    crew on 4 of those victims among 8 complaints and never ask for money."""
    rng = random.Random(seed)
    shops = [f"s{i:04d}" for i in range(600)]
    rows = []

    def hit(a, s, extorting):
        rows.append((a, s, int(extorting and rng.random() < 0.5), int(extorting), 0))

    for i in range(1500):
        for s in rng.sample(shops[20:], rng.choice([1, 1, 1, 2, 3])):
            hit(f"bg{i}", s, rng.random() < 1 / 3)
    victims = shops[:20]
    crew = {f"crew{i}" for i in range(10)}
    for a in sorted(crew):
        for s in rng.sample(victims, 6):
            hit(a, s, True)
    genuine = {f"genuine{i}" for i in range(4)}
    for a in sorted(genuine):
        for s in rng.sample(victims, 4) + rng.sample(shops[20:], 4):
            hit(a, s, False)
    e = pl.DataFrame(
        rows, schema=["account_id", "shop_id", "n_comp_words", "n_comp", "n_reversed"], orient="row"
    ).with_columns(d=pl.len().over("account_id"))
    return e, crew, genuine


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_members_pay_for_a_habit_unlike_the_crews(seed):
    """A complainer whose hits on a crew's quiet victims are as improbable as a member's, but
    who asks for money on almost none of its complaints while the crew does on nearly all,
    is not a member: its low extorting rate, judged by the likelihood of its count under the
    crew's rate vs the base rate of hostile accounts, is a deficit in its evidence. The crew's
    members stay; without the deficit the complainers join."""
    from abuse.detect.rings import members

    e, crew, genuine = _habit_world(seed)
    shop_h = e.group_by("shop_id").agg(pl.len().alias("h_s"))
    # the community the links gave: most of the crew and a complainer it met
    comm = pl.DataFrame({"account_id": [*sorted(crew)[:6], "genuine0"], "g": [0] * 7})
    inv = pl.DataFrame(schema={"a": pl.Utf8, "b": pl.Utf8})
    kw = dict(hub_cap=200, invite_bits=2.0, min_member_bits=2.5, min_members=3, merge_bits=6.0)

    def grown(habit: bool) -> set:
        got = members.grow_members(e, comm, shop_h, inv, float(e.height), habit=habit, **kw)
        return set(got["account_id"])

    with_habit = grown(True)
    p, r, _ = prf(with_habit, crew)
    assert p == 1.0 and r >= 0.9, (p, r, sorted(with_habit - crew))
    without = grown(False)
    assert without & genuine, sorted(without)  # the test can fail: what spares them is the habit
    assert prf(without, crew)[0] < 1.0


# --------------------------------------------------------------------------- lone extorters
def _lone_edges(seed: int, crew: int, generous: int = 30, honest: int = 600) -> pl.DataFrame:
    """Paid low-review edges: honest buyers who get money beyond a refund (``p=0.06``) and
    revise the review once paid (``p=0.03``) independently, each at a shop of its own among
    200; a generous seller whose ``generous`` unhappy buyers mostly get a compensation and
    revise (both acts common there, so together too); a loud complainer who does both on
    most of its eight shops; and ``crew`` members, one shop each, doing both."""
    rng = random.Random(seed)
    rows = []

    def edge(acc, shop, comp, rev, over=False):
        rows.append(
            dict(account_id=acc, shop_id=shop, n_orders_all=1, n_low=1, n_refund_paid=1, n_comp_paid=int(comp),
                 n_comp=int(comp), n_comp_words=0, refund_paid=50.0, comp_paid=80.0 if over else 0.0,
                 spent_all=50.0, n_reversed_after_pay=int(rev))
        )  # fmt: skip

    for i in range(honest):
        edge(f"h{i}", f"s{rng.randrange(200)}", rng.random() < 0.06, rng.random() < 0.03)
    for i in range(generous):
        edge(f"g{i}", "generous", rng.random() < 0.7, rng.random() < 0.6)
    for k in range(8):
        edge("loud", f"loud{k}", rng.random() < 0.8, rng.random() < 0.7)
    for i in range(crew):
        edge(f"c{i}", f"victim{i}", True, True, over=rng.random() < 0.5)
    return pl.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lone_extorters_are_their_script_beyond_what_the_shops_and_accounts_explain(seed):
    """Crew members who share nothing, one shop each, are found by the conjunction of money
    beyond a refund and the review reversed once paid, measured against each act's rate at
    the edge's shop and account: the generous seller's buyers and the loud complainer, whose
    own rates explain their conjunctions, are spared; without a crew nothing is reported.
    Honest buyers whose one edge at a quiet shop carries both acts by chance (about one here)
    are indistinguishable from the crew's: precision is what ``(X - E) / X`` allows."""
    from abuse.detect.rings import lone

    kw = dict(customer_orders=2, prior=20.0, min_odds=4.0, min_members=3, min_bits=6.0)
    found = lone.lone_extorters(_lone_edges(seed, crew=15), set(), **kw)
    assert found is not None
    crew = {f"c{i}" for i in range(15)}
    p, r, _ = prf(set(found.members), crew)
    assert p >= 0.8 and r >= 0.9, (p, r, sorted(set(found.members) - crew))
    assert not {m for m in found.members if m.startswith("g") or m == "loud"}
    assert found.figures["script_edges"] > 3 * found.figures["script_expected"]
    assert lone.lone_extorters(_lone_edges(seed, crew=0), set(), **kw) is None
    # the accounts a ring above holds are not counted again
    assert lone.lone_extorters(_lone_edges(seed, crew=15), crew, **kw) is None


def test_quiet_crew_script_members_found_and_hard_lookalikes_spared(adversarial):
    """The adversarial world's quiet crew (``rings_quiet``: no shared trait, one or two
    victims each, no co-victims) in the zone half an hour off the hour: its members that got
    money beyond a refund and reversed the review once paid are found by that script alone
    (measured 6 of its 12 members, the other crew members in that cluster are the scattered
    crew's); the members with plain refunds only do what honest buyers do and are not
    claimed. The generous seller's and the class's complainers are not flagged."""
    seed = 3
    _, res, truth, out = adversarial(seed)
    rows = [r for r in csv.DictReader((out / "truth" / "accounts.csv").open()) if r["cluster"] == "qring_01"]
    lone = [c for c in res.clusters if c.evidence.get("method") == "lone"]
    assert len(lone) == 1
    got = set(lone[0].account_ids)
    p, _, _ = prf(got, truth["ring"])
    assert p >= 0.9, (p, sorted(got - truth["ring"]))
    script = {r["account_id"] for r in rows if r["role"] in ("script", "script_words")}
    assert len(got & script) >= 0.4 * len(script), (len(got & script), len(script))
    flagged = {f.account_id for f in res.findings}
    hard = {a for a, k in truth["lookalike"].items() if k in ("generous_seller", "class_complaint")}
    assert hard and not flagged & hard, sorted(flagged & hard)
    ev = lone[0].evidence
    assert ev["script_edges"] > ev["script_expected"] and ev["script_act"] in ("compensation", "paid_beyond_price")
    assert "money beyond a refund" in lone[0].summary
    f = next(f for f in res.findings if f.account_id in got)
    assert "expected by chance" in f.reason and f.evidence["ring"]["method"] == "lone"


def test_lone_script_is_silent_where_honest_buyers_settle_and_revise(adversarial):
    """Seed 1 (Shanghai): its quiet crew is small against the honest conjunctions of that
    world (generous sellers, loud complainers, goodwill compensations): the lone test stays
    below its bar rather than sweep up honest buyers, and no hard look-alike is flagged."""
    _, res, truth, _ = adversarial(ADV_SEEDS[0])
    flagged = {f.account_id for f in res.findings}
    lone = [c for c in res.clusters if c.evidence.get("method") == "lone"]
    assert all(len(set(c.account_ids) - truth["ring"]) <= 0.1 * len(c.account_ids) for c in lone)
    hard = {a for a, k in truth["lookalike"].items() if k in ("generous_seller", "class_complaint")}
    assert hard and not flagged & hard, sorted(flagged & hard)


def test_quiet_crew_found_in_its_campaign_weeks_and_class_spared(adversarial):
    """Seed 4 (issue #11): the quiet crew's script conjunctions (money beyond a refund, the
    review reversed once paid) are beyond chance over the whole window too (7.6 bits), but
    spread over all its paid edges the excess made no edge's odds reach the bar, so nobody
    was a member (old main: no lone crew, recall 0.44). Counted in the weeks of the crew's
    campaign (intervals scanned, each paid for) the excess per edge is large enough to name
    them; the class mobilised around one shop (a complaint wave of its own) is not claimed."""
    _, res, truth, out = adversarial(4)
    rows = [r for r in csv.DictReader((out / "truth" / "accounts.csv").open()) if r["cluster"] == "qring_01"]
    lone = [c for c in res.clusters if c.evidence.get("method") == "lone"]
    assert len(lone) == 1
    got = set(lone[0].account_ids)
    assert len(got & {r["account_id"] for r in rows}) >= 5, sorted(got)
    flagged = {f.account_id for f in res.findings}
    p, r, _ = prf(flagged, truth["ring"])
    assert p >= 0.95 and r >= 0.48, (p, r)
    assert not flagged & set(truth["lookalike"]), sorted(flagged & set(truth["lookalike"]))
    acts = lone[0].evidence["script_acts"]
    assert all(a["intervals_tried"] > 1 for a in acts.values())


@pytest.mark.parametrize("seed", [1, 3])
def test_quiet_crew_asks_for_more_than_the_order_cost_and_lookalikes_spared(seed):
    """Issue #11, opt-in (``lone_asked_beyond_price``, ``lone_drop_waves``): the quiet crew (``rings_quiet``: no shared trait, one or two victims each) at
    scale 1. A demand asks for more than the order cost (a compensation of the price or more,
    or a refund of two or three times it); an honest buyer asks for what was paid, a goodwill
    payment is a small fixed sum. Tied to the review reversed once paid, on the same shop,
    that act is far beyond the two acts' own rates, once the complaint waves' shops (a
    generous seller settling with its crowd, a class mobilised at one target) are out of the
    test: their conjunctions are explained there and used to raise every quiet shop's
    expected count. Measured before (main): the lone test found nobody on either seed
    (precision 0.980 / 0.989, recall 0.715 / 0.738); after: 8 of the 13 scripted members on
    seed 1, 10 of 16 on seed 3, precision 0.982 / 0.981, recall 0.781 / 0.817."""
    con, ws, we, out = helpers.staged_world(seed, 1.0, adversarial=True)
    tz = json.loads((out / "truth" / "meta.json").read_text())["tz"]
    res = run(con, ws, we, tz, lone_asked_beyond_price=True, lone_drop_waves=True)
    rows = list(csv.DictReader((out / "truth" / "accounts.csv").open()))
    ring = {r["account_id"] for r in rows if r["pattern"] == "extortion_ring"}
    script = {r["account_id"] for r in rows if r["cluster"] == "qring_01" and r["role"] != "plain"}
    kind = {r["account_id"]: r["lookalike"] for r in csv.DictReader((out / "truth" / "lookalikes.csv").open())}
    flagged = {f.account_id for f in res.findings}
    p, r, _ = prf(flagged, ring)
    assert p >= 0.97 and r >= 0.75, (p, r)
    lone = [c for c in res.clusters if c.evidence.get("method") == "lone"]
    assert len(lone) == 1
    got = set(lone[0].account_ids)
    assert len(got - ring) <= 1, sorted(got - ring)
    assert len(got & script) >= 0.5 * len(script), (len(got & script), len(script))
    acts = lone[0].evidence["script_acts"]
    assert acts["asked_beyond_price"]["script_edges"] > 5 * acts["asked_beyond_price"]["script_expected"]
    hard = {
        a: kind[a] for a in flagged if kind.get(a) in ("generous_seller", "class_complaint", "quality_problem_shop")
    }
    assert not hard, hard
