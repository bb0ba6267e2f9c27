"""coupon_hoarding: unit tests of the pieces on hand-made staged tables, and precision/recall
on a small hand-made world and on generated data (two seeds), against naive rules."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import helpers
import numpy as np
import polars as pl
import pytest

from abuse import stats
from abuse.detect.base import Cluster, DetectContext
from abuse.detect.hoarding import HoardingDetector
from abuse.detect.hoarding import groups as groups
from abuse.schema import KINDS
from abuse.sqlfiles import read_sql, set_variables
from abuse.testing import empty_staged

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 6, 1, tzinfo=CST)
P = HoardingDetector.Params()


# --------------------------------------------------------------------------- a toy world
class World:
    """Rows for every stg_* table, built by small scenario helpers."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.rows: dict[str, list[dict]] = {k: [] for k in KINDS}
        self.n = 0
        self.truth: dict[str, set[str]] = {}

    def nid(self, p: str) -> str:
        self.n += 1
        return f"{p}{self.n:07d}"

    def account(self, aid, reg, device=None, ip=None, phone=None, inviter=None, group=None):
        r = self.rng
        phone = phone or f"{r.choice(['138', '139', '186', '150'])}{r.randint(0, 9999):04d}"
        self.rows["accounts"].append(
            dict(
                account_id=aid,
                registered_at=reg,
                phone_prefix=phone,
                phone_hash=f"h_{aid}",
                device_id=device or f"d_{aid}",
                ip=ip or f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
                channel="app",
                invited_by=inviter,
            )
        )
        if group:
            self.truth.setdefault(group, set()).add(aid)

    def order(self, aid, ts, amount, discount=0.0, coupon=None, addr=None, device=None, item=None):
        oid = self.nid("o")
        self.rows["orders"].append(
            dict(
                order_id=oid,
                account_id=aid,
                shop_id=f"s{self.rng.randint(1, 50)}",
                item_id=item,
                amount=amount,
                discount=discount,
                coupon_id=coupon,
                created_at=ts,
                device_id=device,
                ip=None,
                ship_addr_hash=addr or f"addr_{aid}",
                status="completed",
            )
        )
        return oid

    def coupon(self, aid, camp, delay, use="human", addr=None, device=None, ip=None, item=None, after_h=(1, 48)):
        c = self.campaigns[camp]
        cid, ts = self.nid("c"), c["released_at"] + timedelta(seconds=delay)
        self.event(camp, cid, aid, "claim", ts, None, device, ip)
        if use == "unused":
            return
        t2 = ts + timedelta(hours=self.rng.uniform(*after_h))
        gross = c["threshold"] + (
            0 if use in ("threshold", "loop") else 3 if use == "near" else self.rng.uniform(5, 150)
        )
        oid = self.order(aid, t2, gross - c["face_value"], c["face_value"], cid, addr, device, item)
        self.event(camp, cid, aid, "redeem", t2, oid, device, ip)
        if use == "loop":
            self.event(camp, cid, aid, "return", t2 + timedelta(hours=2), oid, device, ip)
            o2 = self.order(aid, t2 + timedelta(hours=3), 1.0, c["face_value"], cid, addr, device)
            self.event(camp, cid, aid, "redeem", t2 + timedelta(hours=3), o2, device, ip)

    def event(self, camp, cid, aid, action, ts, oid, device, ip):
        self.rows["coupon_events"].append(
            dict(
                event_id=self.nid("e"),
                campaign_id=camp,
                coupon_id=cid,
                account_id=aid,
                action=action,
                ts=ts,
                order_id=oid,
                device_id=device,
                ip=ip,
            )
        )

    def activity(self, aid, ts, action="view", dur=None):
        self.rows["activity"].append(
            dict(
                event_id=self.nid("v"),
                account_id=aid,
                ts=ts,
                action=action,
                session_id=self.nid("s"),
                duration_s=dur if dur is not None else self.rng.uniform(20, 900),
                target_id=None,
                device_id=None,
                ip=None,
            )
        )

    def staged(self) -> duckdb.DuckDBPyConnection:
        con = empty_staged("Asia/Shanghai")
        for kind in KINDS:
            rows = self.rows[kind]
            if rows:
                con.register("_t", pl.DataFrame(rows, infer_schema_length=None).to_arrow())
                con.execute(f"INSERT INTO stg_{kind} BY NAME SELECT * FROM _t")
                con.unregister("_t")
        set_variables(con, window_start=T0, window_end=T0 + timedelta(days=30))
        return con


