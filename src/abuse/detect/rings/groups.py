"""From significant co-targeting pairs to rings: communities, membership, one ring per account.

1. Louvain communities of the pair graph (weight = pair surprise), split once more by Louvain
   inside each, are the ring cores (3). Extra cores linked otherwise (the extortion-signature
   cores of ``signature``) join them; their accounts stay members however sparsely
   they hit the victims, and count their hits at any time.
2. A core's victim shops are the shops two or more of its accounts hit, each with the core's
   median attack time there. A core account hitting two of them near those times (and
   asking for money at one) is a member; any other account is when its hits there are too
   many for chance (``k`` hits vs ``d * sum(hhat) / H``). Victims and members are refined
   once. With ``trim='peel'`` members are instead the FRAUDAR densest block of the core's
   hostile subgraph (measured: it drops weakly attached members, recall 0.73-0.87 on seeds
   where the default reaches 0.98-1.0).
3. Cores as densely linked to each other as within are one ring that Louvain split; they
   merge, and so do cores hitting mostly the same victims at the same times. Two rings that
   merely share some targets have few cross pairs, hit them at other times, and keep apart.
   A sparse (signature) candidate merges without the timing condition, or when its members
   and another's hit far more shops in common than chance (the pair test on two groups).
4. An account claimed by two rings stays with the ring of its own core, else the one where
   its hits are most surprising.
5. A ring's strength is the summed surprise of its victims' member counts, leaving out the
   strongest ``leave_out`` shops, so a genuinely bad seller (one or two storefronts that
   many unrelated buyers complain about) cannot make a ring on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from abuse import graphs, stats
from abuse.frames import number

_DAY = 86400.0


@dataclass
class Group:
    members: list[str]
    shops: list[str]  # victim shops: hit by >= 2 members
    surprise: float  # summed per-shop surprise, leaving out the strongest shops
    method: str = "targets"
    attached: dict[str, float] = field(default_factory=dict)  # one-hit members -> text bits


def _victims(edges: pl.DataFrame, members: set) -> pl.DataFrame:
    """(shop_id, t, spread) for shops hit by >= 2 of ``members``: their median first hostile
    time there and the time from first to last."""
    sub = edges.filter(pl.col("account_id").is_in(list(members)))
    return (
        sub.group_by("shop_id")
        .agg(pl.len().alias("n"), pl.col("t").median(), (pl.col("t").max() - pl.col("t").min()).alias("spread"))
        .filter(pl.col("n") >= 2)
        .select("shop_id", "t", "spread")
    )


def _members(
    edges: pl.DataFrame, victims: pl.DataFrame, core: set, co_days: float, min_shops: int, min_surprise: float
) -> dict[str, float]:
    """Accounts hitting >= ``min_shops`` victims within ``co_days`` of the ring's time there,
    with the surprise of that count (``k`` vs ``d * sum(hhat) / H``). Core accounts (already
    linked by significant pairs or the extortion signature) count their hits at any time and
    qualify on the count if they also asked for money or reversed a review there; others
    need ``min_surprise``."""
    on = edges.join(victims.rename({"t": "t_ring"}), on="shop_id")
    mass = float(on.unique("shop_id")["hhat"].sum())
    asked = (pl.col("n_refund") + pl.col("n_comp") + pl.col("n_reversed")) > 0
    in_time = (pl.col("t") - pl.col("t_ring")).abs() <= co_days * _DAY
    hits = (
        on.filter(in_time | pl.col("account_id").is_in(list(core)))
        .group_by("account_id")
        .agg(pl.len().alias("k"), pl.col("d").first(), asked.any().alias("asked"))
        .filter(pl.col("k") >= min_shops)
    )
    s = stats.surprise_poisson(hits["k"].to_numpy(), hits["d"].to_numpy() * mass / edges.height)
    return {
        a: float(x)
        for a, x, asked in zip(hits["account_id"], s, hits["asked"], strict=True)
        if (a in core and asked) or x >= min_surprise
    }


def _peel_members(edges: pl.DataFrame, core: set, weights: dict) -> dict[str, float]:
    sub = edges.filter(pl.col("account_id").is_in(list(core)))
    block = graphs.peel_dense_block(zip(sub["account_id"], sub["shop_id"], strict=True), weights)
    return {a: block.density for a in block.rows}


def _split(cores: list[set], strong: pl.DataFrame, seed: int) -> list[set]:
    """Louvain once more inside each community: on a small graph its resolution limit can
    fuse a dense ring with a sparse one linked by weak pairs. Pieces that are as densely
    linked to each other as within are merged back by ``_merge_split``."""
    out = []
    for core in cores:
        inner = strong.filter(pl.col("a").is_in(list(core)) & pl.col("b").is_in(list(core)))
        parts = graphs.communities(zip(inner["a"], inner["b"], inner["surprise"], strict=True), seed=seed)
        out.extend(parts if len(parts) > 1 else [core])
    return out


def _merge_split(cores: list[set], strong: pl.DataFrame, min_ratio: float = 0.5) -> list[set]:
    """Merge cores that Louvain split out of one ring: the share of their cross pairs that are
    significant is at least ``min_ratio`` of the smaller within-core share. Two rings that
    merely share some targets have few cross pairs and stay apart."""
    if len(cores) < 2:
        return cores
    idx = {a: i for i, c in enumerate(cores) for a in c}
    counts = (
        strong.select(ca=pl.col("a").replace_strict(idx, default=-1), cb=pl.col("b").replace_strict(idx, default=-1))
        .filter((pl.col("ca") >= 0) & (pl.col("cb") >= 0))
        .select(lo=pl.min_horizontal("ca", "cb"), hi=pl.max_horizontal("ca", "cb"))
        .group_by("lo", "hi")
        .len()
    )
    n = {(lo, hi): k for lo, hi, k in counts.iter_rows()}
    size = [len(c) for c in cores]
    within = [n.get((i, i), 0) / max(size[i] * (size[i] - 1) / 2, 1) for i in range(len(cores))]
    parent = list(range(len(cores)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for (i, j), k in n.items():
        if i != j and k / (size[i] * size[j]) >= min_ratio * min(within[i], within[j]):
            parent[root(i)] = root(j)
    merged: dict[int, set] = {}
    for i, c in enumerate(cores):
        merged.setdefault(root(i), set()).update(c)
    return list(merged.values())


def _merge_aligned(
    cands: list[tuple[set, dict, bool]],
    edges: pl.DataFrame,
    co_days: float,
    min_overlap: float = 0.5,
    nested: float = 0.8,
    recruits: float = 0.5,
    link_bits: float = 3.0,
) -> list[tuple[set, dict]]:
    """Merge candidates that hit mostly the same victims at the same times (a sparse ring
    that Louvain cut in pieces): victim overlap >= ``min_overlap`` of the larger set or
    ``nested`` of the smaller (a fragment), and at
    the shared victims a median gap between the two pieces' times no larger than their own
    spread there (at least a day, at most ``co_days``). Distinct rings that happen to share
    targets come at other times. Candidates whose members (not cores) overlap by at least
    ``recruits`` of the smaller one are one ring seen from two cores, and merge too. A
    ``sparse`` candidate (a core linked by the extortion signature, not by timing) is
    judged on the victims of all its members and needs no time alignment; it also merges
    with a candidate whose members hit far more of the same shops than chance allows
    (``_co_target_bits`` >= ``link_bits``), the pair test applied to two groups."""
    out: list[tuple[set, dict, bool, pl.DataFrame]] = []
    for core, members, sparse in sorted(cands, key=lambda c: -len(c[0])):
        # the core's own victims, not its recruits', unless the core is sparse by nature
        vic = _victims(edges, set(members) if sparse else core)
        for i, (c2, m2, sparse2, v2) in enumerate(out):
            both = vic.join(v2, on="shop_id")
            small, large = sorted((vic.height, v2.height))
            if (sparse or sparse2) and _co_target_bits(edges, members, m2) >= link_bits:
                pass  # sparse pieces that share far more shops than chance: one ring
            elif not both.height or (both.height < min_overlap * large and both.height < nested * small):
                continue
            gap = number((both["t"] - both["t_right"]).abs().median() or np.inf)
            spread = number(pl.concat([both["spread"], both["spread_right"]]).median() or 0.0)
            shared = len(members.keys() & m2.keys())
            if (
                gap <= min(max(spread, _DAY), co_days * _DAY)
                or sparse
                or sparse2
                or shared >= recruits * min(len(members), len(m2))
            ):
                any_sparse = sparse or sparse2
                merged = {**members, **m2}
                out[i] = (c2 | core, merged, any_sparse, _victims(edges, set(merged) if any_sparse else c2 | core))
                break
        else:
            out.append((core, members, sparse, vic))
    return [(c, m) for c, m, _, _ in out]


def _co_target_bits(edges: pl.DataFrame, a: dict, b: dict) -> float:
    """-log10 p of the shops hit by members of both ``a`` and ``b``, against the pair null
    of ``graph`` with each group as one account (``d`` = its hostile edges, ``S`` =
    their summed ``hhat``)."""

    def side(m: dict) -> tuple[float, float, set]:
        sub = edges.filter(pl.col("account_id").is_in(list(m)))
        return float(sub.height), float(sub["hhat"].sum()), set(sub["shop_id"])

    (d_a, s_a, sh_a), (d_b, s_b, sh_b) = side(a), side(b)
    lam = (d_b * s_a + d_a * s_b) / (2 * max(edges.height, 1))
    return float(stats.surprise_poisson(len(sh_a & sh_b), lam))


def _assign(cands: list[tuple[set, dict[str, float]]]) -> dict[str, int]:
    owner: dict[str, tuple[tuple[bool, float], int]] = {}
    for i, (core, members) in enumerate(cands):
        for a, s in members.items():
            key = (a in core, s)
            if a not in owner or key > owner[a][0]:
                owner[a] = (key, i)
    return {a: i for a, (_, i) in owner.items()}


def _strength(sub: pl.DataFrame, edges_total: float, leave_out: int) -> float:
    """Summed surprise of the victims' member counts, the ``leave_out`` strongest shops left
    out: a ring co-targets many shops, while the unrelated complainers of a bad seller pile
    up on its one or two storefronts."""
    d_group = float(sub.unique("account_id")["d"].sum())
    per_shop = sub.group_by("shop_id").agg(pl.len().alias("n"), pl.col("hhat").first())
    exp = d_group * per_shop["hhat"].to_numpy() / edges_total
    s = np.sort(stats.surprise_poisson(per_shop["n"].to_numpy(), exp))[::-1]
    return float(s[leave_out:].sum())


def build_groups(
    edges: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    min_pair_surprise: float,
    min_member_surprise: float,
    co_days: float,
    min_members: int,
    min_member_shops: int,
    leave_out: int = 2,
    trim: str = "targets",
    extra_cores=None,
    seed: int = 0,
) -> list[Group]:
    """Candidate rings from the pair graph (see the module docstring), plus the cores that
    ``extra_cores(accounts of the co-targeting cores)`` returns (groups linked otherwise, e.g.
    by the extortion signature), which may be smaller than ``min_members`` before their
    members are gathered."""
    edges = edges.with_columns(t=pl.col("first_at").dt.epoch("ms") / 1000.0)
    strong = pairs.filter(pl.col("surprise") >= min_pair_surprise)
    cores = _split(
        graphs.communities(zip(strong["a"], strong["b"], strong["surprise"], strict=True), seed=seed), strong, seed
    )
    cores = _merge_split(cores, strong)
    weights = graphs.log_column_weights(dict(edges.group_by("shop_id").agg(pl.len()).iter_rows()))
    cands = []
    cores = [c for c in cores if len(c) >= min_members]
    n_pair_cores = len(cores)
    if extra_cores is not None:
        cores += extra_cores({a for c in cores for a in c})
    for i, core in enumerate(cores):
        if trim == "peel":
            members = _peel_members(edges, core, weights)
        else:
            members = dict.fromkeys(core, 0.0)
            for _ in range(2):
                victims = _victims(edges, set(members))
                members = _members(edges, victims, core, co_days, min_member_shops, min_member_surprise)
                if i >= n_pair_cores:  # linked otherwise: the core stays, sparse as it is
                    members = {**dict.fromkeys(core, 0.0), **members}
        if members:
            cands.append((core, members, i >= n_pair_cores))
    merged = _merge_aligned(cands, edges, co_days)
    owner = _assign(merged)
    groups = []
    for i in range(len(merged)):
        owned = {a for a, j in owner.items() if j == i}
        hit = set(_victims(edges, owned)["shop_id"])
        sub = edges.filter(pl.col("account_id").is_in(list(owned)) & pl.col("shop_id").is_in(list(hit)))
        if len(owned) < min_members or sub.is_empty():
            continue
        groups.append(
            Group(
                members=sorted(owned),
                shops=sorted(hit),
                surprise=_strength(sub, float(edges.height), leave_out),
                method=trim,
            )
        )
    return sorted(groups, key=lambda g: (-g.surprise, g.members[0]))
