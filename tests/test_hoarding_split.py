"""coupon_hoarding: the weak-tie split of candidate batches (``groups._split_at_weak_ties``)
against a straightforward reference of its docstring, on random small bipartite
account-identifier graphs (Hypothesis) and on hand-made cases.

Docstring semantics, as the reference implements them: in a candidate batch (a component of at
least ``2 * min_accounts`` accounts), an identifier that is an articulation point held by fewer
than ``min_accounts`` accounts is a weak tie; weak ties are taken in sorted node order, and one
is cut when removing it from the graph as it stands (earlier kept cuts removed) splits ITS OWN
component into two or more sides of at least ``floor = max(min_accounts, 0.2 * batch)``
accounts each. The pieces of each batch are then labelled: the largest (most nodes, then the
smallest node id) keeps the batch's label, the others get new labels in that order, batch by
batch; a cut identifier keeps its batch's label.

``old_split`` is the implementation before issue #13, kept to show where it differs: it counted
sides over the whole batch graph, so once a cut had left two large pieces every later weak tie
passed the test and was cut.
"""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from abuse.detect.hoarding import groups


def _params(min_accounts: int) -> SimpleNamespace:
    return SimpleNamespace(min_accounts=min_accounts)


def _labels(a: np.ndarray, i: np.ndarray, size: int) -> np.ndarray:
    graph = sparse.coo_matrix((np.ones(len(a)), (a, i)), shape=(size, size))
    return connected_components(graph, directed=False)[1]


def _relabel(g: nx.Graph, label: np.ndarray, next_label: int) -> int:
    parts = sorted(nx.connected_components(g), key=lambda c: (-len(c), min(c)))
    for part in parts[1:]:
        label[list(part)] = next_label
        next_label += 1
    return next_label


def reference_split(a: np.ndarray, i: np.ndarray, label: np.ndarray, p) -> np.ndarray:
    """The docstring, plainly: a weak tie is cut when its removal splits its own component of
    the current graph into >= 2 sides of >= floor accounts each."""
    n_acc = int(a.max()) + 1 if len(a) else 0
    label = label.copy()
    next_label = int(label.max()) + 1 if len(label) else 0
    sizes = np.bincount(label[:n_acc]) if n_acc else np.zeros(0, np.int64)
    for comp in np.flatnonzero(sizes >= 2 * p.min_accounts).tolist():
        sel = label[a] == comp
        g = nx.Graph()
        g.add_edges_from(zip(a[sel].tolist(), i[sel].tolist()))
        floor = max(p.min_accounts, 0.2 * int(sizes[comp]))
        weak = [n for n in nx.articulation_points(g) if n >= n_acc and g.degree(n) < p.min_accounts]
        for node in sorted(weak):
            own = nx.node_connected_component(g, node)
            h = g.subgraph(own - {node})
            sides = [c for c in nx.connected_components(h) if sum(x < n_acc for x in c) >= floor]
            if len(sides) >= 2:
                g.remove_node(node)
        next_label = _relabel(g, label, next_label)
    return label


def old_split(a: np.ndarray, i: np.ndarray, label: np.ndarray, p) -> np.ndarray:
    """``_split_at_weak_ties`` as it was before issue #13 (sides counted over all of g)."""
    n_acc = int(a.max()) + 1 if len(a) else 0
    label = label.copy()
    next_label = int(label.max()) + 1 if len(label) else 0
    comp_of_edge = label[a]
    sizes = np.bincount(label[:n_acc]) if n_acc else np.zeros(0, np.int64)
    for comp in np.flatnonzero(sizes >= 2 * p.min_accounts).tolist():
        sel = comp_of_edge == comp
        g = nx.Graph()
        g.add_edges_from(zip(a[sel].tolist(), i[sel].tolist()))
        floor = max(p.min_accounts, 0.2 * int(sizes[comp]))
        weak = [n for n in nx.articulation_points(g) if n >= n_acc and g.degree(n) < p.min_accounts]
        for node in sorted(weak):
            h = g.copy()
            h.remove_node(node)
            sides = [c for c in nx.connected_components(h) if sum(x < n_acc for x in c) >= floor]
            if len(sides) >= 2:
                g = h
        next_label = _relabel(g, label, next_label)
    return label


