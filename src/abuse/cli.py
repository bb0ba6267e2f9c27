"""The ``abuse`` command line: parse, call, print. No logic lives here."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="abuse", description="E-commerce abuse analytics over DuckDB.")
    sub = p.add_subparsers(dest="command", required=True)

    n = sub.add_parser("nightly", help="ingest new logs, run every detector, refresh the report")
    n.add_argument("--landing", type=Path, help="landing directory (default: settings)")
    n.add_argument("--db", type=Path, help="report database file (default: abuse.duckdb)")
    n.add_argument("--as-of", type=_date, help="last day of the window (default: latest day with data)")
    n.add_argument("--window-days", type=int, help="days in the window (default 30)")
    n.add_argument("--tz", help="platform time zone (default Asia/Shanghai)")
    n.add_argument("--settings", type=Path, help="settings file (default abuse.toml)")
    n.add_argument("--prefect", action="store_true",
                   help="run as a Prefect flow even without PREFECT_API_URL (starts a local server)")
    n.add_argument("--quiet", action="store_true", help="print only the summary")
    n.add_argument("--init", action="store_true",
                   help="allow --db in a directory that does not exist yet (start a new history there)")

    b = sub.add_parser("backfill", help="run the nights --from .. --to in order (same report per night "
                                        "as running them night after night)")
    b.add_argument("--from", dest="date_from", type=_date, required=True, help="first night (YYYY-MM-DD)")
    b.add_argument("--to", dest="date_to", type=_date, required=True, help="last night (YYYY-MM-DD)")
    b.add_argument("--landing", type=Path, help="landing directory (default: settings)")
    b.add_argument("--db", type=Path, help="report database file (default: abuse.duckdb)")
    b.add_argument("--window-days", type=int, help="days in each night's window (default 30)")
    b.add_argument("--tz", help="platform time zone (default Asia/Shanghai)")
    b.add_argument("--settings", type=Path, help="settings file (default abuse.toml)")
    b.add_argument("--prefect", action="store_true", help="run as a Prefect flow even without PREFECT_API_URL")
    b.add_argument("--quiet", action="store_true", help="print only the summaries")
    b.add_argument("--init", action="store_true", help="allow --db in a directory that does not exist yet")

    g = sub.add_parser("generate", help="write sample logs with planted abuse and truth")
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--scale", type=float, default=1.0)
    g.add_argument("--adversarial", action="store_true",
                   help="plant crews that adapt: jittered and Poisson-timed scripts, sparse rings "
                        "without shared devices, maintained hoarding accounts, harder look-alikes")
    g.add_argument("--tz", default="Asia/Shanghai",
                   help="platform time zone of the generated logs (default Asia/Shanghai; e.g. Asia/Kolkata)")

    v = sub.add_parser("verdict", help="record an analyst's verdict on a case or an account")
    v.add_argument("verdict", choices=["confirmed", "dismissed"])
    v.add_argument("--db", type=Path, default=Path("abuse.duckdb"))
    v.add_argument("--case", dest="cluster_id", help="a cluster_id from report.clusters")
    v.add_argument("--account", dest="account_id")
    v.add_argument("--pattern")
    v.add_argument("--note")
    v.add_argument("--analyst", default=os.environ.get("USER"))

    c = sub.add_parser("case", help="write the HTML dossier of a case")
    c.add_argument("cluster_id")
    c.add_argument("--db", type=Path, default=Path("abuse.duckdb"))
    c.add_argument("--out", type=Path, help="folder for the page (default: dossiers/ beside the db)")
    c.add_argument("--tz", help="platform time zone (default: settings)")

    s = sub.add_parser("serve", help="serve the nightly deployment on its schedule (needs a Prefect server)")
    s.add_argument("--landing", type=Path, default=Path("sample_data/landing"))
    s.add_argument("--db", type=Path, default=Path("abuse.duckdb"))
    s.add_argument("--cron", default="0 2 * * *", help="cron in the platform time zone (default 02:00)")
    s.add_argument("--tz", help="platform time zone (default: settings)")
    s.add_argument("--window-days", type=int, default=30)

    e = sub.add_parser("evaluate", help="score a report against the truth of generated data")
    e.add_argument("--db", type=Path, required=True)
    e.add_argument("--truth", type=Path, required=True, help="the generate --out DIR, or its truth/")
    e.add_argument("--json", action="store_true", help="print the scores as JSON")
    return p


def _nightly(args: argparse.Namespace) -> int:
    from abuse.report_text import format_summary
    from abuse.settings import load_settings

    settings = load_settings(args.settings, landing=args.landing, db=args.db, as_of=args.as_of,
                             window_days=args.window_days, tz=args.tz, init=args.init or None)
    say = (lambda _msg: None) if args.quiet else (lambda msg: print(msg, flush=True))
    if args.prefect or os.environ.get("PREFECT_API_URL"):
        from flows.nightly import nightly_flow  # the command line may call a flow; nothing below it may

        out = nightly_flow(**settings.model_dump(mode="json"))
    else:
        from abuse.pipeline import run_nightly

        out = run_nightly(settings, say)
    print(format_summary(out))
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from abuse.report_text import format_summary
    from abuse.settings import load_settings

    settings = load_settings(args.settings, landing=args.landing, db=args.db, window_days=args.window_days,
                             tz=args.tz, init=args.init or None)
    say = (lambda _msg: None) if args.quiet else (lambda msg: print(msg, flush=True))
    if args.prefect or os.environ.get("PREFECT_API_URL"):
        from flows.nightly import backfill_flow

        params = settings.model_dump(mode="json", exclude={"as_of"})
        outs = backfill_flow(date_from=args.date_from, date_to=args.date_to, **params)
    else:
        from abuse.pipeline import run_backfill

        outs = run_backfill(settings, args.date_from, args.date_to, say)
    for out in outs:
        print(format_summary(out))
    return 0


def _one_line(exc: Exception) -> str:
    from pydantic import ValidationError

    recorded = getattr(exc, "abuse_run_failure", None)  # a run that failed and was recorded so
    if recorded:
        return str(recorded).splitlines()[0]
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        return "; ".join(f"setting {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "nightly":
            return _nightly(args)
        if args.command == "backfill":
            return _backfill(args)
        if args.command == "generate":
            from abuse.generate import generate

            out = generate(args.out, seed=args.seed, scale=args.scale, adversarial=args.adversarial,
                           tz=args.tz)
            print(f"wrote {args.out}/landing and {args.out}/truth: {out}")
            return 0
        if args.command == "verdict":
            from abuse.feedback import record

            out = record(args.db, args.verdict, cluster_id=args.cluster_id, account_id=args.account_id,
                         pattern=args.pattern, note=args.note, analyst=args.analyst)
            print(f"recorded {out['verdict']} for {out['cluster_id'] or out['account_id']}; "
                  "the next run takes it into account")
            return 0
        if args.command == "case":
            from abuse.dossier import case_command
            from abuse.settings import load_settings

            tz = args.tz or load_settings().tz
            print(case_command(args.db, args.cluster_id, args.out, tz=tz))
            return 0
        if args.command == "serve":
            from abuse.settings import load_settings
            from flows.serve import serve

            tz = args.tz or load_settings().tz
            print(f"serving deployment 'abuse-nightly/nightly' on cron {args.cron!r} ({tz}); Ctrl-C stops "
                  "serving without pausing the schedule", flush=True)
            serve(args.landing, args.db, cron=args.cron, tz=tz, window_days=args.window_days)
            return 0
        if args.command == "evaluate":
            from abuse.evaluate import evaluate, format_scores

            scores = evaluate(args.db, args.truth)
            if args.json:
                import json

                print(json.dumps(scores, indent=2, default=str))
            else:
                print(format_scores(scores))
            return 0
    except KeyboardInterrupt:
        print("abuse: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, not a traceback: the run record has the details
        print(f"abuse {args.command}: failed: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
