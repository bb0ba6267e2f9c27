"""Farms: lockstep accounts and crew members joined into the rigs that act together, the
targets each inflated, and the clusters and findings that say so.

Lockstep accounts meet through the significant buckets they share (a bucket links only
accounts that are themselves in lockstep), crew members through their crew; the connected
components of that small account-bucket-crew graph are the farms. A farm's inflated targets are
the targets of its significant buckets and of its co-boosted pairs: each was tested, so cover
likes on popular posts do not make a target "inflated".
"""

from __future__ import annotations

from typing import Any, cast

import networkx as nx
import polars as pl

from abuse import stats
from abuse.detect.base import Cluster, Finding
from abuse.detect.engagement import reasons
from abuse.detect.engagement.reasons import PATTERN
from abuse.sqlfiles import read_sql


def build_farms(
    sync_members: pl.DataFrame, sync_accounts: pl.DataFrame, crew_members: pl.DataFrame, min_accounts: int
) -> list[dict[str, Any]]:
    """Components: [{'accounts': [...], 'buckets': [(t, a, b)], 'crews': [...]}] with at least
    ``min_accounts`` accounts, largest first (ties by first account id)."""
    g = nx.Graph()
    ok = set(sync_accounts.filter(pl.col("sync_ok"))["account_id"].to_list()) if not sync_accounts.is_empty() else set()
    if ok:
        sm = sync_members.filter(pl.col("account_id").is_in(list(ok)))
        shared = sm.group_by("target_id", "action", "bucket").agg(pl.len().alias("n")).filter(pl.col("n") >= 2)
        sm = sm.join(shared.select("target_id", "action", "bucket"), on=["target_id", "action", "bucket"])
        for a, t, act, b in sm.select("account_id", "target_id", "action", "bucket").rows():
            g.add_edge(("a", a), ("k", t, act, b))
    if not crew_members.is_empty():
        for crew, a in crew_members.select("crew", "account_id").rows():
            g.add_edge(("a", a), ("c", crew))
    farms = []
    for comp in nx.connected_components(g):
        accounts = sorted(n[1] for n in comp if n[0] == "a")
        if len(accounts) < min_accounts:
            continue
        farms.append(
            {
                "accounts": accounts,
                "buckets": sorted(n[1:] for n in comp if n[0] == "k"),
                "crews": sorted(n[1] for n in comp if n[0] == "c"),
            }
        )
    farms.sort(key=lambda f: (-len(f["accounts"]), f["accounts"][0]))
    return farms


def report(
    con,
    farms: list[dict],
    sig_buckets: pl.DataFrame,
    sync_members: pl.DataFrame,
    sync_accounts: pl.DataFrame,
    crews: list[dict],
    crew_pairs: pl.DataFrame,
    crew_members: pl.DataFrame,
    accounts: pl.DataFrame,
    bucket_s: float,
    bucket_tests: int,
) -> tuple[list[Cluster], list[Finding]]:
    if not farms:
        return [], []
    fm, ft = farm_frames(farms, crew_pairs)
    infra, pairs, targets = _farm_infra(con, fm, ft)
    fp = _farm_target_shares(pairs, targets, fm, ft)
    bursts = _farm_bursts(farms, sync_members, sig_buckets, fm)
    sync = {r["account_id"]: r for r in sync_accounts.to_dicts()} if not sync_accounts.is_empty() else {}
    crew_info = {r["crew"]: r for r in crews}
    crew_mem, on_t, acc_info = _member_lookups(crew_members, pairs, accounts, fm, ft)
    clusters, findings = [], []
    for i, f in enumerate(farms):
        key = f"farm-{i + 1}"
        inf = infra.get(i, {})
        cluster, farm_s = _farm_cluster(
            key,
            f,
            fp.filter(pl.col("farm") == i),
            bursts.filter(pl.col("farm") == i),
            inf,
            crew_info,
            sync,
            bucket_s,
            bucket_tests,
        )
        clusters.append(cluster)
        for a in f["accounts"]:
            findings.append(
                reasons.finding(
                    a,
                    key,
                    len(f["accounts"]),
                    farm_s,
                    sync.get(a),
                    crew_mem.get(a),
                    acc_info.get(a, {}),
                    on_t.get(a, []),
                    inf,
                    bucket_s,
                )
            )
    return clusters, findings


