"""The README is checked: its commands exist, its SQL runs, every analyst query is documented."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import nightly, order, write_landing

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
REPORT_SQL = sorted((ROOT / "sql" / "reports").glob("*.sql"))


def test_readme_starts_with_the_two_commands() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert block[0].endswith("abuse nightly --landing sample_data/landing --db abuse.duckdb")
    assert block[1].endswith("uv run pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "uv run --frozen pytest" in ci and block[1].startswith("python3 -m pip install uv")


@pytest.mark.parametrize("path", REPORT_SQL, ids=lambda p: p.name)
def test_every_report_query_is_documented(path: Path) -> None:
    row = re.search(rf"^\| `{re.escape(path.name)}` \| (.+) \|$", README, re.M)
    assert row and len(row.group(1)) > 20, f"{path.name} is not documented in the README's query table"
    first = path.read_text(encoding="utf-8").lstrip()
    assert first.startswith("--"), f"{path.name} should start with a comment saying what it answers"


@pytest.fixture(scope="module")
def report_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("docs")
    landing = tmp / "landing"
    write_landing(landing, "orders", "o.csv", [order(i) for i in range(1, 10)] + [order(11, amount="x")])
    nightly(tmp, landing)
    return tmp / "abuse.duckdb"


def _shell(db: Path, sql: str) -> subprocess.CompletedProcess:
    shell = Path(sys.executable).parent / "duckdb"
    return subprocess.run([str(shell), "-readonly", str(db)], input=sql, capture_output=True, text=True, timeout=60)


def test_readme_sql_runs_in_the_duckdb_shell(report_db: Path) -> None:
    blocks = re.findall(r"```sql\n(.*?)```", README, re.S)
    assert len(blocks) >= 1 and blocks[0].count(";") >= 3
    for block in blocks:
        out = _shell(report_db, block)
        assert out.returncode == 0 and "Error" not in out.stderr, out.stderr


@pytest.mark.parametrize("path", [p for p in REPORT_SQL if not p.name.startswith("dossier_")], ids=lambda p: p.name)
def test_report_queries_run_on_a_report(report_db: Path, path: Path) -> None:
    sql = "SET VARIABLE account_id = '001';\n" + path.read_text(encoding="utf-8")
    out = _shell(report_db, sql)
    assert out.returncode == 0 and "Error" not in out.stderr, out.stderr


def test_every_report_view_and_column_has_a_comment(report_db: Path) -> None:
    import duckdb

    con = duckdb.connect(str(report_db), read_only=True)
    try:
        views = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'report' AND (comment IS NULL OR comment = '')"
        ).fetchall()
        cols = con.execute(
            "SELECT table_name || '.' || column_name FROM duckdb_columns() "
            "WHERE schema_name = 'report' AND (comment IS NULL OR comment = '')"
        ).fetchall()
        money = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE schema_name = 'report' "
            "AND table_name = 'clusters' AND column_name = 'loss_estimate'"
        ).fetchone()[0]
    finally:
        con.close()
    assert not views, f"views without COMMENT ON (sql/publish/report_views_comments.sql): {views}"
    assert not cols, f"columns without COMMENT ON (sql/publish/report_views_comments.sql): {cols}"
    for pattern in ("extortion_ring", "coupon_hoarding", "scripted_timing"):
        assert pattern in money and pattern in README.split("### Money")[1].split("###")[0]


def test_readme_queries_return_rows_on_the_sample(sample_report: Path) -> None:
    import duckdb

    con = duckdb.connect(str(sample_report), read_only=True)
    try:
        for block in re.findall(r"```sql\n(.*?)```", README, re.S):
            for stmt in (s.strip() for s in block.split(";")):
                body = "\n".join(ln for ln in stmt.splitlines() if not ln.strip().startswith("--")).strip()
                if not body or body.upper().startswith("SET "):
                    if body:
                        con.execute(body)
                    continue
                rows = con.execute(body).fetchall()
                assert rows, f"README query returns no rows on the sample:\n{body}"
    finally:
        con.close()


def test_cli_help_version_json_and_log_file(tmp_path: Path, landing: Path, capsys) -> None:
    import argparse
    import json

    from abuse import __version__
    from abuse.cli import _parser, main

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"abuse {__version__}"
    parser = _parser()
    assert "examples:" in parser.epilog
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subs.choices.items():
        assert sub.epilog and f"abuse {name}" in sub.epilog, name
        for action in sub._actions:
            assert action.help, f"abuse {name} {action.option_strings or action.dest} has no help"
        text = sub.format_help()
        assert "--settings" in text and "--json" in text and "--log-file" in text, name
    assert "(default: 0 2 * * *)" in subs.choices["serve"].format_help()

    write_landing(landing, "orders", "o.csv", [order(i) for i in range(1, 6)])
    log = tmp_path / "logs" / "nightly.log"
    assert (
        main(
            [
                "nightly",
                "--landing",
                str(landing),
                "--db",
                str(tmp_path / "abuse.duckdb"),
                "--json",
                "--log-file",
                str(log),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout is the JSON alone; progress went to stderr
    assert summary["status"] == "succeeded" and summary["ingested"]["orders"] == 5 and "[ingest]" in captured.err
    assert "[publish]" in log.read_text()

    assert main(["case", "ring-nope", "--db", str(tmp_path / "abuse.duckdb"), "--log-file", str(log)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["abuse case: failed: no successful run reported a case 'ring-nope'"], err
    assert "Traceback" in log.read_text() and "KeyError" in log.read_text()  # details in the log only
