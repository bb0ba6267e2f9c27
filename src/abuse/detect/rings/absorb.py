"""Sparse crews beside the rings found first (a crew absorbs the rings it covers, their leftover
members join it by a test), and each report's victims named against the shops' base rates."""

from __future__ import annotations

import math

import polars as pl

from abuse import stats
from abuse.detect.base import DetectContext

from . import covictims as covictims
from . import evidence as evidence
from . import groups as groups_
from . import lone as lone
from . import scattered as scattered
from . import victims as victims


def victims_of(
    ctx: DetectContext,
    p,
    edges: pl.DataFrame,
    reports: list,
    base_dup: float,
    profiles: pl.DataFrame,
) -> list:
    """Each ring's victims: the shops where its members' hostility is beyond the shop's
    own base rate (``victims``). The ring's score stays what its finding made it; the
    evidence describing it is gathered again over the victims named."""
    named = victims.name_victims(
        ctx.con,
        edges,
        [g.members for g, *_ in reports],
        prior_buyers=p.victim_prior_buyers,
        fdr=p.victim_fdr,
        customer_orders=p.customer_orders,
    )
    out: list[tuple[groups_.Group, evidence.GroupEvidence, float, dict]] = []
    renamed = []  # the reports whose victims were named, their evidence gathered at once
    for (g, ev, score, extra), (shops, vic_ev) in zip(reports, named, strict=True):
        if score is None:
            bits = g.surprise + sum(ev.bits.values())
            score = bits / (bits + p.score_half_bits)
        if shops:
            g = groups_.Group(
                members=g.members,
                shops=sorted(set(shops)),
                surprise=g.surprise,
                method=g.method,
                attached=g.attached,
            )
            renamed.append(len(out))
        out.append((g, ev, score, {**extra, "victims": vic_ev}))
    evs = evidence.gather(ctx.con, edges, [out[i][0] for i in renamed], profiles, p.text_jaccard, base_dup)
    for i, ev in zip(renamed, evs, strict=True):
        g, _, score, extra = out[i]
        out[i] = (g, ev, score, extra)
    return out


def sparse_crews(
    ctx: DetectContext,
    p,
    edges: pl.DataFrame,
    reports: list,
    base_dup: float,
    profiles: pl.DataFrame,
) -> list:
    """Sparse crews (``covictims``). A crew holding most of a ring found above absorbs
    it (the ring was part of the crew; its members are those the crew's own member test
    keeps: measured, the ring's others were lone complainers); otherwise accounts of the
    rings above stay where they are."""
    window = (ctx.window_end - ctx.window_start).total_seconds()
    found = covictims.find_sparse(
        ctx.con,
        edges,
        window,
        hub_cap=p.hub_cap,
        link_days=p.link_days,
        invite_cap=p.invite_cap,
        invite_bits=p.invite_bits,
        cohort_days=p.cohort_days,
        min_members=p.min_members,
        min_member_bits=p.min_sparse_member_bits,
        leave_out=p.leave_out_shops,
        min_shared=p.min_shared_victims,
        min_covictim_bits=p.min_covictim_bits,
        min_total_bits=p.min_sparse_bits,
        text_threshold=p.text_jaccard,
        base_dup=base_dup,
        customer_orders=p.customer_orders,
    )
    # a ring found above that sparse crews cover for the most part was one or several of
    # them seen together: the crews absorb it
    covered = {m for sp in found for m in sp.members}
    absorbed_all = {i for i, (g, *_) in enumerate(reports) if len(covered & set(g.members)) >= 0.5 * len(g.members)}
    old = list(reports)
    reports = [r for i, r in enumerate(reports) if i not in absorbed_all]
    taken = {m for g, *_ in reports for m in g.members}
    # an absorbed ring's members that no crew kept: one invited by (or with) a crew's
    # member joins that crew; so does one that spent most of its hostility on the ring's
    # victims, one of them the crew's, mostly extorting (asked for compensation, or
    # withdrew or raised the review): a loud complainer complains everywhere, a bad
    # seller's unhappy buyer once
    extorting = (pl.col("n_comp") + pl.col("n_comp_words") + pl.col("n_reversed")) > 0
    acc = edges.group_by("account_id").agg(pl.col("shop_id"), extorting.sum().alias("ext"))
    shops_of = {a: set(s) for a, s, _ in acc.iter_rows()}
    ext_of = {a: x for a, _, x in acc.iter_rows()}
    left = {a for i in absorbed_all for a in old[i][0].members} - covered - taken
    invites: dict[str, set] = {}
    if left:
        links = covictims.account_links(ctx.con, sorted(left | covered))
        for a, b in covictims.invite_pairs(links, p.invite_cap).iter_rows():
            invites.setdefault(a, set()).add(b)
            invites.setdefault(b, set()).add(a)
    joins: dict[int, set] = {}
    for i in sorted(absorbed_all):
        crews = [j for j, sp in enumerate(found) if set(sp.members) & set(old[i][0].members)]
        for a in sorted(set(old[i][0].members) & left):
            # invited by (or with) a crew's member first, then the victims it hit most
            best = max(
                crews,
                key=lambda j: (
                    len(invites.get(a, set()) & set(found[j].members)),
                    len(shops_of.get(a, set()) & set(found[j].shops)),
                    -j,
                ),
            )
            mine = shops_of.get(a, set())
            invited = bool(invites.get(a, set()) & set(found[best].members))
            devoted = (
                len(mine) >= 2
                and 2 * len(mine & set(old[i][0].shops)) >= len(mine)
                and mine & set(found[best].shops)
                and 2 * ext_of.get(a, 0) >= len(mine)
            )
            if invited or devoted:
                joins.setdefault(best, set()).add(a)
    # (group, score, figures) of each crew reported, evidence gathered at once
    reported: list[tuple[groups_.Group, float, dict]] = []
    for j, sp in enumerate(found):
        members = set(sp.members) | joins.get(j, set())
        absorbed = [i for i in sorted(absorbed_all) if members & set(old[i][0].members)]
        members -= taken
        if len(members) < p.min_members or len(members) < 0.5 * len(sp.members):
            continue
        shops = set(sp.shops)  # the crew's own member test decides who stays
        for i in absorbed:
            shops |= set(old[i][0].shops) & set(edges.filter(pl.col("account_id").is_in(list(members)))["shop_id"])
        g = groups_.Group(
            members=sorted(members),
            shops=sorted(shops),
            surprise=sp.bits["co_victims"] + sp.bits["timing"],
            method="covictims",
        )
        corrected = sp.total - math.log10(max(sp.figures["groups_tested"], 1))
        figures = {
            "sparse_bits": {k: round(v, 2) for k, v in sp.bits.items()},
            **sp.figures,
            "absorbed_rings": len(absorbed),
        }
        taken |= members
        reported.append((g, float(stats.score(corrected)), figures))
    evs = evidence.gather(ctx.con, edges, [g for g, *_ in reported], profiles, p.text_jaccard, base_dup)
    return reports + [(g, ev, score, figures) for (g, score, figures), ev in zip(reported, evs, strict=True)]