def toy_world(seed: int = 0, n_people: int = 1200) -> World:
    w, r = World(seed), random.Random(seed)
    w.campaigns = {
        f"C{i}": dict(
            campaign_id=f"C{i}",
            name=f"c{i}",
            face_value=20.0,
            threshold=100.0,
            released_at=T0 + timedelta(days=4 + 6 * i, hours=20),
            per_account_limit=1,
            total_quota=10000,
        )
        for i in range(4)
    }
    w.rows["campaigns"] = list(w.campaigns.values())

    def person(aid, reg=None, claim_p=0.4, flash=False, **kw):
        w.account(aid, reg or T0 - timedelta(days=r.uniform(2, 600), hours=r.gauss(0, 4)), **kw)
        for _ in range(r.randint(1, 6)):
            w.order(aid, T0 + timedelta(days=r.uniform(0, 30)), r.uniform(10, 300))
        for _ in range(r.randint(2, 12)):
            w.activity(aid, T0 + timedelta(days=r.uniform(0, 30)))
        for camp in w.campaigns:
            if flash and camp == "C1":  # quick fingers: many within seconds, often unused
                w.coupon(aid, camp, r.lognormvariate(1.8, 0.8), r.choice(["human", "unused"]))
            elif r.random() < claim_p / 2:
                w.coupon(aid, camp, r.expovariate(1 / 20000), r.choice(["human"] * 3 + ["unused"]))

    for i in range(n_people):
        person(f"p{i:05d}", flash=i < 150, group="flash_sale_crowd" if i < 150 else None)
    for i in range(120):  # campus NAT: one IP for hundreds of students, half racing C1
        person(f"campus{i}", ip="202.112.1.1", flash=i < 60, group="campus_nat")
    reg = T0 + timedelta(days=2, hours=20)
    for i in range(200):  # a popular referrer's wave of real invitees
        person(
            f"ref{i}",
            reg=reg + timedelta(minutes=r.uniform(0, 90)),
            claim_p=0.8,
            inviter="p00999",
            group="referral_burst",
        )
    for h in range(6):  # households: one tablet, one address
        for j in range(3):
            person(f"house{h}_{j}", device=f"tablet{h}", group="household")
    batch(w, "fast", 80, devices=4, spread_min=10, delay=(0.3, 3), seed=seed)
    batch(w, "stealth", 60, devices=20, spread_min=3 * 1440, delay=(1, 6), seed=seed + 1)
    return w


def batch(w, name, n, devices, spread_min, delay, seed):
    r = random.Random(seed)
    start = T0 - timedelta(days=r.uniform(1, 5))
    block = f"170{r.randint(1000, 9999)}"
    for i in range(n):
        aid, dev = f"{name}{i:04d}", f"rig_{name}_{i % devices}"
        ip = f"45.77.{r.randint(0, 2)}.{r.randint(1, 254)}"
        w.account(
            aid,
            start + timedelta(minutes=r.uniform(0, spread_min)),
            device=dev,
            ip=ip,
            phone=block,
            group=f"batch_{name}",
        )
        for _ in range(r.randint(0, 4)):
            w.activity(aid, T0 + timedelta(days=r.uniform(0, 30)), "lottery_spin", dur=1.0)
        for camp in w.campaigns:
            use = r.choice(["unused", "unused", "threshold", "loop"])
            w.coupon(
                aid,
                camp,
                r.uniform(*delay),
                use,
                addr=f"drop_{name}_{i % 2}",
                device=dev,
                ip=f"45.77.{r.randint(0, 2)}.{r.randint(1, 254)}",
            )


def run(con) -> tuple[set[str], list]:
    ctx = DetectContext(con, T0, T0 + timedelta(days=30), "Asia/Shanghai", P)
    res = HoardingDetector().detect(ctx)
    return {f.account_id for f in res.findings}, res


# --------------------------------------------------------------------------- unit tests
def test_binomial_tail_is_monotone_and_tiny_for_pure_groups():
    lp = -stats.surprise_binom(np.array([1, 5, 50, 2000]), np.array([10, 10, 50, 2000]), 0.1)
    assert lp[0] > lp[1] > lp[2] > lp[3]
    assert lp[3] < -1000  # no underflow to -inf / 0
    assert -stats.surprise_binom(np.array([30]), np.array([300]), 0.1)[0] > -1  # a hub at base rate


