"""Case dossiers: one static, self-contained HTML page per ring or batch (a row of the work
database's ``clusters`` table), with its members, a picture of what ties them, a timeline of
their actions and the time-of-hour histograms of their events.

``write_dossier`` and ``write_top_dossiers`` take the work connection (session TimeZone = the
platform zone); ``case_command`` is the ``abuse case CLUSTER_ID --db FILE`` entry point.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path

import duckdb

from abuse.dossier import data, page

__all__ = ["write_dossier", "write_top_dossiers", "case_command"]


def _file_name(cluster_id: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in cluster_id).lstrip(".")
    return f"{safe or 'case'}.html"


def write_dossier(con: duckdb.DuckDBPyConnection, run_id: int, cluster_id: str, out_dir: Path) -> Path:
    """Write ``out_dir/<cluster_id>.html`` for one case of one run; KeyError if unknown."""
    dossier = data.load(con, run_id, cluster_id)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / _file_name(cluster_id)
    path.write_text(page.render(dossier, datetime.now(timezone.utc)), encoding="utf-8")
    return path


def write_top_dossiers(con: duckdb.DuckDBPyConnection, run_id: int, out_dir: Path, top: int = 10) -> list[Path]:
    """Dossiers of the run's top cases by loss_estimate then score (cases dismissed by an
    analyst left out), and an index.html."""
    out_dir = Path(out_dir)
    ids = data.top_cases(con, run_id, top)
    paths = [write_dossier(con, run_id, cid, out_dir) for cid in ids]
    rows = con.execute(
        """WITH v AS (SELECT cluster_id, arg_max(verdict, recorded_at) AS verdict FROM verdicts
                      WHERE cluster_id IS NOT NULL GROUP BY cluster_id)
           SELECT c.cluster_id, c.pattern, c.n_accounts, c.loss_estimate, c.score,
                  c.case_status || coalesce(' · ' || v.verdict, ''), c.summary
           FROM clusters c LEFT JOIN v USING (cluster_id)
           WHERE c.run_id = ? AND c.cluster_id IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY c.loss_estimate DESC NULLS LAST, c.score DESC NULLS LAST, c.cluster_id""",
        [run_id, ids],
    ).fetchall()
    out_dir.mkdir(parents=True, exist_ok=True)
    incidents = data.incidents(con, run_id)
    (out_dir / "index.html").write_text(_index(run_id, rows, incidents, set(ids)), encoding="utf-8")
    return paths


def _incidents(rows: list[tuple], written: set[str], tz: str | None) -> str:
    """The incidents section of the index: one line per incident, its cases linked when their
    dossier was written."""
    from zoneinfo import ZoneInfo

    e = lambda v: escape("" if v is None else str(v), quote=True)  # noqa: E731
    zone = ZoneInfo(tz) if tz else None

    def when(t) -> str:
        return (t.astimezone(zone) if zone and t is not None else t).strftime("%Y-%m-%d %H:%M") if t else ""

    def cases(ids) -> str:
        return ", ".join(f"<a href='{e(_file_name(c))}'>{e(c)}</a>" if c in written else e(c) for c in ids)

    lines = []
    for scope, start, end, observed, expected, score, occ, cadence, share, cids, why in rows:
        what = f"{occ:,} bursts, {e(cadence)}" if occ and occ > 1 else ""
        lines.append(
            f"<tr><td>{e(scope)}</td><td style='white-space:nowrap'>{when(start)} – {when(end)}</td>"
            f"<td class='num'>{observed:,.0f}</td><td class='num'>{expected:,.1f}</td><td>{what}</td>"
            f"<td class='num'>{'' if share is None else f'{share:.0%}'}</td><td>{cases(cids)}</td>"
            f"<td class='num'>{(score or 0):.2f}</td><td>{e(why) or '<b>unexplained</b>'}</td></tr>"
        )
    if not lines:
        return "<section><h2>Incidents</h2><p class='muted'>No activity spikes in this run.</p></section>"
    return (
        "<section><h2>Incidents</h2><div class='sub'>report.activity_spikes: one line per incident, "
        "unexplained and strongest first; flagged = share of its first minutes' accounts other "
        "detectors flagged</div><table><tr><th>scope</th><th>when</th><th>accounts</th><th>expected</th>"
        "<th>recurs</th><th>flagged</th><th>cases</th><th>score</th><th>explained by</th></tr>"
        + "".join(lines)
        + "</table></section>"
    )


def _index(
    run_id: int,
    rows: list[tuple],
    incidents: tuple[list[tuple], str | None] = ([], None),
    written: set[str] | None = None,
) -> str:
    e = lambda v: escape("" if v is None else str(v), quote=True)  # noqa: E731
    body = "".join(
        f"<tr><td style='white-space:nowrap'><a href='{e(_file_name(cid))}'>{e(cid)}</a></td>"
        f"<td>{e(pat)}</td>"
        f"<td class='num'>{n:,}</td><td class='num'>{e(page.money(loss))}</td>"
        f"<td class='num'>{(score or 0):.2f}</td><td>{e(status)}</td><td>{e(summary)}</td></tr>"
        for cid, pat, n, loss, score, status, summary in rows
    )
    empty = "" if rows else "<p class='muted'>This run found no rings or batches.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Case dossiers · run {run_id}</title>
<style>{page.CSS}</style></head><body><main>
<header class="case"><div><div class="sub">abuse · run {run_id}</div>
<h1>Top cases by money at risk</h1><div class="sub">dismissed cases are left out; money at
risk as README "Money" defines it per pattern (not estimated: the pattern estimates none)</div></div></header>
<section>{empty}<table><tr><th>case</th><th>pattern</th><th>accounts</th><th>money at risk</th>
<th>score</th><th>status · verdict</th><th>summary</th></tr>{body}</table></section>
{_incidents(incidents[0], written or set(), incidents[1])}
</main></body></html>
"""


def case_command(db: Path, cluster_id: str, out_dir: Path | None = None, tz: str = "Asia/Shanghai") -> Path:
    """``abuse case CLUSTER_ID --db FILE``: the dossier of the latest successful run that
    reported the case, written to ``out_dir`` (default ``<db dir>/dossiers``)."""
    from abuse.store import work_path

    db = Path(db)
    work = work_path(db)
    if not work.exists():
        raise FileNotFoundError(f"no work database {work} beside {db}: run `abuse nightly` first")
    try:
        con = duckdb.connect(str(work), read_only=True)
    except duckdb.IOException as exc:  # another process (a nightly run) holds the write lock
        raise RuntimeError(
            f"cannot open {work} while another process writes it "
            f"(a nightly run?); try again when it has finished: {exc}"
        ) from exc
    try:
        con.execute("SET TimeZone = ?", [tz])
        run_id = data.latest_run_with(con, cluster_id)
        return write_dossier(con, run_id, cluster_id, out_dir or db.parent / "dossiers")
    finally:
        con.close()
