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
   to a member, is a member (one hit is enough only with such a link); this runs twice,
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

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from abuse import graphs, stats
from abuse.sqlfiles import read_sql, use_intermediate

from .evidence import _dup_texts

_DAY = 86400.0
_BG_TIERS = (1, 3, 10, 1 << 30)  # other hostile edges at a victim (member tiers)
_TIERS = (0.002, 0.01, 0.05, 0.2, 1.0)  # P(>= 2 of the group's edges at a shop) by chance


@dataclass
class Sparse:
    members: list[str]
    shops: list[str]
    bits: dict[str, float] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(self.bits.values()))


def account_links(con: duckdb.DuckDBPyConnection, accounts: list[str]) -> pl.DataFrame:
    cur = con.cursor()
    try:
        use_intermediate(cur)
        cur.register("rings_hostile", pl.DataFrame({"account_id": accounts}, schema={"account_id": pl.Utf8}).to_arrow())
        return cur.sql(read_sql("features/rings_account_links.sql")).pl()
    finally:
        cur.close()


def invite_pairs(links: pl.DataFrame, invite_cap: int) -> pl.DataFrame:
    """(a, b) with a < b, both hostile: one invited the other, or siblings of an inviter who
    invited at most ``invite_cap`` accounts in all."""
    hostile = links.select("account_id")
    direct = (
        links.filter(pl.col("invited_by").is_not_null())
        .join(hostile, left_on="invited_by", right_on="account_id", how="semi")
        .select(pl.col("account_id").alias("x"), pl.col("invited_by").alias("y"))
    )
    kids = links.filter(pl.col("invited_by").is_not_null() & (pl.col("inviter_fanout") <= invite_cap)).select(
        "account_id", "invited_by"
    )
    sib = (
        kids.join(kids, on="invited_by", suffix="_2")
        .filter(pl.col("account_id") < pl.col("account_id_2"))
        .select(pl.col("account_id").alias("x"), pl.col("account_id_2").alias("y"))
    )
    both = pl.concat([direct, sib])
    return (
        both.select(a=pl.min_horizontal("x", "y"), b=pl.max_horizontal("x", "y"))
        .filter(pl.col("a") != pl.col("b"))
        .unique()
        .sort("a", "b")
    )


def _cohort_rate(reg: np.ndarray, days: float) -> float:
    """Share of pairs of hostile accounts registered within ``days`` of each other (sorted
    sweep, linear after the sort)."""
    r = np.sort(reg[np.isfinite(reg)])
    n = len(r)
    if n < 2:
        return 1.0
    close = np.searchsorted(r, r + days * _DAY, side="right") - np.arange(n) - 1
    return float(close.sum()) / (n * (n - 1) / 2)


