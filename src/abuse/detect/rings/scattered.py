"""Scattered extortion: crews whose members hit one or two shops each, out of a pool of
hundreds of small shops, so no two members share victims often enough for ``graph`` or
``covictims`` to see them. A member is only visible through what its acts say against base
rates, and the crew through the traits its members share beyond chance.

1. **Acts.** Among the hostile accounts not in a ring already (a shop's regular customers
   left out, as everywhere), an account *extorts* when one of its hostile edges asks for
   compensation (the ``kind`` field or words) or withdraws or raises the review; ``q`` is
   the share of hostile accounts that extort (the crew included, which only makes the tests
   below harder to pass). Each act also has a base rate of its own (``ACTS``: the ``kind``
   field, words in any of the script's languages, words in the public review text, the
   review withdrawn or raised): where ordinary buyers often ask a shop for a goodwill
   compensation, asking is no rare act and only a threat or a withdrawal sets a crew apart.
2. **Shared traits as hypotheses.** Every trait two accounts can share is a key: the
   normalised text of a low review (lower case, digits, spaces, punctuation and symbols
   removed, so a script in any language matches whatever amount it names), a device, an IP,
   a network block, a shipping address, an inviter (``int_account_identifiers``). A shop is
   no key: a bad seller's unhappy buyers share it and ask for compensation more often than
   most, and a scattered crew rarely meets at one; shops enter as the victims' base rate.
   A key shared by ``n`` hostile accounts of which ``k`` extort links its extorting accounts
   when ``k`` is improbable at rate ``q`` (``-log10 P(Binomial(n, q) >= k) >= link_bits``;
   the strongest of that test and one per act at the act's rate, less ``log10`` of the tests):
   a template that honest buyers use as often as crews is no link, one used only by
   extorting accounts is. Keys are grouped in DuckDB/polars, never paired.
3. **Crews.** Connected components of extorting accounts through such keys. A component is
   tested against its neighbourhood: every hostile account that shares one of its keys or
   complained at one of its members' shops (the victims' own base rate: a busy shop with
   many unhappy buyers dilutes it, a small quiet shop does not). ``k`` members of ``N``
   neighbours at rate ``q`` (or the members doing any act of a combination of acts, at that
   combination's rate: a crew splits its money over several acts); the strongest
   ``-log10 p`` less ``log10`` of the combinations tried and of the components tested
   (Bonferroni) must reach ``min_bits``. As for every ring, the
   ``leave_out`` shops most members extorted at are left out first (with the accounts hostile
   nowhere else): a bad seller's unhappy buyers share its shop and a complaint template.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import duckdb
import networkx as nx
import numpy as np
import polars as pl

from abuse import stats
from abuse.frames import integer, number
from abuse.sqlfiles import use_intermediate

ID_KINDS = ("device", "ip", "ip_block", "address", "inviter")
LINK_LEVELS = (1, 2, 4)  # the link bar's multiples components are formed at


@dataclass
class Scattered:
    members: list[str]
    shops: list[str]
    bits: float
    figures: dict = field(default_factory=dict)


def _extorting() -> pl.Expr:
    return (pl.col("n_comp") + pl.col("n_comp_words") + pl.col("n_reversed")) > 0


# the extorting acts, each with a base rate of its own: where honest buyers often ask for a
# shop's goodwill compensation, asking is common and only withdrawing the review once paid
# (or raising it) sets a crew apart, and the other way round
ACTS = {
    "comp_kind": "n_comp",
    "comp_words": "n_comp_words",
    "threat_text": "n_comp_words_text",
    "reversed": "n_reversed",
}


def act_surprise(members: pl.DataFrame, n: int, rates: dict[str, float]) -> tuple[float, str]:
    """The strongest of the tests 'the members' count doing act ``t`` among ``n`` hostile
    neighbours, at the act's base rate', one per act and one for any extorting act, less
    ``log10`` of the tests made; and the act that gave it. ``members``: one row per member,
    a boolean column per key of ``rates``."""
    best, which = 0.0, "any"
    for act, q in rates.items():
        k = int(members[act].sum())
        s = float(stats.surprise_binom(k, n, q))
        if s > best:
            best, which = s, act
    return best - math.log10(len(rates)), which


def text_keys(pool: pl.DataFrame, min_chars: int) -> pl.DataFrame:
    """(account_id, key) for each low-review text, normalised so that a script matches in
    any language and whatever amount or punctuation it carries."""
    return (
        pool.select("account_id", "texts")
        .explode("texts", empty_as_null=True)
        .filter(pl.col("texts").is_not_null())
        .select(
            "account_id",
            key=pl.col("texts").str.to_lowercase().str.replace_all(r"[\d\s\p{P}\p{S}]+", ""),
        )
        .filter(pl.col("key").str.len_chars() >= min_chars)
        .select("account_id", key=pl.lit("text:") + pl.col("key"))
    )


def id_keys(con: duckdb.DuckDBPyConnection, accounts: pl.DataFrame) -> pl.DataFrame:
    """(account_id, key) for the devices, IPs, network blocks, addresses and inviters of
    ``accounts`` (registration, orders, activity)."""
    cur = con.cursor()
    try:
        use_intermediate(cur)
        cur.register("rings_scatter_accounts", accounts.select("account_id").to_arrow())
        kinds = ", ".join(f"'{k}'" for k in ID_KINDS)
        return cur.sql(
            "SELECT DISTINCT i.account_id, i.kind || ':' || i.value AS key "
            "FROM int_account_identifiers i JOIN rings_scatter_accounts USING (account_id) "
            f"WHERE i.kind IN ({kinds}) AND i.value IS NOT NULL AND i.value <> ''"
        ).pl()
    finally:
        cur.close()


def settled_by_shop(pool: pl.DataFrame, alpha: float = 0.01) -> set[str]:
    """Accounts whose one extorting edge is at a shop that settles as a matter of course: a
    generous seller (or one with a real quality problem) pays its unhappy buyers and they
    revise their reviews, each of them once, there and nowhere else. A shop's one-off
    extorting edges (of accounts that extort nowhere else), the account's own left out, are
    tested against the platform's rate of one-off extorting edges per hostile edge (binomial,
    Bonferroni over the shops at level ``alpha``); where that is far beyond chance, the shop's
    own habit explains the account's act, and its hostility belongs to neither the crews nor
    the base rates a crew is measured against. A crew's members extort on several shops, or
    meet too few at one small shop to make it a habit."""
    if pool.is_empty():
        return set()
    n_x = pool.group_by("account_id").agg(n_x=pl.col("x").sum())
    e = pool.join(n_x, on="account_id").with_columns(one=pl.col("x") & (pl.col("n_x") == 1))
    r1 = number(e["one"].mean())
    if r1 <= 0:
        return set()
    shops = e.group_by("shop_id").agg(h=pl.len(), o=pl.col("one").sum())
    # leave-one-out: the account's own edge is not its shop's habit
    habit = shops.filter(
        pl.Series(stats.beyond_rate_leave_one_out(shops["o"].to_numpy(), shops["h"].to_numpy(), r1, alpha))
    )
    return set(e.filter(pl.col("one")).join(habit.select("shop_id"), on="shop_id", how="semi")["account_id"])


def find_scattered(
    con: duckdb.DuckDBPyConnection,
    edges: pl.DataFrame,
    taken: set[str],
    *,
    customer_orders: int,
    link_bits: float,
    min_bits: float,
    min_members: int,
    leave_out: int = 2,
    min_text_chars: int = 6,
) -> list[Scattered]:
    """Scattered crews (see the module docstring), strongest first."""
    pool = edges.filter(
        (pl.col("n_orders_all") < customer_orders) & ~pl.col("account_id").is_in(sorted(taken))
    ).with_columns(x=_extorting())
    pool = pool.filter(~pl.col("account_id").is_in(sorted(settled_by_shop(pool))))
    if pool.is_empty():
        return []
    acc = pool.group_by("account_id").agg(
        pl.col("x").any().alias("y"), *[(pl.col(c) > 0).any().alias(a) for a, c in ACTS.items()]
    )
    n_ext = integer(acc["y"].sum())
    if n_ext < min_members:
        return []
    q = number(acc["y"].mean())
    rates = {"any": q, **{a: number(acc[a].mean()) for a in ACTS}}
    # a crew's members split their money over several acts: every combination of acts is a
    # test of its own for a component (the union of all of them is ``any``)
    combos = [c for r in range(1, len(ACTS)) for c in itertools.combinations(ACTS, r)]
    acc = acc.with_columns([pl.any_horizontal(list(c)).alias("+".join(c)) for c in combos if len(c) > 1])
    comp_rates = {"any": q, **{"+".join(c): number(acc["+".join(c)].mean()) for c in combos}}
    keys = pl.concat([text_keys(pool, min_text_chars), id_keys(con, acc)]).unique().join(acc, on="account_id")
    kg = keys.group_by("key").agg(*[pl.col(a).sum() for a in ACTS], n=pl.len(), k=pl.col("y").sum())
    # a key links when its sharers do one extorting act (or any) beyond that act's base rate
    n_keys = kg["n"].to_numpy()
    s_acts = np.max(
        [stats.surprise_binom(kg["k" if a == "any" else a].to_numpy(), n_keys, r) for a, r in rates.items()], axis=0
    ) - math.log10(len(rates))
    kg = kg.with_columns(s=pl.Series(s_acts))
    links = kg.filter((pl.col("k") >= 2) & (pl.col("s") >= link_bits))
    if links.is_empty():
        return []
    linked = keys.filter(pl.col("y")).join(links.select("key", "s"), on="key")
    # one generic complaint text shared by a crew and many honest buyers can chain them into
    # one component that no test passes: such a component is formed again through its
    # stronger keys only (each level twice the last), and its pieces are tested in turn;
    # every component tested is paid for (Bonferroni over all of them, at the end)

    def components(sub: pl.DataFrame) -> list[set]:
        g = nx.Graph()
        g.add_edges_from(("a:" + a, "k:" + k) for a, k in sub.select("account_id", "key").iter_rows())
        return [c for c in nx.connected_components(g) if sum(n.startswith("a:") for n in c) >= min_members]

    def test(comp: set) -> tuple[float, str, list[str], list[str], list[str], int] | None:
        members = sorted(n[2:] for n in comp if n.startswith("a:"))
        comp_keys = sorted(n[2:] for n in comp if n.startswith("k:"))
        # the bad-seller guard: the ``leave_out`` shops most members extorted at are left
        # out, and with them the accounts hostile nowhere else (a bad seller's unhappy buyers
        # share its shop and a complaint template, not a scattered crew)
        ext = pool.filter(pl.col("account_id").is_in(members) & pl.col("x"))
        top = (
            ext.group_by("shop_id")
            .agg(pl.len().alias("m"))
            .sort(["m", "shop_id"], descending=[True, False])
            .head(leave_out)
        )
        out_shops = set(top["shop_id"])
        elsewhere = set(pool.filter(~pl.col("shop_id").is_in(sorted(out_shops)))["account_id"])
        members = sorted(set(ext.filter(~pl.col("shop_id").is_in(sorted(out_shops)))["account_id"]))
        if len(members) < min_members:
            return None
        mine = pool.filter(pl.col("account_id").is_in(members))
        shops = sorted(mine["shop_id"].unique())
        hood = (
            set(keys.filter(pl.col("key").is_in(comp_keys))["account_id"])
            | set(pool.filter(pl.col("shop_id").is_in(shops))["account_id"])
        ) & elsewhere
        act_bits, act = act_surprise(
            acc.filter(pl.col("account_id").is_in(members)).rename({"y": "any"}), len(hood), comp_rates
        )
        return act_bits, act, members, shops, comp_keys, len(hood)

    todo = [(c, 0) for c in components(linked)]
    n_tested = len(todo)
    tested = []
    while todo:
        comp, level = todo.pop(0)
        t = test(comp)
        if t is not None:
            tested.append(t)
        if (t is None or t[0] - math.log10(n_tested) < min_bits) and level + 1 < len(LINK_LEVELS):
            keys_in = [n[2:] for n in comp if n.startswith("k:")]
            bar = link_bits * LINK_LEVELS[level + 1]
            pieces = components(linked.filter(pl.col("key").is_in(keys_in) & (pl.col("s") >= bar)))
            n_tested += len(pieces)
            todo.extend((c, level + 1) for c in pieces)
    out = []
    for act_bits, act, members, shops, comp_keys, n in tested:
        bits = act_bits - math.log10(n_tested)  # Bonferroni over the components tested
        if bits < min_bits:
            continue
        kinds: dict[str, int] = {}
        for key in comp_keys:
            kind = key.split(":", 1)[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        out.append(
            Scattered(
                members=members,
                shops=shops,
                bits=bits,
                figures={
                    "scatter_members": len(members),
                    "scatter_neighbours": n,
                    "extorting_rate": round(q, 4),
                    "act_rates": {a: round(r, 4) for a, r in rates.items()},
                    "components_tested": n_tested,
                    "strongest_act": act,
                    "extorting_accounts": n_ext,
                    "link_keys": kinds,
                    "scatter_bits": round(bits, 2),
                },
            )
        )
    # the strongest of overlapping components (one crew seen at several link levels) stays
    kept: list[Scattered] = []
    for sc in sorted(out, key=lambda s: (-s.bits, s.members[0])):
        if not any(set(sc.members) & set(k.members) for k in kept):
            kept.append(sc)
    return kept
