"""The ``abuse`` command line's options: one function per command, the options the nightly and
backfill commands share declared once. ``abuse.cli`` parses with it and calls the work."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

EXAMPLES = """examples:
  abuse nightly --landing sample_data/landing --db abuse.duckdb
  abuse nightly --landing /data/landing --db /data/abuse.duckdb --as-of 2026-06-18 --window-days 7
  abuse nightly --json --log-file /var/log/abuse/nightly.log     # for a scheduler: JSON on stdout
  abuse case ring-3f2a9c01de --db abuse.duckdb                   # write one case's HTML dossier
  abuse verdict dismissed --case ring-3f2a9c01de --note "wholesale buyer"
  abuse serve --landing /data/landing --db /data/abuse.duckdb --cron "0 2 * * *"
  abuse check --settings /etc/abuse.toml                         # the merged settings, checked
  abuse generate --out /tmp/sample --seed 7 --scale 0.5 && abuse evaluate --db abuse.duckdb --truth /tmp/sample

Settings come from defaults < abuse.toml (or [tool.abuse] in pyproject.toml, or --settings FILE)
< ABUSE_* environment variables < these options. Exit status 0 on success, 1 with a one-line
reason on failure (--log-file keeps the details)."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


class _Help(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (unless the help names it); examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" not in text and action.default not in (None, False, argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


def _common() -> argparse.ArgumentParser:
    """Options every command takes."""
    c = argparse.ArgumentParser(add_help=False)
    c.add_argument(
        "--settings",
        type=Path,
        metavar="FILE",
        help="settings file (default: $ABUSE_SETTINGS_FILE, else abuse.toml, else [tool.abuse] in pyproject.toml)",
    )
    c.add_argument(
        "--log-file", type=Path, metavar="FILE", help="append progress, the outcome and any error's details to FILE"
    )
    c.add_argument("--json", action="store_true", help="print the outcome as one JSON object (for schedulers)")
    return c


def parser() -> argparse.ArgumentParser:
    """The whole ``abuse`` parser: global options and one subparser per command."""
    from abuse import __version__

    common = [_common()]
    p = argparse.ArgumentParser(
        prog="abuse",
        description="E-commerce abuse analytics over DuckDB: "
        "extortion rings, coupon hoarding, scripted timing and more.",
        epilog=EXAMPLES,
        formatter_class=_Help,
    )
    p.add_argument("--version", action="version", version=f"abuse {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            parents=common,
            formatter_class=_Help,
            epilog=f"example:\n  {example}",
        )

    for add in (
        _add_nightly,
        _add_backfill,
        _add_generate,
        _add_verdict,
        _add_case,
        _add_serve,
        _add_check,
        _add_evaluate,
    ):
        add(command)
    return p


_Command = Callable[[str, str, str], argparse.ArgumentParser]  # (name, help, example) -> subparser


def _add_run_options(p: argparse.ArgumentParser, *, window: str, summary: str) -> None:
    """The options of a run of nights (nightly: one night; backfill: several), declared once.
    `window` says whose window --window-days sets, `summary` what --quiet still prints."""
    p.add_argument(
        "--landing",
        metavar="DIR|URL",
        help="landing directory, or object storage s3://bucket/prefix (default: settings, sample_data/landing)",
    )
    p.add_argument("--db", type=Path, metavar="FILE", help="report database file (default: settings, abuse.duckdb)")
    p.add_argument("--window-days", type=int, metavar="N", help=f"days in {window} (default: settings, 30)")
    p.add_argument("--tz", metavar="ZONE", help="platform time zone (default: settings, Asia/Shanghai)")
    p.add_argument(
        "--prefect",
        action="store_true",
        help="run as a Prefect flow even without PREFECT_API_URL (starts a local server)",
    )
    p.add_argument("--quiet", action="store_true", help=f"print only {summary}")
    p.add_argument(
        "--init",
        action="store_true",
        help="allow --db in a directory that does not exist yet (start a new history there)",
    )


def _add_nightly(command: _Command) -> None:
    n = command(
        "nightly",
        "ingest new logs, run every detector, refresh the report",
        "abuse nightly --landing sample_data/landing --db abuse.duckdb --window-days 30",
    )
    n.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="last day of the window (default: the latest day with data)"
    )
    _add_run_options(n, window="the window", summary="the summary")


def _add_backfill(command: _Command) -> None:
    b = command(
        "backfill",
        "run the nights --from .. --to in order (same report per night as running them night after night)",
        "abuse backfill --from 2026-06-01 --to 2026-06-18 --db abuse.duckdb",
    )
    b.add_argument("--from", dest="date_from", type=_date, required=True, metavar="YYYY-MM-DD", help="first night")
    b.add_argument("--to", dest="date_to", type=_date, required=True, metavar="YYYY-MM-DD", help="last night")
    _add_run_options(b, window="each night's window", summary="the summaries")


