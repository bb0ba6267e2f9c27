"""One contract every registered detector keeps, whatever it detects: it runs on empty tables,
and on a small world it emits only its declared patterns, scores in 0..1, a readable reason and
JSON evidence for every finding, and clusters its findings point to. A new detector package is
checked here without writing a line of test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abuse.detect.base import DetectContext, DetectorResult, all_detectors, ordered, params_for
from abuse.detect.patterns import PATTERNS
from abuse.pipeline import window_bounds
from abuse.sqlfiles import set_variables
from abuse.testing import empty_staged, staged

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "landing"
DETECTORS = all_detectors()


def run_all(con, window_start, window_end, tz="Asia/Shanghai") -> dict[str, DetectorResult]:
    results: dict[str, DetectorResult] = {}
    for name in ordered(DETECTORS):
        cls = DETECTORS[name]
        ctx = DetectContext(
            con,
            window_start,
            window_end,
            tz,
            params_for(cls, None),
            upstream={r: results[r] for r in cls.requires if r in results},
        )
        results[name] = cls().detect(ctx)
    return results


@pytest.fixture(scope="module")
def sample_results() -> dict[str, DetectorResult]:
    con, start, end = staged(SAMPLE)
    try:
        return run_all(con, start, end)
    finally:
        con.close()


def test_every_detector_declares_known_patterns_and_typed_params():
    assert DETECTORS, "no detector registered"
    for name, cls in DETECTORS.items():
        assert cls.name == name
        assert set(cls.patterns) <= set(PATTERNS), (name, cls.patterns)  # () = emits incidents only
        cls.Params()  # every threshold has a default
        assert set(cls.requires) <= set(DETECTORS), (name, cls.requires)


def test_every_detector_runs_on_empty_tables():
    from datetime import date

    con = empty_staged()
    start, end = window_bounds(date(2026, 6, 20), 30, "Asia/Shanghai")
    set_variables(con, window_start=start, window_end=end)
    for name, result in run_all(con, start, end).items():
        assert not result.findings and not result.clusters, name


def test_findings_on_a_small_world_keep_the_contract(sample_results):
    assert any(r.findings for r in sample_results.values()), "the sample plants abuse; nothing found"
    for name, result in sample_results.items():
        declared = set(DETECTORS[name].patterns)
        keys = {(c.pattern, c.cluster_key) for c in result.clusters}
        # a finding may join a case of a detector it reads (batches: a hoarding batch's reserve accounts)
        keys |= {
            (c.pattern, c.cluster_key)
            for r in DETECTORS[name].requires
            for c in sample_results.get(r, DetectorResult()).clusters
        }
        for f in result.findings:
            assert f.pattern in declared, (name, f.pattern)
            assert 0.0 <= f.score <= 1.0, (name, f.score)
            assert isinstance(f.reason, str) and len(f.reason.split()) >= 4, (name, f.reason)
            json.dumps(f.evidence, default=str)
            assert f.cluster_key is None or (f.pattern, f.cluster_key) in keys, (name, f.cluster_key)
        for c in result.clusters:
            assert c.pattern in declared and 0.0 <= c.score <= 1.0, (name, c.pattern, c.score)
            assert c.account_ids and c.summary, (name, c.cluster_key)
            assert c.loss_estimate is None or c.loss_estimate >= 0, (name, c.loss_estimate)
            json.dumps(c.evidence, default=str)


def test_importing_abuse_never_loads_prefect():
    import subprocess
    import sys

    code = (
        "import sys, abuse, abuse.pipeline, abuse.cli, abuse.detect.base; "
        "abuse.detect.base.all_detectors(); "
        "print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