def scattered_crews(
    ctx: DetectContext,
    p,
    edges: pl.DataFrame,
    reports: list,
    base_dup: float,
    profiles: pl.DataFrame,
) -> list:
    """Crews scattered over many small shops (``scattered``), among the accounts that no
    ring or crew above holds."""
    taken = {m for g, *_ in reports for m in g.members}
    found = scattered.find_scattered(
        ctx.con,
        edges,
        taken,
        customer_orders=p.customer_orders,
        link_bits=p.scatter_link_bits,
        min_bits=p.min_scatter_bits,
        min_members=p.min_members,
        leave_out=p.leave_out_shops,
    )
    if not found:
        return reports
    groups = [groups_.Group(members=sc.members, shops=sc.shops, surprise=sc.bits, method="scattered") for sc in found]
    evs = evidence.gather(ctx.con, edges, groups, profiles, p.text_jaccard, base_dup)
    return reports + [
        (g, ev, float(stats.score(sc.bits)), {"linked_by": "shared traits", **sc.figures})
        for g, ev, sc in zip(groups, evs, found, strict=True)
    ]


def lone_crews(
    ctx: DetectContext,
    p,
    edges: pl.DataFrame,
    reports: list,
    base_dup: float,
    profiles: pl.DataFrame,
) -> list:
    """Crew members that share nothing with anyone, found by their script (``lone``): a
    compensation demanded and the low review reversed once paid, on one edge, far more often
    than the two acts' own rates predict, among the accounts no ring or crew above holds."""
    taken = {m for g, *_ in reports for m in g.members}
    found = lone.lone_extorters(
        edges,
        taken,
        customer_orders=p.customer_orders,
        prior=p.victim_prior_buyers,
        min_odds=p.lone_odds,
        min_members=p.min_members,
        min_bits=p.min_lone_bits,
        asked_beyond_price=p.lone_asked_beyond_price,
        drop_waves=p.lone_drop_waves,
    )
    if found is None:
        return reports
    # a lone extorter whose scripted attack hit a shop a ring above names as its victim is that
    # ring's member (the ring's victim test already holds the shop against its base rate)
    hits = edges.filter(pl.col("account_id").is_in(found.members) & pl.col("shop_id").is_in(found.shops))
    joined: dict[int, set[str]] = {}
    for i, (g0, *_) in enumerate(reports):
        on = set(hits.filter(pl.col("shop_id").is_in(g0.shops))["account_id"]) - set().union(*joined.values())
        if on:
            joined[i] = on
    out = list(reports)
    if joined:
        grown = [out[i][0] for i in joined]
        for i, gained in joined.items():
            out[i][0].members = sorted(set(out[i][0].members) | gained)
        evs = evidence.gather(ctx.con, edges, grown, profiles, p.text_jaccard, base_dup)
        for i, ev in zip(joined, evs, strict=True):
            g0, _, score, extra = out[i]
            out[i] = (g0, ev, score, {**extra, "joined_by_script": len(joined[i])})
    rest = sorted(set(found.members) - set().union(*joined.values()))
    if len(rest) < p.min_members:
        return out
    own = set(hits.filter(pl.col("account_id").is_in(rest))["shop_id"])
    g = groups_.Group(members=rest, shops=sorted(own), surprise=found.bits, method="lone")
    (ev,) = evidence.gather(ctx.con, edges, [g], profiles, p.text_jaccard, base_dup)
    return [*out, (g, ev, float(stats.score(found.bits)), {"linked_by": "script", **found.figures})]
