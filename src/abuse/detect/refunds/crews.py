"""Crews of serial refunders: flagged accounts linked by a shipping address or device that few
accounts use (components of the account-identifier graph). An account whose paid count falls
just short of the level joins when it shares such an identifier with a flagged account and
its surprise, after paying ``log10`` of the number of accounts so linked, reaches
``join_surprise``: the link is the prior that makes fewer orders convincing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import polars as pl

from abuse import graphs
from abuse.sqlfiles import read_sql


@dataclass
class Crew:
    accounts: list[str]
    addresses: int  # shared shipping addresses
    devices: int  # shared devices


def _shared_ids(con: duckdb.DuckDBPyConnection, accounts: list[str], hub_cap: int) -> pl.DataFrame:
    cur = con.cursor()
    try:
        cur.register("refunds_cand", pl.DataFrame({"account_id": accounts},
                                                  schema={"account_id": pl.Utf8}).to_arrow())
        ids = cur.sql(read_sql("features/refunds_shared_ids.sql")).pl()
    finally:
        cur.close()
    return ids.filter(pl.col("n_accounts") <= hub_cap)


def crews(con: duckdb.DuckDBPyConnection, flagged: pl.DataFrame, near: pl.DataFrame, *,
          join_surprise: float, hub_cap: int) -> tuple[list[Crew], pl.DataFrame]:
    """(crews of >= 2 accounts, the rows of ``near`` that joined one with their
    ``joined_bits``)."""
    core = set(flagged["account_id"])
    ids = _shared_ids(con, sorted(core | set(near["account_id"])), hub_cap)
    # near accounts linked to a flagged one
    linked = {a for accs in ids["accounts"] if core & set(accs) for a in accs} - core
    joined = near.filter(pl.col("account_id").is_in(list(linked)))
    if joined.height:
        bits = joined["surprise"] - math.log10(max(joined.height, 1))
        joined = joined.with_columns(joined_bits=bits).filter(pl.col("joined_bits") >= join_surprise)
    members = core | set(joined["account_id"])
    links, kinds = [], {}
    for kind, value, accs in ids.select("kind", "value", "accounts").iter_rows():
        inside = [a for a in accs if a in members]
        if len(inside) >= 2:
            node = f"{kind}:{value}"
            kinds[node] = kind
            links.extend((a, node) for a in inside)
    out = []
    for comp in graphs.union_components(links):
        if len(comp) < 2:
            continue
        nodes = {n for a, n in links if a in comp}
        out.append(Crew(sorted(comp), sum(kinds[n] == "address" for n in nodes),
                        sum(kinds[n] == "device" for n in nodes)))
    in_crew = {a for c in out for a in c.accounts}
    joined = joined.filter(pl.col("account_id").is_in(list(in_crew)))
    return sorted(out, key=lambda c: c.accounts[0]), joined
