"""The publish step (findings and the run record committed, the report file swapped in) and the
dossiers written after it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from abuse import cases, feedback, ingest, nights
from abuse.runlog import pending_failure_path
from abuse.schema import KINDS
from abuse.store import publish, swap_in

from .run import Run, enter_stage, now_utc, pause_at


def publish_stage(run: Run) -> Path:
    """Write findings and the run record, build the report file, commit, swap the file in.

    Success means published, in two phases: the history is committed with the run as
    'publishing' and the path of its complete temporary report, the file is swapped in, and
    only then is the run 'succeeded' (the report file itself already shows it so). A process
    killed in between is settled by the next ``start``."""
    enter_stage(run, "publish")
    t0 = time.perf_counter()
    con = run.con
    report = run.ingest_report or ingest.IngestReport()
    db = Path(run.settings.db)
    con.execute("BEGIN TRANSACTION")
    ingest.record_files(con, report, run.run_id, run.started_at)
    feedback.store(con, run.verdicts)
    _record_run(run, report)
    run.suppressed = cases.write_results(con, run.run_id, run.results)
    rechained = nights.rechain_after(con, run.as_of) if run.as_of else []
    run.report_tmp = publish(con, db)  # shows this run as succeeded: it is, once visible
    con.execute(
        "UPDATE runs SET status = 'publishing', report_tmp = ? WHERE run_id = ?", [str(run.report_tmp), run.run_id]
    )
    pause_at("before_commit")
    con.execute("COMMIT")
    run.committed = True
    pause_at("after_commit")
    swap_in(run.report_tmp, db)
    pause_at("after_swap")
    con.execute("UPDATE runs SET status = 'succeeded', report_tmp = NULL WHERE run_id = ?", [run.run_id])
    pending_failure_path(db).unlink(missing_ok=True)
    run.committed = False
    run.report_tmp = None
    run.timings["publish"] = time.perf_counter() - t0
    if rechained:
        run.say(f"[publish] case identities of later nights re-chained: {', '.join(map(str, rechained))}")
    run.say(f"[publish] report {db} in {run.timings['publish']:.1f}s")
    return db


def _record_run(run: Run, report: ingest.IngestReport) -> None:
    """The run's row in ``runs`` as succeeded: its window, rows read by kind, checks and notes."""
    rows = report.rows_by_kind()
    run.con.execute(
        f"""UPDATE runs SET as_of = ?, window_start = ?, window_end = ?, finished_at = ?,
            status = 'succeeded', stage = NULL, {", ".join(f"rows_{k} = ?" for k in KINDS)},
            rows_quarantined = ?, files_read = ?, checks = ?, notes = ? WHERE run_id = ?""",
        [
            run.as_of,
            run.window_start,
            run.window_end,
            now_utc(),
            *rows.values(),
            sum(report.quarantined_by_kind().values()),
            len(report.files),
            json.dumps(run.checks),
            "; ".join(run.notes) or None,
            run.run_id,
        ],
    )


def dossiers_stage(run: Run) -> list[Path]:
    """HTML dossiers of the run's top cases beside the report (after the commit: a failure
    here is reported, and the run stays successful)."""
    from abuse.dossier import write_top_dossiers

    if run.settings.dossiers_top <= 0:
        return []
    t0 = time.perf_counter()
    out_dir = Path(run.settings.db).resolve().parent / "dossiers"
    try:
        pages = write_top_dossiers(run.con, run.run_id, out_dir, top=run.settings.dossiers_top)
    except Exception as exc:  # noqa: BLE001 - the report is already published
        run.say(f"[dossiers] WARNING: could not write dossiers: {type(exc).__name__}: {exc}")
        return []
    run.timings["dossiers"] = time.perf_counter() - t0
    run.say(f"[dossiers] {len(pages)} case pages in {out_dir} ({run.timings['dossiers']:.1f}s)")
    return pages
