"""Push recruits (``engagement.pushes``): bought real accounts rented for a single job, found by
when their one engagement came: inside a farm's push on a target, beyond the target's own rate."""

from __future__ import annotations

import csv

import polars as pl
import pytest

from abuse.detect.base import DetectContext
from abuse.detect.engagement import EngagementDetector, pushes
from tests import helpers

ADV_SCALE = 0.5  # the adversarial worlds test_hoarding and test_rings stage too
P = EngagementDetector.Params()
HOUR, DAY = 3600.0, 86400.0


def _push(**kw) -> pl.DataFrame:
    """One farm's one-hour push on a target: 25 events by accounts of no farm inside it, nothing
    in the hours around it, 10 in the rest of a 30-day window."""
    row = {
        "farm": 0,
        "target_id": "t",
        "action": "vote",
        "run": 0,
        "push_lo": 10 * DAY,
        "push_hi": 10 * DAY + HOUR,
        "span_s": HOUR,
        "farm_events": 30,
        "inside": 25,
        "before": 0,
        "after": 0,
        "outside": 10,
        "before_s": HOUR,
        "after_s": HOUR,
        "outside_s": 30 * DAY - HOUR,
    }
    return pl.DataFrame([{**row, **kw}])


@pytest.mark.parametrize(
    "case,passed",
    [
        ({}, True),
        # a viral post: its audience keeps arriving in the hours after the push
        ({"inside": 400, "after": 150}, False),
        # a steady popular target: 20 an hour all month, 60 in the push hour
        ({"inside": 60, "outside": 20 * 24 * 30}, False),
        # one event in the push hour of a quiet target: chance
        ({"inside": 1}, False),
        # significant, but the target's own surrounding hours would put 2 ordinary people in 25
        ({"before": 1, "after": 3}, False),
    ],
    ids=["push", "viral", "steady", "few", "busy_neighbourhood"],
)
def test_a_push_is_judged_against_the_targets_own_hours(case, passed):
    out = pushes.push_tests(_push(**case), P.alpha, P.member_fdr)
    assert out["passed"].to_list() == [passed], out.to_dicts()


@pytest.fixture(scope="module", params=[(1, "Asia/Shanghai"), (3, "Asia/Kolkata")], ids=["seed1", "seed3-kolkata"])
def adversarial(request):
    seed, tz = request.param
    con, ws, we, out = helpers.staged_world(seed, ADV_SCALE, adversarial=True, tz=tz)
    res = EngagementDetector().detect(DetectContext(con, ws, we, tz, P))
    rows = lambda name: list(csv.DictReader((out / "truth" / name).open()))  # noqa: E731
    return res, rows("accounts.csv"), rows("lookalikes.csv")


def test_one_job_accounts_of_a_push_are_found(adversarial):
    """The relay crew's bought accounts (most cast one engagement, in the rig's push, from their
    own phones) join the rig; the recruits are nearly all planted and no look-alike is flagged."""
    res, accounts, lookalikes = adversarial
    found = {f.account_id for f in res.findings}
    bad = {r["account_id"] for r in accounts if r["pattern"] == "vote_inflation"}
    relay = {
        r["account_id"] for r in accounts if r["cluster"].startswith("relay_crew") and r["role"] == "bought_account"
    }
    assert relay, "the adversarial world plants a relay crew"
    recall = len(found & relay) / len(relay)
    precision = len(found & bad) / max(len(found), 1)
    assert recall >= 0.85 and precision >= 0.99, (recall, precision)
    recruits = {f.account_id for f in res.findings if "push there" in f.reason}
    assert len(recruits & bad) >= 0.95 * len(recruits) and recruits & relay, (len(recruits), len(recruits & bad))
    spared = {r["account_id"] for r in lookalikes} - bad  # (a look-alike of another pattern may be bought)
    assert not (found & spared), sorted(found & spared)[:5]
