"""Hypothesis: any text survives CSV (commas, quotes, newlines, Chinese, emoji) and JSONL."""

import tempfile
from pathlib import Path

from helpers import nightly, order, work, write_landing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abuse.detect.base import all_detectors

# The property is about ingest and staging (stg_reviews): the runs skip the detectors and the
# dossiers, the part of a night that has nothing to read in these texts (about half its time).
INGEST_ONLY = {"disabled_detectors": sorted(all_detectors()), "dossiers_top": 0}

text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(",\"\n\r'\\ 差评假货退款😀🎉\t;|")),
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "" and "\r" not in s)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(text, min_size=1, max_size=5), ext=st.sampled_from([".csv", ".csv.gz", ".jsonl"]))
def test_review_text_round_trips(texts: list[str], ext: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        landing = tmp / "landing"
        rows = [
            {
                "review_id": f"r{i}",
                "account_id": "a",
                "shop_id": "s",
                "rating": "3",
                "created_at": "2026-06-01T10:00:00+08:00",
                "text": t,
            }
            for i, t in enumerate(texts)
        ]
        write_landing(landing, "reviews", f"r{ext}", rows)
        write_landing(landing, "orders", "o.csv", [order(1)])
        out = nightly(tmp, landing, **INGEST_ONLY)
        assert out["quarantined"]["reviews"] == 0
        got = work(tmp, "SELECT review_id, text FROM stg_reviews ORDER BY _row")
        assert [g[1] for g in got] == texts
