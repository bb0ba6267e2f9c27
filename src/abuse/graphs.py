"""Graph helpers shared by detectors: dense-block peeling, surprise scores, communities.

Everything here works on plain arrays or edge lists, so a detector can prune its graph in
DuckDB/polars first and hand only the candidate part to these functions.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np


def log_column_weights(degrees: Mapping[Hashable, float], c: float = 5.0) -> dict:
    """FRAUDAR's column weights ``1 / log(degree + c)``: an edge into a popular column (a busy
    shop, a hub) counts for less, so camouflage edges and hubs neither dilute nor fake density."""
    return {k: 1.0 / math.log(d + c) for k, d in degrees.items()}


@dataclass(frozen=True)
class DenseBlock:
    rows: frozenset
    cols: frozenset
    density: float  # weighted edge mass / (rows + cols)
    mass: float


def peel_dense_block(
    edges: Iterable[tuple[Hashable, Hashable]],
    col_weight: Mapping[Hashable, float] | None = None,
) -> DenseBlock:
    """FRAUDAR-style greedy peeling of a bipartite graph (Hooi et al., KDD 2016).

    Repeatedly removes the row or column whose weighted degree in what is left is smallest,
    and returns the intermediate block with the highest ``mass / (rows + cols)``. The greedy
    is a 2-approximation of the densest block; cost is O(E log V) with a lazy heap.
    ``col_weight`` gives each column's edge weight (default 1)."""
    nbr: dict[tuple[int, Hashable], set] = defaultdict(set)
    weight: dict[tuple[Hashable, Hashable], float] = {}
    for r, c in edges:
        w = 1.0 if col_weight is None else float(col_weight.get(c, 1.0))
        if (r, c) in weight:
            continue
        weight[(r, c)] = w
        nbr[(0, r)].add((1, c))
        nbr[(1, c)].add((0, r))
    if not nbr:
        return DenseBlock(frozenset(), frozenset(), 0.0, 0.0)

    def w_of(a: tuple[int, Hashable], b: tuple[int, Hashable]) -> float:
        return weight[(a[1], b[1])] if a[0] == 0 else weight[(b[1], a[1])]

    deg = {n: sum(w_of(n, m) for m in ms) for n, ms in nbr.items()}
    mass = sum(weight.values())
    alive = set(nbr)
    heap = [(d, i, n) for i, (n, d) in enumerate(deg.items())]
    heapq.heapify(heap)
    order: list[tuple[int, Hashable]] = []
    best, best_at, tick = mass / len(alive), 0, len(heap)
    while alive:
        d, _, n = heapq.heappop(heap)
        if n not in alive or d != deg[n]:
            continue
        alive.discard(n)
        order.append(n)
        mass -= deg[n]
        for m in nbr[n]:
            if m in alive:
                deg[m] -= w_of(n, m)
                tick += 1
                heapq.heappush(heap, (deg[m], tick, m))
        if alive and mass / len(alive) > best:
            best, best_at = mass / len(alive), len(order)
    kept = set(nbr) - set(order[:best_at])
    rows = frozenset(n[1] for n in kept if n[0] == 0)
    cols = frozenset(n[1] for n in kept if n[0] == 1)
    kept_mass = sum(w for (r, c), w in weight.items() if r in rows and c in cols)
    return DenseBlock(rows, cols, best, kept_mass)


def communities(pairs: Iterable[tuple[Hashable, Hashable, float]], seed: int = 0, resolution: float = 1.0) -> list[set]:
    """Louvain communities of a weighted undirected graph given as ``(a, b, weight)``;
    components of one or two nodes come back as they are. Deterministic across processes: nodes
    are relabelled to integers in sorted order first (a set of strings iterates in the order of
    Python's per-process string hash, and Louvain's seeded shuffle starts from node order)."""
    pairs = list(pairs)
    names = sorted({n for a, b, _w in pairs for n in (a, b)}, key=str)
    index = {n: i for i, n in enumerate(names)}
    g = nx.Graph()
    g.add_nodes_from(range(len(names)))
    g.add_weighted_edges_from(sorted((index[a], index[b], w) for a, b, w in pairs))
    out: list[set] = []
    for comp in nx.connected_components(g):
        if len(comp) <= 3:
            out.append({names[i] for i in comp})
            continue
        sub = g.subgraph(sorted(comp))
        out.extend(
            {names[i] for i in c}
            for c in nx.community.louvain_communities(sub, weight="weight", resolution=resolution, seed=seed)
        )
    return sorted(out, key=lambda c: (-len(c), min(map(str, c))))  # stable order: ties by id


def shingles(text: str, k: int | None = None) -> set[str]:
    """Character k-shingles of a normalised text (whitespace and punctuation dropped, case
    folded). Texts with CJK characters use k=2, others k=4, unless ``k`` is given."""
    t = "".join(ch for ch in text.casefold() if ch.isalnum())
    if k is None:
        k = 2 if any("\u4e00" <= ch <= "\u9fff" for ch in t) else 4
    if len(t) <= k:
        return {t} if t else set()
    return {t[i : i + k] for i in range(len(t) - k + 1)}


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def union_components(links: Iterable[tuple[Hashable, Hashable]]) -> list[set]:
    """Connected groups of the left-hand nodes of a bipartite link list ``(member, via)``
    (accounts linked through shops, devices, addresses): union-find, linear in the links."""
    parent: dict = {}

    def root(a):
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    links = list(links)
    for a, b in links:
        parent[root(("m", a))] = root(("v", b))
    comps: dict = {}
    for a, _ in links:
        comps.setdefault(root(("m", a)), set()).add(a)
    return list(comps.values())


def leave_out_strength(surprises, leave_out: int) -> float:
    """Summed per-target surprise leaving out the ``leave_out`` strongest targets, so a group's
    strength cannot rest on one or two targets that are anomalous for their own reasons (a
    bad seller's storefronts, a shop's genuine launch)."""
    s = np.sort(np.asarray(surprises, dtype=float))[::-1]
    return float(s[leave_out:].sum())


def near_duplicate_rate(
    owned_texts: list[tuple[Hashable, str]], threshold: float, n: int = 2000, seed: int = 0
) -> float:
    """Share of random pairs of texts by different owners whose shingle Jaccard is at least
    ``threshold`` (add-one smoothed): the chance rate of near duplicates."""
    import random

    rows = [(a, t) for a, t in owned_texts if t]
    if len(rows) < 2:
        return 0.01
    rng = random.Random(seed)
    hits = tries = 0
    for _ in range(n):
        (a, x), (b, y) = rng.sample(rows, 2)
        if a == b:
            continue
        tries += 1
        hits += jaccard(shingles(x), shingles(y)) >= threshold
    return (hits + 1) / (tries + 2)


def near_duplicate_pairs(
    owned_texts: list[tuple[Hashable, str]], threshold: float, max_texts: int = 150, seed: int = 0
) -> tuple[int, int, set]:
    """(near-duplicate pairs by different owners, pairs compared, owners with one) on a
    fixed-seed sample of at most ``max_texts`` texts, so the cost per group is bounded."""
    import random
    from itertools import combinations

    rows = [(a, t) for a, t in owned_texts if t]
    if len(rows) > max_texts:
        rows = random.Random(seed).sample(rows, max_texts)
    sh = [(a, shingles(t)) for a, t in rows]
    dup = compared = 0
    who: set = set()
    for (a, x), (b, y) in combinations(sh, 2):
        if a == b:
            continue
        compared += 1
        if jaccard(x, y) >= threshold:
            dup += 1
            who.update((a, b))
    return dup, compared, who