class Builder:
    """A bipartite graph built by name: accounts ``a*`` and identifiers ``i*``, numbered as
    ``_core_groups`` numbers them (accounts first, then identifiers, each sorted)."""

    def __init__(self) -> None:
        self.edges: list[tuple[str, str]] = []

    def tie(self, ident: str, *accounts: str) -> None:
        self.edges += [(acc, ident) for acc in accounts]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        accs = sorted({x for x, _ in self.edges})
        ids = sorted({y for _, y in self.edges})
        names = accs + ids
        ix = {n: k for k, n in enumerate(names)}
        a = np.array([ix[x] for x, _ in self.edges], dtype=np.int64)
        i = np.array([ix[y] for _, y in self.edges], dtype=np.int64)
        return a, i, _labels(a, i, len(names)), names


def crew(b: Builder, name: str, n: int) -> list[str]:
    """``n`` accounts tied by one strong identifier (held by all, never weak)."""
    members = [f"a_{name}{k:02d}" for k in range(n)]
    b.tie(f"i_{name}_hub", *members)
    return members


def pieces(label: np.ndarray, names: list[str]) -> set[frozenset[str]]:
    out: dict[int, set[str]] = {}
    for name, lab in zip(names, label.tolist()):
        if name.startswith("a"):
            out.setdefault(lab, set()).add(name)
    return {frozenset(v) for v in out.values()}


# --------------------------------------------------------------------------- hand-made cases
def test_two_crews_at_one_weak_tie_are_told_apart():
    b = Builder()
    x, y = crew(b, "x", 6), crew(b, "y", 6)
    b.tie("i_mobile", x[0], y[0])
    a, i, label, names = b.arrays()
    for split in (groups._split_at_weak_ties, reference_split, old_split):
        assert pieces(split(a, i, label, _params(5)), names) == {frozenset(x), frozenset(y)}


def _chain_after_a_cut() -> tuple[Builder, list[str], list[str], list[str]]:
    """Crews X and Y meet at a weak tie; Y and a small fringe F (below the floor) meet at
    another. Only the first may be cut; the old code cut both, since after the first cut the
    whole graph had two large pieces whatever the second tie's removal did."""
    b = Builder()
    x, y, f = crew(b, "x", 6), crew(b, "y", 6), crew(b, "z", 2)
    b.tie("i_t1", x[0], y[0])
    b.tie("i_t2", y[1], f[0])
    return b, x, y, f


def test_later_weak_tie_is_judged_within_its_own_piece():
    b, x, y, f = _chain_after_a_cut()
    a, i, label, names = b.arrays()
    p = _params(3)  # ties of 2 accounts are weak; floor = max(3, 0.2 * 14) = 3: the fringe of 2 is below it
    want = {frozenset(x), frozenset(y + f)}
    assert pieces(reference_split(a, i, label, p), names) == want
    old = pieces(old_split(a, i, label, p), names)
    assert frozenset(x) in old and frozenset(y) in old  # the fringe cut off Y (and even split)
    assert pieces(groups._split_at_weak_ties(a, i, label, p), names) == want


def _block_losing_two_vertices() -> tuple[Builder, dict[str, list[str]]]:
    """One block (a cycle through identifiers u, v and w) loses two of its vertices to kept
    cuts, which splits the rest of that block into two arcs; a later weak tie on the short arc
    must be judged on that arc alone. A block-cut tree that kept the block whole after its
    first loss would see the long arc's accounts on the far side and wrongly cut it.

        cycle:  c0 -u- c1 -s- c2 -v- c3 -t- c4 -r- c0      (u, v weak; s, t, r strong)
        U hangs off u, V off v (large); the short arc c1-s-c2 holds a weak q to a large Q.
    """
    b = Builder()
    big = {k: crew(b, k, 6) for k in ("U", "V", "Q")}
    arc_long = crew(b, "L", 6)  # c3, c4, c0 and friends: one strong hub
    arc_short = ["a_c1", "a_c2"]
    # the cycle: identifiers u, v are weak (degree 3 < 5); s is the short arc's own tie
    b.tie("i_u", arc_long[0], arc_short[0], big["U"][0])
    b.tie("i_s", *arc_short)
    b.tie("i_v", arc_short[1], arc_long[1], big["V"][0])
    b.tie("i_w", arc_short[0], big["Q"][0])  # weak: the short arc's only way to Q
    return b, {**big, "L": arc_long, "S": arc_short}