def test_identifier_links_only_when_its_sharers_beat_the_base_rate():
    claimers = pl.DataFrame(
        {"account_id": [f"a{i}" for i in range(400)], "susp": [i < 40 or i >= 396 for i in range(400)]}
    )
    ids = [("rig", range(30), 30), ("nat", range(100, 396), 300), ("nat2", range(396, 400), 300)]
    edges = pl.DataFrame(
        [(f"a{i}", "ip", v, df) for v, r, df in ids for i in r],
        schema=["account_id", "kind", "value", "df"],
        orient="row",
    )
    out = {r["value"]: r["links"] for r in groups.link_identifiers(edges, claimers, P).to_dicts()}
    # a rig links; a NAT at the base rate does not, nor one whose 4 claimers are quick but
    # whose 296 other accounts are ordinary people who never claimed
    assert out == {"rig": True, "nat": False, "nat2": False}


def test_features_on_hand_made_tables():
    w = toy_world(seed=3, n_people=300)
    con = w.staged()
    from abuse.detect.hoarding.features import claimers

    df = claimers(con, P)
    fast = df.filter(pl.col("account_id").is_in(list(w.truth["batch_fast"])))
    assert len(fast) == 80 and fast["fast"].all() and fast["thin"].all()
    assert fast["burst"].mean() > 0.9  # 80 sign-ups in 10 minutes
    assert fast["refund_loop"].sum() == (fast["n_reredeems"] > 0).sum() > 0
    assert fast["n_at_threshold"].sum() > 0
    people = df.filter(
        pl.col("account_id").str.starts_with("p0") & ~pl.col("account_id").is_in(list(w.truth["flash_sale_crowd"]))
    )
    assert people["susp"].mean() < 0.02 and people["fast"].mean() < 0.02


def test_registration_bursts_against_the_daily_rhythm():
    w = World(0)
    for d in range(20):  # five sign-ups every evening at 20:0x, one night of 40 at 03:0x
        for i in range(5):
            w.account(f"e{d}_{i}", T0 - timedelta(days=d + 1) + timedelta(hours=20, minutes=i))
    for i in range(40):
        w.account(f"n{i}", T0 - timedelta(days=3) + timedelta(hours=3, seconds=10 * i))
    con = w.staged()
    rows = {r[0][:2]: r[1:] for r in con.sql(read_sql("features/hoarding_registration_bursts.sql")).fetchall()}
    evening, night = rows["e1"], rows["n1"]
    assert evening[1] == 5 and abs(evening[2] - 5) < 0.5  # busy slot, as usual: no burst
    assert night[1] == 40 and night[2] < 0.1


def test_empty_tables_give_no_findings():
    w = World(0)
    w.campaigns = {}
    found, res = run(w.staged())
    assert not found and not res.clusters


@pytest.mark.parametrize("seed", [1, 2])
def test_toy_world_precision_recall_and_lookalikes(seed):
    w = toy_world(seed)
    found, res = run(w.staged())
    bad = w.truth["batch_fast"] | w.truth["batch_stealth"]
    benign = set().union(*(w.truth[g] for g in ("flash_sale_crowd", "campus_nat", "referral_burst", "household")))
    assert len(found & bad) / max(len(found), 1) >= 0.95
    assert len(found & bad) / len(bad) >= 0.9
    assert not found & benign
    for key in ("batch_fast", "batch_stealth"):
        best = max(len(set(c.account_ids) & w.truth[key]) for c in res.clusters)
        assert best >= 0.5 * len(w.truth[key])
    per_device = Counter(a["device_id"] for a in w.rows["accounts"])  # naive: >= 5 per device
    naive = {a["account_id"] for a in w.rows["accounts"] if per_device[a["device_id"]] >= 5}
    assert len(naive & bad) / len(bad) < len(found & bad) / len(bad) - 0.25
    for c in res.clusters:  # loss: face value of every redemption, re-redemptions included
        redeems = [
            e for e in w.rows["coupon_events"] if e["action"] == "redeem" and e["account_id"] in set(c.account_ids)
        ]
        assert c.loss_estimate == pytest.approx(20.0 * len(redeems)) and c.shop_ids is None
        assert c.evidence["campaigns"] and "C1" in c.summary
    f = res.findings[0]
    assert "% of" in f.reason and "within 10 s of release" in f.reason and f.evidence["tells"]
    assert all(f.cluster_key in {c.cluster_key for c in res.clusters} for f in res.findings)


