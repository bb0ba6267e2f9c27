"""Coupon-hoarding linkage: from the account-identifier graph to candidate batches.

An identifier (a device, an IP, an IP block, a number segment, an inviter, a shipping
address; kinds as ``int_account_identifiers`` names them) links the claimers that share it only when those claimers behave like a batch far
more often than claimers at large: a one-sided binomial test of its suspicious sharers
against the base rate, plus a majority of all its accounts. A campus NAT, a popular referrer or a family tablet
carries ordinary people, so it fails the test and glues nobody together; a rig's device or a
proxy pool carries almost nothing but fast, idle claimers, so it passes. Batches are the
connected components of suspicious claimers over linking identifiers (a bipartite graph,
linear in its edges); other accounts (claimers with weaker behaviour, or batch accounts
that claimed nothing yet) join a batch when several kinds of its linking identifiers point
at them.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import polars as pl
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from abuse.detect.hoarding.features import TELLS
from abuse.stats import surprise_binom

LN10 = np.log(10.0)

#: Identifier kinds that say the same thing twice count once when tying an account to a batch.
FAMILY = {"ip_block": "ip", "phone_prefix": "phone_hash"}

#: Where a batch's value goes, as opposed to where its traffic comes from, is what an early
#: claim adds to when tying an account to a batch (a shared IP block plus a quick claim is
#: everyday life on a campus or mobile network), and of that only the kind private to the
#: crew: a drop address, which an ordinary claimer rarely shares. A threshold item is a public
#: choice (a crew resells popular goods, and people who race a release, a third of its
#: claimers, buy them at the threshold too: over five adversarial seeds a lone item tie plus
#: an early claim tied 57 crew accounts and 11 others, look-alikes among them). An item tie
#: still counts as one kind of its own (``attach_min_kinds``: with an address or a device).
EARLY_ADDS_TO = ("address",)
#: A coupon of the batch's campaigns redeemed (where it is tied through that drop address: the
#: value went where the batch's goes) adds the same kind as an early claim does. Held-out h1: a
#: mobile-crew account on its own phone and a carrier NAT, claiming six minutes after release,
#: shared only the drop address of 18 batch members and was missed until this counted.

#: Kinds whose holders are judged by ``hit`` (suspicious, or an early claimer): an item
#: bought at the threshold with the campaign's coupon, or a drop address, is where a batch's
#: value goes, so holders that also raced the release (where racing is rare) are tested
#: against the ordinary rate of that conjunction; a household or a procurement team shares
#: an address too, but does not race releases together.
BEHAVIOUR_KINDS = ("redeem_item", "address")


def _with_hit(claimers: pl.DataFrame) -> pl.DataFrame:
    early = pl.col("early") if "early" in claimers.columns else pl.lit(False)
    return claimers.select("account_id", "susp", hit=pl.col("susp") | early.fill_null(False))


def rest_rate(k: np.ndarray, n: np.ndarray, claimers: pl.DataFrame, col: str = "susp") -> np.ndarray:
    """The suspicious share among the claimers outside each group of ``n`` with ``k``
    suspicious: the base rate a group is judged against (a large batch must not raise its
    own baseline). Laplace-smoothed, so an empty remainder never makes a rate of zero."""
    total, n_all = float(claimers[col].sum()), float(len(claimers))
    rest = n_all - np.asarray(n, dtype=float)
    return (total - np.asarray(k, dtype=float) + 1.0) / (rest + 2.0)


def link_identifiers(
    edges: pl.DataFrame, claimers: pl.DataFrame, p: Any, base: dict[str, float] | None = None
) -> pl.DataFrame:
    """Per identifier shared by >= 2 claimers: sharers ``n``, suspicious sharers ``k`` (for
    ``BEHAVIOUR_KINDS``: suspicious or early), the population count ``df``, ``log10_p`` of k
    under the base rate of the other claimers, and ``links``: significant, and such
    claimers are a majority of every account that carries the identifier (a NAT of 300 with
    four quick claimers links nobody). ``base``: the shares (``susp``, ``hit``) among
    ordinary claimers, once batches are known (then other batches no longer raise an
    identifier's baseline); by default the other claimers'."""
    claim = _with_hit(claimers)
    per = (
        edges.join(claim, on="account_id")
        .group_by("kind", "value")
        .agg(n=pl.len(), k_susp=pl.col("susp").sum(), k_hit=pl.col("hit").sum(), df=pl.col("df").first())
        .filter(pl.col("n") >= 2)
    )
    alt = per["kind"].is_in(BEHAVIOUR_KINDS).to_numpy()
    k = np.where(alt, per["k_hit"].to_numpy(), per["k_susp"].to_numpy())
    n = per["n"].to_numpy()
    if base is None:
        rate = np.where(alt, rest_rate(k, n, claim, "hit"), rest_rate(k, n, claim, "susp"))
    else:
        rate = np.where(alt, base["hit"], base["susp"])
    log10_p = -surprise_binom(k, n, rate)
    return (
        per.with_columns(
            pl.Series("k", k),
            pl.Series("log10_p", log10_p),
        )
        .with_columns(
            links=(pl.col("log10_p") <= np.log10(p.link_alpha)) & (pl.col("k") >= p.link_min_purity * pl.col("df")),
        )
        .drop("k_susp", "k_hit")
    )


def batches(
    edges: pl.DataFrame,
    idents: pl.DataFrame,
    claimers: pl.DataFrame,
    p: Any,
    use: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """(account_id, group, role): suspicious claimers joined through linking identifiers
    (role ``core``), plus other accounts tied to one group by linking identifiers of at least
    ``attach_min_kinds`` different kinds (an IP and its block are one kind, as are a number and
    its segment; a claimer tied through a drop address (``EARLY_ADDS_TO``) that raced a
    release or redeemed a coupon, and claimed nothing but the group's campaigns, counts that as one more kind, the behaviour the batch shares, while a deal
    hunter racing every release does not): claimers with a weaker profile (``attached``) and
    batch accounts that claimed nothing in the window (``dormant``)."""
    linking = idents.filter("links").select("kind", "value")
    tied = edges.join(linking, on=["kind", "value"]).join(
        claimers.select("account_id", "susp", "early", redeemed=pl.col("n_redeems") > 0), on="account_id", how="left"
    )
    core = tied.filter(pl.col("susp").fill_null(False))
    schema = pl.Schema({"account_id": pl.Utf8, "group": pl.Int64, "role": pl.Utf8})
    if core.is_empty():
        return pl.DataFrame(schema=schema)
    acc, idk, label = _core_groups(core, p)
    members = pl.DataFrame({"account_id": acc, "group": label[: len(acc)].astype(np.int64), "role": "core"})
    members = _drop_lone_unfocused(core, members, use)
    ident_group = pl.DataFrame({"key": idk, "group": label[len(acc) :].astype(np.int64)})
    return pl.concat([members, _attached(tied, members, ident_group, use, p)]).cast(schema)


def _core_groups(core: pl.DataFrame, p: Any) -> tuple[pl.Series, pl.Series, np.ndarray]:
    """The suspicious claimers (sorted), the identifiers linking them (``kind\\x00value``,
    sorted) and the group of each (accounts first, then identifiers): components of the
    account-identifier graph, split at weak ties."""
    acc = core["account_id"].unique().sort()
    idk = core.select(key=pl.col("kind") + "\x00" + pl.col("value"))["key"].unique().sort()
    a_ix = pl.DataFrame({"account_id": acc, "a": np.arange(len(acc))})
    i_ix = pl.DataFrame({"key": idk, "i": np.arange(len(idk)) + len(acc)})
    e = (
        core.with_columns(key=pl.col("kind") + "\x00" + pl.col("value"))
        .join(a_ix, on="account_id")
        .join(i_ix, on="key")
    )
    size = len(acc) + len(idk)
    graph = sparse.coo_matrix((np.ones(len(e)), (e["a"].to_numpy(), e["i"].to_numpy())), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    return acc, idk, _split_at_weak_ties(e["a"].to_numpy(), e["i"].to_numpy(), label, p)


def _attached(
    tied: pl.DataFrame, members: pl.DataFrame, ident_group: pl.DataFrame, use: pl.DataFrame | None, p: Any
) -> pl.DataFrame:
    """Accounts other than the core tied to one group (``ident_group``: each linking
    identifier's group) through ``attach_min_kinds`` kinds of identifier: claimers
    ``attached``, accounts that claimed nothing ``dormant``."""
    candidates = (
        tied.filter(~pl.col("susp").fill_null(False))
        .with_columns(
            key=pl.col("kind") + "\x00" + pl.col("value"),
            family=pl.col("kind").replace(FAMILY),
        )
        .join(ident_group, on="key")
        .group_by("account_id", "group")
        .agg(
            n_families=pl.col("family").n_unique(),
            early=(pl.col("early").fill_null(False) | pl.col("redeemed").fill_null(False)).any()
            & pl.col("kind").is_in(EARLY_ADDS_TO).any(),
            claimer=pl.col("susp").is_not_null().any(),
        )
    )
    return (
        candidates.join(_focused(candidates, members, use), on=["account_id", "group"], how="left")
        .with_columns(
            kinds=pl.col("n_families") + (pl.col("early") & pl.col("focused").fill_null(use is None)).cast(pl.UInt32)
        )
        .filter(pl.col("kinds") >= p.attach_min_kinds)
        .sort(["kinds", "group"], descending=[True, False])
        .unique("account_id", keep="first", maintain_order=True)
        .select(
            "account_id",
            "group",
            role=pl.when("claimer").then(pl.lit("attached")).otherwise(pl.lit("dormant")),
        )
    )


def _split_at_weak_ties(a: np.ndarray, i: np.ndarray, label: np.ndarray, p: Any) -> np.ndarray:
    """Node labels with batches that meet only at a weak tie told apart: an identifier held
    by fewer than ``min_accounts`` accounts (a mobile-network IP two crews' members once
    ordered from) that is an articulation point of its batch is cut, in node order, when its
    removal from the graph as it stands (earlier cuts made) leaves its own component in two or
    more sides of at least ``min_accounts`` accounts and a fifth of the batch each. The largest
    piece of a batch (most nodes, then the smallest node) keeps its label, a cut identifier
    too; ``a``/``i``: the account and identifier node of each edge.

    Linear in the edges plus the weak ties' own work: articulation points once (networkx, on
    the candidate batches only), the components of the graph without the weak ties once
    (scipy), and each weak tie judged on the small graph of those components and the weak ties
    (``_cut_weak_ties``)."""
    n_acc = int(a.max()) + 1 if len(a) else 0
    size = len(label)
    sizes = np.bincount(label[:n_acc]) if n_acc else np.zeros(0, np.int64)
    big = sizes >= 2 * p.min_accounts
    sel = big[label[a]] if n_acc else np.zeros(0, bool)
    if not sel.any():
        return label.copy()
    a_big, i_big = a[sel], i[sel]
    g = nx.Graph()
    g.add_edges_from(zip(a_big.tolist(), i_big.tolist()))
    weak_mask = np.zeros(size, bool)
    weak_mask[[n for n in nx.articulation_points(g) if n >= n_acc and g.degree(n) < p.min_accounts]] = True
    if not weak_mask.any():
        return label.copy()
    # Components of the batches without their weak ties: the fixed blocks of any later cut.
    keep = ~weak_mask[i_big]
    rest = sparse.coo_matrix((np.ones(int(keep.sum())), (a_big[keep], i_big[keep])), shape=(size, size))
    _, part = connected_components(rest, directed=False)
    cut = _cut_weak_ties(a_big[~keep], i_big[~keep], part, label, sizes, n_acc, p)
    return _label_pieces(a, i, label, cut)


def _cut_weak_ties(
    a_w: np.ndarray, i_w: np.ndarray, part: np.ndarray, label: np.ndarray, sizes: np.ndarray, n_acc: int, p: Any
) -> list[int]:
    """The weak ties kept as cuts, judged in node order. ``a_w``/``i_w``: the edges at weak
    ties; ``part``: each node's component without the weak ties (a fixed block of accounts:
    it is only ever split at weak ties). Each tie's sides are found on the graph of those
    blocks and the ties (a few nodes per tie) by a breadth-first search from each of its
    blocks in turn, stopped once all but one have finished: the last side is what is left of
    the tie's piece, so a tie costs about its smaller sides, and a kept cut moves those sides
    to pieces of their own."""
    weight = np.bincount(part[:n_acc], minlength=len(part))  # accounts per block
    # Block nodes are their part ids; a tie node w is ``n_parts + w`` (no clash).
    n_parts = len(part)
    adj: dict[int, set[int]] = {}
    for x, w in zip(part[a_w].tolist(), i_w.tolist()):
        adj.setdefault(n_parts + w, set()).add(x)
        adj.setdefault(x, set()).add(n_parts + w)
    piece: dict[int, int] = {}  # block -> piece id (default: its batch's label)
    total: dict[int, int] = {}  # piece id -> accounts left in it
    next_piece = int(label.max()) + 1
    removed: set[int] = set()
    cuts: list[int] = []
    for w in sorted(int(x) for x in np.unique(i_w)):
        node = n_parts + w
        batch = int(label[w])
        floor = max(p.min_accounts, 0.2 * int(sizes[batch]))
        starts = sorted(adj[node])
        if len(starts) < 2:
            continue
        own = piece.get(starts[0], batch)
        total.setdefault(own, int(sizes[batch]))
        done, has_rest = _finished_sides(node, starts, adj, removed)
        sides = [int(sum(weight[x] for x in side if x < n_parts)) for side in done]
        left = total[own] - sum(sides)
        big = sum(s >= floor for s in sides) + (has_rest and left >= floor)
        if big < 2:
            continue
        removed.add(node)
        cuts.append(w)
        for side, n in zip(done, sides):
            for x in side:
                piece[x] = next_piece
            total[next_piece] = n
            next_piece += 1
        total[own] = left
    return cuts


def _finished_sides(
    node: int, starts: list[int], adj: dict[int, set[int]], removed: set[int]
) -> tuple[list[list[int]], bool]:
    """The sides of ``node`` found complete by breadth-first searches from each of its
    neighbours, one step each in turn, searches that meet merged, until at most one is still
    running (that one, if any, is the rest of the piece: not returned, and said by the flag)."""
    owner: dict[int, int] = {x: k for k, x in enumerate(starts)}
    queue: dict[int, list[int]] = {k: [x] for k, x in enumerate(starts)}
    seen: dict[int, list[int]] = {k: [x] for k, x in enumerate(starts)}
    alias = list(range(len(starts)))

    def find(k: int) -> int:
        while alias[k] != k:
            alias[k] = alias[alias[k]]
            k = alias[k]
        return k

    running, done = set(queue), []
    while len(running) > 1:
        for k in sorted(running):
            if k not in running:
                continue
            if not queue[k]:
                running.discard(k)
                done.append(seen.pop(k))
                continue
            x = queue[k].pop()
            for y in adj.get(x, ()):
                if y == node or y in removed:
                    continue
                k = find(k)
                o = owner.get(y)
                if o is None:
                    owner[y] = k
                    seen[k].append(y)
                    queue[k].append(y)
                    continue
                o = find(o)
                if o != k:  # the two searches are one side: the larger takes the smaller in
                    big, small = (k, o) if len(seen[k]) >= len(seen[o]) else (o, k)
                    seen[big] += seen.pop(small)
                    queue[big] += queue.pop(small)
                    alias[small] = big
                    running.discard(small)
            if len(running) <= 1:
                break
    return done, len(running) == 1


def _label_pieces(a: np.ndarray, i: np.ndarray, label: np.ndarray, cut: list[int]) -> np.ndarray:
    """Labels after the cuts: per batch that lost a tie, its pieces (components without the
    cut ties) by size in nodes, then smallest node; the first keeps the batch's label, the
    others get new labels in that order, batch by batch. Cut ties keep their batch's label."""
    label = label.copy()
    if not cut:
        return label
    size = len(label)
    is_cut = np.zeros(size, bool)
    is_cut[cut] = True
    keep = ~is_cut[i]
    graph = sparse.coo_matrix((np.ones(int(keep.sum())), (a[keep], i[keep])), shape=(size, size))
    _, comp = connected_components(graph, directed=False)
    nodes = np.flatnonzero(np.isin(label, np.unique(label[cut])) & ~is_cut)
    frame = (
        pl.DataFrame({"node": nodes, "batch": label[nodes], "piece": comp[nodes]})
        .group_by("batch", "piece")
        .agg(n=pl.len(), first=pl.col("node").min())
        .sort(["batch", "n", "first"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(pl.len()).over("batch"))
        .filter(pl.col("rank") > 0)
    )
    new = int(label.max()) + 1 + np.arange(len(frame))
    lookup = np.full(size, -1, np.int64)
    lookup[frame["piece"].to_numpy()] = new
    moved = lookup[comp[nodes]]
    label[nodes[moved >= 0]] = moved[moved >= 0]
    return label


def _drop_lone_unfocused(core: pl.DataFrame, members: pl.DataFrame, use: pl.DataFrame | None) -> pl.DataFrame:
    """Core members less those tied by a single kind of identifier that claim campaigns the
    rest of their group does not (a deal hunter who once bought the crew's item)."""
    families = core.group_by("account_id").agg(n_families=pl.col("kind").replace(FAMILY).n_unique())
    lone = members.join(families, on="account_id").filter(pl.col("n_families") < 2)
    if use is None or lone.is_empty():
        return members
    focus = _focused(lone.select("account_id", "group"), members, use)
    out = focus.filter(~pl.col("focused")).select("account_id")
    return members.join(out, on="account_id", how="anti")


def _focused(candidates: pl.DataFrame, core: pl.DataFrame, use: pl.DataFrame | None) -> pl.DataFrame:
    """(account_id, group, focused): every campaign the candidate claimed is one its group's
    core claimed (each by at least a fifth of the core)."""
    schema = pl.Schema({"account_id": pl.Utf8, "group": pl.Int64, "focused": pl.Boolean})
    if use is None or candidates.is_empty():
        return pl.DataFrame(schema=schema)
    size = core.group_by("group").agg(n_core=pl.len())
    camps = (
        use.select("account_id", "campaign_id")
        .join(core.select("account_id", "group"), on="account_id")
        .group_by("group", "campaign_id")
        .agg(n=pl.len())
        .join(size, on="group")
        .filter(pl.col("n") >= 0.2 * pl.col("n_core"))
        .select("group", "campaign_id", ours=pl.lit(True))
    )
    return (
        candidates.select("account_id", "group")
        .join(use.select("account_id", "campaign_id"), on="account_id")
        .join(camps, on=["group", "campaign_id"], how="left")
        .group_by("account_id", "group")
        .agg(focused=pl.col("ours").fill_null(False).all())
        .cast(schema)
    )


def score_groups(
    groups: pl.DataFrame, claimers: pl.DataFrame, p: Any, base: dict[str, float] | None = None
) -> pl.DataFrame:
    """Per group: claimers ``n``, suspicious ``k``, counts of each tell, and ``log10_p``: how
    unlikely this many suspicious claimers among ``n`` would be at the base rate of the
    claimers outside the group (``base["susp"]``, the ordinary claimers' rate, once the first
    pass knows the batches: other batches must not raise a small crew's baseline, as they do
    not raise its identifiers'), Bonferroni-corrected over the candidate groups; ``flagged``
    when below ``cluster_alpha``."""
    g = groups.join(claimers, on="account_id")  # dormant members do not count in the test
    per = g.group_by("group").agg(
        n=pl.len(),
        k=pl.col("susp").sum(),
        **{f"n_{t}": pl.col(t).sum() for t in TELLS},
    )
    per = per.filter(pl.col("k") >= p.min_accounts)
    m = max(len(per), 1)
    k, n = per["k"].to_numpy(), per["n"].to_numpy()
    rate = rest_rate(k, n, claimers) if base is None else np.full(len(k), base["susp"])
    raw = -surprise_binom(k, n, rate)
    corrected = np.minimum(raw + np.log10(m), 0.0)
    return per.with_columns(
        pl.Series("log10_p", corrected),
        flagged=pl.Series(corrected <= np.log10(p.cluster_alpha)),
    )


def base_rates(claimers: pl.DataFrame) -> dict[str, float]:
    """The share of the given claimers showing each tell (and ``susp``)."""
    n = max(len(claimers), 1)
    return {t: float(claimers[t].sum()) / n for t in (*TELLS, "susp")}


def ordinary_rate(claimers: pl.DataFrame, members: pl.DataFrame) -> dict[str, float]:
    """The suspicious share (``susp``) and the suspicious-or-early share (``hit``) of the
    claimers outside ``members`` (Laplace-smoothed)."""
    rest = _with_hit(claimers).join(members.select("account_id"), on="account_id", how="anti")
    return {c: (float(rest[c].sum()) + 1.0) / (len(rest) + 2.0) for c in ("susp", "hit")}