def _p2(lam: np.ndarray) -> np.ndarray:
    """P(Poisson(lam) >= 2)."""
    return -np.expm1(-lam) - lam * np.exp(-lam)


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
    pairs = _link_pairs(con, e, inv, H, window_seconds, hub_cap=hub_cap, link_days=link_days, invite_bits=invite_bits)
    if pairs.is_empty():
        return []
    comms = graphs.communities(zip(pairs["a"], pairs["b"], pairs["weight"], strict=True), seed=seed)
    comms = _split(comms, pairs, seed)
    comm = pl.DataFrame(
        [(a, i) for i, c in enumerate(sorted(comms, key=min)) for a in c if len(c) >= 2],
        schema={"account_id": pl.Utf8, "g": pl.Int64},
        orient="row",
    )
    if comm.is_empty():
        return []
    # 3. members
    comm = _grow_members(
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
    base = _Baselines.measure(e, links, inv, shop_h, cohort_days)
    n_groups = comm["g"].n_unique()
    out = []
    for (g,), grp in comm.group_by(["g"], maintain_order=False):
        members = sorted(grp["account_id"])
        bits, figures, shops = _test(
            e, members, base, H, window_seconds, leave_out, cohort_days, text_threshold, base_dup
        )
        figures["groups_tested"] = n_groups
        if _reported(
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


def _link_pairs(
    con: duckdb.DuckDBPyConnection,
    e: pl.DataFrame,
    inv: pl.DataFrame,
    H: float,
    window_seconds: float,
    *,
    hub_cap: int,
    link_days: float,
    invite_bits: float,
) -> pl.DataFrame:
    """(a, b, weight) links between accounts hostile to >= 2 shops: hostile to the same shop
    within ``link_days`` (hub shops left out), plus ``invite_bits`` for an invitation."""
    cand = e.filter(pl.col("d") >= 2)
    link_edges = cand.filter(pl.col("account_id").n_unique().over("shop_id") <= hub_cap).select(
        "account_id", "shop_id", "t", w=(H / pl.col("h").cast(pl.Float64)).log10()
    )
    cur = con.cursor()
    try:
        cur.register("rings_link_edges", link_edges.to_arrow())
        cur.execute("SET VARIABLE rings_link_seconds = ?", [link_days * _DAY])
        cur.execute("SET VARIABLE rings_window_seconds = ?", [window_seconds])
        pairs = cur.sql(read_sql("features/rings_links.sql")).pl()
    finally:
        cur.close()
    cand_ids = cand.select("account_id").unique()
    inv_c = (
        inv.join(cand_ids, left_on="a", right_on="account_id", how="semi")
        .join(cand_ids, left_on="b", right_on="account_id", how="semi")
        .with_columns(weight=pl.lit(invite_bits))
    )
    return (
        pl.concat([pairs.select("a", "b", pl.col("weight").cast(pl.Float64)), inv_c.select("a", "b", "weight")])
        .group_by("a", "b")
        .agg(pl.col("weight").sum())
        .sort("a", "b")
    )


def _grow_members(
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
) -> pl.DataFrame:
    """The members of each community (``_members``), twice, then groups sharing members
    merge, then once more; each account stays with the group where its evidence is
    strongest and members must pass again against the groups as they now are, until nothing
    changes. Groups smaller than ``min_members`` go."""
    acc_deg = e.group_by("account_id").agg(pl.col("d").first())
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


@dataclass
class _Baselines:
    """The base rates a group is tested against, over all hostile accounts and edges."""

    h_all: np.ndarray  # hostile edges per shop
    shop_index: dict  # shop_id -> index into h_all
    rates: dict  # payment flag -> its rate over hostile edges
    reg_of: dict  # account_id -> registration time (epoch seconds)
    inv_set: set  # invitation pairs (a, b), a < b
    p_inv: float  # share of hostile account pairs linked by an invitation
    p_cohort: float  # share of hostile account pairs registered within cohort_days

    @classmethod
    def measure(
        cls, e: pl.DataFrame, links: pl.DataFrame, inv: pl.DataFrame, shop_h: pl.DataFrame, cohort_days: float
    ) -> _Baselines:
        reg = links.select("account_id", reg=pl.col("registered_at").dt.epoch("ms") / 1000.0)
        n_host = float(links.height)
        return cls(
            h_all=shop_h["h_s"].to_numpy().astype(float),
            shop_index={s: i for i, s in enumerate(shop_h["shop_id"])},
            rates=_payment_flags(e).select(pl.exclude("account_id", "shop_id")).mean().row(0, named=True),
            reg_of=dict(zip(reg["account_id"], reg["reg"], strict=True)),
            inv_set=set(zip(inv["a"], inv["b"], strict=True)),
            p_inv=inv.height / max(n_host * (n_host - 1) / 2, 1.0),
            p_cohort=_cohort_rate(reg["reg"].drop_nulls().to_numpy().astype(float), cohort_days),
        )


def _reported(
    bits: dict,
    figures: dict,
    n_groups: int,
    *,
    leave_out: int,
    min_shared: int,
    min_covictim_bits: float,
    min_total_bits: float,
) -> bool:
    """Whether a tested group is a crew: coordinated through its victims, or recruited
    (invitations among its members beyond base rate and, independently of them, the crew's
    behaviour (shared victims, timing, payment, copied texts) too, spread over many victims,
    not one target that an office or a class was mobilised against), with enough evidence
    once the groups tested are paid for. Records ``linked_by`` in ``figures``."""
    corrected = sum(bits.values()) - math.log10(max(n_groups, 1))
    coordinated = figures["shared_victims"] - leave_out >= min_shared and bits["co_victims"] >= min_covictim_bits
    behaviour = sum(bits[k] for k in ("co_victims", "timing", "payment", "dup_texts"))
    recruited = (
        figures["hostile_shops"] - leave_out >= min_shared
        and bits["invitations"] >= min_covictim_bits
        and behaviour >= min_covictim_bits
    )
    figures["linked_by"] = "victims" if coordinated else "recruitment"
    return (coordinated or recruited) and corrected >= min_total_bits


def _split(comms: list[set], pairs: pl.DataFrame, seed: int, big: int = 12) -> list[set]:
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


def _payment_flags(e: pl.DataFrame) -> pl.DataFrame:
    return e.select(
        "account_id",
        "shop_id",
        comp=((pl.col("n_comp") > 0) | (pl.col("n_comp_words") > 0)),
        refund=pl.col("n_refund") > 0,
        reversed=pl.col("n_reversed") > 0,
        reversed_unpaid=(pl.col("n_reversed") > 0) & (pl.col("n_refund") + pl.col("n_comp") == 0),
    )


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
    for b in _BG_TIERS:
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
        t = t.select("account_id", "g", "m", s=pl.Series(stats.corrected(s, len(_BG_TIERS))))
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
    # one hit on a victim is a member only with an invitation link to the group
    return (
        df.filter((pl.col("bits") >= min_bits) & ((pl.col("m") >= 2) | linked))
        .select("account_id", "g", "bits")
        .sort("g", "account_id")
    )


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


def _test(
    e: pl.DataFrame,
    members: list[str],
    base: _Baselines,
    H: float,
    window_seconds: float,
    leave_out: int,
    cohort_days: float,
    text_threshold: float,
    base_dup: float,
) -> tuple[dict, dict, list[str]]:
    """(bits, figures, shops named) of the group test (step 4 of the module docstring)."""
    sub = e.filter(pl.col("account_id").is_in(members))
    D = float(sub.height)
    # sorted: shops tied in surprise are left out by id, not by the group_by's order
    per = (
        sub.group_by("shop_id")
        .agg(pl.len().alias("k"), pl.col("t").min().alias("t0"), pl.col("t").max().alias("t1"))
        .sort("shop_id")
    )
    vic = per.filter(pl.col("k") >= 2)
    # each shop's background: its hostile edges, the group's own taken out
    bg = base.h_all.copy()
    idx = np.array([base.shop_index[s] for s in per["shop_id"]], dtype=np.int64)
    bg[idx] -= per["k"].to_numpy()
    lam_all = D * (bg + 1.0) / H
    k = vic["k"].to_numpy().astype(float)
    lam_v = lam_all[np.array([base.shop_index[s] for s in vic["shop_id"]], dtype=np.int64)]
    per_shop = stats.surprise_poisson(k, lam_v)
    kept = np.argsort(-per_shop, kind="stable")[leave_out:]
    co, expected = _covictim_bits(lam_all, lam_v, kept)
    timing = _timing_bits(vic, k, kept, window_seconds)
    pay, pay_bits = _payment_bits(sub, base.rates)
    n_inv, n_coh, inv_bits, coh_bits = _linkage_bits(members, base, cohort_days)
    m = len(members)
    n_pairs = m * (m - 1) / 2
    dup, compared, _ = _dup_texts(sub.filter(pl.col("shop_id").is_in(vic["shop_id"].implode())), text_threshold)
    dup_bits = float(stats.surprise_poisson(dup, compared * base_dup))
    bits = {
        "co_victims": co,
        "timing": timing,
        "payment": pay_bits,
        "invitations": inv_bits,
        "cohorts": coh_bits,
        "dup_texts": dup_bits,
    }
    figures = {
        "shared_victims": int(vic.height),
        "expected_shared": round(expected, 3),
        "hostile_shops": int(per.height),
        "hostile_edges": int(D),
        "invitation_pairs": n_inv,
        "invitation_expected": round(n_pairs * base.p_inv, 3),
        "cohort_pairs": n_coh,
        "cohort_expected": round(n_pairs * base.p_cohort, 3),
        "dup_text_pairs": dup,
        **{f"n_{k}": v for k, v in pay.items()},
    }
    return bits, figures, _named_shops(per, vic, bg, base.shop_index)


def _covictim_bits(lam_all: np.ndarray, lam_v: np.ndarray, kept: np.ndarray) -> tuple[float, float]:
    """(bits, expected) of the co-victims, stratified by how rarely a shop meets the group by
    chance: the count of shared victims (``kept`` of them) among the shops where a meeting is
    rarer than each tier, vs its expectation there; the best tier pays for the tiers tried."""
    p2_all = _p2(lam_all)
    p2_v = _p2(lam_v)
    co, expected = 0.0, float(p2_all.sum())
    for tier in _TIERS:
        obs = int((p2_v[kept] <= tier).sum())
        exp_t = float(p2_all[p2_all <= tier].sum())
        s_t = float(stats.surprise_poisson(obs, exp_t))
        if s_t > co:
            co, expected = s_t, exp_t
    return float(stats.corrected(co, len(_TIERS))), expected


def _timing_bits(vic: pl.DataFrame, k: np.ndarray, kept: np.ndarray, window_seconds: float) -> float:
    """Timing at each shared victim (``kept`` of them) vs uniform over the window, capped
    per shop."""
    span = (vic["t1"] - vic["t0"]).to_numpy()
    r = np.clip(np.maximum(span, _DAY) / window_seconds, 0, 1)
    p_t = np.clip(k * r ** (k - 1) - (k - 1) * r**k, 1e-12, 1.0)
    t_bits = np.minimum(-np.log10(p_t), 2.0)
    return float(t_bits[kept].sum())


def _payment_bits(sub: pl.DataFrame, rates: dict) -> tuple[dict, float]:
    """(count of each payment flag, bits): payment behaviour vs its rate over all hostile
    edges."""
    flags = _payment_flags(sub)
    pay = {name: int(flags[name].sum()) for name in ("comp", "refund", "reversed", "reversed_unpaid")}
    bits = sum(float(stats.surprise_binom(pay[n], sub.height, rates[n])) for n in pay)
    return pay, bits


def _linkage_bits(members: list[str], base: _Baselines, cohort_days: float) -> tuple[int, int, float, float]:
    """(invitation pairs, cohort pairs, their bits): invitations and registration cohorts
    among the members vs their rate among hostile accounts."""
    m = len(members)
    n_pairs = m * (m - 1) / 2
    mset = sorted(members)
    n_inv = sum(1 for i, a in enumerate(mset) for b in mset[i + 1 :] if (a, b) in base.inv_set)
    regs = np.sort(np.array([base.reg_of.get(a, np.nan) for a in members], dtype=float))
    regs = regs[np.isfinite(regs)]
    n_coh = (
        int((np.searchsorted(regs, regs + cohort_days * _DAY, side="right") - np.arange(len(regs)) - 1).sum())
        if len(regs)
        else 0
    )
    inv_bits = float(stats.surprise_poisson(n_inv, n_pairs * base.p_inv))
    coh_bits = float(stats.surprise_poisson(n_coh, n_pairs * base.p_cohort))
    return n_inv, n_coh, inv_bits, coh_bits


def _named_shops(per: pl.DataFrame, vic: pl.DataFrame, bg: np.ndarray, shop_index: dict) -> list[str]:
    """The victims named: shared ones, and a member's single hits at shops that are not busy
    with other hostility (a bad seller's crowd is not the crew's doing)."""
    lone = per.filter((pl.col("k") == 1)).with_columns(
        bg=pl.Series([bg[shop_index[s]] for s in per.filter(pl.col("k") == 1)["shop_id"]], dtype=pl.Float64)
    )
    return sorted(set(vic["shop_id"]) | set(lone.filter(pl.col("bg") <= _BG_TIERS[-2])["shop_id"]))
