"""Members that co-targeting over the whole window cannot show: an account that served only
two of a crew's many clients. It is recruited when the conjunction of three tests, combined
by Fisher's method (``stats.combined``), passes a Benjamini-Hochberg step-up over the
accounts tried at the member level (``step_up``: Bonferroni for a lone account, less for many):

* its hits on the clients *during the crew's bursts there* (each client's burst: the
  members' order times, widened), against the outsiders' positive edges at those shops off
  the bursts, scaled to a burst by its share of the window's clock time or of the platform's
  positive reviews, whichever is larger (a burst before a sale day is a busy time for
  everyone) (Poisson, as in ``crews``);
* shipping a client order to one of the crew's drop addresses (addresses two members use):
  the chance is the share of positive reviewers outside the crew who ship there;
* praise copying the crew's: its best near-duplicate count among the crew's texts against
  the rate of near duplicates between random positive texts (binomial).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from abuse import graphs, stats

from .crews import Crew
from .graph import RowIndex

_DAY = 86400.0


@dataclass(frozen=True)
class EdgeIndex:
    """What every crew's recruitment reads of the whole edge frame and of the client orders,
    indexed once (``graph.RowIndex``): the edges by shop and by account, the review times
    sorted, the (account, address) and (account, device) pairs of the edges' orders by value,
    the orders by shop. A crew then costs its own rows, not another pass over every edge (the
    crews grow with the platform, so a pass per crew over all edges grew with its square)."""

    t: np.ndarray
    at_shop: RowIndex
    of_account: RowIndex
    by_addr: RowIndex
    by_device: RowIndex
    orders_at: RowIndex
    _shingles: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, edges: pl.DataFrame, orders: pl.DataFrame) -> EdgeIndex:
        def pairs(col: str) -> RowIndex:
            return RowIndex(edges.select("account_id", col).explode(col, empty_as_null=False).drop_nulls(col), col)

        # (each index holds the columns its takes read: a take of the wide frame copies
        # every text of its rows)
        return cls(
            np.sort(edges["t"].to_numpy()),
            RowIndex(edges.select("account_id", "shop_id", "d", "addrs", "devices", "texts"), "shop_id"),
            RowIndex(edges.select("account_id", "t"), "account_id"),
            pairs("addrs"),
            pairs("devices"),
            RowIndex(orders, "shop_id"),
        )

    def shingles(self, text: str) -> set[str]:
        """``graphs.shingles`` of a review text, each text shingled once (a text is compared
        with every crew its author could join, in every round)."""
        sh = self._shingles.get(text)
        if sh is None:
            sh = self._shingles[text] = graphs.shingles(text)
        return sh


def bursts(
    edges: pl.DataFrame, crew: Crew, slack_days: float = 1.0, of_account: RowIndex | None = None
) -> pl.DataFrame:
    """(shop_id, lo, hi) per client: the central 80% of the members' review times there, a
    day either side (a member reviewing off-burst does not stretch it). ``of_account``: a
    ``RowIndex`` of ``edges`` (or of its account_id, shop_id and t) by account."""
    mine = (
        of_account.take(crew.members)
        if of_account is not None
        else edges.filter(pl.col("account_id").is_in(list(crew.members)))
    )
    return (
        mine.filter(pl.col("shop_id").is_in(crew.shops))
        .group_by("shop_id")
        .agg(
            lo=pl.col("t").quantile(0.1, "lower") - slack_days * _DAY,
            hi=pl.col("t").quantile(0.9, "higher") + slack_days * _DAY,
        )
    )


def confirm(edges: pl.DataFrame, crews: list[Crew]) -> None:
    """Keep the members that served >= 2 clients during the crew's bursts there; a crew
    serves its clients in bursts, an account reviewing two of them at other times does not."""
    # the members' edges of each crew by account, indexed once (a filter of every edge per
    # crew grew with the crews times the edges)
    of_account = RowIndex(edges.select("account_id", "shop_id", "t"), "account_id")
    for crew in crews:
        b = bursts(edges, crew, of_account=of_account)
        on = (
            of_account.take(crew.members)
            .join(b, on="shop_id")
            .filter(pl.col("t").is_between(pl.col("lo"), pl.col("hi")))
            .group_by("account_id")
            .len()
            .filter(pl.col("len") >= 2)
        )
        keep = set(on["account_id"])
        crew.members = {a: s for a, s in crew.members.items() if a in keep}


def order_bursts(orders: pl.DataFrame, crew: Crew) -> pl.DataFrame:
    """(shop_id, lo, hi, width) per client from the members' *order* times there (the fake
    orders of a burst come before reviews that may trail by days): the central 80%, widened
    by half its own width plus six hours either side."""
    return (
        orders.filter(pl.col("account_id").is_in(list(crew.members)) & pl.col("shop_id").is_in(crew.shops))
        .group_by("shop_id")
        .agg(q10=pl.col("t").quantile(0.1, "lower"), q90=pl.col("t").quantile(0.9, "higher"))
        .with_columns(slack=0.5 * (pl.col("q90") - pl.col("q10")) + 6 * 3600.0)
        .select("shop_id", lo=pl.col("q10") - pl.col("slack"), hi=pl.col("q90") + pl.col("slack"))
        .with_columns(width=pl.col("hi") - pl.col("lo"))
    )


def recruit(
    edges: pl.DataFrame,
    orders: pl.DataFrame,
    crews: list[Crew],
    *,
    min_surprise: float,
    threshold: float,
    min_hits: int = 1,
    base_dup: float,
    window_s: float,
    max_texts: int = 100,
    look: int = 1,
    index: EdgeIndex | None = None,
) -> int:
    """Adds members to ``crews`` in place (``members``, with their combined surprise) and
    returns how many joined.

    ``orders``: the window's orders at the client shops (``brushing_client_orders.sql``).
    ``look``: how many times this family's candidates have now been tested (the crew's items
    and drops grow with each round of recruits, so an account is looked at again); the bar
    rises by ``log10(look)``, Bonferroni over the looks at one account.
    ``index``: ``EdgeIndex.of(edges, orders)``, built once for the calls on these frames."""
    ix = index if index is not None else EdgeIndex.of(edges, orders)
    big_k = float(edges.height)
    n_accounts = max(edges["account_id"].n_unique(), 1)
    taken = {a for c in crews for a in c.members}
    added = 0
    for crew in crews:
        mem = list(crew.members)
        is_mem = pl.col("account_id").is_in(mem)
        o = ix.orders_at.take(crew.shops)
        b = order_bursts(o, crew)
        if b.is_empty():
            continue
        # the crew's items at each client: items two or more members ordered there
        items = (
            o.filter(is_mem)
            .unique(["account_id", "shop_id", "item_id"])
            .group_by("shop_id", "item_id")
            .len()
            .filter(pl.col("len") >= 2)
            .select("shop_id", "item_id", crew_item=pl.lit(True))
        )
        o = (
            o.join(b, on="shop_id")
            .join(items, on=["shop_id", "item_id"], how="left")
            .with_columns(
                in_burst=pl.col("t").is_between(pl.col("lo"), pl.col("hi")),
                crew_item=pl.col("crew_item").fill_null(False),
            )
        )
        out_o = o.filter(~is_mem)
        # base rates from the outsiders *off* the bursts, so that members not yet recognised
        # inside a burst cannot raise their own baseline: the share of their orders on the
        # crew's items, and their positive edges at the shop spread evenly over the window
        share = (
            out_o.filter(~pl.col("in_burst")).group_by("shop_id").agg(n_ord=pl.len(), n_item=pl.col("crew_item").sum())
        )
        touched = o.group_by("account_id", "shop_id").agg(
            hit=pl.col("in_burst").any(), hit_item=(pl.col("in_burst") & pl.col("crew_item")).any()
        )
        at = (
            ix.at_shop.take(crew.shops)
            .join(touched, on=["account_id", "shop_id"], how="left")
            .with_columns(pl.col("hit", "hit_item").fill_null(False))
        )
        off = at.filter(~is_mem & ~pl.col("hit")).group_by("shop_id").agg(n_off=pl.len())
        # the share of the window a burst takes: of its clock time, or of the platform's
        # positive reviews outside the crew if more (a burst before a sale day sees more
        # genuine buyers than its clock time alone would give)
        # (the outsiders' reviews in a burst: all reviews in it less the members', from the
        # window's review times sorted once rather than the outsiders' sorted per crew)
        mem_t = np.sort(ix.of_account.take(mem)["t"].to_numpy())
        lo, hi = b["lo"].to_numpy(), b["hi"].to_numpy()
        inside = (np.searchsorted(ix.t, hi, "right") - np.searchsorted(ix.t, lo, "left")) - (
            np.searchsorted(mem_t, hi, "right") - np.searchsorted(mem_t, lo, "left")
        )
        n_out = len(ix.t) - len(mem_t)
        b = b.with_columns(busy=pl.Series(inside / np.maximum(n_out - inside, 1), dtype=pl.Float64))
        rates = (
            b.join(off, on="shop_id", how="left")
            .join(share, on="shop_id", how="left")
            .with_columns(pl.col("n_off", "n_ord", "n_item").fill_null(0))
            .with_columns(
                exp=(pl.col("n_off") + 1)
                * pl.max_horizontal(
                    pl.col("width") / pl.max_horizontal(window_s - pl.col("width"), pl.col("width")), pl.col("busy")
                )
            )
            .with_columns(exp_item=pl.col("exp") * (pl.col("n_item") + 1) / (pl.col("n_ord") + 2))
        )
        mass, mass_item = float(rates["exp"].sum()), float(rates["exp_item"].sum())
        cand = (
            at.filter(~is_mem & pl.col("hit") & ~pl.col("account_id").is_in(list(taken)))
            .group_by("account_id")
            .agg(
                pl.len().alias("hits"),
                pl.col("hit_item").sum().alias("hits_item"),
                pl.col("shop_id").first().alias("shop"),
                pl.col("d").first(),
                pl.col("addrs").explode(empty_as_null=False).drop_nulls(),
                pl.col("devices").explode(empty_as_null=False).drop_nulls(),
                pl.col("texts").explode(empty_as_null=False).drop_nulls(),
            )
            .filter(pl.col("hits") >= min_hits)
        )
        if cand.is_empty():
            continue
        # drop addresses: used by two or more members at the clients; crew devices: used on a
        # member's client order (group-control phones)
        mine = at.filter(is_mem)
        maddr = mine.select("account_id", "addrs").explode("addrs", empty_as_null=False).drop_nulls().unique()
        drops = set(maddr.group_by("addrs").agg(pl.len()).filter(pl.col("len") >= 2)["addrs"])
        mdev = set(mine.select(pl.col("devices").explode(empty_as_null=False)).drop_nulls()["devices"])
        users = ix.by_addr.take(drops).filter(~is_mem)["account_id"].n_unique()
        dev_users = ix.by_device.take(mdev).filter(~is_mem)["account_id"].n_unique()
        p_drop, p_dev = (users + 1) / n_accounts, (dev_users + 1) / n_accounts
        texts = mine.select(pl.col("texts").explode(empty_as_null=False)).drop_nulls()["texts"].to_list()
        if len(texts) > max_texts:
            texts = [texts[i] for i in np.random.default_rng(0).choice(len(texts), max_texts, replace=False)]
        crew_sh = [ix.shingles(x) for x in texts]
        # a candidate text against the crew's distinct texts, each with its count (templated
        # praise repeats), and each distinct candidate text once per crew
        distinct = [(ix.shingles(x), n) for x, n in Counter(texts).items()]
        copies: dict[str, int] = {}

        def copied(x: str) -> int:
            c = copies.get(x)
            if c is None:
                sh = ix.shingles(x)
                c = copies[x] = sum(n for y, n in distinct if graphs.jaccard(sh, y) >= threshold)
            return c

        d = cand["d"].to_numpy().astype(float)
        hits_s = stats.surprise_poisson(cand["hits"].to_numpy(), d * mass / big_k)
        item_s = np.where(
            cand["hits_item"].to_numpy() > 0,
            stats.surprise_poisson(cand["hits_item"].to_numpy(), d * mass_item / big_k),
            0.0,
        )
        # one hit: the chance of landing in a burst at a client at most as likely as this one
        # (summing over all clients would let a crew's popular clients drown its quiet ones)
        one = cand["hits"].to_numpy() == 1
        if one.any():
            at_shop = dict(zip(rates["shop_id"], rates["exp_item"], strict=True))
            ei = np.sort(rates["exp_item"].to_numpy())
            own = np.array([at_shop[x] for x in cand["shop"]], dtype=float)
            cum_i = np.cumsum(ei)[np.searchsorted(ei, own, side="right") - 1]
            # the timing alone is no evidence for one hit: a client's promotion draws genuine
            # buyers into the crew's burst too; buying the crew's pushed item in it is
            hits_s = np.where(one, 0.0, hits_s)
            item_s = np.where(
                one & (cand["hits_item"].to_numpy() > 0), stats.surprise_of(-np.expm1(-d * cum_i / big_k)), item_s
            )
        # the burst alone, or the burst on the crew's items (two tries)
        base_s = np.maximum(hits_s, item_s) - math.log10(2)
        # its ties to the crew (a shared address or device, copied praise), per candidate; the
        # tails for all candidates at once
        s_addr, s_dev = -math.log10(p_drop), -math.log10(p_dev)
        ties = np.zeros(cand.height)
        best = np.zeros(cand.height)
        for i, (addrs, devices, cand_texts) in enumerate(cand.select("addrs", "devices", "texts").iter_rows()):
            ties[i] = max(s_addr if drops & set(addrs or []) else 0.0, s_dev if mdev & set(devices or []) else 0.0)
            best[i] = max((copied(x) for x in (cand_texts or []) if x), default=0)
        s_text = stats.surprise_binom(best, len(crew_sh), min(max(base_dup, 1e-6), 0.5))
        # alone, or with its ties to the crew
        s_all = np.maximum(base_s, stats.combined(base_s, ties, s_text)) - math.log10(2)
        found = list(zip(cand["account_id"].to_list(), s_all.tolist(), strict=True))
        for a, s in step_up(found, min_surprise + math.log10(look)):
            crew.members[a] = s
            taken.add(a)
            added += 1
    return added


def step_up(tested: list[tuple[str, float]], level: float) -> list[tuple[str, float]]:
    """The accounts kept by the Benjamini-Hochberg step-up (``stats.step_up``) at false
    discovery rate ``10**-level`` over the ``tested`` (account, surprise), most surprising first:
    the ``k`` most surprising, for the largest ``k`` whose ``k``-th surprise reaches
    ``level + log10(m / k)``. With one discovery this is the Bonferroni bar ``level + log10(m)``;
    a crew's many one-task accounts, each just short of that bar alone, are kept when their number
    is itself beyond chance."""
    keep = stats.step_up(np.array([s for _, s in tested], dtype=float), 10.0**-level)
    return sorted((t for t, k in zip(tested, keep) if k), key=lambda x: -x[1])
