"""Co-engaged crews: many targets sharing one audience beyond what independent engagement
explains, whoever the accounts are (aged, browsing, on their own phones and networks, dripping
their votes over weeks: no shared block, no lockstep, nothing idle about them).

1. Candidate pairs of targets come from MinHash/LSH over each target's set of engaging accounts
   (linear in the engagement; never all pairs), each with its shared engagers counted. Only
   targets with ``min_accounts`` engagers or more take part (a crew is never smaller; the
   handful-of-engagers long tail would only multiply the pairs tried), and a band bucket that
   holds more than ``max_bucket`` targets proposes none (near-identical tiny audiences).
2. Each pair is tested against activity-adjusted independence: an account that engaged ``d``
   distinct targets reaches target ``t`` with ``1 - (1 - w_t)^d``, ``w_t`` the target's share of
   all (account, target) engagements, so the expected shared engagers of two targets is the sum
   over accounts of the product of their chances (heavy users of popular targets explain their
   own overlap). Poisson surprise, corrected over every pair LSH could have proposed.
3. A crew of targets is a connected component of significant pairs with at least
   ``min_targets`` targets whose audience came slowly: a target whose median engager arrived
   within ``fresh_h`` hours of its first engagement is fresh content its followers discovered
   (a fan club liking a creator's new posts, a class voting for its entry) and does not join a
   crew. One target's mobilisation is never a crew; many targets sharing one audience is.
4. Members are the accounts engaging two or more of a crew's targets beyond their own base
   rate: the hits independence predicts are the sum of the account's chances of reaching each
   of the crew's targets (as in 2), Poisson (heavier-tailed than the exact sum of Bernoullis:
   conservative), Benjamini-Hochberg over every engaging account. Before that a crew keeps
   only the targets whose audience is mostly accounts on two or more of its targets (popular
   targets co-engaged by heavy users drop out), and still needs ``min_targets`` of them.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import polars as pl

from abuse import engine, stats
from abuse.sqlfiles import read_sql, set_variables

CREW_OFFSET = 2_000_000  # crew ids apart from the block crews' and the audience crews'


# DuckDB memory the bands and pairs queries take per engagement row in one pass (distinct
# engagements, MinHash aggregates, the pair join's hash tables; measured: about 1.25 GB at
# scale 10's 2M activity rows): the input is split into as many hash-partitioned passes as
# keep one pass within half of DuckDB's memory limit
COENGAGE_BYTES_PER_EVENT = 600


def coengage_parts(con, events: int) -> int:
    """How many hash-partitioned passes the bands and pairs queries take over ``events``
    engagement rows under the memory limit in force on ``con`` (1: the input is small)."""
    budget = engine.duckdb_limit_bytes(con) / 2
    return max(1, math.ceil(events * COENGAGE_BYTES_PER_EVENT / max(budget, 1.0)))


def coengaged_pairs(
    con,
    hashes: int = 32,
    rows: int = 2,
    max_bucket: int = 50,
    min_accounts: int = 5,
    parts: int | None = None,
) -> tuple[pl.DataFrame, int, pl.DataFrame, pl.DataFrame]:
    """(candidate pairs t1, a1, t2, a2, shared, n1, n2, expected, surprise; how many targets
    could pair; each account's distinct targets per action; each target's audience). The bands
    and pairs queries run in ``parts`` hash-partitioned passes (default ``coengage_parts``);
    the result does not depend on it."""
    set_variables(
        con,
        coengage_hashes=int(hashes),
        coengage_rows=int(rows),
        coengage_max_bucket=int(max_bucket),
        coengage_min_accounts=int(min_accounts),
    )
    if parts is None:
        parts = coengage_parts(con, int(con.sql("SELECT count(*) FROM engagement_events").fetchone()[0]))
    set_variables(con, coengage_parts=int(parts), coengage_part=0)
    targets_sql = read_sql("features/engagement_coengage_targets.sql")
    pairs_sql = read_sql("features/engagement_coengage_pairs.sql")
    con.execute("CREATE OR REPLACE TEMP TABLE engagement_coengage_bands AS " + targets_sql)
    try:
        for part in range(1, parts):
            set_variables(con, coengage_part=part)
            con.execute("INSERT INTO engagement_coengage_bands " + targets_sql)
        n_targets = int(
            con.sql(
                "SELECT count(*) FROM (SELECT DISTINCT target_id, action FROM engagement_coengage_bands)"
            ).fetchone()[0]
        )
        if parts == 1:
            pairs = con.sql(pairs_sql).pl()
        else:
            chunks = []
            for part in range(parts):
                set_variables(con, coengage_part=part)
                chunks.append(con.sql(pairs_sql).pl())
            pairs = pl.concat(chunks)
    finally:
        con.execute("DROP TABLE IF EXISTS engagement_coengage_bands")
    aud = con.sql(read_sql("features/engagement_coengage_audience.sql")).pl()
    act = con.sql(read_sql("features/engagement_coengage_activity.sql")).pl()
    empty = pairs.with_columns(
        pl.lit(0, pl.Int64).alias("n1"),
        pl.lit(0, pl.Int64).alias("n2"),
        pl.lit(0.0).alias("expected"),
        pl.lit(0.0).alias("surprise"),
    ).clear()
    if pairs.is_empty() or act.is_empty():
        return empty, n_targets, act, aud
    n = aud.select(pl.col("target_id"), pl.col("action"), pl.col("accounts"))
    pairs = pairs.join(n.rename({"target_id": "t1", "action": "a1", "accounts": "n1"}), on=["t1", "a1"]).join(
        n.rename({"target_id": "t2", "action": "a2", "accounts": "n2"}), on=["t2", "a2"]
    )
    mu = _expected_shared(pairs, act)
    s = stats.surprise_poisson(pairs["shared"].to_numpy(), mu)
    return pairs.with_columns(pl.Series("expected", mu), pl.Series("surprise", s)), n_targets, act, aud


def calibrated_chances(n: np.ndarray, d: np.ndarray, c: np.ndarray, rounds: int = 30) -> np.ndarray:
    """Per target of one action with ``n`` engaging accounts, the per-engagement chance ``w``
    whose expected engagers under independence, ``sum_g c_g (1 - (1 - w)^d_g)`` over the groups
    of ``c_g`` accounts with ``d_g`` distinct targets of the action, is ``n`` (fixed point from
    ``n / sum d c``: the popular targets a heavy user cannot engage twice need more)."""
    n = np.asarray(n, float)
    w = np.clip(n / max(float((d * c).sum()), 1.0), 1e-12, 1 - 1e-9)
    for _ in range(rounds):
        got = ((1.0 - np.power(1.0 - w[:, None], d[None, :])) * c[None, :]).sum(axis=1)
        w = np.clip(w * n / np.maximum(got, 1e-12), 1e-12, 1 - 1e-9)
    return w


def _expected_shared(pairs: pl.DataFrame, act: pl.DataFrame) -> np.ndarray:
    """Per pair, the shared engagers independence predicts: an account that engaged ``d``
    distinct targets with an action reaches a target of that action with ``1 - (1 - w)^d``,
    ``w`` the target's share of that action's (account, target) engagements; summed over
    accounts (grouped by their activity in the pair's two actions) of the product of both.

    A target's ``w`` depends only on its action and its audience size ``n``, so the sum is taken
    once per distinct (a1, n1, a2, n2) and joined back to the pairs: far fewer rows than pairs,
    each a vector over the few activity groups (in slices, bounded in memory)."""
    if pairs.is_empty():
        return np.zeros(0)
    w = _chances(
        act,
        pairs.select(pl.col("a1").alias("action"), pl.col("n1").alias("n")).vstack(
            pairs.select(pl.col("a2").alias("action"), pl.col("n2").alias("n"))
        ),
    )
    keys = ["a1", "n1", "a2", "n2"]
    combos = (
        pairs.select(keys)
        .unique()
        .join(w.rename({"action": "a1", "n": "n1", "w": "w1"}), on=["a1", "n1"])
        .join(w.rename({"action": "a2", "n": "n2", "w": "w2"}), on=["a2", "n2"])
        .sort(keys)
    )
    wide = act.pivot(on="action", index="account_id", values="d").fill_null(0)
    parts = []
    for (a1, a2), part in combos.partition_by("a1", "a2", as_dict=True, maintain_order=True).items():
        g = (
            wide.group_by(pl.col(str(a1)).alias("_d1"), pl.col(str(a2)).alias("_d2"))
            .len()
            .filter((pl.col("_d1") > 0) & (pl.col("_d2") > 0))
            .sort("_d1", "_d2")
        )
        d1, d2, c = (g[x].to_numpy().astype(float) for x in ("_d1", "_d2", "len"))
        w1, w2 = part["w1"].to_numpy(), part["w2"].to_numpy()
        out = np.zeros(len(part))
        step = max(1, 2_000_000 // max(len(c), 1))
        for i in range(0, len(part), step):  # distinct (n1, n2) x activity groups, in slices
            p1 = 1.0 - np.power(1.0 - w1[i : i + step, None], d1[None, :])
            p2 = 1.0 - np.power(1.0 - w2[i : i + step, None], d2[None, :])
            out[i : i + step] = (p1 * p2 * c[None, :]).sum(axis=1)
        parts.append(part.select(keys).with_columns(pl.Series("_mu", out)))
    mu = pairs.select(keys).join(pl.concat(parts), on=keys, how="left", maintain_order="left")
    return mu["_mu"].fill_null(0.0).to_numpy()


def _chances(act: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """[action, n, w]: the calibrated chance ``w`` of a target of ``action`` with ``n`` engaging
    accounts, for each distinct (action, n) of ``targets`` (a target's chance depends on nothing
    else)."""
    t = targets.select(pl.col("action").cast(pl.Utf8), pl.col("n").cast(pl.Int64)).unique().sort("action", "n")
    out = []
    for (a,), part in t.partition_by("action", as_dict=True, maintain_order=True).items():
        g = act.filter(pl.col("action") == a).group_by("d").len().sort("d")
        w = calibrated_chances(part["n"].to_numpy(), g["d"].to_numpy().astype(float), g["len"].to_numpy().astype(float))
        out.append(part.with_columns(pl.Series("w", w, pl.Float64)))
    return pl.concat(out) if out else pl.DataFrame(schema={"action": pl.Utf8, "n": pl.Int64, "w": pl.Float64})


def coengaged_crews(
    con,
    accounts: pl.DataFrame,
    alpha: float,
    fdr: float,
    min_targets: int = 3,
    fresh_h: float = 24.0,
) -> tuple[list[dict], pl.DataFrame, pl.DataFrame]:
    """(crew evidence dicts, members [crew, account_id, member_surprise], crew targets
    [crew, target_id, action])."""
    empty_m = pl.DataFrame(schema={"crew": pl.Int64, "account_id": pl.Utf8, "member_surprise": pl.Float64})
    empty_t = pl.DataFrame(schema={"crew": pl.Int64, "target_id": pl.Utf8, "action": pl.Utf8})
    pairs, n_targets, act, aud = coengaged_pairs(con)
    if pairs.is_empty():
        return [], empty_m, empty_t
    tries = max(n_targets * (n_targets - 1) / 2.0, 1.0)
    level = stats.required_surprise(alpha)
    pairs = pairs.with_columns(pl.Series("corrected", stats.corrected(pairs["surprise"].to_numpy(), tries)))
    sig = pairs.filter(pl.col("corrected") >= level)
    if sig.is_empty():
        return [], empty_m, empty_t
    fresh = {(t, a) for t, a in aud.filter(pl.col("median_arrival_h") < fresh_h).select("target_id", "action").rows()}
    g = nx.Graph()
    for t1, a1, t2, a2, corr in sig.select("t1", "a1", "t2", "a2", "corrected").rows():
        if (t1, a1) in fresh or (t2, a2) in fresh:
            continue
        g.add_edge((t1, a1), (t2, a2), s=corr)
    comps = sorted((c for c in nx.connected_components(g) if len(c) >= min_targets), key=lambda c: min(c))
    if not comps:
        return [], empty_m, empty_t
    info, trows = [], []
    for i, comp in enumerate(comps):
        crew = CREW_OFFSET + i
        sub = g.subgraph(comp)
        # the strongest pair, named in a fixed order (a set's edge order follows the hash seed)
        edges = sorted((*sorted((u, v)), d["s"]) for u, v, d in sub.edges(data=True))
        best = max(edges, key=lambda e: e[2])
        info.append(
            {
                "crew": crew,
                "kind": "co-engaged",
                "targets": len(comp),
                "significant_pairs": sub.number_of_edges(),
                "pairs_tried": len(pairs),
                "pair": [f"{t[0]} ({t[1]})" for t in (best[0], best[1])],
                "corrected": float(best[2]),
                "is_crew": True,
            }
        )
        trows += [(crew, t, a) for t, a in sorted(comp)]
    targets = pl.DataFrame(trows, schema=empty_t.schema, orient="row")
    # a crew's own targets are those whose audience is mostly its tested members (accounts on
    # two or more of its targets beyond what their own activity predicts): popular targets
    # that heavy users share are co-engaged too, and a heavy user touches two of them by
    # chance, so an untested count of such accounts would be "most" of any popular audience;
    # then again on the targets that remain, and the members are tested on those
    for _ in range(3):
        if targets.is_empty():
            break
        shares = _member_shares(con, targets, _members(con, targets, act, aud, len(accounts), fdr))
        targets = shares.filter(pl.col("from_members") * 2 > pl.col("accounts")).select("crew", "target_id", "action")
        n_t = targets.group_by("crew").len()
        targets = targets.filter(pl.col("crew").is_in(n_t.filter(pl.col("len") >= min_targets)["crew"].implode()))
    members = _members(con, targets, act, aud, len(accounts), fdr) if not targets.is_empty() else empty_m
    if members.is_empty():
        return [], empty_m, empty_t
    shares = _member_shares(con, targets, members)
    sizes = dict(members.group_by("crew").len().rows())
    crews = []
    for c in info:
        if sizes.get(c["crew"], 0) >= 2:
            sh = shares.filter(pl.col("crew") == c["crew"])
            c["accounts"] = int(sizes[c["crew"]])
            c["targets"] = len(sh)
            c["member_share_of_audience"] = round(
                float(sh["from_members"].sum()) / max(float(sh["accounts"].sum()), 1.0), 3
            )
            crews.append(c)
    keep = pl.Series([c["crew"] for c in crews], dtype=pl.Int64).implode()
    return crews, members.filter(pl.col("crew").is_in(keep)), targets.filter(pl.col("crew").is_in(keep))


def _member_shares(con, targets: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Per crew and target: its engaging accounts and how many are the crew's members."""
    con.register("_t", targets.to_arrow())
    con.register("_m", members.select("crew", "account_id").to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE engagement_audience_targets AS SELECT * FROM _t")
    con.execute("CREATE OR REPLACE TEMP TABLE engagement_coengage_members AS SELECT * FROM _m")
    con.unregister("_t")
    con.unregister("_m")
    try:
        return con.sql(read_sql("features/engagement_coengage_shares.sql")).pl()
    finally:
        con.execute("DROP TABLE IF EXISTS engagement_audience_targets")
        con.execute("DROP TABLE IF EXISTS engagement_coengage_members")


def _touched(con, targets: pl.DataFrame) -> pl.DataFrame:
    """Per crew, the accounts that engaged two or more of its targets: crew, account_id,
    crew_targets."""
    con.register("_at", targets.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE engagement_audience_targets AS SELECT * FROM _at")
    con.unregister("_at")
    try:
        touched = con.sql(read_sql("features/engagement_audience_members.sql")).pl()
    finally:
        con.execute("DROP TABLE IF EXISTS engagement_audience_targets")
    return touched.filter(pl.col("crew_targets") >= 2).select("crew", "account_id", "crew_targets")


def _members(
    con, targets: pl.DataFrame, act: pl.DataFrame, aud: pl.DataFrame, n_accounts: int, fdr: float
) -> pl.DataFrame:
    """Accounts engaging two or more of a crew's targets beyond their own activity predicts:
    [crew, account_id, member_surprise]."""
    empty = pl.DataFrame(schema={"crew": pl.Int64, "account_id": pl.Utf8, "member_surprise": pl.Float64})
    if targets.is_empty():
        return empty
    touched = _touched(con, targets)
    if touched.is_empty():
        return empty
    tn = targets.join(aud.select("target_id", "action", "accounts"), on=["target_id", "action"])
    w = _chances(act, tn.select("action", pl.col("accounts").alias("n")))
    tw = tn.join(w, left_on=["action", "accounts"], right_on=["action", "n"]).select("crew", "action", "w")
    lam = (
        touched.select("crew", "account_id")
        .join(tw, on="crew")
        .join(act, on=["account_id", "action"], how="left")
        .with_columns((1.0 - (1.0 - pl.col("w")).pow(pl.col("d").fill_null(0))).alias("pi"))
        .group_by("crew", "account_id")
        .agg(pl.col("pi").sum().alias("expected"))
    )
    touched = touched.join(lam, on=["crew", "account_id"]).sort("crew", "account_id")
    s = stats.surprise_poisson(touched["crew_targets"].to_numpy(), touched["expected"].to_numpy())
    touched = touched.with_columns(pl.Series("member_surprise", s))
    kept = []
    for (_crew,), part in touched.partition_by("crew", as_dict=True, maintain_order=True).items():
        mask = stats.step_up(part["member_surprise"].to_numpy(), fdr, tests=n_accounts)
        kept.append(part.filter(pl.Series(mask)).select("crew", "account_id", "member_surprise"))
    return pl.concat(kept) if kept else empty