# --------------------------------------------------------------------------- generated data
def score_against_truth(found: set[str], clusters: list, truth_dir: Path) -> dict:
    """Account precision/recall, share of planted batches with >= half their members in one
    cluster, and benign look-alike groups with any flagged member."""
    acc = pl.read_csv(truth_dir / "accounts.csv", infer_schema_length=0)
    acc = acc.filter(pl.col("pattern") == "coupon_hoarding")
    bad = set(acc["account_id"])
    look = pl.read_csv(truth_dir / "lookalikes.csv", infer_schema_length=0)
    tp = len(found & bad)
    batches = acc.group_by("cluster").agg(pl.col("account_id"))
    recovered = sum(
        max((len(set(c.account_ids) & set(m)) for c in clusters), default=0) >= 0.5 * len(m)
        for m in batches["account_id"].to_list()
    )
    hit = look.filter(pl.col("account_id").is_in(list(found)))
    return {
        "precision": tp / max(len(found), 1),
        "recall": tp / max(len(bad), 1),
        "batches": len(batches),
        "recovered": recovered / max(len(batches), 1),
        "lookalike_groups_flagged": hit.select("lookalike", "group").unique().height,
        "flagged": len(found),
    }


def naive_device_rule(con, min_accounts: int = 5) -> tuple[set[str], list[Cluster]]:
    """Every claimer whose registration device carries >= 5 accounts; a cluster per device."""
    rows = con.sql(f"""
        SELECT a.device_id, list(a.account_id) AS ids
        FROM stg_accounts a
        WHERE a.device_id IN (SELECT device_id FROM stg_accounts GROUP BY device_id
                              HAVING count(*) >= {min_accounts})
          AND a.account_id IN (SELECT account_id FROM stg_coupon_events WHERE action = 'claim')
        GROUP BY a.device_id
    """).fetchall()
    clusters = [Cluster(str(d), "naive", list(ids), 1.0, "") for d, ids in rows]
    return {a for c in clusters for a in c.account_ids}, clusters


def naive_fast_rule(con, seconds: float = 10.0) -> set[str]:
    """Every account that claimed a coupon within ``seconds`` of its campaign's release."""
    return set(
        con.sql(f"""
        SELECT DISTINCT e.account_id
        FROM stg_coupon_events e JOIN stg_campaigns c USING (campaign_id)
        WHERE e.action = 'claim' AND e.ts >= getvariable('window_start')
          AND epoch(e.ts) - epoch(c.released_at) BETWEEN 0 AND {seconds}
    """)
        .fetchnumpy()["account_id"]
        .tolist()
    )


GENERATED_SCALE = 0.3


@pytest.fixture(scope="module", params=[1, 2])
def generated(request):
    con, ws, we, out = helpers.staged_world(request.param, GENERATED_SCALE)  # shared with test_engagement's
    return con, ws, we, out / "truth"


def test_generated_precision_recall_beats_naive_rules(generated):
    con, ws, we, truth = generated
    res = HoardingDetector().detect(DetectContext(con, ws, we, "Asia/Shanghai", P))
    m = score_against_truth({f.account_id for f in res.findings}, res.clusters, truth)
    assert m["batches"] > 0 and meets_bar(m), m
    # Naive rules miss the bar: ">= 5 accounts per device" (a cluster per device) splits
    # batches over their rigs' devices and flags households; "claimed within 10 s of
    # release" has no clusters and takes in the quickest of the flash-sale crowd.
    found, clusters = naive_device_rule(con)
    for naive in (score_against_truth(found, clusters, truth), score_against_truth(naive_fast_rule(con), [], truth)):
        assert not meets_bar(naive), naive


def meets_bar(m: dict) -> bool:
    return (
        m["precision"] >= 0.95 and m["recall"] >= 0.9 and m["recovered"] >= 0.9 and m["lookalike_groups_flagged"] == 0
    )


