"""Sparse crews, step 3: a community's members are the accounts whose hits on its victims
are improbable for their hostile degree; pieces of one crew merge."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats as _st

from abuse import graphs, stats
from abuse.frames import number

BG_TIERS = (1, 3, 10, 1 << 30)  # other hostile edges at a victim (member tiers)
EXTORTING = (pl.col("n_comp") + pl.col("n_comp_words") + pl.col("n_reversed")) > 0  # a hostile edge asking for money


def grow_members(
    e: pl.DataFrame,
    comm: pl.DataFrame,
    shop_h: pl.DataFrame,
    inv: pl.DataFrame,
    H: float,
    *,
    hub_cap: int,
    invite_bits: float,
    min_member_bits: float,
    min_members: int,
    merge_bits: float,
    habit: bool = True,
) -> pl.DataFrame:
    """The members of each community (``_members``), twice, then groups sharing members
    merge, then once more; each account stays with the group where its evidence is
    strongest and members must pass again against the groups as they now are, until nothing
    changes. Groups smaller than ``min_members`` go. With ``habit`` an account that extorts
    on a smaller share of its hostile edges than hostile accounts at large, in a group that
    extorts on more, pays for it (``_habit_deficit``)."""
    acc_deg = e.group_by("account_id").agg(pl.col("d").first(), x=EXTORTING.sum(), n=pl.len())
    if not habit:
        acc_deg = acc_deg.drop("x", "n")
    for i in range(3):  # the first rounds grow through any shop a member hit
        comm = _members(
            e, comm, shop_h, acc_deg, inv, H, hub_cap, invite_bits, min_member_bits, min_k=1 if i < 2 else 2
        )
    comm = _merge(comm)
    comm = _merge(comm, _covictim_pairs(e, comm, shop_h, H, hub_cap, merge_bits))
    comm = _members(e, comm, shop_h, acc_deg, inv, H, hub_cap, invite_bits, min_member_bits)
    for _ in range(4):
        comm = comm.sort("account_id", "bits", "g", descending=[False, True, False]).unique("account_id", keep="first")
        sizes = comm.group_by("g").len().filter(pl.col("len") >= min_members)
        comm = comm.join(sizes.select("g"), on="g", how="semi")
        if comm.is_empty():
            return comm
        again = _members(e, comm, shop_h, acc_deg, inv, H, hub_cap, invite_bits, min_member_bits)
        again = again.join(comm.select("account_id", "g"), on=["account_id", "g"], how="semi")
        if again.height == comm.height:
            break
        comm = again
    return comm


def split_communities(comms: list[set], pairs: pl.DataFrame, seed: int, big: int = 12) -> list[set]:
    """Louvain once more inside each large community (its resolution limit can fuse a sparse
    crew with the noise around it): the community and its pieces are all seeds; grown
    seeds of one crew merge back through their members (``_merge``)."""
    out: list[set] = []
    for c in sorted(comms, key=min):
        out.append(c)
        if len(c) < big:
            continue
        inner = pairs.filter(pl.col("a").is_in(list(c)) & pl.col("b").is_in(list(c)))
        parts = graphs.communities(zip(inner["a"], inner["b"], inner["weight"], strict=True), seed=seed)
        out.extend(parts if len(parts) > 1 else [])
    return out


def _members(
    e: pl.DataFrame,
    comm: pl.DataFrame,
    shop_h: pl.DataFrame,
    acc_deg: pl.DataFrame,
    inv: pl.DataFrame,
    H: float,
    hub_cap: int,
    invite_bits: float,
    min_bits: float,
    min_k: int = 2,
) -> pl.DataFrame:
    """(account_id, g, bits) of every account whose hits on group ``g``'s victims are
    improbable for its hostile degree, an invitation link to a member adding
    ``invite_bits``. Victims are tiered by their background hostility (the group's own
    edges taken out): the hits on the victims with at most ``b`` other hostile edges vs
    those victims' background mass, the best tier paying for the tiers tried, so a member's
    hits on quiet shops are not drowned by a noisy shop in the group. Vectorised over all
    groups."""
    on = e.select("account_id", "shop_id").join(comm.select("account_id", "g"), on="account_id")
    vic = (
        on.group_by("g", "shop_id")
        .len("k")
        .filter(pl.col("k") >= min_k)
        .join(shop_h, on="shop_id")
        .filter(pl.col("h_s") <= hub_cap)
        .with_columns(bg=pl.col("h_s") - pl.col("k"))
        .with_columns(p=(pl.col("bg") + 1) / H)
    )
    hits = (
        e.select("account_id", "shop_id")
        .join(vic.select("g", "shop_id", "k", "bg"), on="shop_id")
        .join(comm.select("account_id", "g", inside=pl.lit(1)), on=["account_id", "g"], how="left")
        .filter(pl.col("k") - pl.col("inside").fill_null(0) >= 1)
    )
    # invitation links to a member of the group
    both = pl.concat([inv.select(x="a", y="b"), inv.select(x="b", y="a")])
    inv_g = (
        both.join(comm.select(pl.col("account_id").alias("y"), "g"), on="y")
        .group_by(pl.col("x").alias("account_id"), "g")
        .len("n_inv")
    )
    best = None
    for b in BG_TIERS:
        mass = vic.filter(pl.col("bg") <= b).group_by("g").agg(q=pl.col("p").sum().clip(None, 0.999))
        t = (
            hits.filter(pl.col("bg") <= b)
            .group_by("account_id", "g")
            .len("m")
            .join(acc_deg, on="account_id")
            .join(mass, on="g")
        )
        if t.is_empty():
            continue
        s = stats.surprise_binom(t["m"].to_numpy(), t["d"].to_numpy(), t["q"].to_numpy())
        t = t.select("account_id", "g", "m", s=pl.Series(stats.corrected(s, len(BG_TIERS))))
        best = t if best is None else pl.concat([best, t])
    if best is None:
        return comm.head(0).select("account_id", "g", bits=pl.lit(0.0))
    df = (
        best.group_by("account_id", "g")
        .agg(pl.col("s").max(), pl.col("m").max())
        .join(inv_g, on=["account_id", "g"], how="left")
        .with_columns(pl.col("n_inv").fill_null(0))
    )
    linked = pl.col("n_inv") > 0
    df = df.with_columns(bits=pl.col("s") + linked.cast(pl.Float64) * invite_bits)
    if "x" in acc_deg.columns:
        df = _habit_deficit(df, comm, acc_deg)
    # one hit on a victim is a member only with an invitation link to the group
    return (
        df.filter((pl.col("bits") >= min_bits) & ((pl.col("m") >= 2) | linked))
        .select("account_id", "g", "bits")
        .sort("g", "account_id")
    )


def _habit_deficit(df: pl.DataFrame, comm: pl.DataFrame, acc_deg: pl.DataFrame) -> pl.DataFrame:
    """``bits`` less the habit deficit. A crew extorts on most of its hostile edges (``x``
    of an account's ``n``: compensation asked for, in words too, or the review withdrawn or
    raised); an account that extorts on a smaller share than a hostile account at large (the
    base rate ``r0``, each account once) while its group extorts on more pays the
    log-likelihood ratio of its ``x`` of ``n`` under the group's rate (the beta-binomial
    predictive of the other members' edges, so a small or uniform group claims no certainty)
    vs ``r0``, when negative: a genuine complainer who happens to meet a crew at quiet shops
    rarely asks for money. Never a bonus: the member test stays about the victims."""
    r0 = min(max(number((acc_deg["x"] / acc_deg["n"]).mean()), 1e-6), 1 - 1e-6)
    tot = (
        comm.select("account_id", "g")
        .join(acc_deg.select("account_id", "x", "n"), on="account_id")
        .group_by("g")
        .agg(X=pl.col("x").sum(), N=pl.col("n").sum())
    )
    t = (
        df.join(acc_deg.select("account_id", "x", "n"), on="account_id")
        .join(tot, on="g")
        .join(comm.select("account_id", "g", own=pl.lit(1)), on=["account_id", "g"], how="left")
        .with_columns(own=pl.col("own").fill_null(0))
    )
    x, n, own = (t[c].to_numpy().astype(float) for c in ("x", "n", "own"))
    a = t["X"].to_numpy() - own * x + 0.5  # the other members' edges, Jeffreys prior
    b = t["N"].to_numpy() - own * n - (a - 0.5) + 0.5
    llr = (_st.betabinom.logpmf(x, n, a, b) - _st.binom.logpmf(x, n, r0)) / math.log(10)
    low = (x < r0 * n) & (a / (a + b) > r0)
    return t.with_columns(bits=pl.col("bits") + pl.Series(np.where(low, np.minimum(llr, 0.0), 0.0))).select(df.columns)


def _covictim_pairs(
    e: pl.DataFrame, comm: pl.DataFrame, shop_h: pl.DataFrame, H: float, hub_cap: int, min_bits: float
) -> pl.DataFrame:
    """Pairs of groups (g, g2) whose members hit far more of the same shops than chance: two
    pieces of one crew. ``k`` shared shops vs ``D1 D2 sum_s p_s^2`` (both groups' hostile
    edges landing on one shop by chance), hub shops left out."""
    p2 = float(((shop_h["h_s"].cast(pl.Float64) + 1) / H).pow(2).sum())
    gs = e.select("account_id", "shop_id").join(comm.select("account_id", "g"), on="account_id")
    deg = gs.group_by("g").len("D")
    quiet = shop_h.filter(pl.col("h_s") <= hub_cap).select("shop_id")
    at = gs.join(quiet, on="shop_id", how="semi").select("g", "shop_id").unique()
    pairs = (
        at.join(at, on="shop_id", suffix="2")
        .filter(pl.col("g") < pl.col("g2"))
        .group_by("g", "g2")
        .len("k")
        .join(deg, on="g")
        .join(deg.rename({"g": "g2", "D": "D2"}), on="g2")
    )
    if pairs.is_empty():
        return pairs.select("g", "g2")
    s = stats.surprise_poisson(pairs["k"].to_numpy(), (pairs["D"] * pairs["D2"]).to_numpy() * p2)
    return pairs.with_columns(s=pl.Series(s)).filter(pl.col("s") >= min_bits).select("g", "g2")


def _merge(comm: pl.DataFrame, pairs: pl.DataFrame | None = None, share: float = 0.3) -> pl.DataFrame:
    """Groups sharing at least ``share`` of the smaller one's members (or the given pairs of
    groups) become one."""
    size = comm.group_by("g").len("n")
    if pairs is None:
        pairs = (
            comm.join(comm, on="account_id", suffix="2")
            .filter(pl.col("g") < pl.col("g2"))
            .group_by("g", "g2")
            .len("shared")
            .join(size, on="g")
            .join(size.rename({"g": "g2", "n": "n2"}), on="g2")
            .filter(pl.col("shared") >= share * pl.min_horizontal("n", "n2"))
        )
    # each group joins the smallest group of its connected component
    mapping = {g: g for g in comm["g"].unique().to_list()}
    links = [(g, i) for i, pair in enumerate(pairs.select("g", "g2").iter_rows()) for g in pair]
    for comp in graphs.union_components(links):
        mapping.update(dict.fromkeys(comp, min(comp)))
    return (
        comm.with_columns(g=pl.col("g").replace_strict(mapping))
        .group_by("account_id", "g")
        .agg(pl.col("bits").max() if "bits" in comm.columns else pl.lit(0.0).alias("bits"))
        .sort("g", "account_id")
    )
