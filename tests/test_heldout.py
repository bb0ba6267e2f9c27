"""The detectors on a held-out data set they were never tuned on (tests/heldout/, written from
the contract and the threat descriptions alone): one seed, the whole nightly run, scored with
``abuse.evaluate``. Floors sit a little under what the detectors reach on seed 1; the strict
xfails document the gaps measured there, so they fail loudly once a gap closes."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from heldout.make_heldout import AS_OF, TZ, build

from abuse.evaluate import evaluate
from abuse.pipeline import run_nightly
from abuse.settings import Settings

SEED = 1


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("heldout")
    build(out, SEED)
    _idle_signups_are_a_batch(out / "truth" / "accounts.csv")
    settings = Settings(landing=out / "landing", db=out / "abuse.duckdb", tz=TZ, dossiers_top=0)
    summary = run_nightly(settings, say=lambda _m: None)
    assert summary["as_of"] == AS_OF  # the window ends on the last day of the data
    assert not any(summary["quarantined"].values()), summary["quarantined"]  # all of it is contract-valid
    return out


def _idle_signups_are_a_batch(path: Path) -> None:
    """This held-out set was written before issue #12 settled what throwaway sign-ups are: it labels
    its burst of registrations that do nothing afterwards (role ``signup_burst``) scripted_timing.
    The project reports them as their batch (``batch_registration``; the contract's scripted_timing
    means machine-timed activity), so the truth is read that way here; the floors below hold them
    to it."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r.get("role") == "signup_burst":
            r["pattern"] = "batch_registration"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="module")
def scores(heldout: Path) -> dict:
    return evaluate(heldout / "abuse.duckdb", heldout / "truth")


# (pattern, precision floor, recall floor, planted clusters that must be recovered)
FLOORS = [
    ("coupon_hoarding", 0.95, 0.95, 2),
    ("extortion_ring", 0.95, 0.85, 2),
    ("scripted_timing", 0.95, 0.95, 0),
    ("batch_registration", 0.95, 0.90, 0),
]


@pytest.mark.parametrize(("pattern", "precision", "recall", "clusters"), FLOORS)
def test_pattern_reaches_its_floor(scores: dict, pattern: str, precision: float, recall: float, clusters: int) -> None:
    s = scores["patterns"][pattern]
    assert s["tp"] > 0, s
    assert s["precision"] >= max(precision, 0.8), s
    assert s["recall"] >= recall, s
    assert s.get("clusters_recovered", 0) >= clusters, s


def test_ring_victim_shops_are_named(scores: dict) -> None:
    assert scores["patterns"]["extortion_ring"]["victim_shop_recall"] >= 0.7


def test_every_ring_is_recovered(scores: dict) -> None:
    ring = scores["patterns"]["extortion_ring"]
    assert ring["clusters_recovered"] == ring["truth_clusters"]


def test_no_honest_lookalike_is_flagged(scores: dict) -> None:
    looks = scores["lookalikes"]
    assert len(looks) == 8, looks.keys()
    flagged = {kind: s["flagged"] for kind, s in looks.items() if s["flagged"]}
    assert not flagged, flagged


def test_planted_spikes_are_reported_and_explained_right(scores: dict) -> None:
    spikes = scores["spikes"]
    assert {s["kind"] for s in spikes} == {"abusive", "benign_campaign"}
    assert all(s["ok"] for s in spikes), spikes


# Was a strict xfail: the window's first evening, ordinary traffic at its usual level, was reported
# as 5 unexplained activity spikes with expected 0 (no baseline before the window's first day).
def test_ordinary_traffic_raises_no_unexplained_spike(heldout: Path) -> None:
    with (heldout / "truth" / "accounts.csv").open(newline="") as f:
        planted = {r["account_id"] for r in csv.DictReader(f)}
    con = duckdb.connect(str(heldout / "abuse.duckdb"), read_only=True)
    try:
        spikes = con.execute(
            "SELECT scope, window_start, top_account_ids FROM report.activity_spikes "
            "WHERE explained_by IS NULL AND starts_with(scope, 'activity')"
        ).fetchall()
    finally:
        con.close()
    honest = [(scope, start) for scope, start, top in spikes if not set(top or []) & planted]
    assert not honest, honest


