"""The ``abuse`` command line: parse, call, print. No logic lives here."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TextIO

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


def _parser() -> argparse.ArgumentParser:
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


def _add_nightly(command: _Command) -> None:
    n = command(
        "nightly",
        "ingest new logs, run every detector, refresh the report",
        "abuse nightly --landing sample_data/landing --db abuse.duckdb --window-days 30",
    )
    n.add_argument(
        "--landing", type=Path, metavar="DIR", help="landing directory (default: settings, sample_data/landing)"
    )
    n.add_argument("--db", type=Path, metavar="FILE", help="report database file (default: settings, abuse.duckdb)")
    n.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="last day of the window (default: the latest day with data)"
    )
    n.add_argument("--window-days", type=int, metavar="N", help="days in the window (default: settings, 30)")
    n.add_argument("--tz", metavar="ZONE", help="platform time zone (default: settings, Asia/Shanghai)")
    n.add_argument(
        "--prefect",
        action="store_true",
        help="run as a Prefect flow even without PREFECT_API_URL (starts a local server)",
    )
    n.add_argument("--quiet", action="store_true", help="print only the summary")
    n.add_argument(
        "--init",
        action="store_true",
        help="allow --db in a directory that does not exist yet (start a new history there)",
    )


def _add_backfill(command: _Command) -> None:
    b = command(
        "backfill",
        "run the nights --from .. --to in order (same report per night as running them night after night)",
        "abuse backfill --from 2026-06-01 --to 2026-06-18 --db abuse.duckdb",
    )
    b.add_argument("--from", dest="date_from", type=_date, required=True, metavar="YYYY-MM-DD", help="first night")
    b.add_argument("--to", dest="date_to", type=_date, required=True, metavar="YYYY-MM-DD", help="last night")
    b.add_argument("--landing", type=Path, metavar="DIR", help="landing directory (default: settings)")
    b.add_argument("--db", type=Path, metavar="FILE", help="report database file (default: settings, abuse.duckdb)")
    b.add_argument("--window-days", type=int, metavar="N", help="days in each night's window (default: settings, 30)")
    b.add_argument("--tz", metavar="ZONE", help="platform time zone (default: settings, Asia/Shanghai)")
    b.add_argument("--prefect", action="store_true", help="run as a Prefect flow even without PREFECT_API_URL")
    b.add_argument("--quiet", action="store_true", help="print only the summaries")
    b.add_argument("--init", action="store_true", help="allow --db in a directory that does not exist yet")


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
        type=Path,
        metavar="DIR",
        help="landing directory; must exist (default: settings, sample_data/landing)",
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
    k.add_argument("--landing", type=Path, metavar="DIR", help="landing directory (default: settings)")
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


class _Out:
    """Where a command's words go: progress to stdout (stderr with --json), everything to the
    log file if one is given."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = getattr(args, "json", False)
        self.quiet = getattr(args, "quiet", False)
        self.log: TextIO | None = None
        if getattr(args, "log_file", None):
            args.log_file.parent.mkdir(parents=True, exist_ok=True)
            self.log = args.log_file.open("a", encoding="utf-8")

    def _log(self, msg: str) -> None:
        if self.log:
            stamp = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
            for line in msg.splitlines() or [""]:
                self.log.write(f"{stamp} {line}\n")
            self.log.flush()

    def progress(self, msg: str) -> None:
        self._log(msg)
        if not self.quiet:
            print(msg, file=sys.stderr if self.json else sys.stdout, flush=True)

    def result(self, text: str, data: dict[str, Any]) -> None:
        self._log(text)
        print(json.dumps(data, default=str, ensure_ascii=False) if self.json else text, flush=True)

    def error(self, command: str, exc: BaseException) -> None:
        line = one_line(exc)
        self._log(f"abuse {command}: failed: {line}\n" + "".join(traceback.format_exception(exc)))
        if self.json:
            print(json.dumps({"command": command, "status": "failed", "error": line}, ensure_ascii=False))
        print(f"abuse {command}: failed: {line}", file=sys.stderr)

    def close(self) -> None:
        if self.log:
            self.log.close()


def _settings(args: argparse.Namespace, **overrides: Any):
    from abuse.settings import load_settings

    return load_settings(getattr(args, "settings", None), **overrides)


def _nightly(args: argparse.Namespace, out: _Out) -> int:
    from abuse.report_text import format_summary

    given = {
        "landing": args.landing,
        "db": args.db,
        "as_of": args.as_of,
        "window_days": args.window_days,
        "tz": args.tz,
        "init": args.init or None,
    }
    settings = _settings(args, **given)  # every setting and threshold checked before any work
    if args.prefect or os.environ.get("PREFECT_API_URL"):
        from flows.nightly import nightly_flow  # the command line may call a flow; nothing below it may

        params = {k: (str(v) if isinstance(v, Path) else v) for k, v in given.items() if v is not None}
        flow: Any = nightly_flow  # called like the function it wraps: returns its summary
        summary = flow(**params, settings_file=str(args.settings) if args.settings else None)
    else:
        from abuse.pipeline import run_nightly

        summary = run_nightly(settings, out.progress)
    out.result(format_summary(summary), {"command": "nightly", "status": "succeeded", **summary})
    return 0


