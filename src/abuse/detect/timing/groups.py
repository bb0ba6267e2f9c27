"""Batches among the scripted accounts: the idle crowd of one unexplained spike, and
machine-timed accounts run from the same devices or network blocks.

A lone bot is reported alone; accounts that keep a machine's clock *and* share machines
are one operation, reported as one cluster (connected components of the account-device /
account-network graph restricted to flagged accounts, so its size is bounded by them).
"""

from __future__ import annotations

import networkx as nx
import polars as pl

from abuse.detect.base import Cluster, Finding
from abuse.report_text import plural
from abuse.sqlfiles import read_sql, temp_table


def spike_clusters(members: pl.DataFrame, pattern: str, min_size: int) -> dict[str, Cluster]:
    """One cluster per unexplained spike whose flagged lone members are at least ``min_size``."""
    out = {}
    for (scope, start, end), part in members.group_by(["scope", "spike_start", "spike_end"]):
        ids = sorted(part["account_id"].unique().to_list())
        if len(ids) < min_size:
            continue
        key = f"spike:{scope}@{start:%Y-%m-%dT%H:%M}"
        out[key] = Cluster(
            cluster_key=key,
            pattern=pattern,
            account_ids=ids,
            score=0.9,
            summary=f"{len(ids)} accounts appear only in the unexplained {scope} spike at "
            f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} and do nothing else in the window",
            first_seen=start,
            last_seen=end,
            evidence={"scope": scope, "spike_start": start.isoformat(), "spike_end": end.isoformat()},
        )
    return out


def machine_clusters(con, accounts: list[str], pattern: str, min_size: int) -> dict[str, Cluster]:
    """Clusters of flagged accounts linked by a shared device or network block."""
    if len(accounts) < min_size:
        return {}
    with temp_table(con, "timing_flagged", pl.DataFrame({"account_id": accounts})):
        used = con.sql(read_sql("features/timing_infrastructure.sql")).pl()
    g = nx.Graph()
    for kind in ("device_id", "block"):
        for acc, thing in used.select("account_id", kind).drop_nulls().iter_rows():
            g.add_edge(("a", acc), (kind, thing))
    out = {}
    for comp in nx.connected_components(g):
        ids = sorted(n[1] for n in comp if n[0] == "a")
        if len(ids) < min_size:
            continue
        devices = sum(1 for n in comp if n[0] == "device_id")
        blocks = sum(1 for n in comp if n[0] == "block")
        key = f"machines:{ids[0]}"
        out[key] = Cluster(
            cluster_key=key,
            pattern=pattern,
            account_ids=ids,
            score=0.9,
            summary=f"{len(ids)} machine-timed accounts sharing {plural(devices, 'device')} and "
            f"{plural(blocks, 'network block')}",
            evidence={"devices": devices, "network_blocks": blocks},
        )
    return out


def attach(findings: list[Finding], clusters: dict[str, Cluster]) -> None:
    """Set each finding's cluster_key to the (first) cluster holding its account."""
    owner: dict[str, str] = {}
    for key, c in clusters.items():
        for a in c.account_ids:
            owner.setdefault(a, key)
    for f in findings:
        f.cluster_key = owner.get(f.account_id)
