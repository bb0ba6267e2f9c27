"""``vote_inflation``: device farms and group-control rigs that cast bought votes, likes,
follows and views, and the targets they inflated.

Per target, how much of its engagement comes from accounts that act together, judged against
the target's own organic audience and the population's base rates (no fixed counts):

1. ``lockstep``: each target's engagement in short buckets against its own surrounding
   minutes (Poisson, corrected over buckets); accounts whose moments fall in those buckets far
   more often than the population's are in lockstep (binomial, corrected over accounts). A
   crowd that builds over minutes (fans of a star, a viral post) is its own baseline.
2. ``crews``: network blocks whose accounts engage the same targets more than independence
   predicts; a candidate becomes a crew only when independent tells add up (a second target
   boosted together, members with nothing else to do, engagement right after a purchase or
   recharge, counts in fixed multiples), so an office voting for a colleague from its NAT IP
   stays a candidate.
3. ``audience``: targets whose engagers mostly do nothing else on the platform, where those
   same accounts boost two of the targets together beyond what independent audiences overlap
   (a farm on residential proxies shares no block).
4. ``coengage``: many targets sharing one audience far beyond activity-adjusted independence
   (MinHash/LSH candidate pairs of targets, Poisson against each account's own activity), with
   the accounts engaging several of them beyond their base rate: crews of aged, browsing
   accounts on their own phones that drip votes over weeks.
5. ``farms``: lockstep accounts joined through the buckets they share and crew members
   through their crew (block or audience); per farm the inflated targets ranked by the farm's share of their
   engagement, a cluster (``target_ids``, per-target rows in ``evidence['targets']``) and a
   finding per member.

6. ``pushes``: accounts whose only engagement of a farm's target fell inside the farm's push
   on it, where the target's own surrounding hours and the rest of the window predict few such
   events (bought real accounts rented for a single job) join that farm.

Every figure is a column aggregate in SQL (``sql/features/engagement_*.sql``) or polars;
networkx sees only the pruned graph of suspicious accounts, buckets and crews.
"""

from __future__ import annotations

from typing import cast

import polars as pl
from pydantic import BaseModel, Field

from abuse.detect.base import DetectContext, DetectorBase, DetectorResult, register
from abuse.detect.engagement import audience as audience
from abuse.detect.engagement import coengage as coengage
from abuse.detect.engagement import crews as crews
from abuse.detect.engagement import farms as farms
from abuse.detect.engagement import lockstep as lockstep
from abuse.detect.engagement import pushes as pushes
from abuse.detect.engagement import reasons as reasons
from abuse.sqlfiles import read_sql, set_variables, use_intermediate


@register
class EngagementDetector(DetectorBase):
    name = "engagement"
    patterns = (reasons.PATTERN,)

    class Params(BaseModel):
        actions: list[str] = Field(
            ["vote", "like", "follow", "view"], description="activity actions that engage a target"
        )
        purchase_actions: list[str] = Field(
            ["recharge", "top_up", "topup", "purchase", "pay", "buy"],
            description="activity actions that buy credit (orders count as purchases too)",
        )
        bucket_s: float = Field(10.0, gt=0, description="'within seconds': length of a lockstep bucket")
        neighbour_s: float = Field(
            120.0,
            gt=0,
            description="a bucket is judged against this many seconds of the target's engagement on each side",
        )
        min_bucket_accounts: int = Field(3, ge=2, description="a lockstep bucket needs at least this many accounts")
        purchase_s: float = Field(
            900.0, gt=0, description="engagement this soon after the account's own purchase is 'after a purchase'"
        )
        alpha: float = Field(
            1e-3,
            gt=0,
            lt=1,
            description="family-wise error rate of every test (Bonferroni); at 1e-2 an "
            "internet cafe (unrelated people viewing popular shops from one IP) passed as a farm",
        )
        min_farm_accounts: int = Field(3, ge=2, description="smallest farm reported")
        member_fdr: float = Field(
            0.05,
            gt=0,
            lt=1,
            description="false-discovery rate of the accounts off a crew's blocks recruited for "
            "working two or more of its targets (bought real accounts; Benjamini-Hochberg over "
            "every engaging account)",
        )

        coengage_min_targets: int = Field(
            3,
            ge=2,
            description="a co-engaged crew (many targets sharing one audience beyond independence, "
            "no shared block needed) needs at least this many targets its members are most of the audience of",
        )
        coengage_fresh_h: float = Field(
            24.0,
            ge=0,
            description="a target whose median engager arrived within this many hours of its first "
            "engagement is fresh content discovered by its followers (a fan club's new post) and joins "
            "no co-engaged crew",
        )

    def run(self, ctx: DetectContext) -> DetectorResult:
        p = cast(EngagementDetector.Params, ctx.params)
        con = ctx.con
        set_variables(
            con,
            window_start=ctx.window_start,
            window_end=ctx.window_end,
            engagement_bucket_s=float(p.bucket_s),
            engagement_neighbour_buckets=max(int(round(p.neighbour_s / p.bucket_s)), 1),
            engagement_purchase_s=float(p.purchase_s),
        )
        con.execute("SET VARIABLE engagement_actions = ?::VARCHAR[]", [[a.lower() for a in p.actions]])
        con.execute(
            "SET VARIABLE engagement_purchase_actions = ?::VARCHAR[]", [[a.lower() for a in p.purchase_actions]]
        )
        use_intermediate(con)
        con.execute("CREATE OR REPLACE TEMP TABLE engagement_events AS " + read_sql("features/engagement_events.sql"))
        try:
            return self._detect(con, p)
        finally:
            for t in ("engagement_events", "engagement_accounts", "engagement_lockstep", "engagement_crew_pairs"):
                con.execute(f"DROP TABLE IF EXISTS {t}")

    def _detect(self, con, p) -> DetectorResult:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE engagement_accounts AS " + read_sql("features/engagement_accounts.sql")
        )
        accounts = con.sql("SELECT * FROM engagement_accounts ORDER BY account_id").pl()
        if accounts.is_empty():
            return DetectorResult()
        sig, bucket_tests, sync_members, sync_accounts = _lockstep(con, p, accounts)
        crew_df, crew_kept, pairs_c = _block_crews(con, p, accounts)
        crew_kept = _with_bought_members(con, crew_df, pairs_c, crew_kept, accounts, p.member_fdr)
        aud_crews, aud_members, aud_targets = audience.audience_crews(con, accounts, p.alpha, p.member_fdr)
        co_crews, co_members, co_targets = coengage.coengaged_crews(
            con, accounts, p.alpha, p.member_fdr, p.coengage_min_targets, p.coengage_fresh_h
        )
        crew_kept = pl.concat([crew_kept, aud_members, co_members], how="diagonal_relaxed")
        aud_crews, aud_targets = aud_crews + co_crews, pl.concat([aud_targets, co_targets])
        found = farms.build_farms(sync_members, sync_accounts, crew_kept, p.min_farm_accounts)
        passed = crew_df.filter(pl.col("is_crew")).to_dicts() if "is_crew" in crew_df.columns else []
        crew_targets = pl.concat(
            [
                pairs_c.select("crew", "target_id", "action") if "crew" in pairs_c.columns else aud_targets.clear(),
                aud_targets,
            ]
        )
        fm, ft = farms.farm_frames(found, crew_targets)
        found, recruits = pushes.recruit(con, found, fm, ft, p.alpha, p.member_fdr)
        crew_kept = pl.concat([crew_kept, recruits], how="diagonal_relaxed")
        clusters, findings = farms.report(
            con,
            found,
            sig,
            sync_members,
            sync_accounts,
            passed + aud_crews,
            crew_targets,
            crew_kept,
            accounts,
            p.bucket_s,
            bucket_tests,
        )
        return DetectorResult(findings=findings, clusters=clusters)