def _serve(args: argparse.Namespace, out: _Out) -> int:
    settings = _settings(args, landing=args.landing, db=args.db, tz=args.tz, window_days=args.window_days)
    settings.check_paths()  # a landing dir that does not exist is an error now, not at 02:00
    from flows.serve import serve  # imports Prefect: after the checks, which need none

    out.progress(
        f"serving deployment 'abuse-nightly/nightly' on cron {args.cron!r} ({settings.tz}), "
        f"{args.limit} run at a time; Ctrl-C stops serving without pausing the schedule"
    )
    serve(settings, cron=args.cron, limit=args.limit, settings_file=args.settings)
    return 0


def _backfill(args: argparse.Namespace, out: _Out) -> int:
    from abuse.report_text import format_summary

    given = {
        "landing": args.landing,
        "db": args.db,
        "window_days": args.window_days,
        "tz": args.tz,
        "init": args.init or None,
    }
    settings = _settings(args, **given)  # checked before the first night
    if args.prefect or os.environ.get("PREFECT_API_URL"):
        from flows.nightly import backfill_flow

        params = {k: (str(v) if isinstance(v, Path) else v) for k, v in given.items() if v is not None}
        flow: Any = backfill_flow  # called like the function it wraps: returns the nights' summaries
        outs = flow(
            date_from=args.date_from,
            date_to=args.date_to,
            **params,
            settings_file=str(args.settings) if args.settings else None,
        )
    else:
        from abuse.pipeline import run_backfill

        outs = run_backfill(settings, args.date_from, args.date_to, out.progress)
    out.result(
        "\n".join(format_summary(o) for o in outs), {"command": "backfill", "status": "succeeded", "nights": outs}
    )
    return 0


def one_line(exc: BaseException) -> str:
    """An exception as one plain sentence, without its class name."""
    from pydantic import ValidationError

    recorded = getattr(exc, "abuse_run_failure", None)  # a run that failed and was recorded so
    if recorded:
        return str(recorded).splitlines()[0]
    if isinstance(exc, ValidationError):
        return "; ".join(f"setting {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.filename:
        text = f"{(exc.strerror or 'cannot use').lower()}: {exc.filename}"
    else:
        text = str(exc)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return f"unexpected {type(exc).__name__.lower()} (no message)"
    first = lines[0]
    if "lock" in first.lower() and "conflicting lock" in text.lower():
        return "the database is in use by another process (another nightly run?); try again when it has finished"
    return first


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = _Out(args)
    try:
        if args.command == "nightly":
            return _nightly(args, out)
        if args.command == "backfill":
            return _backfill(args, out)
        if args.command == "generate":
            from abuse.generate import generate

            res = generate(args.out, seed=args.seed, scale=args.scale, adversarial=args.adversarial, tz=args.tz)
            out.result(
                f"wrote {args.out}/landing and {args.out}/truth: {res}",
                {"command": "generate", "status": "succeeded", "out": str(args.out), "result": res},
            )
            return 0
        if args.command == "verdict":
            from abuse.feedback import record

            db = args.db or _settings(args).db
            res = record(
                db,
                args.verdict,
                cluster_id=args.cluster_id,
                account_id=args.account_id,
                pattern=args.pattern,
                note=args.note,
                analyst=args.analyst,
            )
            out.result(
                f"recorded {res['verdict']} for {res['cluster_id'] or res['account_id']}; "
                "the next run takes it into account",
                {"command": "verdict", "status": "succeeded", **res},
            )
            return 0
        if args.command == "case":
            from abuse.dossier import case_command

            settings = _settings(args, tz=args.tz)
            page = case_command(args.db or settings.db, args.cluster_id, args.out, tz=settings.tz)
            out.result(str(page), {"command": "case", "status": "succeeded", "page": str(page)})
            return 0
        if args.command == "serve":
            return _serve(args, out)
        if args.command == "check":
            settings = _settings(args, landing=args.landing, db=args.db, tz=args.tz)
            settings.check_paths()
            data = settings.model_dump(mode="json", exclude={"flow_run_id", "deployment"})
            out.result(
                f"settings ok: landing {settings.landing}, db {settings.db}, tz {settings.tz}, "
                f"window {settings.window_days} days, thresholds set: "
                f"{json.dumps(settings.detectors) if settings.detectors else 'none (defaults)'}",
                {"command": "check", "status": "succeeded", "settings": data},
            )
            return 0
        if args.command == "evaluate":
            from abuse.evaluate import evaluate, format_scores

            scores = evaluate(args.db, args.truth)
            out.result(format_scores(scores), scores)
            return 0
    except KeyboardInterrupt:
        print("abuse: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, not a traceback: the run record and --log-file have the details
        out.error(args.command, exc)
        return 1
    finally:
        out.close()
    return 2


if __name__ == "__main__":
    sys.exit(main())