# --------------------------------------------------------------------------- maintained crews
def maintained_world(seed: int) -> World:
    """The toy world plus a maintained crew (own device, own IP and number per account, alive
    with plain orders and browsing, claims spread over ten minutes, redemptions over days on
    two resale items at or just above the threshold, six drop addresses) and the look-alikes
    it must not drag in: deal hunters racing every release (three of them even bought the
    crew's item near the threshold), a procurement team on one address buying one item."""
    w, r = toy_world(seed, n_people=900), random.Random(seed + 7)
    for i in range(60):
        aid = f"kept{i:03d}"
        w.account(aid, T0 - timedelta(days=r.uniform(20, 150)), group="maintained")
        for _ in range(r.randint(1, 3)):
            w.order(aid, T0 + timedelta(days=r.uniform(0, 30)), r.uniform(10, 300), addr=f"drop{i % 6}")
        for _ in range(r.randint(2, 6)):
            w.activity(aid, T0 + timedelta(days=r.uniform(0, 30)))
        for camp in ("C2", "C3"):
            w.coupon(
                aid,
                camp,
                r.uniform(5, 600),
                "threshold" if r.random() < 0.7 else r.choice(["near", "unused"]),
                addr=f"drop{i % 6}",
                item=r.choice(["gift_A", "gift_B"]),
                after_h=(6, 120),
            )
    for i in range(30):
        aid = f"hunter{i:02d}"
        w.account(aid, T0 - timedelta(days=r.uniform(100, 600)), group="deal_hunter")
        for _ in range(r.randint(3, 8)):
            w.order(aid, T0 + timedelta(days=r.uniform(0, 30)), r.uniform(10, 300))
        for camp in w.campaigns:
            crew_item = i < 3 and camp == "C2"
            w.coupon(
                aid,
                camp,
                r.lognormvariate(2.3, 0.8),
                "near" if crew_item else r.choice(["human", "human", "unused", "threshold"]),
                item="gift_A" if crew_item else f"item{r.randint(1, 3000)}",
            )
    for i in range(10):
        aid = f"office{i}"
        w.account(aid, T0 - timedelta(days=r.uniform(100, 600)), group="procurement")
        for camp in ("C2", "C3"):
            if r.random() < 0.8:
                w.coupon(aid, camp, r.uniform(3600, 86400), "human", addr="office_addr", item="paper")
    return w


def test_maintained_crew_is_linked_by_behaviour_and_lookalikes_spared():
    w = maintained_world(4)
    found, res = run(w.staged())
    crew = w.truth["maintained"]
    # nothing ties the crew by identifiers: every device, IP and number is its own
    devices = Counter(a["device_id"] for a in w.rows["accounts"] if a["account_id"] in crew)
    assert max(devices.values()) == 1
    assert len(found & crew) >= 0.9 * len(crew)
    assert not found & (w.truth["deal_hunter"] | w.truth["procurement"])
    bad = crew | w.truth["batch_fast"] | w.truth["batch_stealth"]
    assert len(found & bad) / len(found) >= 0.95
    best = max(res.clusters, key=lambda c: len(set(c.account_ids) & crew))
    assert len(set(best.account_ids) & crew) >= 0.9 * len(crew)
    assert "identical items bought at the threshold" in best.summary


def test_early_claims_count_only_where_racing_is_rare():
    """At a release the whole crowd races (a flash sale), an early claim is no evidence; at
    an ordinary release it is, even where a batch makes up most of the early claimers."""
    from abuse.detect.hoarding import features

    w, r = maintained_world(5), random.Random(9)
    w.campaigns["F"] = dict(
        campaign_id="F",
        name="flash",
        face_value=30.0,
        threshold=199.0,
        released_at=T0 + timedelta(days=20, hours=20),
        per_account_limit=1,
        total_quota=10000,
    )
    w.rows["campaigns"].append(w.campaigns["F"])
    for i in range(300):  # 240 race the flash sale within a minute, 60 come hours later
        w.account(f"flashbuyer{i}", T0 - timedelta(days=r.uniform(30, 600)))
        w.coupon(f"flashbuyer{i}", "F", r.uniform(1, 60) if i < 240 else r.uniform(2e4, 8e4))
    con = w.staged()
    edges, _ = features.identifiers(con)
    df = features.claimers(con, P, edges)
    crew = df.filter(pl.col("account_id").is_in(sorted(w.truth["maintained"])))
    racers = df.filter(pl.col("account_id").is_in([f"flashbuyer{i}" for i in range(240)]))
    assert crew["early"].mean() > 0.95
    assert racers.height == 240 and not racers["early"].any()
    # the tell is measured, not assumed: with a bar no release passes, nobody is early
    strict = features.claimers(con, P.model_copy(update={"early_max_share": 0.01}), edges)
    assert not strict.filter(pl.col("account_id").is_in(crew["account_id"].implode()))["early"].any()