def _keep(con, name: str, frame: pl.DataFrame) -> None:
    """`frame` as the temporary table `name` the next feature SQL reads."""
    con.register("_frame", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _frame")
    con.unregister("_frame")


def _lockstep(con, p, accounts: pl.DataFrame) -> tuple[pl.DataFrame, int, pl.DataFrame, pl.DataFrame]:
    """(significant buckets, buckets tested, their members, lockstep accounts whose
    component also looks like a rig: sync_ok)."""
    sig, bucket_tests = lockstep.significant_buckets(con, p.bucket_s, p.neighbour_s, p.alpha, p.min_bucket_accounts)
    _keep(con, "engagement_lockstep", sig.select("target_id", "action", "bucket"))
    sync_members = con.sql(read_sql("features/engagement_sync_members.sql")).pl()
    sync_accounts = lockstep.lockstep_accounts(sync_members, accounts, p.alpha)
    blocks = con.sql(read_sql("features/engagement_blocks.sql")).pl()
    rigs, _ = lockstep.judge_components(sync_members, sync_accounts, accounts, blocks, p.alpha)
    if not sync_accounts.is_empty():  # lockstep alone is what a live audience does too
        sync_accounts = sync_accounts.with_columns(pl.col("sync_ok") & pl.col("account_id").is_in(list(rigs)))
    return sig, bucket_tests, sync_members, sync_accounts


def _block_crews(con, p, accounts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(crews of network blocks co-boosting targets with their verdict, the members of those
    that pass, the co-boosted pairs with their crew)."""
    pairs_sig = crews.coboosted_pairs(con, p.alpha, len(accounts))
    cand = (
        crews.crew_candidates(pairs_sig)
        if not pairs_sig.is_empty()
        else pl.DataFrame(schema={"crew": pl.Int64, "block": pl.Utf8, "target_id": pl.Utf8, "action": pl.Utf8})
    )
    _keep(con, "engagement_crew_pairs", cand)
    crew_members_all = con.sql(read_sql("features/engagement_crew_members.sql")).pl()
    pairs_c = pairs_sig.join(cand, on=["block", "target_id", "action"]) if not cand.is_empty() else pairs_sig
    if crew_members_all.is_empty():
        return (
            pl.DataFrame(schema={"crew": pl.Int64}),
            pl.DataFrame(schema={"crew": pl.Int64, "account_id": pl.Utf8}),
            pairs_c,
        )
    crew_df, crew_kept = crews.judge_crews(crew_members_all, pairs_c, accounts, p.alpha)
    return crew_df, crew_kept, pairs_c


def _with_bought_members(
    con, crew_df: pl.DataFrame, pairs_c: pl.DataFrame, crew_kept: pl.DataFrame, accounts: pl.DataFrame, fdr: float
) -> pl.DataFrame:
    """The block crews that passed gain the accounts off their blocks that worked two or more of
    their targets beyond chance (bought real accounts, ``audience.bought_members``)."""
    if "is_crew" not in crew_df.columns or "crew" not in pairs_c.columns:
        return crew_kept
    passed = crew_df.filter(pl.col("is_crew"))["crew"]
    targets = pairs_c.filter(pl.col("crew").is_in(passed.implode())).select("crew", "target_id", "action").unique()
    if targets.is_empty():
        return crew_kept
    extra = audience.bought_members(con, targets, accounts, fdr)
    if extra.is_empty():
        return crew_kept
    return pl.concat([crew_kept, extra], how="diagonal_relaxed").unique(
        ["crew", "account_id"], keep="first", maintain_order=True
    )
