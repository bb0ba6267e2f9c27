"""A brushing case into the result: its cluster and one finding per member, in account order,
each with the member's own figures and then the crew's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from abuse.detect.base import Cluster, DetectorResult, Finding

PATTERN = "brushing_ring"

# a member's row -> (score, reason, its own figures)
Member = Callable[[dict[str, Any]], tuple[float, str, dict[str, Any]]]


def add_case(result: DetectorResult, cluster: Cluster, rows: pl.DataFrame, member: Member, crew: dict) -> None:
    """``cluster`` and a finding per row of ``rows`` (one row per member, ``account_id``); a
    finding's evidence is ``member(row)``'s figures followed by ``crew``, the case's figures."""
    result.clusters.append(cluster)
    for r in rows.sort("account_id").iter_rows(named=True):
        score, reason, figures = member(r)
        result.findings.append(
            Finding(
                account_id=r["account_id"],
                pattern=PATTERN,
                score=score,
                reason=reason,
                evidence={**figures, "crew": dict(crew)},
                cluster_key=cluster.cluster_key,
            )
        )
