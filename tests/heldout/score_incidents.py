"""Score report.activity_spikes against the planted incidents of a held-out data set.

    python tests/heldout/score_incidents.py DB TRUTH [--json]

DB is the report database, TRUTH the data set's directory or its truth/. A report row matches a
planted incident (truth/spikes.csv) when its scope is the incident's scope, or the family of it
(``coupon_claims`` for ``coupon_claims:<id>``, ``activity`` for ``activity:vote``), or narrower
than an incident given at family level, and its window overlaps the incident's (a minute of
slack either side). Then:

- an abusive incident is *caught* when a matching row is not explained away: ``explained_by``
  is null, or names the abuse (a pattern, "flagged"), or ``flagged_share`` is at least one half;
  *linked* when such a row also names the case in ``cluster_ids``;
- a benign incident is *explained* when it is reported and every matching row is explained by a
  benign cause with ``flagged_share`` under one half; *quiet* when no row reports it (no alarm,
  but no explanation either); *raised* when a matching row is unexplained (a false alarm);
- rows per planted incident, rows that match no planted incident, and how many rows each
  incident was split into (a wave reported as three pieces is one incident, three rows).

Releases the generator could not call either way (between 30% and 60% of the first ten minutes'
claimers planted; ``truth/meta.json`` ``hard_params.releases`` kind ``none``) are not scored;
rows on them are counted apart.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

SLACK = 60.0
ABUSE_WORDS = (
    "coupon_hoarding",
    "batch_registration",
    "scripted_timing",
    "vote_inflation",
    "brushing_ring",
    "extortion_ring",
    "serial_refunder",
    "device_farm",
    "flagged",
    "batch-",
    "abuse",
)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def scopes_match(reported: str, planted: str) -> bool:
    if reported == planted:
        return True
    rf, pf = reported.split(":")[0], planted.split(":")[0]
    return rf == pf and (":" not in reported or ":" not in planted)


def names_abuse(explained_by: str | None) -> bool:
    return bool(explained_by) and any(w in explained_by.lower() for w in ABUSE_WORDS)


def not_explained_away(row: dict) -> bool:
    return row["explained_by"] is None or names_abuse(row["explained_by"]) or (row["flagged_share"] or 0.0) >= 0.5


def benign_explained(row: dict) -> bool:
    return (
        row["explained_by"] is not None and not names_abuse(row["explained_by"]) and (row["flagged_share"] or 0.0) < 0.5
    )


def load_report(db: Path) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = {r[0] for r in con.execute("DESCRIBE report.activity_spikes").fetchall()}

        def col(name: str) -> str:
            return name if name in cols else f"NULL AS {name}"

        q = (
            f"SELECT scope, epoch(window_start), epoch(window_end), observed, expected, score, explained_by, "
            f"{col('flagged_share')}, {col('cluster_ids')}, {col('occurrences')}, {col('cadence')}, "
            f"strftime(window_start_local, '%Y-%m-%d %H:%M') "
            "FROM report.activity_spikes ORDER BY window_start, scope"
        )
        if "window_start_local" not in cols:
            q = q.replace("strftime(window_start_local, '%Y-%m-%d %H:%M')", "CAST(window_start AS VARCHAR)")
        keys = (
            "scope",
            "start",
            "end",
            "observed",
            "expected",
            "score",
            "explained_by",
            "flagged_share",
            "cluster_ids",
            "occurrences",
            "cadence",
            "local_start",
        )
        return [dict(zip(keys, r)) for r in con.execute(q).fetchall()]
    finally:
        con.close()


def load_truth(truth: Path) -> tuple[list[dict], list[dict]]:
    truth = truth / "truth" if (truth / "truth").is_dir() else truth
    incidents = []
    for s in _rows(truth / "spikes.csv"):
        incidents.append(
            {
                **s,
                "kind": "abusive" if s["kind"] == "abusive" else "benign",
                "start": datetime.fromisoformat(s["window_start"]).timestamp(),
                "end": datetime.fromisoformat(s["window_end"]).timestamp(),
            }
        )
    ambiguous = []
    meta = truth / "meta.json"
    if meta.is_file():
        releases = (json.loads(meta.read_text()).get("hard_params") or {}).get("releases") or {}
        for cid, r in releases.items():
            if r["kind"] == "none":
                t = datetime.fromisoformat(r["released_at"]).timestamp()
                ambiguous.append(
                    {"scope": f"coupon_claims:{cid}", "start": t, "end": t + 600, "planted_share": r["planted_share"]}
                )
    return incidents, ambiguous


def overlaps(row: dict, inc: dict) -> bool:
    return (
        scopes_match(row["scope"], inc["scope"])
        and row["start"] < inc["end"] + SLACK
        and row["end"] > inc["start"] - SLACK
    )


def score(db: Path, truth: Path) -> dict[str, Any]:
    rows = load_report(db)
    incidents, ambiguous = load_truth(Path(truth))
    matched_rows: set[int] = set()
    out = []
    for inc in incidents:
        hits = [i for i, r in enumerate(rows) if overlaps(r, inc)]
        matched_rows.update(hits)
        hit_rows = [rows[i] for i in hits]
        covered = _covered(hit_rows, inc)
        rec: dict[str, Any] = {
            k: inc.get(k, "") for k in ("scope", "window_start", "window_end", "kind", "cause", "cluster")
        }
        rec.update(
            rows=len(hits),
            coverage=round(covered, 3),
            reported=bool(hits),
            merged_with=sorted({o["cause"] for o in incidents if o is not inc for r in hit_rows if overlaps(r, o)}),
        )
        if inc["kind"] == "abusive":
            caught = [r for r in hit_rows if not_explained_away(r)]
            rec["caught"] = bool(caught)
            rec["linked"] = any(r["cluster_ids"] for r in caught)
            rec["ok"] = rec["caught"]
        else:
            rec["explained"] = bool(hit_rows) and all(benign_explained(r) for r in hit_rows)
            rec["raised"] = any(not benign_explained(r) for r in hit_rows)
            rec["quiet"] = not hit_rows
            rec["blamed"] = any(names_abuse(r["explained_by"]) or (r["flagged_share"] or 0.0) >= 0.5 for r in hit_rows)
            rec["ok"] = rec["explained"]
        rec["examples"] = [_brief(r) for r in hit_rows[:3]]
        out.append(rec)
    amb_rows = {i for i, r in enumerate(rows) for a in ambiguous if overlaps(r, a)} - matched_rows
    unmatched = [r for i, r in enumerate(rows) if i not in matched_rows and i not in amb_rows]
    abusive = [o for o in out if o["kind"] == "abusive"]
    benign = [o for o in out if o["kind"] == "benign"]
    summary = {
        "report_rows": len(rows),
        "planted": len(out),
        "abusive": len(abusive),
        "benign": len(benign),
        "abusive_caught": sum(o["caught"] for o in abusive),
        "abusive_linked": sum(o["linked"] for o in abusive),
        "benign_explained": sum(o["explained"] for o in benign),
        "benign_quiet": sum(o["quiet"] for o in benign),
        "benign_raised_unexplained": sum(o["raised"] for o in benign),
        "benign_blamed_on_abuse": sum(o["blamed"] for o in benign),
        "rows_per_planted": round(len(rows) / len(out), 2) if out else None,
        "rows_on_ambiguous_releases": len(amb_rows),
        "rows_unmatched": len(unmatched),
    }
    return {
        "summary": summary,
        "incidents": out,
        "unmatched": [_brief(r) for r in unmatched],
        "ambiguous": [{"scope": a["scope"], "planted_share": a["planted_share"]} for a in ambiguous],
    }


def _covered(rows: list[dict], inc: dict) -> float:
    """Share of the incident's window that the matching rows cover."""
    span = max(inc["end"] - inc["start"], 1.0)
    pieces = sorted((max(r["start"], inc["start"]), min(r["end"], inc["end"])) for r in rows)
    total, cursor = 0.0, inc["start"]
    for a, b in pieces:
        a = max(a, cursor)
        if b > a:
            total += b - a
            cursor = b
    return min(total / span, 1.0)