# --hard (tests/heldout/hard.py) and the incident scorer (tests/heldout/score_incidents.py) --------
def test_hard_mode_writes_consistent_truth_in_a_half_hour_zone(tmp_path: Path) -> None:
    """A --hard data set in Asia/Kolkata (+05:30): offsets written are the zone's, every planted
    crew member carries its cluster and evasion, idle batches stay idle, and each incident's cluster
    is planted."""
    from heldout.make_heldout import build as make

    meta = make(tmp_path, 2, hard=True, tz="Asia/Kolkata")
    assert meta["tz"] == "Asia/Kolkata" and meta["hard"]
    text = (tmp_path / "landing" / "refunds" / "refunds-2.jsonl").read_text(encoding="utf-8")
    assert "+05:30" in text and "+08:00" not in text
    truth = tmp_path / "truth"
    with (truth / "accounts.csv").open(newline="") as f:
        accounts = list(csv.DictReader(f))
    with (truth / "spikes.csv").open(newline="") as f:
        spikes = list(csv.DictReader(f))
    with (truth / "lookalikes.csv").open(newline="") as f:
        looks = {r["account_id"] for r in csv.DictReader(f)}
    hoarders = [r for r in accounts if r["pattern"] == "coupon_hoarding"]
    idle = {r["account_id"] for r in accounts if r["pattern"] == "batch_registration"}
    assert len({r["cluster"] for r in hoarders}) >= 3 and all(r["cluster"] and r["evasion"] for r in hoarders)
    assert idle and not looks & {r["account_id"] for r in accounts}
    con = duckdb.connect()
    active = set()
    for kind in ("orders", "coupon_events", "activity", "reviews", "refunds"):
        for path in (tmp_path / "landing" / kind).iterdir():
            name = str(path)
            read = (
                f"read_parquet('{name}')"
                if name.endswith(".parquet")
                else f"read_json('{name}', format='newline_delimited')"
                if ".jsonl" in name
                else f"read_csv('{name}', all_varchar=true)"
            )
            active |= {r[0] for r in con.execute(f"SELECT DISTINCT account_id FROM {read}").fetchall()}
    assert not idle & active  # registered in a wave, then nothing
    assert {s["kind"] for s in spikes} == {"abusive", "benign"}
    planted = {r["cluster"] for r in accounts}
    named = {c for s in spikes if s["kind"] == "abusive" for c in s["cluster"].split(";")}
    assert named <= planted and any(c.startswith("W-") for c in named) and any(c.startswith("T-") for c in named)


def _spike_db(path: Path, rows: list[tuple]) -> Path:
    db = path / "abuse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    con.execute("CREATE SCHEMA report")
    con.execute(
        "CREATE TABLE report.activity_spikes (scope VARCHAR, window_start TIMESTAMPTZ, "
        "window_end TIMESTAMPTZ, observed DOUBLE, expected DOUBLE, score DOUBLE, explained_by VARCHAR, "
        "flagged_share DOUBLE, cluster_ids VARCHAR[], occurrences INTEGER, cadence VARCHAR, "
        "window_start_local TIMESTAMP)"
    )
    for scope, start, end, explained, share, clusters in rows:
        con.execute(
            "INSERT INTO report.activity_spikes VALUES (?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 10, 1, 0.9, ?, ?, "
            "?, 1, NULL, NULL)",
            [scope, start, end, explained, share, clusters],
        )
    con.close()
    return db


