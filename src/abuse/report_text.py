"""Short human-readable text for a run summary."""

from __future__ import annotations

from typing import Any

IRREGULAR = {"person": "people"}


def plural(n: int | float, word: str, many: str | None = None) -> str:
    """``"1 device"``, ``"3 devices"``, ``"2 batches"``, ``"4 addresses"``: a count and its noun,
    agreed (``many`` where the plural is not the regular one)."""
    if n == 1:
        return f"{n:,} {word}"
    if many is None:
        many = IRREGULAR.get(word)
    if many is None:
        consonant_y = word.endswith("y") and word[-2:-1] not in "aeiou"
        sibilant = word.endswith(("s", "sh", "ch", "x"))
        many = word[:-1] + "ies" if consonant_y else word + ("es" if sibilant else "s")
    return f"{n:,} {many}"


def yuan(x: float | None) -> str:
    return "no money estimated" if x is None else f"{x:,.2f} yuan"


def format_summary(out: dict[str, Any]) -> str:
    lines = [f"run {out['run_id']} succeeded: window ends {out['as_of']}, {out['seconds']}s"]
    sup = out.get("suppressed") or {}
    ing, quar = out["ingested"], out["quarantined"]
    kinds = [k for k in ing if ing[k] or quar[k]]
    if kinds:
        lines.append(
            "  ingested: "
            + ", ".join(f"{k} {ing[k]:,}" + (f" (+{quar[k]:,} quarantined)" if quar[k] else "") for k in kinds)
        )
    else:
        lines.append("  ingested: nothing new")
    found = out["findings"]
    left_out = [
        plural(n, w)
        for n, w in ((sup.get("cases", 0), "dismissed case"), (sup.get("accounts", 0), "dismissed account"))
        if n
    ]
    lines.append(
        "  flagged: "
        + (", ".join(f"{p} {n:,}" for p, n in sorted(found.items())) or "none")
        + f"; {plural(out['clusters'], 'case')}, {plural(out['spikes'], 'activity spike')}"
        + (f" ({', '.join(left_out)} left out)" if left_out else "")
    )
    bad = {k: v for k, v in out.get("checks", {}).items() if v}
    if bad:
        lines.append("  checks: " + ", ".join(f"{k} {v:,}" for k, v in bad.items()))
    lines.append(f"  report: {out['db']}  (open it: python3 -m uv run duckdb -readonly {out['db']})")
    return "\n".join(lines)


def case_table(con, run_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The run's cases as rows for a table (the Prefect table artifact, the CLI)."""
    rows = con.execute(
        """SELECT c.cluster_id, c.pattern, c.case_status, c.n_accounts, round(c.loss_estimate, 2),
                  round(c.score, 3), r.as_of, c.summary
           FROM clusters c LEFT JOIN runs r ON r.run_id = c.case_first_run
           WHERE c.run_id = ? AND c.case_status <> 'dismissed'
           ORDER BY c.loss_estimate DESC NULLS LAST, c.score DESC, c.cluster_id LIMIT ?""",
        [run_id, limit],
    ).fetchall()
    keys = ["cluster_id", "pattern", "status", "accounts", "loss_yuan", "score", "first_seen", "summary"]
    return [{k: (str(v) if k == "first_seen" and v is not None else v) for k, v in zip(keys, row)} for row in rows]


def run_markdown(con, run_id: int, top: int = 5) -> str:
    """The night's result for a person: counts per pattern, new vs recurring, money at risk,
    and the top cases with their reasons."""
    run = con.execute("SELECT as_of, window_start, window_end, status FROM runs WHERE run_id = ?", [run_id]).fetchone()
    per_pattern = con.execute(
        """SELECT f.pattern, count(*) AS accounts,
                  (SELECT count(*) FROM clusters c WHERE c.run_id = ? AND c.pattern = f.pattern
                       AND c.case_status <> 'dismissed') AS cases
           FROM findings f WHERE f.run_id = ? GROUP BY 1 ORDER BY 1""",
        [run_id, run_id],
    ).fetchall()
    status = dict(
        con.execute("SELECT case_status, count(*) FROM clusters WHERE run_id = ? GROUP BY 1", [run_id]).fetchall()
    )
    money = con.execute(
        "SELECT coalesce(sum(loss_estimate), 0) FROM clusters WHERE run_id = ? AND case_status <> 'dismissed'", [run_id]
    ).fetchone()[0]
    spikes = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE explained_by IS NULL) FROM spikes WHERE run_id = ?", [run_id]
    ).fetchone()
    lines = [f"# Abuse report, run {run_id} (window ending {run[0]})", ""]
    lines += ["| pattern | flagged accounts | cases |", "|---|---:|---:|"]
    lines += [f"| {p} | {n:,} | {c:,} |" for p, n, c in per_pattern] or ["| (none) | 0 | 0 |"]
    lines += [
        "",
        f"- **Cases:** {status.get('new', 0)} new, {status.get('recurring', 0)} recurring, "
        f"{status.get('grown', 0)} grown, {status.get('shrunk', 0)} shrunk"
        + (f", {status['dismissed']} dismissed and suppressed" if status.get("dismissed") else ""),
        f'- **Money at risk:** {money:,.2f} yuan (README "Money": one definition per pattern; '
        "patterns that estimate none are not counted)",
        f"- **Activity spikes:** {spikes[0]} ({spikes[1]} unexplained)",
        "",
    ]
    cases = case_table(con, run_id, top)
    if cases:
        lines += ["## Top cases", ""]
        for c in cases:
            lines.append(
                f"- **{c['cluster_id']}** ({c['pattern']}, {c['status']}, "
                f"{plural(c['accounts'], 'account')}, {yuan(c['loss_yuan'])}): {c['summary']}"
            )
    return "\n".join(lines)