def _brief(r: dict) -> dict:
    return {
        "scope": r["scope"],
        "start_local": r["local_start"],
        "minutes": round((r["end"] - r["start"]) / 60, 1),
        "observed": r["observed"],
        "expected": None if r["expected"] is None else round(r["expected"], 2),
        "score": None if r["score"] is None else round(r["score"], 3),
        "explained_by": r["explained_by"],
        "flagged_share": r["flagged_share"],
        "cluster_ids": r["cluster_ids"],
        "occurrences": r["occurrences"],
        "cadence": r["cadence"],
    }


def format_score(s: dict) -> str:
    m = s["summary"]
    lines = [
        f"report rows {m['report_rows']} for {m['planted']} planted incidents "
        f"({m['rows_per_planted']} rows per incident); {m['rows_unmatched']} rows match no planted incident, "
        f"{m['rows_on_ambiguous_releases']} sit on releases not scored",
        f"abusive incidents caught (reported, not explained away): {m['abusive_caught']}/{m['abusive']}"
        f"  (linked to a case: {m['abusive_linked']})",
        f"benign incidents explained: {m['benign_explained']}/{m['benign']}  (quiet: {m['benign_quiet']}, "
        f"raised unexplained: {m['benign_raised_unexplained']}, blamed on abuse: {m['benign_blamed_on_abuse']})",
        "",
    ]
    for o in s["incidents"]:
        if o["kind"] == "abusive":
            state = (
                ("caught" + (" linked" if o["linked"] else ""))
                if o["caught"]
                else ("EXPLAINED AWAY" if o["reported"] else "MISSED")
            )
        else:
            state = (
                "explained"
                if o["explained"]
                else "quiet"
                if o["quiet"]
                else "BLAMED ON ABUSE"
                if o["blamed"]
                else "RAISED, unexplained"
            )
        merged = f"  merged with: {', '.join(o['merged_with'])}" if o["merged_with"] else ""
        lines.append(
            f"{'ok  ' if o['ok'] else 'FAIL'} {o['kind']:<7} {o['scope']:<24} {o['window_start'][:16]} "
            f"-> {o['window_end'][5:16]}  {o['cause']} {o['cluster']}".rstrip()
        )
        lines.append(f"       {state}; rows {o['rows']}, coverage {o['coverage']:.0%}{merged}")
        for ex in o["examples"]:
            lines.append(
                f"         {ex['scope']} {ex['start_local']} {ex['minutes']} min obs {ex['observed']} "
                f"exp {ex['expected']} score {ex['score']} explained_by={ex['explained_by']!r} "
                f"flagged_share={ex['flagged_share']} clusters={ex['cluster_ids']}"
            )
    if s["unmatched"]:
        lines.append("rows matching no planted incident:")
        for ex in s["unmatched"][:15]:
            lines.append(
                f"  {ex['scope']} {ex['start_local']} {ex['minutes']} min obs {ex['observed']} "
                f"exp {ex['expected']} explained_by={ex['explained_by']!r} cadence={ex['cadence']!r}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("truth", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    s = score(args.db, args.truth)
    print(json.dumps(s, indent=1, default=str) if args.json else format_score(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
