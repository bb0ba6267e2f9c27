"""Crews of serial refunders: flagged accounts linked by a shipping address or device that few
accounts use (components of the account-identifier graph). An account whose paid count falls
just short of the level joins when it shares such an identifier with a flagged account and
its surprise, after paying ``log10`` of the number of accounts so linked, reaches
``join_surprise``: the link is the prior that makes fewer orders convincing. Near accounts
linked only to each other are a crew when their pooled paid count is surprising enough."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import duckdb
import polars as pl

from abuse import graphs, stats
from abuse.sqlfiles import read_sql, use_intermediate


@dataclass
class Crew:
    accounts: list[str]
    addresses: int  # shared shipping addresses
    devices: int  # shared devices


def _shared_ids(con: duckdb.DuckDBPyConnection, accounts: list[str], hub_cap: int) -> pl.DataFrame:
    cur = con.cursor()
    try:
        cur.register("refunds_cand", pl.DataFrame({"account_id": accounts}, schema={"account_id": pl.Utf8}).to_arrow())
        use_intermediate(cur)
        ids = cur.sql(read_sql("features/refunds_shared_ids.sql")).pl()
    finally:
        cur.close()
    return ids.filter(pl.col("n_accounts") <= hub_cap)


def groups(con: duckdb.DuckDBPyConnection, accounts: list[str], hub_cap: int) -> pl.DataFrame:
    """(account_id, grp): components of ``accounts`` over the rare identifiers they share, for
    the leave-out of the base rates (accounts alone get no row)."""
    ids = _shared_ids(con, accounts, hub_cap)
    links = [
        (a, f"{kind}:{value}")
        for kind, value, accs in ids.select("kind", "value", "accounts").iter_rows()
        for a in accs
    ]
    rows = [(a, min(c)) for c in graphs.union_components(links) if len(c) >= 2 for a in c]
    return pl.DataFrame(rows, schema={"account_id": pl.Utf8, "grp": pl.Utf8}, orient="row")


def crews(
    con: duckdb.DuckDBPyConnection, flagged: pl.DataFrame, near: pl.DataFrame, *, join_surprise: float, hub_cap: int
) -> tuple[list[Crew], pl.DataFrame]:
    """(crews of >= 2 accounts, the rows of ``near`` that joined one, with ``joined_bits``).

    Components of flagged and near accounts over rare shared identifiers: a near account
    joins a component holding a flagged one when its own surprise, less ``log10`` of the near
    accounts so linked, reaches ``join_surprise``; a component of near accounts alone is a
    crew when its pooled paid count (all members' orders against their summed base rate),
    less ``log10`` of the components so tested, does."""
    core = set(flagged["account_id"])
    cand = core | set(near["account_id"])
    ids = _shared_ids(con, sorted(cand), hub_cap)
    links = [
        (a, f"{kind}:{value}")
        for kind, value, accs in ids.select("kind", "value", "accounts").iter_rows()
        for a in accs
        if a in cand
    ]
    comps = [c for c in graphs.union_components(links) if len(c) >= 2]
    near_by = {r["account_id"]: r for r in near.iter_rows(named=True)}
    accepted: dict[str, float] = {}
    with_core = [c for c in comps if c & core]
    linked = [a for c in with_core for a in c - core]
    for a in linked:
        bits = near_by[a]["surprise"] - math.log10(len(linked))
        if bits >= join_surprise:
            accepted[a] = bits
    alone = [c for c in comps if not c & core]
    for c in alone:
        rows = [near_by[a] for a in c]
        n = sum(r["n_orders"] for r in rows)
        k = sum(r["n_paid"] for r in rows)
        mu = sum(r["expected_paid"] for r in rows)
        bits = float(stats.surprise_binom(k, n, mu / max(n, 1))) - math.log10(len(alone))
        if bits >= join_surprise:
            accepted.update(dict.fromkeys(c, bits))
    members = core | set(accepted)
    kinds = {}
    inner = []
    for a, node in links:
        if a in members:
            inner.append((a, node))
            kinds[node] = node.split(":", 1)[0]
    shared_nodes = {n for n, k in Counter(n for _, n in inner).items() if k >= 2}
    inner = [(a, n) for a, n in inner if n in shared_nodes]
    out = []
    for comp in graphs.union_components(inner):
        if len(comp) < 2:
            continue
        nodes = {n for a, n in inner if a in comp}
        out.append(
            Crew(sorted(comp), sum(kinds[n] == "address" for n in nodes), sum(kinds[n] == "device" for n in nodes))
        )
    in_crew = {a for c in out for a in c.accounts}
    joined = near.filter(pl.col("account_id").is_in([a for a in accepted if a in in_crew]))
    joined = joined.with_columns(
        joined_bits=pl.col("account_id").replace_strict(accepted, default=None, return_dtype=pl.Float64)
    )
    return sorted(out, key=lambda c: c.accounts[0]), joined
