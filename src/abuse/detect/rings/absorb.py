"""Sparse crews beside the rings found first (a crew absorbs the rings it covers, their leftover
members join it by a test), and each report's victims named against the shops' base rates."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from abuse import stats
from abuse.detect.base import DetectContext

from . import covictims as covictims
from . import evidence as evidence
from . import groups as groups_
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
    out = []
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
    # member joins that crew; so does one whose hostile acts on the crew's victims are
    # beyond what its own activity and those shops' complaint base rates explain
    # (``join_bits``): a loud complainer complains everywhere, a bad seller's unhappy
    # buyer once
    left = {a for i in absorbed_all for a in old[i][0].members} - covered - taken
    shops_of = {a: set(s) for a, s in edges.group_by("account_id").agg(pl.col("shop_id")).iter_rows()}
    invites: dict[str, set] = {}
    reg: dict[str, float] = {}
    p_cohort = np.zeros(0)
    if left:
        links = covictims.account_links(ctx.con, sorted(edges["account_id"].unique()))
        r = links.select("account_id", reg=pl.col("registered_at").dt.epoch("ms") / 1000.0).drop_nulls()
        reg = dict(r.iter_rows())
        p_cohort = np.sort(r["reg"].to_numpy().astype(float))
        for a, b in covictims.invite_pairs(links, p.invite_cap).iter_rows():
            invites.setdefault(a, set()).add(b)
            invites.setdefault(b, set()).add(a)
    tried = []  # (account, crew, victims, the crew's members) of each leftover
    invited_to: dict[str, int] = {}
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
            if invites.get(a, set()) & set(found[best].members):
                invited_to[a] = best
            else:
                crew = set(found[best].members)  # vetted by the crew test, not the ring's others
                tried.append((a, best, set(found[best].shops) | set(old[i][0].shops), crew))
    joins: dict[int, set] = {}
    for a, j in invited_to.items():
        joins.setdefault(j, set()).add(a)
    for (a, j, *_), bits in zip(
        tried, join_bits(edges, tried, p.customer_orders, reg, p_cohort, p.cohort_days), strict=True
    ):
        if bits >= p.min_sparse_member_bits:
            joins.setdefault(j, set()).add(a)
    crews = []  # (group, score, figures) of each crew reported, evidence gathered at once
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
        crews.append((g, float(stats.score(corrected)), figures))
    evs = evidence.gather(ctx.con, edges, [g for g, *_ in crews], profiles, p.text_jaccard, base_dup)
    return reports + [(g, ev, score, figures) for (g, score, figures), ev in zip(crews, evs, strict=True)]


def _extorting() -> pl.Expr:
    return (pl.col("n_comp") + pl.col("n_comp_words") + pl.col("n_reversed")) > 0


def join_bits(
    edges: pl.DataFrame,
    tried: list[tuple[str, int, set, set]],
    customer_orders: int,
    reg: dict[str, float],
    all_reg: np.ndarray,
    cohort_days: float,
) -> list[float]:
    """For each (account, crew, victims, crew members) tried: -log10 p that the account's
    hostile acts concentrate on the crew's victims and extort there, corrected for the
    accounts tried. Two tails, summed:

    - *victims*: ``m`` of its ``d`` hostile edges on the victims vs ``Binomial(d, q)``,
      ``q`` the share of all hostile edges of the victims where another member was with the crew's own (and its own)
      taken out (shop ``s`` at ``(h_s - k_s + 1) / H``): a loud complainer's hostility is
      spread over many shops, a member's lands where the crew was;
    - *extortion*: ``x`` of those ``m`` edges asked for compensation (``kind`` or words)
      or withdrew or raised the review, vs ``Binomial(m, r)``, ``r`` that share over all
      hostile edges;
    - *cohort*: ``c`` of the crew's members registered within ``cohort_days`` of it vs
      ``Binomial(crew, p_a)``, ``p_a`` the share of all hostile accounts (``all_reg``,
      sorted registration times) registered that close to it: the local base rate, so a
      busy registration week of ordinary buyers explains its own coincidences (a crew
      recruits in waves; a complainer's registration is unrelated).

    A regular customer's complaint (``customer_orders`` or more orders at the shop) is no
    hit; one hit on the victims scores 0 (as in the crew's own member test, a
    single hit is a member only with an invitation link)."""
    if not tried:
        return []
    H = float(edges.height)
    r_ext = float(edges.select(_extorting().mean()).item() or 0.0)
    n_tried = len(tried)
    idx = pl.DataFrame(
        {"i": range(n_tried), "account_id": [a for a, *_ in tried]}, schema={"i": pl.Int64, "account_id": pl.Utf8}
    )
    vic = pl.DataFrame(
        [(i, s) for i, (_, _, v, _) in enumerate(tried) for s in v],
        schema={"i": pl.Int64, "shop_id": pl.Utf8},
        orient="row",
    )
    crew = pl.DataFrame(
        [(i, b) for i, (a, _, _, c) in enumerate(tried) for b in c if b != a],
        schema={"i": pl.Int64, "member": pl.Utf8},
        orient="row",
    )
    es = edges.select("account_id", "shop_id")
    h = es.group_by("shop_id").len("h")
    # the crew's (and the account's own) edges at each victim, taken out of its background
    own = pl.concat([crew.rename({"member": "account_id"}), idx.select("i", "account_id")])
    k = own.join(es, on="account_id").join(vic, on=["i", "shop_id"], how="semi").group_by("i", "shop_id").len("k")
    # only where another member was: a ring's shops named after the account's own hits
    # would make the account its own evidence
    at = (
        crew.rename({"member": "account_id"})
        .join(es, on="account_id")
        .join(vic, on=["i", "shop_id"], how="semi")
        .select("i", "shop_id")
        .unique()
        .join(k, on=["i", "shop_id"])
        .join(h, on="shop_id")
    )
    q = at.group_by("i").agg(q=((pl.col("h") - pl.col("k") + 1) / H).sum().clip(None, 0.999))
    hit = (
        idx.join(edges.filter(pl.col("n_orders_all") < customer_orders), on="account_id")
        .join(at.select("i", "shop_id"), on=["i", "shop_id"], how="semi")
        .group_by("i")
        .agg(m=pl.len(), x=_extorting().sum())
    )
    deg = es.group_by("account_id").len("d")
    # registration cohort with the crew's members, against the local registration density
    window = cohort_days * 86400.0
    regs = pl.DataFrame(
        {"account_id": list(reg), "reg": list(reg.values())}, schema={"account_id": pl.Utf8, "reg": pl.Float64}
    )
    mine = idx.join(regs, on="account_id", how="left").with_columns(pl.col("reg").fill_null(float("nan")))
    close = (
        crew.join(regs.rename({"account_id": "member", "reg": "reg_b"}), on="member")
        .join(mine.select("i", "reg"), on="i")
        .group_by("i")
        .agg(size=pl.len(), c=((pl.col("reg_b") - pl.col("reg")).abs() <= window).sum())
    )
    df = (
        mine.join(q, on="i", how="left")
        .join(hit, on="i", how="left")
        .join(deg, on="account_id", how="left")
        .join(close, on="i", how="left")
        .fill_null(0)
        .sort("i")
    )
    r = df["reg"].to_numpy().astype(float)
    has = np.isfinite(r)
    r0 = np.where(has, r, 0.0)
    near = np.where(has, np.searchsorted(all_reg, r0 + window, "right") - np.searchsorted(all_reg, r0 - window), 0)
    p_a = (near + 1.0) / (len(all_reg) + 1.0)
    m = df["m"].to_numpy()
    s_vic = stats.surprise_binom(m, df["d"].to_numpy(), np.clip(df["q"].to_numpy(), 1e-12, 0.999))
    s_ext = stats.surprise_binom(df["x"].to_numpy(), m, max(r_ext, 1e-6))
    s_coh = np.where(has, stats.surprise_binom(df["c"].to_numpy(), df["size"].to_numpy(), p_a), 0.0)
    # one hit on the crew's victims is no membership (as in the crew's own member test)
    s_vic = np.where(m >= 2, s_vic, -np.inf)
    return [float(v) for v in stats.corrected(s_vic + s_ext + s_coh, n_tried)]
