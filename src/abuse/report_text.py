"""Short human-readable text for a run summary."""

from __future__ import annotations

from typing import Any


def format_summary(out: dict[str, Any]) -> str:
    lines = [f"run {out['run_id']} succeeded: window ends {out['as_of']}, {out['seconds']}s"]
    ing, quar = out["ingested"], out["quarantined"]
    kinds = [k for k in ing if ing[k] or quar[k]]
    if kinds:
        lines.append("  ingested: " + ", ".join(
            f"{k} {ing[k]:,}" + (f" (+{quar[k]:,} quarantined)" if quar[k] else "") for k in kinds))
    else:
        lines.append("  ingested: nothing new")
    found = out["findings"]
    lines.append("  flagged: " + (", ".join(f"{p} {n:,}" for p, n in sorted(found.items())) or "none")
                 + f"; {out['clusters']} clusters, {out['spikes']} activity spikes")
    bad = {k: v for k, v in out.get("checks", {}).items() if v}
    if bad:
        lines.append("  checks: " + ", ".join(f"{k} {v:,}" for k, v in bad.items()))
    lines.append(f"  report: {out['db']}  (duckdb {out['db']} -c \"FROM report.flagged_accounts\")")
    return "\n".join(lines)
