"""Write a held-out landing directory and its truth files.

    python -m tests.heldout.make_heldout --out /tmp/heldout --seed 1

Built from the data contract and the threat descriptions alone: numeric-looking and UUID
account ids, zero-padded shop ids, every file format, timestamps naive, with ``Z`` and with
``+08:00``, and parquet timestamps typed with and without a zone.

``--new-patterns`` adds (tests/heldout/newpatterns.py, after everything else, so the default
output is unchanged) vote_inflation farms, brushing_ring crews and serial_refunders that adapt,
an ordinary like/vote/follow life, their look-alikes, and truth/inflated_targets.csv and
truth/brushing_shops.csv.

``--hard`` (tests/heldout/hard.py; implies ``--adaptive``) replaces the easy coupon batches and the
sign-up burst by coupon crews that adapt, idle registration waves (``batch_registration``), hourly
bot ticks, their honest look-alikes, and spike incidents with truth (truth/spikes.csv gains
``cause`` and ``cluster``, truth/accounts.csv ``evasion``). ``--tz ZONE`` writes the data in another
platform zone without daylight saving (e.g. Asia/Kolkata, +05:30); run the pipeline with the same
``--tz``. Score the incidents with ``python tests/heldout/score_incidents.py DB DIR``:

    cd tests && ../.venv/bin/python -m heldout.make_heldout --out /tmp/h2 --seed 2 --hard --tz Asia/Kolkata
    abuse nightly --landing /tmp/h2/landing --db /tmp/h2/abuse.duckdb --tz Asia/Kolkata
    abuse evaluate --db /tmp/h2/abuse.duckdb --truth /tmp/h2
    python tests/heldout/score_incidents.py /tmp/h2/abuse.duckdb /tmp/h2

``--wild`` (tests/heldout/wild.py, drawn after everything else from its own stream) adds crews that
copy human life (sleeping scripts on many devices, dripped votes, scattered extortion over
hundreds of small shops, a shop's own staff brushing, "not received" refund crews, group-control
coupon rigs) and their hard honest look-alikes; ``--messy`` (tests/heldout/messy.py) writes the
deliveries as real exports look and plants rows that must be quarantined
(truth/expected_quarantine.csv). Score both with ``python tests/heldout/score_wild.py DB DIR``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import adaptive as adapt
from . import hard as hard_mode
from . import lookalikes as look
from . import messy as messy_mode
from . import newpatterns, plants, world
from . import wild as wild_mode
from .life import everyday, open_campaigns, ordinary_claims
from .world import DAY, DAYS, FIRST_DAY, HOUR, World, local

TZ = "Asia/Shanghai"
AS_OF = (np.datetime64(FIRST_DAY) + np.timedelta64(DAYS - 1, "D")).astype(str)
TIME_COLUMNS = {
    "accounts": ("registered_at",),
    "orders": ("created_at",),
    "reviews": ("created_at",),
    "refunds": ("requested_at", "resolved_at"),
    "campaigns": ("released_at",),
    "coupon_events": ("ts",),
    "activity": ("ts",),
}
# (file name, timestamp style) per chunk, chunks in time order
LAYOUT = {
    "accounts": [("users_full_export.csv", "naive"), ("users-delta.jsonl.gz", "z"), ("users_late.parquet", "tz")],
    "orders": [
        ("ord_w1.csv.gz", "cst"),
        ("ord_w2.parquet", "naive"),
        ("ord_w3.jsonl", "z"),
        ("ord_w4.csv", "mixed"),
        ("ord_w5.parquet", "tz"),
    ],
    "reviews": [("rv_a.csv", "cst"), ("rv_b.jsonl", "naive"), ("rv_c.csv.gz", "z")],
    "refunds": [("refunds-1.csv", "naive"), ("refunds-2.jsonl", "cst")],
    "campaigns": [("campaigns.jsonl", "z")],
    "coupon_events": [("ce_1.csv", "cst"), ("ce_2.parquet", "tz"), ("ce_3.csv.gz", "naive"), ("ce_4.jsonl", "z")],
    "activity": [("act_1.parquet", "naive"), ("act_2.parquet", "tz"), ("act_3.csv.gz", "z"), ("act_4.jsonl.gz", "cst")],
}


def _zone() -> timezone:
    """The platform zone as a fixed offset (UTC+08:00 unless ``--tz`` moved it)."""
    return timezone(world.ZONE_OFFSET)


def zone_offset(tz: str) -> timedelta:
    """The fixed offset of a zone over the window; a zone that changes it there is refused."""
    first = datetime.fromisoformat(FIRST_DAY)
    offsets = {ZoneInfo(tz).utcoffset(first + timedelta(days=d)) for d in range(DAYS + 1)}
    if len(offsets) != 1:
        raise SystemExit(f"{tz} changes its UTC offset inside the window; pick a zone without daylight saving")
    return offsets.pop()


def stamp(t: float | None, style: str, rng: np.random.Generator) -> str | None:
    if t is None:
        return None
    if style == "mixed":
        style = str(rng.choice(["naive", "z", "cst"]))
    wall = local(t)
    if style == "naive":
        return wall.isoformat(timespec="seconds" if rng.random() < 0.8 else "milliseconds")
    aware = wall.replace(tzinfo=_zone())
    if style == "z":
        return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return aware.isoformat(timespec="seconds")


def write_file(path: Path, rows: list[dict], times: tuple[str, ...], style: str, rng: np.random.Generator) -> None:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    if path.suffix == ".parquet":
        arrays = {}
        for c in columns:
            values = [r.get(c) for r in rows]
            if c in times:
                wall = [None if v is None else local(v) for v in values]
                if style == "tz":
                    aware = [None if v is None else v.replace(tzinfo=_zone()) for v in wall]
                    arrays[c] = pa.array(aware, pa.timestamp("ms", tz="UTC"))
                else:
                    arrays[c] = pa.array(wall, pa.timestamp("ms"))
            elif c in ("amount", "discount", "face_value", "threshold", "duration_s"):
                arrays[c] = pa.array(values, pa.float64())
            elif c in ("rating", "per_account_limit", "total_quota"):
                arrays[c] = pa.array(values, pa.int32())
            else:
                arrays[c] = pa.array(values, pa.string())
        pq.write_table(pa.table(arrays), path)
        return
    if ".csv" in path.name:
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\r\n")
        out.writerow(columns)
        for r in rows:
            out.writerow(
                ["" if r.get(c) is None else (stamp(r[c], style, rng) if c in times else r[c]) for c in columns]
            )
        data = buf.getvalue().encode()
    else:
        data = "".join(
            json.dumps(
                {c: (stamp(r[c], style, rng) if c in times else r[c]) for c in columns if c in r}, ensure_ascii=False
            )
            + "\n"
            for r in rows
        ).encode()
    path.write_bytes(gzip.compress(data, compresslevel=5, mtime=0) if path.name.endswith(".gz") else data)


def write_landing(w: World, landing: Path) -> None:
    mtime = 1_785_000_000
    for kind, layout in LAYOUT.items():
        key = TIME_COLUMNS[kind][0]
        rows = [r for r in w.rows[kind] if r.get(key) is not None and r[key] < DAYS * DAY]
        if kind == "accounts":
            rows = [rows[int(i)] for i in w.rng.permutation(len(rows))]
        else:
            rows.sort(key=lambda r: r[key])
        (landing / kind).mkdir(parents=True, exist_ok=True)
        for (name, style), chunk in zip(layout, np.array_split(np.arange(len(rows)), len(layout))):
            path = landing / kind / name
            write_file(path, [rows[int(i)] for i in chunk], TIME_COLUMNS[kind], style, w.rng)
            mtime += 60
            os.utime(path, (mtime, mtime))
    again = landing / "reviews" / "rv_a (resent).csv"  # the same bytes delivered twice: a no-op
    shutil.copyfile(landing / "reviews" / "rv_a.csv", again)
    os.utime(again, (mtime + 60, mtime + 60))


def write_truth(truth_dir: Path, truth: dict, meta: dict) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "accounts.csv": ("account_id", "pattern", "cluster", "role"),
        "ring_shops.csv": ("cluster", "shop_id"),
        "lookalikes.csv": ("account_id", "lookalike", "group"),
        "spikes.csv": ("scope", "window_start", "window_end", "kind", "campaign_id"),
    }
    if "inflated_targets" in truth:  # only with --new-patterns
        files.update(
            {"inflated_targets.csv": ("cluster", "target_id", "action"), "brushing_shops.csv": ("cluster", "shop_id")}
        )
    for name, header in files.items():
        extra = [k for r in truth[name.removesuffix(".csv")] for k in r if k not in header]  # --hard
        header = (*header, *dict.fromkeys(extra))
        with (truth_dir / name).open("w", newline="", encoding="utf-8") as f:
            out = csv.DictWriter(f, fieldnames=header, restval="")
            out.writeheader()
            out.writerows(truth[name.removesuffix(".csv")])
    (truth_dir / "meta.json").write_text(json.dumps(meta, indent=2))


def build(
    out: Path,
    seed: int = 1,
    stress: bool = False,
    adaptive: bool = False,
    new_patterns: bool = False,
    hard: bool = False,
    tz: str = TZ,
    wild: bool = False,
    messy: bool = False,
) -> dict:
    """Generate ``out/landing`` and ``out/truth``; returns the meta record. ``stress`` draws the
    hard end of every range: sparse rings, batches that hide behind own devices and slower
    claims, an eager flash-sale crowd. ``adaptive`` replaces the rings and bots by crews that
    adapt (tests/heldout/adaptive.py) and adds night-shift and internet-cafe look-alikes.
    ``new_patterns`` then adds vote_inflation, brushing_ring and serial_refunder crews and their
    look-alikes (tests/heldout/newpatterns.py), drawn after everything else. ``hard`` (implies
    ``adaptive``) replaces the easy coupon batches and the sign-up burst by crews that adapt, idle
    registration waves, bot ticks, their honest look-alikes and spike incidents with truth
    (tests/heldout/hard.py). ``tz`` is the platform zone the data is written in (a zone without
    daylight saving; run the pipeline with the same ``--tz``)."""
    out = Path(out)
    world.set_zone_offset(zone_offset(tz))
    adaptive = adaptive or hard
    w = World(seed)
    rng = w.rng
    truth: dict[str, list[dict]] = {"accounts": [], "ring_shops": [], "lookalikes": [], "spikes": []}
    open_campaigns(w)
    flash = w.campaigns[2]
    n_background = int(rng.integers(4200, 5200))
    background = [
        w.register(
            -float(rng.uniform(0, 1100)) * DAY + float(rng.uniform(7, 24)) * HOUR
            if rng.random() > 0.07
            else w.at(w.day(0, DAYS - 1))
        )
        for _ in range(n_background)
    ]
    for p in background:
        everyday(w, p, float(rng.lognormal(np.log(0.16), 0.8)), float(rng.lognormal(np.log(0.22), 0.7)))
    ring_sizes = (int(rng.integers(6, 11)), int(rng.integers(20, 29)))
    ring_targets = (int(rng.integers(10, 16)), int(rng.integers(28, 41)))
    starts = (int(rng.integers(1, 8)), int(rng.integers(3, 10)))
    coverage = tuple(float(x) for x in (rng.uniform(0.15, 0.3, 2) if stress else rng.uniform(0.25, 0.55, 2)))
    if adaptive:
        adapt.sparse_ring(
            w, truth, "R-north", ring_sizes[0] + 4, int(rng.integers(25, 45)), (2, 4), int(rng.integers(2, 4))
        )
        adapt.sparse_ring(
            w, truth, "R-south", ring_sizes[1], int(rng.integers(40, 70)), (2, 5), int(rng.integers(2, 5))
        )
    else:
        plants.ring(
            w,
            truth,
            "R-north",
            ring_sizes[0],
            ring_targets[0],
            starts[0],
            int(rng.integers(14, 22)),
            0 if stress else 2,
            coverage[0],
        )
        plants.ring(
            w, truth, "R-south", ring_sizes[1], ring_targets[1], starts[1], int(rng.integers(14, 21)), 0, coverage[1]
        )
    taken = {r["shop_id"] for r in truth["ring_shops"]}
    honest = list(background)
    pool = [honest[int(i)] for i in rng.permutation(len(honest))]
    look.bad_shop(w, truth["lookalikes"], pool[:30], 30, int(rng.integers(3, 20)), taken)
    look.serial_complainers(w, truth["lookalikes"], 3)
    ordinary = background + look.households(w, truth["lookalikes"], 40)
    campus_day = int(rng.integers(1, 9))
    ordinary += look.campus(w, truth["lookalikes"], 150, campus_day)
    referral_day = int(rng.integers(3, 25))
    ordinary += look.referral(w, truth["lookalikes"], 120, referral_day)
    tv_day = int(rng.choice([d for d in range(4, 27) if d not in (11, 24)]))
    ordinary += look.tv_ad(w, truth["lookalikes"], 80, tv_day)[0]
    ordinary += look.night_owls(w, truth["lookalikes"], 40)
    crowd = [p for p in pool[30:] if p.registered < flash["released_at"]][:500]
    look.flash_crowd(w, truth["lookalikes"], crowd, flash, median=25 if stress else 75)
    in_crowd = {p.account_id for p in crowd}
    for i, camp in enumerate(w.campaigns):
        share = float(rng.uniform(0.04, 0.1))
        ordinary_claims(w, [p for p in ordinary if not (i == 2 and p.account_id in in_crowd)], camp, share)
    fast = {
        "size": int(rng.integers(60, 100)),
        "devices": int(rng.integers(1, 5)),
        "shared_share": float(rng.uniform(0.8, 1.0)),
        "nets": int(rng.integers(1, 3)),
        "claim_median": float(rng.uniform(1.5, 4)),
        "carrier_share": 0.0,
    }
    slow = {
        "size": int(rng.integers(250, 330)),
        "devices": int(rng.integers(3, 7)),
        "shared_share": float(rng.uniform(0.4, 0.8)),
        "nets": int(rng.integers(2, 6)),
        "claim_median": float(rng.uniform(2, 8)),
        "carrier_share": float(rng.uniform(0.05, 0.3)),
    }
    if stress:
        slow.update(
            shared_share=float(rng.uniform(0.15, 0.35)),
            nets=60,
            claim_median=float(rng.uniform(8, 20)),
            carrier_share=0.5,
        )  # a residential proxy pool: about five accounts per /24

    def nets(k: int, mobile: bool) -> list[str]:
        """Proxy /24s; the slow batch also rents a mobile gateway range ordinary buyers share."""
        own = [w.ipv4().rsplit(".", 1)[0] for _ in range(k)]
        return own[:-1] + [w.carrier_nat[int(rng.integers(0, 250))].rsplit(".", 1)[0]] if mobile else own

    for name, p, day, span, segs, camps, addrs in (
        (
            ("B-fast", fast, 5 + float(rng.uniform(1, 22)) / 24, HOUR, ["1703"], (1, 3, 4), 6),
            ("B-slow", slow, 8, 2 * DAY, ["1710", "1652", "1671", "1625"], (2, 3, 4, 5), 40 if stress else 10),
        )
        if not hard
        else ()
    ):
        plants.batch(
            w,
            truth,
            name,
            p["size"],
            day * DAY,
            span,
            p["devices"],
            p["shared_share"],
            nets(p["nets"], mobile=name == "B-slow"),
            segs,
            [w.campaigns[i] for i in camps],
            addrs,
            heads=4 if name == "B-slow" else 0,
            claim_median=p["claim_median"],
            carrier_share=p["carrier_share"],
        )
    if adaptive:
        bots_drawn = adapt.adaptive_bots(w, truth, 24)
        adapt.night_shift(w, truth["lookalikes"], 30)
        adapt.internet_cafe(w, truth["lookalikes"], 40)
    else:
        plants.bots(w, truth, 20)
        bots_drawn = {}
    burst_day = int(rng.choice([d for d in range(2, 28) if d not in (tv_day, 5, 8, 9)]))
    burst_minute = int(rng.integers(3, 57))
    burst = plants.signup_burst(w, burst_day, 3, burst_minute, int(rng.integers(40, 70))) if not hard else []
    truth["accounts"] += [
        {"account_id": a, "pattern": "scripted_timing", "cluster": "", "role": "signup_burst"} for a in burst
    ]
    start = burst_day * DAY + 3 * HOUR + burst_minute * 60
    if not hard:
        truth["spikes"].append(plants.spike_row("registrations", start, start + 120, "abusive"))
    truth["spikes"].append(
        plants.spike_row(
            f"coupon_claims:{flash['campaign_id']}",
            flash["released_at"],
            flash["released_at"] + 600,
            "benign_campaign",
            flash["campaign_id"],
        )
    )
    drawn_hard = None
    if hard:
        hard_mode.base_benign_truth(truth, tv_day, campus_day, referral_day)
        drawn_hard = hard_mode.plant(w, seed, truth, ordinary, {tv_day, campus_day, referral_day, referral_day + 1})
    drawn_new = newpatterns.plant(w, truth, background, stress) if new_patterns else None
    drawn_wild = wild_mode.plant(w, seed, truth, background) if wild else None
    renamed = messy_mode.pad_ids(w, truth, seed) if messy else None
    meta = {
        "seed": seed,
        "scale": 1.0,
        "tz": tz,
        "as_of": AS_OF,
        "window_days": DAYS,
        "generator": "tests/heldout (independent of abuse.generate)",
        "stress": stress,
        "adaptive": adaptive,
        "adaptive_bots": bots_drawn,
        "params": {
            "rings": {"sizes": ring_sizes, "targets": ring_targets, "starts": starts, "coverage": coverage},
            "batches": {"B-fast": fast, "B-slow": slow},
            "tv_day": tv_day,
            "campus_day": campus_day,
            "burst_day": burst_day,
            "burst_accounts": burst,
            "flash_campaign": flash["campaign_id"],
            "background_accounts": n_background,
        },
        "rows": {k: len(v) for k, v in w.rows.items()},
    }
    if new_patterns:
        meta["new_patterns"] = drawn_new
    if hard:
        meta.update(hard=True, tz=tz, hard_params=drawn_hard)
    if wild:
        meta.update(wild=True, wild_params=drawn_wild)
    write_landing(w, out / "landing")
    if messy:
        meta.update(messy=True, messy_params={"padded_ids": renamed, **messy_mode.mess(out, w, seed, truth)})
    write_truth(out / "truth", truth, meta)
    return meta


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stress", action="store_true", help="draw the hard end of every range")
    ap.add_argument("--adaptive", action="store_true", help="crews that adapt (tests/heldout/adaptive.py)")
    ap.add_argument(
        "--hard",
        action="store_true",
        help="adaptive coupon crews, idle registration waves, bot ticks, their look-alikes and "
        "spike incidents with truth (tests/heldout/hard.py); implies --adaptive",
    )
    ap.add_argument("--tz", default=TZ, help=f"platform zone the data is written in (default {TZ})")
    ap.add_argument(
        "--new-patterns",
        action="store_true",
        help="vote_inflation, brushing_ring and serial_refunder crews (tests/heldout/newpatterns.py)",
    )
    ap.add_argument(
        "--wild",
        action="store_true",
        help="crews that copy human life and their hard look-alikes (tests/heldout/wild.py)",
    )
    ap.add_argument(
        "--messy",
        action="store_true",
        help="deliveries as real exports look: BOMs, LF/CRLF, redelivered corrections, other "
        "timestamp forms, zero-padded ids, and a few rows that must be quarantined "
        "(truth/expected_quarantine.csv; tests/heldout/messy.py)",
    )
    args = ap.parse_args(argv)
    began = time.perf_counter()
    meta = build(
        args.out, args.seed, args.stress, args.adaptive, args.new_patterns, args.hard, args.tz, args.wild, args.messy
    )
    print(f"wrote {args.out} in {time.perf_counter() - began:.1f}s: {meta['rows']}")


if __name__ == "__main__":
    main()
