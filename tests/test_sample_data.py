"""The bundled sample: it is what the generator writes, and the README's first command finds
the abuse planted in it."""

import filecmp
from pathlib import Path

import pytest
from helpers import generated

from abuse.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def test_sample_is_what_the_generator_writes() -> None:
    made = generated(7, 0.3)
    for sub in ("landing", "truth"):
        cmp = filecmp.dircmp(SAMPLE / sub, made / sub)
        stack = [cmp]
        while stack:
            c = stack.pop()
            assert not c.left_only and not c.right_only, (c.left_only, c.right_only)
            _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
            assert not mismatch and not errors, mismatch
            stack.extend(c.subdirs.values())


@pytest.fixture(scope="module")
def sample_report(sample_run) -> Path:
    """The session's one run of the sample (conftest), its quarantine checked here."""
    db, out = sample_run
    assert out["quarantined"] == {k: 0 for k in out["quarantined"]}
    return db


def test_sample_report_finds_the_planted_abuse(sample_report: Path) -> None:
    scores = evaluate(sample_report, SAMPLE)
    for pattern, s in scores["patterns"].items():
        assert s["precision"] >= 0.95 and s["recall"] >= 0.90, (pattern, s)
    assert scores["patterns"]["extortion_ring"]["victim_shop_recall"] >= 0.9
    for pattern in ("extortion_ring", "coupon_hoarding"):
        assert scores["patterns"][pattern]["cluster_recovery"] >= 0.9
    assert all(v["flagged"] == 0 for v in scores["lookalikes"].values()), scores["lookalikes"]
    assert all(s["ok"] for s in scores["spikes"]), scores["spikes"]


def test_registration_waves_link_the_batches_made_of_them(sample_report: Path) -> None:
    """The batches detector reads the spikes, so the spike rows learn of its cases at the end:
    every batch_registration case is linked from the registrations row of its burst."""
    import duckdb

    con = duckdb.connect(str(sample_report), read_only=True)
    batches = {
        r[0]
        for r in con.execute("SELECT cluster_id FROM report.clusters WHERE pattern = 'batch_registration'").fetchall()
    }
    linked = con.execute("""SELECT flagged_share, cluster_ids FROM report.activity_spikes
                            WHERE scope = 'registrations' AND len(cluster_ids) > 0""").fetchall()
    assert batches and batches <= {c for _s, ids in linked for c in ids}
    assert all(share >= 0.5 for share, ids in linked if batches & set(ids))


def test_every_unexplained_sample_incident_links_its_case(sample_report: Path) -> None:
    """On the sample every burst no benign cause explains is abuse, and its row says whose: the
    cases of detectors that run before the spikes and of those that read them (timing, batches)."""
    import duckdb

    con = duckdb.connect(str(sample_report), read_only=True)
    rows = con.execute("""SELECT scope, window_start, flagged_share, cluster_ids FROM report.activity_spikes
                          WHERE explained_by IS NULL""").fetchall()
    assert rows and all(share >= 0.5 and ids for _s, _w, share, ids in rows), rows
