"""Re-runs, nights run out of order and `abuse backfill` end with the same report for each
night as running the nights once, in order. The report for a night is what the latest
successful run with that as_of found (report.nights names it)."""

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from abuse.cli import main as cli
from abuse.pipeline import run_nightly
from abuse.settings import Settings

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "landing"
NIGHTS = [date(2026, 6, 18) + timedelta(days=i) for i in range(3)]
SMALL = {"window_days": 10, "disabled_detectors": ["spikes", "timing"], "dossiers_top": 0}


def night_reports(db: Path) -> dict[date, dict[str, list[tuple]]]:
    """Per night, the findings, cases and spikes of its report, without run ids."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for as_of, run_id in con.execute("SELECT as_of, run_id FROM report.nights ORDER BY as_of").fetchall():
            out[as_of] = {
                "flagged": con.execute(
                    "SELECT * EXCLUDE (run_id) FROM report.flagged_accounts_all WHERE run_id = ? "
                    "ORDER BY pattern, account_id",
                    [run_id],
                ).fetchall(),
                "clusters": con.execute(
                    "SELECT c.case_status, c.* EXCLUDE (run_id, case_first_run, case_status), r.as_of AS case_first_seen "
                    "FROM report.clusters_all c LEFT JOIN report.runs r ON r.run_id = c.case_first_run "
                    "WHERE c.run_id = ? ORDER BY c.pattern, c.cluster_id",
                    [run_id],
                ).fetchall(),
                "spikes": con.execute(
                    "SELECT * EXCLUDE (run_id) FROM report.activity_spikes_all WHERE run_id = ? "
                    "ORDER BY window_start, scope",
                    [run_id],
                ).fetchall(),
            }
        return out
    finally:
        con.close()


def test_backfill_reruns_and_out_of_order_nights_agree(tmp_path: Path, monkeypatch, capsys) -> None:
    for name, value in (
        ("ABUSE_WINDOW_DAYS", "10"),
        ("ABUSE_DISABLED_DETECTORS", '["spikes", "timing"]'),
        ("ABUSE_DOSSIERS_TOP", "0"),
    ):
        monkeypatch.setenv(name, value)
    in_order = tmp_path / "backfill" / "abuse.duckdb"
    assert (
        cli(
            [
                "backfill",
                "--from",
                str(NIGHTS[0]),
                "--to",
                str(NIGHTS[-1]),
                "--init",
                "--quiet",
                "--landing",
                str(SAMPLE),
                "--db",
                str(in_order),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.count("succeeded") == 3

    shuffled = tmp_path / "shuffled" / "abuse.duckdb"
    for as_of in (NIGHTS[2], NIGHTS[0], NIGHTS[0], NIGHTS[1]):  # the last night first; one night twice
        run_nightly(Settings(landing=SAMPLE, db=shuffled, as_of=as_of, init=True, **SMALL), say=lambda _m: None)

    want, got = night_reports(in_order), night_reports(shuffled)
    assert list(want) == NIGHTS and list(got) == NIGHTS
    assert want[NIGHTS[0]]["clusters"]
    assert {c[0] for c in want[NIGHTS[2]]["clusters"]} - {"new"}  # cases carried over from earlier nights
    for night in NIGHTS:
        for part in ("flagged", "clusters", "spikes"):
            assert got[night][part] == want[night][part], f"{part} of night {night} differ"
    con = duckdb.connect(str(shuffled), read_only=True)
    try:
        assert con.execute("SELECT runs FROM report.nights ORDER BY as_of").fetchall() == [(2,), (1,), (1,)]
    finally:
        con.close()


@pytest.mark.slow
def test_backfill_is_a_prefect_flow_run_of_nightly_runs(tmp_path: Path, prefect_server) -> None:
    from test_prefect_flow import api

    db = tmp_path / "abuse.duckdb"
    env = {
        **prefect_server.env,
        "ABUSE_WINDOW_DAYS": "10",
        "ABUSE_DISABLED_DETECTORS": '["spikes", "timing"]',
        "ABUSE_DOSSIERS_TOP": "0",
    }
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "abuse"),
            "backfill",
            "--from",
            str(NIGHTS[0]),
            "--to",
            str(NIGHTS[1]),
            "--landing",
            str(SAMPLE),
            "--db",
            str(db),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert [r[0] for r in con.execute("SELECT as_of FROM report.nights").fetchall()] == NIGHTS[:2]
    finally:
        con.close()
    runs = api(prefect_server, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 10})
    ours = [r for r in runs if r["parameters"].get("db") == str(db)]
    nightly = [r for r in ours if "as_of" in r["parameters"]]
    assert len(ours) == 3 and len(nightly) == 2  # the backfill and one nightly flow run per night
    assert all(r["state_type"] == "COMPLETED" for r in ours)


def test_backfill_flow_takes_every_nightly_flow_parameter_but_as_of() -> None:
    """The two flows write their parameters out (Prefect's form reads the signatures): the same
    names, types and defaults, and the shared ones are the ones handed on to each night."""
    import inspect

    from flows.nightly import RUN_PARAMETERS, backfill_flow, nightly_flow

    nightly = dict(inspect.signature(nightly_flow.fn).parameters)
    backfill = dict(inspect.signature(backfill_flow.fn).parameters)
    assert nightly.pop("as_of").default is None
    assert [backfill.pop(k).default for k in ("date_from", "date_to")] == [inspect.Parameter.empty] * 2
    assert list(nightly) == list(backfill)
    for name, p in nightly.items():
        assert (p.annotation, p.default) == (backfill[name].annotation, backfill[name].default), name
    assert set(nightly) == {*RUN_PARAMETERS, "thresholds", "settings_file"}
    assert set(nightly_flow.parameters.properties) == {*nightly, "as_of"}  # the UI form
