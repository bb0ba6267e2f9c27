"""From co-targeted shop communities to crews and their client shops.

1. Louvain communities of the significant shop pairs are candidate client sets.
2. Members: accounts positive at >= 2 of the set's shops, ``k`` of them, more than chance
   allows (``d * sum(k_s) / K``, Poisson surprise >= ``min_member_surprise``).
3. Client shops: shops where the members' count is surprising against the members' share
   of the graph (``D * k_s / K``, ``D`` their summed degree) and >= 2 members posted; the
   members are then taken again over those clients (once).
4. Candidates whose members overlap by half of the smaller are one crew; an account claimed
   by two crews stays with the one where its hits are most surprising.
5. A crew's co-targeting strength is the summed surprise of its clients' member counts,
   leaving out its strongest shops (``graphs.leave_out_strength``), so one shop anomalous
   for its own reasons (a launch, a fan club) cannot make a crew.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import networkx as nx
import polars as pl

from abuse import graphs, stats

from .graph import RowIndex


@dataclass
class Crew:
    members: dict[str, float]  # account -> surprise of its hits on the clients
    shops: list[str]  # client shops
    surprise: float = 0.0  # co-targeting strength
    shop_surprise: dict[str, float] = field(default_factory=dict)


def _outside(edges: pl.DataFrame, members: set) -> pl.DataFrame:
    """Shop degrees without the crew's own edges (plus one), so a crew cannot inflate the
    popularity that is meant to explain it."""
    inside = edges.filter(pl.col("account_id").is_in(list(members))).group_by("shop_id").agg(pl.len().alias("own"))
    return (
        edges.unique("shop_id")
        .select("shop_id", "k")
        .join(inside, on="shop_id", how="left")
        .select("shop_id", k_out=pl.col("k") - pl.col("own").fill_null(0) + 1)
    )


def _members(
    at_shop: RowIndex, shops: set, min_surprise: float, big_k: float, crew: AbstractSet[str] = frozenset()
) -> dict[str, float]:
    on = at_shop.take(shops)
    mass = float(_outside(on, set(crew))["k_out"].sum())
    hits = on.group_by("account_id").agg(pl.len().alias("hits"), pl.col("d").first()).filter(pl.col("hits") >= 2)
    s = stats.surprise_poisson(hits["hits"].to_numpy(), hits["d"].to_numpy() * mass / big_k)
    return {a: float(x) for a, x in zip(hits["account_id"], s, strict=True) if x >= min_surprise}


def _clients(of_account: RowIndex, members: set, min_surprise: float, big_k: float) -> dict[str, float]:
    sub = of_account.take(members)
    big_d = float(sub.unique("account_id")["d"].sum())
    # the shops' degrees without the crew's own edges, as _outside gives them, from the
    # members' edges alone (a crew's shops are few; the whole edge frame is not read again)
    per = (
        sub.group_by("shop_id")
        .agg(pl.len().alias("n"), pl.col("k").first())
        .filter(pl.col("n") >= 2)
        .select("shop_id", "n", k_out=pl.col("k") - pl.col("n") + 1)
    )
    s = stats.surprise_poisson(per["n"].to_numpy(), big_d * per["k_out"].to_numpy() / big_k)
    return {sh: float(x) for sh, x in zip(per["shop_id"], s, strict=True) if x >= min_surprise}


def _candidate_sets(strong: pl.DataFrame, seed: int) -> tuple[list[set], list[set]]:
    """(Louvain communities of the significant shop pairs, the connected components that
    Louvain split). Shops are relabelled to integers in sorted order first: Louvain's later
    levels iterate sets of node labels, whose order for strings changes from process to
    process."""
    names = sorted(set(strong["s"]) | set(strong["t"]))
    ix = {n: i for i, n in enumerate(names)}
    edges = [(ix[s], ix[t], w) for s, t, w in zip(strong["s"], strong["t"], strong["surprise"], strict=True)]
    comms = [frozenset(c) for c in graphs.communities(edges, seed=seed)]
    g = nx.Graph()
    g.add_weighted_edges_from(edges)
    split = [frozenset(c) for c in nx.connected_components(g) if frozenset(c) not in set(comms)]
    order = lambda sets: sorted(({names[i] for i in c} for c in sets), key=lambda c: (-len(c), min(c)))  # noqa: E731
    return order(comms), order(split)


def build_crews(
    edges: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    min_pair_surprise: float,
    min_member_surprise: float,
    min_shop_surprise: float,
    min_members: int,
    leave_out: int,
    seed: int = 0,
) -> list[Crew]:
    big_k = float(edges.height)
    # every candidate reads its shops' edges and its members' edges: indexed once, so a
    # candidate costs its own rows, not a pass over every edge (the candidates grow with the
    # platform, so a pass per candidate grew with its square)
    # (of the columns they read: taking rows of the wide frame, texts and all, cost more
    # than the rest of a candidate)
    narrow = edges.select("account_id", "shop_id", "k", "d")
    at_shop, of_account = RowIndex(narrow, "shop_id"), RowIndex(narrow, "account_id")
    strong = pairs.filter(pl.col("surprise") >= min_pair_surprise)
    sets, split = _candidate_sets(strong, seed)

    def candidate(shops: set) -> tuple[dict, dict] | None:
        # first guess of the crew: every account positive at two of these shops, so that the
        # shops' popularity is measured without it (a crew can be most of a shop's reviewers)
        guess = set(at_shop.take(shops).group_by("account_id").len().filter(pl.col("len") >= 2)["account_id"])
        members = _members(at_shop, shops, min_member_surprise, big_k, guess)
        if len(members) < 2:
            return None
        clients = _clients(of_account, set(members), min_shop_surprise, big_k)
        if len(clients) < 2:
            return None
        for _ in range(2):  # popularity without the crew itself, refined once
            members = _members(at_shop, set(clients), min_member_surprise, big_k, set(members))
            clients = _clients(of_account, set(members), min_shop_surprise, big_k) if len(members) >= 2 else {}
        return (members, clients) if len(members) >= 2 and len(clients) >= 2 else None

    cands = [c for c in map(candidate, (x for x in sets if len(x) >= 2)) if c]
    # one crew seen from two shop communities: merge on shared members
    merged: list[tuple[dict, dict]] = []
    for members, clients in sorted(cands, key=lambda c: -len(c[0])):
        for i, (m2, c2) in enumerate(merged):
            if len(members.keys() & m2.keys()) >= 0.5 * min(len(members), len(m2)):
                shops = set(clients) | set(c2)
                mm = _members(at_shop, shops, min_member_surprise, big_k, set(members) | set(m2))
                merged[i] = (
                    mm or {**m2, **members},
                    _clients(of_account, set(mm or m2), min_shop_surprise, big_k) or {**c2, **clients},
                )
                break
        else:
            merged.append((members, clients))
    # a sparse crew's chain of client pairs (a-b, b-c) that Louvain cut: each piece has too
    # few clients to show co-targeting once its strongest shops are left out. The component
    # it cut is tried whole, and replaces only such pieces: a component that overlaps a
    # candidate with clients to spare would merge crews Louvain tells apart.
    for comp in split:
        c = candidate(comp)
        if c is None or len(c[1]) <= leave_out:
            continue
        members, clients = c
        hit = [
            i for i, (m2, _) in enumerate(merged) if len(members.keys() & m2.keys()) >= 0.5 * min(len(members), len(m2))
        ]
        if any(len(merged[i][1]) > leave_out for i in hit):
            continue
        merged = [x for i, x in enumerate(merged) if i not in hit] + [(members, clients)]
    owner: dict[str, tuple[float, int]] = {}
    for i, (members, _) in enumerate(merged):
        for a, s in members.items():
            if a not in owner or s > owner[a][0]:
                owner[a] = (s, i)
    crews = []
    for i, (members, _) in enumerate(merged):
        mine = {a: s for a, s in members.items() if owner[a][1] == i}
        if len(mine) < min_members:
            continue
        clients = _clients(of_account, set(mine), min_shop_surprise, big_k)
        if len(clients) < 2:
            continue
        crews.append(
            Crew(
                members=mine,
                shops=sorted(clients),
                surprise=graphs.leave_out_strength(list(clients.values()), leave_out),
                shop_surprise=clients,
            )
        )
    return sorted(crews, key=lambda c: (-c.surprise, min(c.members)))
