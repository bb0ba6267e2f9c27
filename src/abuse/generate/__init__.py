"""Seeded sample logs with planted abuse, benign look-alikes and the truth to score against.

`generate(out, seed, scale)` writes `out/landing/<kind>/...` in the shape of the input contract
(mixed file formats and timestamp spellings, one re-delivery of corrected rows) and `out/truth/`.
It shares no code with the detectors. About 60 days of logs end on `as_of` (2026-06-20, so the
6.18 sale is inside); planted abuse happens in the last 30 days, the first 30 are history.

Scenarios (every parameter drawn per seed from a wide range, logged in truth/meta.json):
- background: heavy-tailed shop popularity, buyers with an evening-peaked daily rhythm, mostly
  good reviews, a few percent refunds, coupon campaigns released on the hour, app sessions.
- extortion_ring: groups of old bought accounts that order cheaply from chosen small shops,
  post 1-2 star reviews, get refunds and compensation, then withdraw or amend the review.
- coupon_hoarding: batches registered in bursts (or stealthily over days) on virtual number
  blocks, group-control devices and proxy ranges, claiming coupons seconds after release,
  leaving most unused, redeeming at the threshold, pooling shipping, looping refunds.
- scripted_timing: lone bots acting on the hour / at a fixed second / at a fixed period in
  one-second sessions, and abusive spikes (a scripted registration burst, a vote farm).
- brushing_ring: crews placing fake orders and five-star reviews for many client shops
  (brushing.py); serial_refunder: accounts or small crews claiming refunds or compensation on
  most orders across many shops (refunders.py).
- look-alikes that must stay unflagged: bad_shop_complainer, serial_complainer, household,
  campus_nat, referral_burst, flash_sale_crowd, tv_ad_signup, night_owl, launch_week_buyer,
  loyal_customer, household_orders, unlucky_buyer, recall_buyer.
- vote_inflation (engagement.py, own random stream): organic votes/likes/follows/views on
  targets of heavy-tailed popularity; lockstep, slow-drip, mixed and recharge farms; the
  look-alikes viral_target, office_vote, fan_base.
- incidents (waves.py, own random stream, last): registration waves of a batch lasting 20 min
  to 2 days, a release-time claim burst of a batch, hourly bot ticks, and the benign bursts of
  a TV ad and a referral push (truth/spikes.csv kinds benign_tv_ad, benign_referral).

Truth files: accounts.csv (account_id, pattern, cluster, role), ring_shops.csv (cluster,
shop_id), brushing_shops.csv (cluster, shop_id: a crew's client shops), inflated_targets.csv
(cluster, target_id, action), lookalikes.csv (account_id, lookalike, group), spikes.csv (scope, window_start,
window_end, kind 'abusive' | 'benign_campaign' | 'benign_tv_ad' | 'benign_referral', campaign_id), meta.json (seed, scale, tz,
as_of, window_days, drawn parameters, summary).
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np

from abuse.generate.background import background, build_shops, register_people
from abuse.generate.brushing import plant_brushing
from abuse.generate.brushing_own import plant_own_brushing
from abuse.generate.columns import NULL_TS, ORDER_STATUS, OUTCOMES, enum
from abuse.generate.coupons import build_campaigns, people_claims
from abuse.generate.engagement import plant_engagement
from abuse.generate.finalize import finalize
from abuse.generate.hoarding import plant_hoarding
from abuse.generate.hoarding_adaptive import plant_adaptive_hoarding
from abuse.generate.hoarding_lookalikes import hoarding_lookalikes
from abuse.generate.life_scripts import life_lookalikes, plant_life_scripts
from abuse.generate.lookalikes import (
    adversarial_lookalikes,
    bad_shops,
    night_owls,
    register_lookalikes,
    serial_complainers,
)
from abuse.generate.refunders import plant_refunders
from abuse.generate.rings import plant_rings
from abuse.generate.rings_adversarial import plant_adversarial_rings
from abuse.generate.rings_quiet import plant_quiet_ring
from abuse.generate.rings_scattered import plant_scattered_ring
from abuse.generate.timing import plant_adaptive_bots, plant_bots, plant_spikes
from abuse.generate.timing_lookalikes import timing_lookalikes
from abuse.generate.truth import mark_release_spikes, write_truth
from abuse.generate.waves import plant_waves
from abuse.generate.world import TZ, World
from abuse.generate.writers import take, write

AS_OF = date(2026, 6, 20)
__all__ = ["generate", "AS_OF"]


def generate(out: Path, seed: int = 1, scale: float = 1.0, adversarial: bool = False, tz: str = TZ) -> dict:
    """Write landing files and truth under `out`; returns a summary (rows, planted counts).
    ``adversarial`` plants crews that adapt (see each scenario module); ``tz`` is the platform
    zone (local times of day, the offsets written in timestamps).

    Scenarios draw from ``w.rng`` in the order below: a new scenario goes at the end (or draws
    from a stream of its own, ``np.random.default_rng([w.seed, <tag>])``) so that adding it
    leaves every earlier scenario's rows unchanged."""
    out = Path(out)
    w = World(seed, scale, AS_OF, adversarial=adversarial, tz=tz)
    build_shops(w)
    people = register_people(w, int(round(9000 * scale)))
    people = np.concatenate([people, register_lookalikes(w)])
    background(w, people)
    build_campaigns(w)
    people_claims(w, people)
    night_owls(w, people)
    bad_shops(w, people)
    serial_complainers(w, people)
    plant_rings(w)
    plant_hoarding(w)
    plant_bots(w)
    plant_spikes(w)
    plant_engagement(w, people)  # its own random stream: earlier rows stay as they were
    if w.adversarial:  # scripts that adapt and their look-alikes (own random streams)
        plant_adaptive_bots(w)
        timing_lookalikes(w)
    if w.adversarial:  # adaptive extortion crews and hard look-alikes, after the above
        plant_adversarial_rings(w)
        adversarial_lookalikes(w, people)
    plant_brushing(w, people)  # own stream [seed, 15]
    plant_refunders(w, people)  # own stream [seed, 16]
    if w.adversarial:  # maintained hoarding crews and their look-alikes (streams 1110, 1111)
        plant_adaptive_hoarding(w)
        hoarding_lookalikes(w, people)
    plant_waves(w)  # own stream [seed, 1201]: incidents at every time scale (waves.py), last
    if w.adversarial:  # scripts that live like people and their look-alikes (streams 1103, 1104)
        plant_life_scripts(w)
        life_lookalikes(w)
    if w.adversarial:  # shops brushed by their own staff, and their look-alikes (stream [seed, 15, 3]), last
        plant_own_brushing(w)
    if w.adversarial:  # a crew scattered over the long tail of small shops (stream [seed, 1105])
        plant_scattered_ring(w, people)
    if w.adversarial:  # a crew that shares nothing, and its look-alikes (stream [seed, 1106]), last
        plant_quiet_ring(w, people)
    mark_release_spikes(w)
    frames = finalize(w)
    for sub in ("landing", "truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
    rows, files = write_landing(w, frames, out / "landing")
    summary = {"rows": rows, "planted": _planted(w), "lookalikes": _lookalikes(w)}
    files += write_truth(w, out / "truth", summary)
    _stamp(w, files)
    return summary


def write_landing(w: World, f: dict, landing: Path) -> tuple[dict, list[Path]]:
    """Spread the kinds over every contract format; re-deliver a few corrected rows later."""
    rng = np.random.default_rng([w.seed, 2])
    # some completed orders first arrive as 'paid'; the corrections file has the final row
    orders, fixed_orders = _stale(rng, f["orders"], "status", ORDER_STATUS, ("completed", "paid"), 5, 1000)
    # some approved refunds first arrive as pending; the corrections file resolves them
    refunds, fixed_refunds = _stale(
        rng, f["refunds"], "outcome", OUTCOMES, ("approved", "pending"), 3, 200, {"resolved_at": NULL_TS}
    )
    old_orders = orders["created_at"] < w.clock.window_start
    old_reviews = f["reviews"]["created_at"] < w.clock.window_start
    jobs = [  # file name, kind, rows, timestamp spelling; in delivery order
        ("accounts.csv", "accounts", f["accounts"], "mixed"),
        ("orders_01.csv.gz", "orders", take(orders, old_orders), "mixed"),
        ("orders_02.parquet", "orders", take(orders, ~old_orders), "mixed"),
        ("reviews_01.csv", "reviews", take(f["reviews"], old_reviews), "local"),
        ("reviews_02.jsonl", "reviews", take(f["reviews"], ~old_reviews), "mixed"),
        ("refunds.csv", "refunds", refunds, "offset"),
        ("campaigns.csv", "campaigns", f["campaigns"], "offset"),
        ("coupon_events.jsonl.gz", "coupon_events", f["coupon_events"], "mixed"),
        ("activity.parquet", "activity", f["activity"], "mixed"),
        ("orders_corrections.csv", "orders", fixed_orders, "mixed"),
        ("refunds_corrections.jsonl", "refunds", fixed_refunds, "mixed"),
    ]
    files = [landing / kind / name for name, kind, _, _ in jobs]

    def put(i: int) -> None:  # each file has its own randomness: order of completion is free
        _, kind, frame, style = jobs[i]
        write(
            files[i],
            kind,
            frame,
            w.texts.items,
            w.seed * 1_000_003,
            np.random.default_rng([w.seed, 3, i]),
            style,
            w.clock.offset,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:  # arrow, zlib and parquet release the GIL
        list(pool.map(put, range(len(jobs))))
    rows = {k: int(len(v[next(iter(v))])) for k, v in f.items()}
    rows["redelivered_orders"] = int(len(fixed_orders["order_id"]))
    rows["redelivered_refunds"] = int(len(fixed_refunds["refund_id"]))
    return rows, files


def _stale(rng, table: dict, column: str, values, change: tuple[str, str], least: int, per: int, also=None):
    """A first delivery of ``table`` where some rows (one in ``per``, at least ``least``) whose
    ``column`` is ``change[0]`` still show ``change[1]`` (and the values ``also`` gives other
    columns), and those rows' final versions (the corrections file)."""
    done = np.flatnonzero(table[column] == enum(values, change[0]))
    pick = np.sort(rng.choice(done, min(len(done), max(least, len(table[column]) // per)), replace=False))
    fixed = take(table, pick)
    stale = {k: v.copy() for k, v in table.items()}
    stale[column][pick] = enum(values, change[1])
    for k, v in (also or {}).items():
        stale[k][pick] = v
    return stale, fixed


def _stamp(w: World, files: list[Path]) -> None:
    """Deterministic modification times, later files later (corrections last)."""
    base = w.clock.end // 1000 + 3600
    for i, path in enumerate(files):
        late = "corrections" in path.name
        t = base + 60 * i + (86_400 if late else 0)
        os.utime(path, (t, t))


def _planted(w: World) -> dict:
    out: dict[str, dict] = {}
    for codes, pattern, cluster, _ in w.truth_accounts:
        p = out.setdefault(pattern, {"accounts": set(), "clusters": set()})
        p["accounts"].update(codes.tolist())
        if cluster:
            p["clusters"].add(cluster)
    return {k: {"accounts": len(v["accounts"]), "clusters": len(v["clusters"])} for k, v in sorted(out.items())}


def _lookalikes(w: World) -> dict:
    out: dict[str, set] = {}
    for codes, kind, _ in w.lookalikes:
        out.setdefault(kind, set()).update(codes.tolist())
    return {k: len(v) for k, v in sorted(out.items())}