def _member_lookups(
    crew_members: pl.DataFrame, pairs: pl.DataFrame, accounts: pl.DataFrame, fm: pl.DataFrame, ft: pl.DataFrame
) -> tuple[dict[str, dict], dict[str, list], dict[str, dict]]:
    """Per farm member: its (first) crew row, its (target, action, events) on its farm's tested
    targets, and its account row."""
    crew_mem: dict[str, dict] = {}
    if not crew_members.is_empty():
        for r in crew_members.to_dicts():
            crew_mem.setdefault(r["account_id"], r)
    on_t: dict[str, list] = {}
    for a, t, act, e in (
        pairs.join(fm, on="account_id")
        .join(ft, on=["farm", "target_id", "action"])
        .select("account_id", "target_id", "action", "events")
        .sort("account_id", "target_id", "action")
        .rows()
    ):
        on_t.setdefault(a, []).append((t, act, e))
    acc_info = {
        r["account_id"]: r for r in accounts.filter(pl.col("account_id").is_in(fm["account_id"].implode())).to_dicts()
    }
    return crew_mem, on_t, acc_info


def _farm_cluster(
    key: str,
    f: dict,
    fp: pl.DataFrame,
    bu: pl.DataFrame,
    inf: dict,
    crew_info: dict,
    sync: dict,
    bucket_s: float,
    bucket_tests: int,
) -> tuple[Cluster, float]:
    """One farm's cluster (its target shares `fp`, lockstep bursts `bu`, infrastructure `inf`)
    and the surprise behind its score."""
    tg = fp.sort(["share", "from_farm", "target_id"], descending=[True, True, False])
    n_acc = len(f["accounts"])
    # evidence strength: the best lockstep bucket, or the crew's combined tells
    best_bucket = (
        float(stats.corrected(bu["surprise"].max(), bucket_tests))
        if not bu.is_empty() and bu["surprise"].max() is not None
        else 0.0
    )
    best_crew = max((crew_info[c]["corrected"] for c in f["crews"] if c in crew_info), default=0.0)
    farm_s = max(best_bucket, best_crew)
    target_rows = _target_rows(tg, bu)
    top = target_rows[0] if target_rows else None
    summary = reasons.summary(n_acc, inf, top, len(target_rows))
    crew_ev = [
        {k: v for k, v in crew_info[c].items() if k != "is_crew" and v is not None}
        for c in f["crews"]
        if c in crew_info
    ]
    evidence = {
        "accounts": n_acc,
        "ips": int(inf.get("ips") or 0),
        "network_blocks": int(inf.get("blocks") or 0),
        "devices": int(inf.get("devices") or 0),
        "events_on_targets": int(inf.get("events") or 0),
        "lockstep_buckets": len(f["buckets"]),
        "bucket_s": bucket_s,
        "lockstep_accounts": sum(1 for a in f["accounts"] if sync.get(a, {}).get("sync_ok")),
        "crews": crew_ev,
        "targets": target_rows,
        "surprise": round(farm_s, 2),
    }
    cluster = Cluster(
        cluster_key=key,
        pattern=PATTERN,
        account_ids=list(f["accounts"]),
        score=float(stats.score(farm_s)),
        summary=summary,
        shop_ids=None,
        first_seen=inf.get("first_ts"),
        last_seen=inf.get("last_ts"),
        loss_estimate=None,
        evidence=evidence,
        target_ids=[t["target_id"] for t in target_rows],
    )
    return cluster, farm_s