ADV_SCALE = 0.5  # the worlds test_rings's adversarial tests read


@pytest.fixture(scope="module", params=[(1, "Asia/Shanghai"), (3, "Asia/Kolkata")], ids=["seed1", "seed3-kolkata"])
def adversarial(request):
    """``generate --adversarial``: maintained crews beside the default batches, and the
    cafe, work-phone, procurement and deal-hunter look-alikes."""
    seed, tz = request.param
    con, ws, we, out = helpers.staged_world(seed, ADV_SCALE, adversarial=True, tz=tz)
    res = HoardingDetector().detect(DetectContext(con, ws, we, tz, P))
    return con, res, out / "truth"


def test_adversarial_crews_found_and_lookalikes_spared(adversarial):
    con, res, truth = adversarial
    m = score_against_truth({f.account_id for f in res.findings}, res.clusters, truth)
    acc = pl.read_csv(truth / "accounts.csv", infer_schema_length=0)
    kept = acc.filter(pl.col("cluster").str.starts_with("maintained"))
    assert kept.height and kept["evasion"].str.contains("clean_devices").all()
    looks = set(pl.read_csv(truth / "lookalikes.csv", infer_schema_length=0)["lookalike"])
    assert {"internet_cafe", "shared_work_phone", "procurement_accounts", "deal_hunter"} <= looks
    assert meets_bar(m), m
    # the maintained crews share no registration device among themselves
    shared = con.sql(f"""SELECT count(*) FROM (SELECT device_id FROM stg_accounts
        WHERE account_id IN {tuple(kept["account_id"])} GROUP BY 1 HAVING count(*) > 1)""")
    assert shared.fetchone()[0] == 0


def test_reasons_are_one_plain_sentence(adversarial):
    _, res, _ = adversarial
    texts = [c.summary for c in res.clusters] + [f.reason for f in res.findings]
    assert texts
    for t in texts:
        assert t[0].isupper() and t.endswith(".") and not re.search(r"[.;:] [A-Z]", t), t
        depth = 0
        for ch in t:  # no parentheses inside parentheses
            depth += {"(": 1, ")": -1}.get(ch, 0)
            assert 0 <= depth <= 1, t
        assert not re.search(r"\b1 (accounts|devices|campaigns|addresses|claimers|items)\b", t), t
        assert "vs " not in t  # base rates as words: "against 3% of its 812 other claimers"
        for n in re.findall(r"against [\d.]+% of its (\d+) other claimers", t):
            assert int(n) >= 30, t  # no base rate quoted from a tiny sample


def test_a_redemption_shipped_to_the_batchs_drop_address_ties_a_quiet_claimer():
    """A claimer with nothing suspicious of its own, tied to a batch only by the batch's drop
    address, joins it when it redeemed a coupon of the batch's campaigns (the value went to the
    batch's address); one that only claimed does not (a single tie is no batch)."""
    core = [f"c{i}" for i in range(10)]
    ordinary = [f"o{i}" for i in range(200)]
    ids = [*core, "redeemer", "claimer", *ordinary]
    claimers = pl.DataFrame(
        {
            "account_id": ids,
            "susp": [a in core for a in ids],
            "early": [False] * len(ids),
            "n_redeems": [0 if a in ("claimer", *ordinary) else 1 for a in ids],
        }
    )
    holders = [*core, "redeemer", "claimer"]
    edges = pl.DataFrame(
        [(a, "address", "drop", len(holders)) for a in holders] + [(a, "device", "rig", len(core)) for a in core],
        schema=["account_id", "kind", "value", "df"],
        orient="row",
    )
    use = pl.DataFrame({"account_id": ids, "campaign_id": ["C1"] * len(ids)})
    idents = groups.link_identifiers(edges, claimers, P)
    members = groups.batches(edges, idents, claimers, P, use)
    roles = dict(zip(members["account_id"], members["role"]))
    assert {a for a, r in roles.items() if r == "core"} == set(core)
    assert roles.get("redeemer") == "attached" and "claimer" not in roles, roles