def test_incident_scorer_tells_caught_explained_away_and_raised(tmp_path: Path) -> None:
    from heldout.score_incidents import score

    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "spikes.csv").write_text(
        "scope,window_start,window_end,kind,campaign_id,cause,cluster\n"
        "registrations,2026-08-02T23:00:00+05:30,2026-08-04T01:00:00+05:30,abusive,,wave,W-1\n"
        "coupon_claims:c1,2026-08-05T20:00:00+05:30,2026-08-05T20:10:00+05:30,abusive,c1,crews,H-1\n"
        "coupon_claims:c2,2026-08-06T20:00:00+05:30,2026-08-06T20:10:00+05:30,benign,c2,release crowd,\n"
        "registrations,2026-08-07T20:00:00+05:30,2026-08-07T21:00:00+05:30,benign,,TV ad,\n"
        "orders,2026-08-08T12:00:00+05:30,2026-08-08T13:00:00+05:30,benign,,flash sale,\n",
        encoding="utf-8",
    )
    db = _spike_db(
        tmp_path,
        [
            # the wave in two pieces, the second linked to its case; given in UTC, matched as instants
            ("registrations", "2026-08-02T18:00:00Z", "2026-08-03T06:00:00Z", None, 0.0, []),
            ("registrations", "2026-08-03T10:00:00Z", "2026-08-03T19:00:00Z", None, 0.8, ["batch-9"]),
            ("coupon_claims:c1", "2026-08-05T20:00:00+05:30", "2026-08-05T20:10:00+05:30", "release of c1", 0.1, []),
            ("coupon_claims", "2026-08-06T20:01:00+05:30", "2026-08-06T20:05:00+05:30", "release of c2", 0.0, []),
            ("coupon_claims:c9", "2026-08-06T20:01:00+05:30", "2026-08-06T20:05:00+05:30", None, 0.0, []),
            ("registrations", "2026-08-07T20:30:00+05:30", "2026-08-07T20:31:00+05:30", None, 0.0, []),
            ("reviews", "2026-08-07T20:30:00+05:30", "2026-08-07T20:31:00+05:30", None, 0.0, []),
        ],
    )
    s = score(db, tmp_path)
    m = s["summary"]
    assert (
        m["abusive_caught"],
        m["abusive_linked"],
        m["benign_explained"],
        m["benign_quiet"],
        m["benign_raised_unexplained"],
        m["rows_unmatched"],
    ) == (1, 1, 1, 1, 1, 2)
    by_cause = {o["cause"]: o for o in s["incidents"]}
    assert by_cause["wave"]["rows"] == 2 and by_cause["wave"]["coverage"] > 0.8
    assert not by_cause["crews"]["caught"] and by_cause["crews"]["reported"]  # explained away
    assert by_cause["release crowd"]["explained"] and by_cause["TV ad"]["raised"]


def test_messy_delivery_quarantines_exactly_the_rows_that_break_the_contract(tmp_path: Path) -> None:
    """A small world written as real exports look (tests/heldout/messy.py: BOMs, LF and CRLF,
    other ISO 8601 forms, zero-padded ids, multi-line quoted texts, a redelivered correction, a
    file without a required column): report.quarantine lists exactly the planted bad rows
    (file, row number counted in records) and the rejected file, nothing else; the later
    correction wins and the padded ids stay text."""
    from heldout import messy

    messy.small(tmp_path, seed=3)
    settings = Settings(landing=tmp_path / "landing", db=tmp_path / "abuse.duckdb", tz=TZ, dossiers_top=0)
    run_nightly(settings, say=lambda _m: None)
    with (tmp_path / "truth" / "expected_quarantine.csv").open(newline="", encoding="utf-8") as f:
        expected = {(Path(r["file"]).name, r["row"] or None) for r in csv.DictReader(f)}
    with duckdb.connect(str(tmp_path / "abuse.duckdb"), read_only=True) as con:
        got = {
            (Path(f).name, None if n is None else str(n))
            for f, n in con.execute("SELECT file, row_number FROM report.quarantine").fetchall()
        }
    assert got == expected, {"missed": sorted(expected - got, key=str), "extra": sorted(got - expected, key=str)[:10]}
    from heldout.score_wild import _corrections

    fixed = _corrections(tmp_path / "abuse.duckdb", tmp_path / "truth")
    assert fixed["later_delivery_won"] == fixed["corrections"] == fixed["found_in_stg_orders"], fixed
    assert fixed["padded_ids_in_stg_accounts"] == fixed["padded_truth_ids"], fixed
    for form, kept in fixed["instants_by_form"].items():  # other ISO forms, zoned parquet, 9-digit fractions
        ok, n = kept.split()[0].split("/")
        assert ok == n, (form, kept)