def farm_frames(farms: list[dict], crew_pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(farm, account_id) of every member and (farm, target_id, action) of every tested
    target: its buckets' targets and its crews' co-boosted pairs."""
    member_rows = [(i, a) for i, f in enumerate(farms) for a in f["accounts"]]
    fm = pl.DataFrame(member_rows, schema={"farm": pl.Int64, "account_id": pl.Utf8}, orient="row")
    trows: set[tuple[int, str, str]] = set()
    for i, f in enumerate(farms):
        trows.update((i, t, a) for t, a, _ in f["buckets"])
        if f["crews"] and not crew_pairs.is_empty():
            for t, a in (
                crew_pairs.filter(pl.col("crew").is_in(f["crews"])).select("target_id", "action").unique().rows()
            ):
                trows.add((i, t, a))
    ft = pl.DataFrame(sorted(trows), schema={"farm": pl.Int64, "target_id": pl.Utf8, "action": pl.Utf8}, orient="row")
    return fm, ft


def _farm_infra(con, fm: pl.DataFrame, ft: pl.DataFrame) -> tuple[dict[int, dict], pl.DataFrame, pl.DataFrame]:
    """Per farm: its IPs, network blocks, devices and events on its targets; the members'
    (account, target, action) pairs and the tested targets' totals. Only the farms' rows leave
    DuckDB: the pairs and totals of the whole window are as many rows as the engagement."""
    con.register("engagement_farm_members", fm.to_arrow())
    con.register("engagement_farm_targets", ft.to_arrow())
    try:
        infra = {r["farm"]: r for r in con.sql(read_sql("features/engagement_farm_infra.sql")).pl().to_dicts()}
        pairs = con.sql(read_sql("features/engagement_farm_pairs.sql")).pl()
        targets = con.sql(read_sql("features/engagement_farm_target_totals.sql")).pl()
        return infra, pairs, targets
    finally:
        con.unregister("engagement_farm_members")
        con.unregister("engagement_farm_targets")


def _farm_target_shares(pairs: pl.DataFrame, targets: pl.DataFrame, fm: pl.DataFrame, ft: pl.DataFrame) -> pl.DataFrame:
    """Per farm and target: the farm's events against the target's total (share)."""
    fp = (
        pairs.join(fm, on="account_id")
        .join(ft, on=["farm", "target_id", "action"])
        .group_by("farm", "target_id", "action")
        .agg(
            pl.col("events").sum().alias("from_farm"),
            pl.col("account_id").n_unique().alias("farm_accounts"),
            pl.col("first_ts").min(),
            pl.col("last_ts").max(),
        )
        .join(
            targets.select(
                "target_id", "action", pl.col("events").alias("total"), pl.col("accounts").alias("total_accounts")
            ),
            on=["target_id", "action"],
        )
    )
    return fp.with_columns((pl.col("from_farm") / pl.col("total")).alias("share"))


def _farm_bursts(
    farms: list[dict], sync_members: pl.DataFrame, sig_buckets: pl.DataFrame, fm: pl.DataFrame
) -> pl.DataFrame:
    """The farm's members in each of its buckets, how tightly they acted there (spread_s) and
    the bucket's surprise."""
    sm = sync_members.join(fm, on="account_id")
    bucket_rows = [(i, t, a, b) for i, f in enumerate(farms) for t, a, b in f["buckets"]]
    fb = pl.DataFrame(
        bucket_rows,
        schema={"farm": pl.Int64, "target_id": pl.Utf8, "action": pl.Utf8, "bucket": pl.Int64},
        orient="row",
    )
    bursts = (
        sm.join(fb, on=["farm", "target_id", "action", "bucket"])
        .group_by("farm", "target_id", "action", "bucket")
        .agg(
            pl.len().alias("n"),
            ((pl.col("last_ts").max() - pl.col("first_ts").min()).dt.total_milliseconds() / 1000).alias("spread_s"),
        )
    )
    bsig = sig_buckets.select("target_id", "action", "bucket", "surprise")
    return bursts.join(bsig, on=["target_id", "action", "bucket"], how="left")


def _target_rows(tg: pl.DataFrame, bu: pl.DataFrame) -> list[dict]:
    """The evidence rows of a farm's targets, best share first, with their bursts."""
    target_rows = []
    for r in tg.to_dicts():
        b = bu.filter((pl.col("target_id") == r["target_id"]) & (pl.col("action") == r["action"]))
        target_rows.append(
            {
                "target_id": r["target_id"],
                "action": r["action"],
                "total": int(r["total"]),
                "from_cluster": int(r["from_farm"]),
                "share": round(float(r["share"]), 4),
                "accounts": int(r["farm_accounts"]),
                "total_accounts": int(r["total_accounts"]),
                "first_seen": r["first_ts"],
                "last_seen": r["last_ts"],
                "bursts": len(b),
                "burst_spread_s": round(float(cast(float, b["spread_s"].median())), 1) if len(b) else None,
            }
        )
    return target_rows
