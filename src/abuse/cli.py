"""The ``abuse`` command line: parse, call, print. No logic lives here."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from abuse.cli_parser import parser as _parser

if TYPE_CHECKING:
    from abuse.settings import Settings

__all__ = ["main", "one_line"]


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


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    from abuse.settings import load_settings

    return load_settings(getattr(args, "settings", None), **overrides)


def _run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The settings a nightly or backfill command line gives (None: not given)."""
    return {
        "landing": args.landing,
        "db": args.db,
        "window_days": args.window_days,
        "tz": args.tz,
        "init": args.init or None,
    }


def _flow_params(args: argparse.Namespace, given: dict[str, Any]) -> dict[str, Any] | None:
    """The Prefect flow's parameters for the options given, or None when the run is not a flow
    (no --prefect and no PREFECT_API_URL)."""
    if not (args.prefect or os.environ.get("PREFECT_API_URL")):
        return None
    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in given.items() if v is not None}
    return {**params, "settings_file": str(args.settings) if args.settings else None}


def _nightly(args: argparse.Namespace, out: _Out) -> int:
    from abuse.report_text import format_summary

    given = {**_run_options(args), "as_of": args.as_of}
    settings = _settings(args, **given)  # every setting and threshold checked before any work
    params = _flow_params(args, given)
    if params is not None:
        from flows.nightly import nightly_flow  # the command line may call a flow; nothing below it may

        flow: Any = nightly_flow  # called like the function it wraps: returns its summary
        summary = flow(**params)
    else:
        from abuse.pipeline import run_nightly

        summary = run_nightly(settings, out.progress)
    out.result(format_summary(summary), {"command": "nightly", "status": "succeeded", **summary})
    return 0


def _backfill(args: argparse.Namespace, out: _Out) -> int:
    from abuse.report_text import format_summary

    given = _run_options(args)
    settings = _settings(args, **given)  # checked before the first night
    params = _flow_params(args, given)
    if params is not None:
        from flows.nightly import backfill_flow

        flow: Any = backfill_flow  # called like the function it wraps: returns the nights' summaries
        outs = flow(date_from=args.date_from, date_to=args.date_to, **params)
    else:
        from abuse.pipeline import run_backfill

        outs = run_backfill(settings, args.date_from, args.date_to, out.progress)
    out.result(
        "\n".join(format_summary(o) for o in outs), {"command": "backfill", "status": "succeeded", "nights": outs}
    )
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


def _generate(args: argparse.Namespace, out: _Out) -> int:
    from abuse.generate import generate

    res = generate(args.out, seed=args.seed, scale=args.scale, adversarial=args.adversarial, tz=args.tz)
    out.result(
        f"wrote {args.out}/landing and {args.out}/truth: {res}",
        {"command": "generate", "status": "succeeded", "out": str(args.out), "result": res},
    )
    return 0


def _verdict(args: argparse.Namespace, out: _Out) -> int:
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
        f"recorded {res['verdict']} for {res['cluster_id'] or res['account_id']}; the next run takes it into account",
        {"command": "verdict", "status": "succeeded", **res},
    )
    return 0


def _case(args: argparse.Namespace, out: _Out) -> int:
    from abuse.dossier import case_command

    settings = _settings(args, tz=args.tz)
    page = case_command(args.db or settings.db, args.cluster_id, args.out, tz=settings.tz)
    out.result(str(page), {"command": "case", "status": "succeeded", "page": str(page)})
    return 0


def _check(args: argparse.Namespace, out: _Out) -> int:
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


def _evaluate(args: argparse.Namespace, out: _Out) -> int:
    from abuse.evaluate import evaluate, format_scores

    scores = evaluate(args.db, args.truth)
    out.result(format_scores(scores), scores)
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, _Out], int]] = {
    "nightly": _nightly,
    "backfill": _backfill,
    "generate": _generate,
    "verdict": _verdict,
    "case": _case,
    "serve": _serve,
    "check": _check,
    "evaluate": _evaluate,
}


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
        return _COMMANDS[args.command](args, out)
    except KeyboardInterrupt:
        print("abuse: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, not a traceback: the run record and --log-file have the details
        out.error(args.command, exc)
        return 1
    finally:
        out.close()


if __name__ == "__main__":
    sys.exit(main())
