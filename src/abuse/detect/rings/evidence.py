"""Supporting evidence for candidate rings, each measured against a baseline of all hostile
accounts or edges rather than a fixed cut-off, in -log10 p ("bits"): extortion (compensation
demands, reviews withdrawn or raised after payment), near-duplicate review texts,
bought-account traits (old but barely used before the attack), shared devices and IPs."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import duckdb
import polars as pl

from abuse import graphs
from abuse import stats as abuse_stats
from abuse.frames import number
from abuse.sqlfiles import read_sql, use_intermediate

from .groups import Group


@dataclass
class GroupEvidence:
    shared_devices: int = 0
    shared_ips: int = 0
    members_sharing: int = 0
    dup_text_pairs: int = 0
    dup_text_expected: float = 0.0
    members_dup_text: int = 0
    dormant_members: int = 0
    dormant_expected: float = 0.0
    extortion_edges: int = 0  # victim edges with a compensation demand or a review reversal
    extortion_expected: float = 0.0
    bits: dict[str, float] = field(default_factory=dict)  # -log10 p of each signal


def binom_surprise(k: int, n: int, p: float) -> float:
    """The binomial surprise of ``k`` of ``n`` at a base rate ``p`` kept off 0 and 1 (a base
    rate measured on few accounts is never certainty)."""
    return float(abuse_stats.surprise_binom(k, n, min(max(p, 1e-6), 1 - 1e-6)))


def account_profiles(con: duckdb.DuckDBPyConnection, edges: pl.DataFrame) -> pl.DataFrame:
    """Age and prior orders of every hostile account at its first hostile action, with a
    ``dormant`` flag: older than the median hostile account yet in the bottom quartile of
    orders per month of age before the attack."""
    cur = con.cursor()
    try:
        acc = edges.group_by("account_id").agg(pl.col("first_at").min())
        use_intermediate(cur)
        cur.register("rings_accounts", acc.to_arrow())
        prof = cur.sql(read_sql("features/rings_account_profile.sql")).pl()
    finally:
        cur.close()
    prof = prof.with_columns(
        age_days=pl.col("age_days").fill_null(0).cast(pl.Float64),
        rate=pl.col("orders_before") / (pl.col("age_days").fill_null(0).clip(1, None) / 30.0),
    )
    if prof.is_empty():
        return prof.with_columns(dormant=pl.lit(False))
    age_med = number(prof["age_days"].median() or 0.0)
    rate_q = number(prof["rate"].quantile(0.25) or 0.0)
    return prof.with_columns(dormant=(pl.col("age_days") > age_med) & (pl.col("rate") <= rate_q))


def text_baseline(edges: pl.DataFrame, threshold: float, n: int = 2000, seed: int = 0) -> float:
    """Share of random pairs of low-rating texts by different accounts that are near
    duplicates: the chance rate against which a group's duplicates are judged."""
    t = edges.select("account_id", "texts").explode("texts", empty_as_null=False).drop_nulls("texts")
    return graphs.near_duplicate_rate(list(t.iter_rows()), threshold, n=n, seed=seed)


def _dup_texts(sub: pl.DataFrame, threshold: float, max_texts: int = 150) -> tuple[int, int, int]:
    """(near-duplicate pairs by different members, pairs compared, members with one), on a
    fixed-seed sample of at most ``max_texts`` texts so the cost per ring is bounded."""
    t = sub.select("account_id", "texts").explode("texts", empty_as_null=False).drop_nulls("texts")
    if t.height > max_texts:
        t = t.sample(max_texts, seed=0)
    sh = [(a, graphs.shingles(x)) for a, x in t.iter_rows()]
    dup = compared = 0
    who: set[str] = set()
    for (a, x), (b, y) in combinations(sh, 2):
        if a == b:
            continue
        compared += 1
        if graphs.jaccard(x, y) >= threshold:
            dup += 1
            who.update((a, b))
    return dup, compared, len(who)


def gather(
    con: duckdb.DuckDBPyConnection,
    edges: pl.DataFrame,
    groups: list[Group],
    profiles: pl.DataFrame,
    text_threshold: float,
    base_dup: float,
) -> list[GroupEvidence]:
    """Evidence for each group, in the order given."""
    if not groups:
        return []
    members = pl.DataFrame(
        [(m, str(i)) for i, g in enumerate(groups) for m in g.members],
        schema={"account_id": pl.Utf8, "group_key": pl.Utf8},
        orient="row",
    )
    cur = con.cursor()
    try:
        use_intermediate(cur)
        cur.register("rings_members", members.to_arrow())
        shared = cur.sql(read_sql("features/rings_shared_ids.sql")).pl()
    finally:
        cur.close()
    p_dormant = number(profiles["dormant"].mean() or 0.0) if profiles.height else 0.0
    p_share = number(profiles["shares_id"].mean() or 0.0) if profiles.height else 0.0
    is_ext = (pl.col("n_comp") > 0) | (pl.col("n_reversed_after_pay") > 0)
    p_ext = float(edges.select(is_ext.mean()).item() or 0.0)
    dormant = set(profiles.filter(pl.col("dormant"))["account_id"])
    out = []
    for i, g in enumerate(groups):
        ev = GroupEvidence()
        sh = shared.filter(pl.col("group_key") == str(i))
        ev.shared_devices = sh.filter(pl.col("kind") == "device").height
        ev.shared_ips = sh.filter(pl.col("kind") == "ip").height
        ev.members_sharing = len({a for ids in sh["account_ids"] for a in ids})
        sub = edges.filter(pl.col("account_id").is_in(g.members) & pl.col("shop_id").is_in(g.shops))
        ev.dup_text_pairs, compared, ev.members_dup_text = _dup_texts(sub, text_threshold)
        ev.dup_text_expected = compared * base_dup
        ev.dormant_members = len(dormant.intersection(g.members))
        ev.dormant_expected = p_dormant * len(g.members)
        ev.extortion_edges = int(sub.select(is_ext.sum()).item() or 0)
        ev.extortion_expected = p_ext * sub.height
        m = len(g.members)
        ev.bits = {
            "extortion": binom_surprise(ev.extortion_edges, sub.height, p_ext),
            "dup_texts": float(abuse_stats.surprise_poisson(ev.dup_text_pairs, ev.dup_text_expected)),
            "dormant": binom_surprise(ev.dormant_members, m, p_dormant),
            # conservative: the chance a member shares an id with anyone, not with the ring
            "shared_ids": binom_surprise(min(ev.members_sharing, m), m, p_share),
        }
        out.append(ev)
    return out
