"""Score a report against a ``--wild`` and/or ``--messy`` held-out data set.

    python tests/heldout/score_wild.py DB DIR [--json]

Per pattern: precision and recall; per planted crew (truth/accounts.csv ``cluster``, or the
account for lone ones): recall and whether one reported cluster holds half of it; per evasion
tactic: recall; every flagged look-alike by id; and, with ``--messy`` truth, report.quarantine
against truth/expected_quarantine.csv (missed, extra), whether the redelivered corrections won
(truth/corrections.csv against stg_orders in the working database beside DB) and whether the
zero-padded account ids survived as text.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

import duckdb


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _prf(flagged: set[str], truth: set[str]) -> dict:
    tp = len(flagged & truth)
    return {
        "planted": len(truth),
        "flagged": len(flagged),
        "tp": tp,
        "precision": round(tp / len(flagged), 3) if flagged else None,
        "recall": round(tp / len(truth), 3) if truth else None,
    }


def score(db: Path, data: Path) -> dict:
    truth = data / "truth" if (data / "truth").is_dir() else data
    con = duckdb.connect(str(db), read_only=True)
    try:
        flagged = con.execute("SELECT account_id, pattern, cluster_id FROM report.flagged_accounts").fetchall()
        clusters = con.execute("SELECT cluster_id, pattern, account_ids FROM report.clusters").fetchall()
        quarantine = con.execute(
            "SELECT file, row_number, reason FROM report.quarantine "
            "WHERE run_id = (SELECT max(run_id) FROM report.runs)"
        ).fetchall()
    finally:
        con.close()
    planted = _rows(truth / "accounts.csv")
    for r in planted:  # the base world's idle sign-up burst is a batch (issue #12), as tests/test_heldout.py reads it
        if r.get("role") == "signup_burst":
            r["pattern"] = "batch_registration"
    by_pat: dict[str, set[str]] = defaultdict(set)
    for a, p, _ in flagged:
        by_pat[p].add(a)
    out: dict = {"patterns": {}, "crews": {}, "evasion": {}, "lookalikes": {}}
    for pat in sorted({r["pattern"] for r in planted} | set(by_pat)):
        out["patterns"][pat] = _prf(by_pat[pat], {r["account_id"] for r in planted if r["pattern"] == pat})
    crews: dict[tuple[str, str], set[str]] = defaultdict(set)
    tactics: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in planted:
        crews[(r["pattern"], r["cluster"] or r.get("role") or "-")].add(r["account_id"])
        for t in (r.get("evasion") or "").split(";"):
            if t:
                tactics[(r["pattern"], t)].add(r["account_id"])
    reported = defaultdict(list)
    for _, p, ids in clusters:
        reported[p].append(set(ids or []))
    for (pat, crew), ids in sorted(crews.items()):
        hit = ids & by_pat[pat]
        out["crews"][f"{pat}/{crew}"] = {
            "planted": len(ids),
            "recall": round(len(hit) / len(ids), 3),
            "recovered": any(len(ids & c) >= 0.5 * len(ids) for c in reported[pat]),
            "missed_examples": sorted(ids - hit)[:3],
        }
    for (pat, t), ids in sorted(tactics.items()):
        out["evasion"][f"{pat}/{t}"] = {"planted": len(ids), "recall": round(len(ids & by_pat[pat]) / len(ids), 3)}
    pats_of: dict[str, set[str]] = defaultdict(set)
    for a, p, _ in flagged:
        pats_of[a].add(p)
    looks: dict[str, list] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for r in _rows(truth / "lookalikes.csv"):
        counts[r["lookalike"]] += 1
        if pats_of.get(r["account_id"]):
            looks[r["lookalike"]].append(f"{r['account_id']}:{'+'.join(sorted(pats_of[r['account_id']]))}")
    for kind, n in sorted(counts.items()):
        out["lookalikes"][kind] = {"accounts": n, "flagged": len(looks[kind]), "ids": looks[kind][:8]}
    expected = _rows(truth / "expected_quarantine.csv")
    if expected:
        out["quarantine"] = _quarantine(expected, quarantine)
        out["corrections"] = _corrections(db, truth)
    return out


def _quarantine(expected: list[dict], got: list[tuple]) -> dict:
    def key(file: str, row) -> tuple[str, str]:
        return (Path(str(file)).name, "" if row is None else str(row))

    want = {key(e["file"], e["row"] or None): e["reason"] for e in expected}
    have = {key(f, r): why for f, r, why in got}
    return {
        "expected": len(want),
        "reported": len(have),
        "matched": len(want.keys() & have.keys()),
        "missed": [f"{f}#{r or 'file'}: {want[(f, r)]}" for f, r in sorted(want.keys() - have.keys())],
        "extra": [f"{f}#{r or 'file'}: {have[(f, r)]}" for f, r in sorted(have.keys() - want.keys())][:20],
        "extra_count": len(have.keys() - want.keys()),
    }


def _corrections(db: Path, truth: Path) -> dict:
    work = db.with_name(f"{db.stem}.work{db.suffix or '.duckdb'}")
    fixes = _rows(truth / "corrections.csv")
    res: dict = {"corrections": len(fixes)}
    if not work.is_file():
        return res
    con = duckdb.connect(str(work), read_only=True)
    try:
        con.execute("CREATE TEMP TABLE fx (order_id VARCHAR, field VARCHAR, old VARCHAR, new VARCHAR)")
        con.executemany("INSERT INTO fx VALUES (?, ?, ?, ?)", [tuple(f.values()) for f in fixes])
        won, rows = con.execute(
            """SELECT count(*) FILTER (WHERE (fx.field = 'status' AND o.status = fx.new)
                                       OR (fx.field = 'amount' AND abs(o.amount - TRY_CAST(fx.new AS DOUBLE)) < 0.005)),
                      count(o.order_id)
               FROM fx LEFT JOIN stg_orders o USING (order_id)"""
        ).fetchone()
        res.update(later_delivery_won=won, found_in_stg_orders=rows)
        instants = [i for i in _rows(truth / "instants.csv") if i["order_id"] not in {f["order_id"] for f in fixes}]
        if instants:
            con.execute("CREATE TEMP TABLE ins (order_id VARCHAR, epoch DOUBLE, amount DOUBLE, form VARCHAR)")
            con.executemany("INSERT INTO ins VALUES (?, ?, ?, ?)", [tuple(i.values()) for i in instants])
            res["instants_by_form"] = {
                form: f"{ok}/{n} kept instant and amount"
                for form, ok, n in con.execute(
                    """SELECT form, count(*) FILTER (WHERE abs(epoch(o.created_at) - ins.epoch) < 0.002
                                                     AND abs(o.amount - ins.amount) < 0.005), count(*)
                       FROM ins LEFT JOIN stg_orders o USING (order_id) GROUP BY form ORDER BY form"""
                ).fetchall()
            }
        resend = truth.parent / "landing" / "accounts" / "accounts_padded_resend.csv"
        padded = [r["account_id"] for r in _rows(resend)] if resend.is_file() else []
        if padded:
            con.execute("CREATE TEMP TABLE pad (account_id VARCHAR)")
            con.executemany("INSERT INTO pad VALUES (?)", [(a,) for a in padded])
            kept = con.execute("SELECT count(*) FROM pad JOIN stg_accounts USING (account_id)").fetchone()[0]
            res.update(padded_truth_ids=len(padded), padded_ids_in_stg_accounts=kept)
    except duckdb.Error as e:
        res["error"] = str(e).splitlines()[0]
    finally:
        con.close()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    res = score(a.db, a.data)
    if a.json:
        print(json.dumps(res, indent=1, ensure_ascii=False))
        return
    for section in ("patterns", "crews", "evasion", "lookalikes"):
        print(f"== {section}")
        for k, v in res[section].items():
            print(f"  {k}: {json.dumps(v, ensure_ascii=False)}")
    for section in ("quarantine", "corrections"):
        if section in res:
            print(f"== {section}\n  {json.dumps(res[section], indent=1, ensure_ascii=False)}")


if __name__ == "__main__":
    main()
