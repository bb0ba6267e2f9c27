"""Sparse crews seen through their victims: coordination in victims and time beyond what each
shop's own hostility explains, with linkage and payment behaviour as evidence, never gates.

A crew that adapted shares no device, hits each of dozens of victims once per member and
spreads its attacks, so two members rarely share two shops and the pair test of ``graph``
sees nothing. What it cannot hide is that its members keep meeting at shops that draw
almost no hostility otherwise. The steps, all columnar (no all-pairs projection):

1. **Background rate.** Shop ``s`` has ``h_s`` hostile edges in the window out of ``H``; a
   random hostile edge lands there with ``p_s = (h_s - k_s + 1) / H``, ``k_s`` being the
   edges of the group under test (so a crew cannot raise its own baseline). A shop with a
   genuine quality problem has a large ``h_s``: meeting there is expected. A complaint by a
   regular customer (``customer_orders`` or more orders at the shop, history included: a
   company's procurement accounts at their supplier) counts in ``h_s`` but is never a
   crew's hit.
2. **Links.** Accounts hostile to >= 2 shops are linked when hostile to the same shop within
   ``link_days`` (one shared shop is enough), shops with more than ``hub_cap`` such
   accounts excepted, weighted by the rarity ``log10(H / h_s)`` plus the closeness in time;
   invitations (one invited the other, or both were invited by the same small inviter) add
   a link. Louvain communities of that graph are hypotheses, not findings.
3. **Members.** A community's victims are the shops two or more of its accounts hit. Any
   hostile account whose hits on those victims (where another member was) are improbable
   for its degree (binomial tail at the victims' background mass), plus an invitation link
   to a member, less a habit deficit (an account asking for money on a smaller share of its
   complaints than hostile accounts at large, in a group asking on more, pays the likelihood
   ratio of its count under the group's rate vs that base rate), is a member (one hit is
   enough only with such a link); this runs twice,
   then communities sharing members, or hitting far more of the same shops than chance
   (``D1 D2 sum p_s^2``), merge and each account stays with the group where its evidence
   is strongest.
4. **The group test**, each part -log10 p against a base rate, summed:
   *co-victims*: shops hit by >= 2 members vs ``sum_s P(Poisson(D p_s) >= 2)``, ``D`` the
   members' hostile edges, counted among the shops where such a meeting is rarer than a
   tier (a few tiers tried, Bonferroni), the ``leave_out`` strongest shops left out (the
   bad-seller guard: unrelated complainers of a bad shop share only that shop); *timing*: at each
   shared victim, how tight the members' hits are vs uniform over the window (capped per
   shop); *payment*: compensation asked for (``kind`` or in words), refunds, reviews
   withdrawn or raised (paid or not), each vs its rate over all hostile edges;
   *invitations* and *registration cohorts* among members vs their rate among hostile
   accounts; near-duplicate texts vs the text baseline. The sum pays a Bonferroni
   correction for the number of groups tested.
"""

from dataclasses import dataclass, field

import duckdb
import polars as pl

from abuse import graphs

from .crewtest import Baselines, group_test, reported
from .links import account_links, invite_pairs, link_pairs
from .members import grow_members, split_communities

__all__ = ["Sparse", "account_links", "find_sparse", "invite_pairs"]


@dataclass
class Sparse:
    members: list[str]
    shops: list[str]
    bits: dict[str, float] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(self.bits.values()))


def find_sparse(
    con: duckdb.DuckDBPyConnection,
    edges: pl.DataFrame,
    window_seconds: float,
    *,
    hub_cap: int,
    link_days: float,
    invite_cap: int,
    invite_bits: float,
    cohort_days: float,
    min_members: int,
    min_member_bits: float,
    leave_out: int,
    min_shared: int,
    min_covictim_bits: float,
    min_total_bits: float,
    text_threshold: float,
    base_dup: float,
    merge_bits: float = 6.0,
    customer_orders: int = 2,
    seed: int = 0,
) -> list[Sparse]:
    """Sparse rings (see the module docstring), strongest first."""
    H = float(edges.height)
    e = edges.with_columns(t=pl.col("first_at").dt.epoch("ms") / 1000.0)
    shop_h = e.group_by("shop_id").agg(pl.len().alias("h_s"))
    # a regular customer's complaint counts in the shop's base rate, never as a crew's hit
    e = e.filter(pl.col("n_orders_all") < customer_orders)
    links = account_links(con, sorted(e["account_id"].unique()))
    inv = invite_pairs(links, invite_cap)
    # 2. links between accounts hostile to >= 2 shops
    pairs = link_pairs(con, e, inv, H, window_seconds, hub_cap=hub_cap, link_days=link_days, invite_bits=invite_bits)
    if pairs.is_empty():
        return []
    comms = graphs.communities(zip(pairs["a"], pairs["b"], pairs["weight"], strict=True), seed=seed)
    comms = split_communities(comms, pairs, seed)
    comm = pl.DataFrame(
        [(a, i) for i, c in enumerate(sorted(comms, key=min)) for a in c if len(c) >= 2],
        schema={"account_id": pl.Utf8, "g": pl.Int64},
        orient="row",
    )
    if comm.is_empty():
        return []
    # 3. members
    comm = grow_members(
        e,
        comm,
        shop_h,
        inv,
        H,
        hub_cap=hub_cap,
        invite_bits=invite_bits,
        min_member_bits=min_member_bits,
        min_members=min_members,
        merge_bits=merge_bits,
    )
    if comm.is_empty():
        return []
    # 4. the group test
    base = Baselines.measure(e, links, inv, shop_h, cohort_days)
    n_groups = comm["g"].n_unique()
    out = []
    for (g,), grp in comm.group_by(["g"], maintain_order=False):
        members = sorted(grp["account_id"])
        bits, figures, shops = group_test(
            e, members, base, H, window_seconds, leave_out, cohort_days, text_threshold, base_dup
        )
        figures["groups_tested"] = n_groups
        if reported(
            bits,
            figures,
            n_groups,
            leave_out=leave_out,
            min_shared=min_shared,
            min_covictim_bits=min_covictim_bits,
            min_total_bits=min_total_bits,
        ):
            out.append(Sparse(members=members, shops=shops, bits=bits, figures=figures))
    return sorted(out, key=lambda s: (-s.total, s.members[0]))
