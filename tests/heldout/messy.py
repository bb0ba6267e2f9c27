"""``make_heldout --messy``: the landing directory as a real platform's exports look, inside the
data contract, plus a few rows that break it. Written from the contract alone.

Inside the contract (nothing of it may be lost or changed in meaning):

- zero-padded numeric account ids (``0012345678``) next to the plain ones, in every file, and a
  CSV that re-sends the padded accounts unchanged (every id in it looks like a number);
- UTF-8 byte order marks on some CSVs, LF line ends on one, CRLF on the others;
- timestamps in other ISO 8601 forms for the same instant: other offsets (``+09:00``,
  ``-05:00``, ``+05:45``), hour-only offsets (``+08``), microseconds, ``Z`` with milliseconds;
- quoted review texts with commas, quotes and line breaks before the rows that break the rules
  (a record spanning several lines is one record);
- a redelivered orders file (later modification time, earlier name) that corrects earlier rows'
  status and amount: the later delivery wins (truth/corrections.csv);
- a refunds file without the required ``shop_id`` column: rejected as a whole (row null).

Breaking it (truth/expected_quarantine.csv, ``file,row,reason``; row counts data records from 1):
a stray year 2999, an unparseable timestamp, an empty required value, a negative amount, a rating
outside 1..5, an empty key.

Draws come from ``np.random.default_rng([seed, 5505])``; no world draw is made here, so the
rows of the other modes stay as they are (only their ids and files move).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import world
from .world import DAY, DAYS, local_text

TAG = 5505
BOM = "\ufeff"
ID_FIELDS = ("account_id", "invited_by", "target_id")
MESSY_TEXTS = (
    '质量好，价格也公道, 推荐给"懒人"朋友',
    'first line, then a comma\nsecond line with "quotes"\nthird line 🎉',
    "颜色正,尺码准,\r\n物流快，好评",
    'He said "it\'s fine", I agree, 5 stars',
    "一般，\n\n包装压坏了一点点",
    "",
)


def pad_ids(w, truth: dict, seed: int) -> int:
    """Gives a share of the numeric account ids two leading zeros, everywhere they appear."""
    rng = np.random.default_rng([seed, TAG, 1])
    ids = [r["account_id"] for r in w.rows["accounts"] if r["account_id"].isdigit()]
    chosen = {a for a in ids if rng.random() < 0.06}
    rename = {a: "00" + a for a in chosen}
    for rows in w.rows.values():
        for r in rows:
            for f in ID_FIELDS:
                v = r.get(f)
                if v in rename:
                    r[f] = rename[v]
    for key in ("accounts", "lookalikes"):
        for r in truth[key]:
            if r["account_id"] in rename:
                r["account_id"] = rename[r["account_id"]]
    for r in truth.get("inflated_targets", []):
        if r["target_id"] in rename:
            r["target_id"] = rename[r["target_id"]]
    return len(rename)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], *, bom: bool, eol: str) -> None:
    buf = io.StringIO(newline="")
    out = csv.writer(buf, lineterminator=eol)
    out.writerow(header)
    out.writerows(rows)
    data = (BOM if bom else "") + buf.getvalue()
    keep = path.stat().st_mtime if path.exists() else None
    path.write_bytes(data.encode("utf-8"))
    if keep is not None:
        os.utime(path, (keep, keep))


def _instant(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone(world.ZONE_OFFSET))


def _restamp(text: str, form: str) -> str:
    """The same instant in another ISO 8601 form the contract allows."""
    t = _instant(text)
    if form == "plus9":
        return t.astimezone(timezone(timedelta(hours=9))).isoformat(timespec="seconds")
    if form == "minus5":
        return t.astimezone(timezone(timedelta(hours=-5))).isoformat(timespec="seconds")
    if form == "plus0545":
        return t.astimezone(timezone(timedelta(hours=5, minutes=45))).isoformat(timespec="seconds")
    if form == "hour_offset":
        return t.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="seconds")[:-3]  # +08
    if form == "micro":
        return t.astimezone(timezone(world.ZONE_OFFSET)).isoformat(timespec="microseconds")
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


FORMS = ("plus9", "minus5", "plus0545", "hour_offset", "micro", "z_millis")


def mess(out: Path, w, seed: int, truth: dict) -> dict:
    rng = np.random.default_rng([seed, TAG])
    landing, truth_dir = out / "landing", out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    expected: list[dict] = []
    late = 1_786_000_000
    serial = iter(range(1, 10**6))

    def fresh(prefix: str) -> str:
        return f"{prefix}{seed:02d}{next(serial):06d}"

    # 1. orders/ord_w4.csv: LF line ends, other timestamp forms, a year 2999 and a negative amount
    path = landing / "orders" / "ord_w4.csv"
    header, rows = _read_csv(path)
    ci, ai, oi = header.index("created_at"), header.index("amount"), header.index("order_id")
    forms: dict[str, int] = {}
    instants: list[dict] = []
    for r in rows:
        if r[ci] and rng.random() < 0.35:
            form = str(rng.choice(FORMS))
            r[ci] = _restamp(r[ci], form)
            before = _instant(r[ci])  # what is delivered (some forms drop the milliseconds)
            forms[form] = forms.get(form, 0) + 1
            instants.append({"order_id": r[oi], "epoch": round(before.timestamp(), 3), "amount": r[ai], "form": form})
    bad = []
    for reason, field, value in (
        ("created_at in year 2999", ci, "2999-08-01T12:00:00+08:00"),
        ("negative amount", ai, "-12.50"),
    ):
        r = list(rows[int(rng.integers(0, len(rows)))])
        r[oi], r[field] = fresh("BADO"), value
        bad.append((reason, r))
    rows, rownums = _insert(rows, bad, rng)
    expected += [{"file": "orders/ord_w4.csv", "row": n, "reason": why} for why, n in rownums]
    _write_csv(path, header, rows, bom=False, eol="\n")

    # 2. refunds/refunds-1.csv: BOM, an unparseable timestamp and an empty required value
    path = landing / "refunds" / "refunds-1.csv"
    header, rows = _read_csv(path)
    ri, ki, ai2 = header.index("requested_at"), header.index("refund_id"), header.index("account_id")
    bad = []
    for reason, field, value in (
        ("unparseable requested_at", ri, "31/07/2026 14:05"),
        ("empty account_id (required)", ai2, ""),
    ):
        r = list(rows[int(rng.integers(0, len(rows)))])
        r[ki], r[field] = fresh("BADR"), value
        bad.append((reason, r))
    rows, rownums = _insert(rows, bad, rng)
    expected += [{"file": "refunds/refunds-1.csv", "row": n, "reason": why} for why, n in rownums]
    _write_csv(path, header, rows, bom=True, eol="\r\n")

    # 3. BOMs on the accounts export and on both copies of rv_a (they stay byte-identical)
    for rel in ("accounts/users_full_export.csv", "reviews/rv_a.csv", "reviews/rv_a (resent).csv"):
        p = landing / rel
        if p.exists():
            h, rs = _read_csv(p)
            _write_csv(p, h, rs, bom=True, eol="\r\n")

    # 4. reviews/rv_messy.csv: texts with commas, quotes and line breaks, then bad rows
    orders = [o for o in w.rows["orders"] if o["created_at"] < (DAYS - 6) * DAY and o["status"] == "completed"]
    header = ["review_id", "order_id", "account_id", "shop_id", "rating", "created_at", "action", "text"]
    rows = []
    for k in rng.choice(len(orders), size=60, replace=False):
        o = orders[int(k)]
        rows.append(
            [
                fresh("rvm-"),
                o["order_id"],
                o["account_id"],
                o["shop_id"],
                str(int(rng.choice([4, 5, 5, 3]))),
                _restamp(local_text(o["created_at"] + float(rng.uniform(1, 5)) * DAY), str(rng.choice(FORMS))),
                "posted",
                str(MESSY_TEXTS[int(rng.integers(0, len(MESSY_TEXTS)))]),
            ]
        )
    bad = []
    for reason, field, value in (("rating 7 outside 1..5", 4, "7"), ("empty review_id (key)", 0, "")):
        r = list(rows[int(rng.integers(0, len(rows)))])
        r[0] = fresh("rvm-")
        r[field] = value
        bad.append((reason, r))
    rows, rownums = _insert(rows, bad, rng, lo=10)
    expected += [{"file": "reviews/rv_messy.csv", "row": n, "reason": why} for why, n in rownums]
    path = landing / "reviews" / "rv_messy.csv"
    _write_csv(path, header, rows, bom=True, eol="\r\n")
    os.utime(path, (late, late))

    # 5. activity/act_messy.jsonl: a year-2999 event and an unparseable one among good ones
    people = [a for a in w.rows["accounts"] if a["registered_at"] < 0]
    lines, bad_at = [], {}
    good = 40
    slots = sorted(rng.choice(np.arange(5, good), size=2, replace=False))
    for i in range(good + 2):
        a = people[int(rng.integers(0, len(people)))]
        ts = local_text(float(rng.uniform(0, DAYS * DAY - 3600)))
        rec = {
            "event_id": fresh("actm"),
            "account_id": a["account_id"],
            "ts": ts,
            "action": "view",
            "session_id": fresh("s"),
            "duration_s": round(float(rng.uniform(3, 60)), 1),
            "target_id": w.shops[int(rng.integers(0, 50))],
        }
        if i == slots[0]:
            rec["ts"], bad_at[i + 1] = "2999-12-31T23:59:59Z", "ts in year 2999"
        elif i == slots[1]:
            rec["ts"], bad_at[i + 1] = "yesterday 10pm", "unparseable ts"
        lines.append(json.dumps(rec, ensure_ascii=False))
    expected += [{"file": "activity/act_messy.jsonl", "row": n, "reason": why} for n, why in bad_at.items()]
    path = landing / "activity" / "act_messy.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(path, (late + 10, late + 10))

    # 6. accounts re-sent for the zero-padded ids only: every id in the file looks like a number
    padded = [a for a in w.rows["accounts"] if a["account_id"].startswith("00")]
    if padded:
        cols = list(padded[0])
        path = landing / "accounts" / "accounts_padded_resend.csv"
        _write_csv(
            path,
            cols,
            [
                ["" if a.get(c) is None else (local_text(a[c]) if c == "registered_at" else str(a[c])) for c in cols]
                for a in padded
            ],
            bom=False,
            eol="\r\n",
        )
        os.utime(path, (late + 20, late + 20))

    # 7. a redelivered orders file correcting earlier rows: later mtime, a name that sorts first
    planted = {r["account_id"] for r in truth["accounts"]} | {r["account_id"] for r in truth["lookalikes"]}
    honest = [
        o
        for o in w.rows["orders"]
        if o["status"] == "completed" and o["created_at"] < DAYS * DAY and o["account_id"] not in planted
    ]
    fixes = []
    recs = []
    for k in rng.choice(len(honest), size=min(150, len(honest)), replace=False):
        o = dict(honest[int(k)])
        if rng.random() < 0.5:
            fixes.append({"order_id": o["order_id"], "field": "status", "old": o["status"], "new": "cancelled"})
            o["status"] = "cancelled"
        else:
            new = round(o["amount"] * 0.9, 2)
            fixes.append({"order_id": o["order_id"], "field": "amount", "old": o["amount"], "new": new})
            o["amount"] = new
        o["created_at"] = local_text(o["created_at"])
        recs.append(json.dumps(o, ensure_ascii=False))
    path = landing / "orders" / "00_corrections.jsonl"
    path.write_text("\n".join(recs) + "\n", encoding="utf-8")
    os.utime(path, (late + 30, late + 30))
    with (truth_dir / "corrections.csv").open("w", newline="", encoding="utf-8") as f:
        out_csv = csv.DictWriter(f, fieldnames=("order_id", "field", "old", "new"))
        out_csv.writeheader()
        out_csv.writerows(fixes)

    # 8. a refunds file without the required shop_id column: rejected whole
    header, rows = _read_csv(landing / "refunds" / "refunds-1.csv")
    si, ki = header.index("shop_id"), header.index("refund_id")
    legacy = []
    for k in rng.choice(len(rows), size=20, replace=False):
        r = list(rows[int(k)])
        r[ki] = fresh("LEG")
        legacy.append([v for j, v in enumerate(r) if j != si])
    path = landing / "refunds" / "refunds_legacy_export.csv"
    _write_csv(path, [c for j, c in enumerate(header) if j != si], legacy, bom=False, eol="\r\n")
    os.utime(path, (late + 40, late + 40))
    expected.append(
        {"file": "refunds/refunds_legacy_export.csv", "row": "", "reason": "missing required column shop_id"}
    )

    # 9. honest orders re-sent unchanged in other typings: parquet with an Asia/Tokyo-zoned
    # timestamp, decimal amounts, columns reordered and a nested extra column; JSON lines with
    # nanosecond fractions and nested extras in a two-member gzip; then an empty file and a
    # header-only CSV. Replacing a row by itself must change nothing (truth/instants.csv).
    picks = [honest[int(k)] for k in rng.choice(len(honest), size=min(400, len(honest)), replace=False)]
    fixed = {f["order_id"] for f in fixes}
    picks = [o for o in picks if o["order_id"] not in fixed]
    half = len(picks) // 2
    zone = timezone(world.ZONE_OFFSET)
    base = datetime.fromisoformat(world.FIRST_DAY).replace(tzinfo=zone)
    when = [base + timedelta(seconds=round(o["created_at"], 3)) for o in picks]
    cols = [c for c in picks[0] if c not in ("created_at", "amount", "discount")]
    table = pa.table(
        {
            "created_at": pa.array(
                [t.astimezone(timezone.utc) for t in when[:half]], pa.timestamp("us", tz="Asia/Tokyo")
            ),
            "amount": pa.array([Decimal(f"{o['amount']:.2f}") for o in picks[:half]], pa.decimal128(12, 2)),
            "discount": pa.array([Decimal(f"{o['discount']:.2f}") for o in picks[:half]], pa.decimal128(12, 2)),
            **{c: pa.array([o.get(c) for o in picks[:half]], pa.string()) for c in reversed(cols)},
            "export_meta": pa.array([{"src": "erp", "v": 2}] * half),
        }
    )
    path = landing / "orders" / "resend_tokyo.parquet"
    pq.write_table(table, path)
    os.utime(path, (late + 50, late + 50))
    lines = []
    for o, t in zip(picks[half:], when[half:]):
        rec = {k: v for k, v in o.items() if k != "created_at"}
        rec["created_at"] = t.isoformat(timespec="microseconds").replace("+", "000+", 1)  # 9 fraction digits
        rec["_ext"] = {"channel": {"name": "app", "ver": [3, 1]}, "tags": None}
        lines.append(json.dumps(rec, ensure_ascii=False))
    mid = len(lines) // 2
    data = gzip.compress(("\n".join(lines[:mid]) + "\n").encode(), mtime=0) + gzip.compress(
        ("\n".join(lines[mid:]) + "\n").encode(), mtime=0
    )
    path = landing / "orders" / "resend_ns.jsonl.gz"
    path.write_bytes(data)
    os.utime(path, (late + 60, late + 60))
    resent = {o["order_id"] for o in picks}  # the later delivery wins
    instants = [i for i in instants if i["order_id"] not in resent]
    instants += [
        {"order_id": o["order_id"], "epoch": round(t.timestamp(), 3), "amount": f"{o['amount']:.2f}", "form": form}
        for k, (o, t) in enumerate(zip(picks, when))
        for form in ["parquet_tokyo" if k < half else "jsonl_ns"]
    ]
    (landing / "activity" / "act_empty.jsonl").write_bytes(b"")
    (landing / "coupon_events" / "ce_header_only.csv").write_text(
        "event_id,campaign_id,coupon_id,account_id,action,ts\r\n", encoding="utf-8"
    )
    for rel, k in (("activity/act_empty.jsonl", 70), ("coupon_events/ce_header_only.csv", 80)):
        os.utime(landing / rel, (late + k, late + k))
    with (truth_dir / "instants.csv").open("w", newline="", encoding="utf-8") as f:
        out_csv = csv.DictWriter(f, fieldnames=("order_id", "epoch", "amount", "form"))
        out_csv.writeheader()
        out_csv.writerows(instants)

    with (truth_dir / "expected_quarantine.csv").open("w", newline="", encoding="utf-8") as f:
        out_csv = csv.DictWriter(f, fieldnames=("file", "row", "reason"))
        out_csv.writeheader()
        out_csv.writerows(expected)
    return {"timestamp_forms": forms, "expected_quarantine": len(expected), "corrections": len(fixes)}


def _insert(rows: list[list[str]], bad: list[tuple[str, list[str]]], rng, lo: int = 1):
    """Inserts the bad records at random places; returns the rows and (reason, row number)."""
    rows = list(rows)
    spots = sorted(int(x) for x in rng.choice(np.arange(lo, len(rows)), size=len(bad), replace=False))
    numbered = []
    for k, (spot, (reason, rec)) in enumerate(zip(spots, bad)):
        rows.insert(spot + k, rec)
        numbered.append((reason, spot + k + 1))
    return rows, numbered


def small(out: Path, seed: int = 3, people: int = 300) -> dict:
    """A small world (a few hundred ordinary people, the six campaigns) written messily: what a
    quick test loads to compare report.quarantine with truth/expected_quarantine.csv."""
    from .life import everyday, open_campaigns, ordinary_claims
    from .make_heldout import write_landing, write_truth
    from .world import HOUR, World

    world.set_zone_offset(timedelta(hours=8))
    w = World(seed)
    open_campaigns(w)
    crowd = [
        w.register(-float(w.rng.uniform(1, 900)) * DAY + float(w.rng.uniform(8, 22)) * HOUR) for _ in range(people)
    ]
    for p in crowd:
        everyday(w, p, 0.3, 0.4)
    for camp in w.campaigns:
        ordinary_claims(w, crowd, camp, 0.2)
    truth: dict = {"accounts": [], "ring_shops": [], "lookalikes": [], "spikes": []}
    meta = {"seed": seed, "messy": True, "padded_ids": pad_ids(w, truth, seed)}
    write_landing(w, out / "landing")
    meta.update(mess(out, w, seed, truth))
    write_truth(out / "truth", truth, meta)
    return meta
