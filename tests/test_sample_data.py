"""The bundled sample: it is what the generator writes, and the README's first command finds
the abuse planted in it."""

import filecmp
from pathlib import Path

import pytest
from helpers import generated, nightly

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
def sample_report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sample")
    out = nightly(tmp, SAMPLE / "landing")
    assert out["quarantined"] == {k: 0 for k in out["quarantined"]}
    return tmp / "abuse.duckdb"


def test_sample_report_finds_the_planted_abuse(sample_report: Path) -> None:
    scores = evaluate(sample_report, SAMPLE)
    for pattern, s in scores["patterns"].items():
        assert s["precision"] >= 0.95 and s["recall"] >= 0.90, (pattern, s)
    assert scores["patterns"]["extortion_ring"]["victim_shop_recall"] >= 0.9
    for pattern in ("extortion_ring", "coupon_hoarding"):
        assert scores["patterns"][pattern]["cluster_recovery"] >= 0.9
    assert all(v["flagged"] == 0 for v in scores["lookalikes"].values()), scores["lookalikes"]
    assert all(s["ok"] for s in scores["spikes"]), scores["spikes"]
