"""Stable case identities across nights, analyst verdicts and suppression of dismissed cases."""

from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from helpers import nightly, order, report, write_landing
from pydantic import BaseModel

import abuse.pipeline as pipeline
from abuse.cli import main as cli
from abuse.detect.base import Cluster, DetectorBase, DetectorResult, Finding


class FakeParams(BaseModel):
    pass


class FakeRings(DetectorBase):
    """Finds whatever the test says: the clusters in ``plan``."""

    name: ClassVar[str] = "fake"
    patterns: ClassVar[tuple[str, ...]] = ("extortion_ring",)
    Params = FakeParams
    plan: ClassVar[list[list[str]]] = []

    def run(self, ctx) -> DetectorResult:
        out = DetectorResult()
        for i, members in enumerate(self.plan):
            key = f"k{i}"
            out.clusters.append(
                Cluster(
                    key,
                    "extortion_ring",
                    members,
                    0.9,
                    f"ring of {len(members)}",
                    shop_ids=["s1"],
                    loss_estimate=10.0 * len(members),
                )
            )
            out.findings += [Finding(a, "extortion_ring", 0.9, "test", {}, key) for a in members]
        return out


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(pipeline, "all_detectors", lambda: {"fake": FakeRings})
    FakeRings.plan = []
    return FakeRings


def night(n: int) -> date:
    """The n-th of successive nights (cases chain from one night's report to the next)."""
    return date(2026, 6, 15) + timedelta(days=n)


def members(n: int, start: int = 0) -> list[str]:
    return [f"acct{i:03d}" for i in range(start, start + n)]


def clusters(tmp_path: Path) -> list[tuple]:
    return report(
        tmp_path,
        "SELECT cluster_id, case_status, n_accounts, case_first_seen::VARCHAR FROM report.clusters ORDER BY cluster_id",
    )


def test_a_case_keeps_its_id_and_says_how_it_changed(tmp_path: Path, landing: Path, fake) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    fake.plan = [members(6), members(5, start=50)]
    nightly(tmp_path, landing, as_of=night(1))
    first = clusters(tmp_path)
    assert [c[1] for c in first] == ["new", "new"]
    ids = {c[2]: c[0] for c in first}
    fake.plan = [members(8), members(4, start=50)]  # one grew, one shrank
    nightly(tmp_path, landing, as_of=night(2))
    second = {c[0]: c for c in clusters(tmp_path)}
    assert second[ids[6]][1:3] == ("grown", 8) and second[ids[5]][1:3] == ("shrunk", 4)
    assert second[ids[6]][3] == first[0][3]  # first seen on the first night
    fake.plan = [members(8), members(4, start=50), members(3, start=90)]
    nightly(tmp_path, landing, as_of=night(3))
    third = {c[0]: c[1] for c in clusters(tmp_path)}
    assert third[ids[6]] == "recurring" and list(third.values()).count("new") == 1


def test_rerunning_a_night_gives_the_same_ids(tmp_path: Path, landing: Path, fake) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    fake.plan = [members(6), members(7, start=20)]
    nightly(tmp_path / "a", landing)
    nightly(tmp_path / "b", landing)
    assert [c[0] for c in clusters(tmp_path / "a")] == [c[0] for c in clusters(tmp_path / "b")]


def test_dismissed_case_stays_quiet_until_it_grows(tmp_path: Path, landing: Path, fake) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    fake.plan = [members(6), members(5, start=50)]
    nightly(tmp_path, landing, as_of=night(1))
    by_size = {c[2]: c[0] for c in clusters(tmp_path)}
    db = str(tmp_path / "abuse.duckdb")
    assert cli(["verdict", "dismissed", "--db", db, "--case", by_size[6], "--note", "wholesale buyer"]) == 0
    assert cli(["verdict", "confirmed", "--db", db, "--case", by_size[5]]) == 0
    nightly(tmp_path, landing, as_of=night(2))
    assert [c[0] for c in clusters(tmp_path)] == [by_size[5]]
    assert report(tmp_path, "SELECT count(*) FROM report.flagged_accounts") == [(5,)]
    assert report(tmp_path, "SELECT cluster_id FROM report.suppressed") == [(by_size[6],)]
    assert report(tmp_path, "SELECT pattern, confirmed, dismissed, precision FROM report.precision_by_pattern") == [
        ("extortion_ring", 1, 1, 0.5)
    ]
    fake.plan = [members(9), members(5, start=50)]
    nightly(tmp_path, landing, as_of=night(3))
    again = {c[0]: c[1] for c in clusters(tmp_path)}
    assert again[by_size[6]] == "grown"


def test_verdicts_by_plain_sql_and_on_accounts(tmp_path: Path, landing: Path, fake) -> None:
    import duckdb

    from abuse.feedback import feedback_path

    write_landing(landing, "orders", "o.csv", [order(1)])
    fake.plan = [members(6)]
    nightly(tmp_path, landing)
    assert feedback_path(tmp_path / "abuse.duckdb").is_file()  # the run created it
    con = duckdb.connect(str(feedback_path(tmp_path / "abuse.duckdb")))
    con.execute("INSERT INTO verdicts (account_id, verdict, note) VALUES ('acct000', 'dismissed', 'staff')")
    con.close()
    nightly(tmp_path, landing)
    flagged = [r[0] for r in report(tmp_path, "SELECT account_id FROM report.flagged_accounts")]
    assert "acct000" not in flagged and len(flagged) == 5
    with pytest.raises(ValueError):
        from abuse.feedback import record

        record(tmp_path / "abuse.duckdb", "maybe", cluster_id="x")


def test_case_dossier_from_the_command_line(tmp_path: Path, landing: Path, fake, capsys) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    fake.plan = [members(6)]
    nightly(tmp_path, landing)
    assert (tmp_path / "dossiers" / "index.html").is_file()  # the night's top cases
    cid = clusters(tmp_path)[0][0]
    assert cli(["case", cid, "--db", str(tmp_path / "abuse.duckdb"), "--out", str(tmp_path / "mine")]) == 0
    page = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert page == tmp_path / "mine" / f"{cid}.html" and cid in page.read_text(encoding="utf-8")
    assert cli(["case", "ring-nope", "--db", str(tmp_path / "abuse.duckdb")]) == 1


def test_counts_and_verdicts_after_suppression(tmp_path: Path, landing: Path, fake) -> None:
    write_landing(landing, "orders", "o.csv", [order(1)])
    fake.plan = [members(6), members(5, start=50)]
    assert nightly(tmp_path, landing)["clusters"] == 2
    by_size = {c[2]: c[0] for c in clusters(tmp_path)}
    db = str(tmp_path / "abuse.duckdb")
    assert cli(["verdict", "dismissed", "--db", db, "--case", by_size[6]]) == 0
    assert cli(["verdict", "confirmed", "--db", db, "--case", by_size[5]]) == 0
    out = nightly(tmp_path, landing)
    assert out["clusters"] == 1 and sum(out["findings"].values()) == 5  # what the analysts will see
    assert report(tmp_path, "SELECT cluster_id, verdict FROM report.clusters") == [(by_size[5], "confirmed")]
    assert report(
        tmp_path,
        "SELECT verdict, case_status FROM report.clusters_all WHERE cluster_id = ? AND run_id = 2",
        [by_size[6]],
    ) == [("dismissed", "dismissed")]