def test_block_losing_two_vertices():
    b, g = _block_losing_two_vertices()
    a, i, label, names = b.arrays()
    p = _params(5)  # 26 accounts: floor = max(5, 5.2) = 5.2
    ref = pieces(reference_split(a, i, label, p), names)
    # i_u and i_v cut away U and V and split the cycle's block; i_w then joins the short arc
    # (2 accounts, below the floor) to Q and is kept whole.
    assert ref == {frozenset(g["U"]), frozenset(g["V"]), frozenset(g["L"]), frozenset(g["S"] + g["Q"])}
    assert pieces(groups._split_at_weak_ties(a, i, label, p), names) == ref


# --------------------------------------------------------------------------- random graphs
@st.composite
def bipartite(draw):
    """A small account-identifier graph in ``_core_groups``' numbering: a few crews (held
    together by a strong identifier or a chain of pairs), joined by sparse random ties."""
    min_accounts = draw(st.integers(2, 4))
    n_acc = draw(st.integers(2, 40))
    n_id = draw(st.integers(1, 40))
    n_edges = draw(st.integers(1, 3 * (n_acc + n_id)))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_acc - 1), st.integers(0, n_id - 1)),
            min_size=n_edges,
            max_size=n_edges,
        )
    )
    used_acc = sorted({x for x, _ in pairs})
    used_id = sorted({y for _, y in pairs})
    acc_ix = {x: k for k, x in enumerate(used_acc)}
    id_ix = {y: k + len(used_acc) for k, y in enumerate(used_id)}
    a = np.array([acc_ix[x] for x, _ in pairs], dtype=np.int64)
    i = np.array([id_ix[y] for _, y in pairs], dtype=np.int64)
    return a, i, _labels(a, i, len(used_acc) + len(used_id)), _params(min_accounts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bipartite())
def test_split_matches_the_reference(case):
    a, i, label, p = case
    np.testing.assert_array_equal(groups._split_at_weak_ties(a, i, label, p), reference_split(a, i, label, p))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bipartite())
def test_old_split_differs_only_by_cutting_more(case):
    """Where the old code and the reference differ, the old one made extra cuts: its pieces
    refine the reference's over the accounts (never the other way round)."""
    a, i, label, p = case
    old, ref = old_split(a, i, label, p), reference_split(a, i, label, p)
    n = int(a.max()) + 1  # accounts (a cut identifier keeps its batch's label, whichever piece that is)
    pairs_old = {(x, y) for x in range(n) for y in range(x + 1, n) if old[x] == old[y]}
    pairs_ref = {(x, y) for x in range(n) for y in range(x + 1, n) if ref[x] == ref[y]}
    assert pairs_old <= pairs_ref


@pytest.mark.parametrize("seed", range(3))
def test_split_matches_the_reference_on_larger_graphs(seed):
    """Chains of crews of assorted sizes joined by weak ties and stray pairs: hundreds of
    accounts, many weak ties in one batch."""
    rng = np.random.default_rng(seed)
    b = Builder()
    crews = [crew(b, f"k{k}", int(rng.integers(2, 12))) for k in range(30)]
    links = [(k, int(rng.integers(0, k))) for k in range(1, len(crews))]  # a tree of crews
    links += [tuple(int(c) for c in rng.integers(0, len(crews), 2)) for _ in range(5)]  # and a few cycles
    for k, (c1, c2) in enumerate(links):
        b.tie(f"i_w{k:02d}", crews[c1][int(rng.integers(len(crews[c1])))], crews[c2][int(rng.integers(len(crews[c2])))])
    a, i, label, _ = b.arrays()
    for m in (2, 3, 5):
        p = _params(m)
        np.testing.assert_array_equal(groups._split_at_weak_ties(a, i, label, p), reference_split(a, i, label, p))