def _add_generate(command: _Command) -> None:
    g = command(
        "generate",
        "write sample logs with planted abuse and truth",
        "abuse generate --out /tmp/sample --seed 7 --scale 0.5 --adversarial",
    )
    g.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for landing/ and truth/")
    g.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    g.add_argument("--scale", type=float, default=1.0, help="size factor (1 = about 3,500 accounts)")
    g.add_argument(
        "--adversarial",
        action="store_true",
        help="plant crews that adapt: jittered and Poisson-timed scripts, sparse rings "
        "without shared devices, maintained hoarding accounts, harder look-alikes",
    )
    g.add_argument(
        "--tz",
        default="Asia/Shanghai",
        help="platform time zone of the generated logs (default Asia/Shanghai; e.g. Asia/Kolkata)",
    )


def _add_verdict(command: _Command) -> None:
    v = command(
        "verdict",
        "record an analyst's verdict on a case or an account",
        'abuse verdict dismissed --case ring-3f2a9c01de --note "wholesale buyer"',
    )
    v.add_argument(
        "verdict",
        choices=["confirmed", "dismissed"],
        help="confirmed: real abuse; dismissed: not abuse (the case is not raised again unless it grows)",
    )
    v.add_argument("--db", type=Path, metavar="FILE", help="report database (default: settings, abuse.duckdb)")
    v.add_argument("--case", dest="cluster_id", metavar="CLUSTER_ID", help="a cluster_id from report.clusters")
    v.add_argument(
        "--account", dest="account_id", metavar="ACCOUNT_ID", help="an account_id from report.flagged_accounts"
    )
    v.add_argument("--pattern", help="limit an account verdict to one pattern (default: every pattern)")
    v.add_argument("--note", help="why: read by the next analyst")
    v.add_argument("--analyst", default=os.environ.get("USER"), help="who decided")


def _add_case(command: _Command) -> None:
    c = command("case", "write the HTML dossier of a case", "abuse case ring-3f2a9c01de --db abuse.duckdb")
    c.add_argument("cluster_id", help="a cluster_id from report.clusters")
    c.add_argument("--db", type=Path, metavar="FILE", help="report database (default: settings, abuse.duckdb)")
    c.add_argument("--out", type=Path, metavar="DIR", help="folder for the page (default: dossiers/ beside the db)")
    c.add_argument("--tz", metavar="ZONE", help="time zone of the page's times (default: settings, Asia/Shanghai)")


def _add_serve(command: _Command) -> None:
    s = command(
        "serve",
        "serve the nightly deployment on its schedule (needs a Prefect server)",
        'abuse serve --landing /data/landing --db /data/abuse.duckdb --cron "0 2 * * *"',
    )
    s.add_argument(
        "--landing",
        metavar="DIR|URL",
        help="landing directory or s3://bucket/prefix; must exist (default: settings, sample_data/landing)",
    )
    s.add_argument("--db", type=Path, metavar="FILE", help="report database (default: settings, abuse.duckdb)")
    s.add_argument("--cron", default="0 2 * * *", help="when to run, a cron line in the platform time zone")
    s.add_argument("--tz", metavar="ZONE", help="platform time zone (default: settings, Asia/Shanghai)")
    s.add_argument("--window-days", type=int, metavar="N", help="days in the window (default: settings, 30)")
    s.add_argument(
        "--limit",
        type=int,
        default=1,
        metavar="N",
        help="runs of the deployment at once; more wait (one run per database)",
    )


def _add_check(command: _Command) -> None:
    k = command(
        "check",
        "check the settings and paths a run would use, and print them (runs nothing)",
        "ABUSE_LANDING=/data/landing abuse check --json",
    )
    k.add_argument("--landing", metavar="DIR|URL", help="landing directory or s3://bucket/prefix (default: settings)")
    k.add_argument("--db", type=Path, metavar="FILE", help="report database (default: settings)")
    k.add_argument("--tz", metavar="ZONE", help="platform time zone (default: settings)")


def _add_evaluate(command: _Command) -> None:
    e = command(
        "evaluate",
        "score a report against the truth of generated data",
        "abuse evaluate --db /tmp/sample/abuse.duckdb --truth /tmp/sample",
    )
    e.add_argument("--db", type=Path, required=True, metavar="FILE", help="report database to score")
    e.add_argument("--truth", type=Path, required=True, metavar="DIR", help="the generate --out DIR, or its truth/")
