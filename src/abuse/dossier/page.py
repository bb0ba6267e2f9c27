"""The dossier as one self-contained HTML page: inline CSS and SVG, no scripts, no links out.
Every value from the data goes through ``html.escape``."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

import polars as pl

from abuse.cases import money_label
from abuse.detect.patterns import PATTERNS
from abuse.dossier import graph, svg
from abuse.dossier.data import Dossier
from abuse.frames import number

CSS = """
:root { --ink:#1d2430; --muted:#6b7480; --line:#e3e7ec; --card:#fff; --bg:#f1f3f6; --accent:#b03a2e; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif; }
main { max-width:1180px; margin:0 auto; padding:24px 20px 48px; }
header.case { background:linear-gradient(120deg,#1f2d3d,#34495e); color:#fff; border-radius:12px;
  padding:22px 26px; display:grid; grid-template-columns:1fr auto; gap:8px 24px; }
header.case h1 { margin:0; font-size:26px; letter-spacing:.3px; word-break:break-all; }
header.case .sub { color:#c9d3de; font-size:13px; }
.money { text-align:right; }
.money .big { font-size:34px; font-weight:700; color:#ffd38a; white-space:nowrap; }
.pill { display:inline-block; padding:2px 10px; border-radius:999px; font-size:12px; font-weight:600;
  margin-right:6px; background:#ffffff22; color:#fff; border:1px solid #ffffff44; }
.pill.new { background:#e74c3c; border-color:#e74c3c; } .pill.grown { background:#d35400; border-color:#d35400; }
.pill.recurring { background:#8e44ad; border-color:#8e44ad; } .pill.shrunk { background:#2e86c1; border-color:#2e86c1; }
.summary { grid-column:1 / -1; font-size:15px; background:#ffffff14; border-radius:8px; padding:10px 14px; }
.figures { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px; margin:16px 0; }
.fig { background:var(--card); border-radius:10px; padding:12px 14px; border:1px solid var(--line); }
.fig b { display:block; font-size:20px; } .fig span { color:var(--muted); font-size:12px; }
section { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:16px 20px;
  margin:16px 0; }
section h2 { margin:0 0 4px; font-size:17px; } section p.note { margin:0 0 10px; color:var(--muted); font-size:13px; }
.legend span { display:inline-flex; align-items:center; margin-right:14px; font-size:12px; color:#333; }
.legend i { width:11px; height:11px; border-radius:50%; display:inline-block; margin-right:5px; }
.warn { color:var(--accent); font-weight:600; }
.chart { width:100%; height:auto; display:block; }
.hists { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
table { border-collapse:collapse; width:100%; font-size:12.5px; }
th { text-align:left; background:#f7f8fa; position:sticky; top:0; font-weight:600; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; }
.score { display:inline-block; width:46px; height:7px; background:#e6e9ee; border-radius:4px;
  vertical-align:middle; margin-right:6px; overflow:hidden; }
.score i { display:block; height:100%; background:var(--accent); }
details summary { cursor:pointer; color:#34495e; }
td.reason { min-width:360px; max-width:460px; } td.ident { font-size:11.5px; white-space:nowrap; }
td.quote { font-size:13.5px; } td.quote::before { content:"“"; color:#aaa; }
td.quote::after { content:"”"; color:#aaa; }
pre { background:#f7f8fa; border-radius:8px; padding:12px; overflow:auto; font-size:12px; }
.muted { color:var(--muted); } footer { color:var(--muted); font-size:12px; margin-top:24px; }
"""


def e(value: object) -> str:
    return "" if value is None else escape(str(value), quote=True)


def money(x: float | None) -> str:
    return "not estimated" if x is None else f"¥{x:,.2f}"


def local(ts: datetime | None, tz: str) -> str:
    return "—" if ts is None else ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def member_stats(events: pl.DataFrame) -> pl.DataFrame:
    """Per member: orders, low ratings, withdrawn reviews, refund/compensation requests and
    what was paid, coupon claims and redeems, other activity."""
    k, lane = pl.col("kind"), pl.col("lane")
    return events.group_by("account_id").agg(
        orders=(lane == "orders").sum(),
        low=((lane == "reviews") & k.str.contains(r"(^|\s)[12]★")).sum(),
        withdrawn=((lane == "reviews") & (k == "withdrawn")).sum(),
        asks=(lane == "refunds").sum(),
        paid=pl.when((lane == "refunds") & k.str.ends_with("paid")).then(pl.col("amount")).otherwise(0.0).sum(),
        coupons=((lane == "coupons") & (k == "claim")).sum(),
        redeems=((lane == "coupons") & (k == "redeem")).sum(),
        activity=(lane == "activity").sum(),
    )


def _header(d: Dossier) -> str:
    c = d.case
    status = c.case_status or "unknown"
    first_run = "" if c.case_first_run in (None, c.run_id) else f" · first found in run {c.case_first_run}"
    return f"""<header class="case">
  <div><div class="sub">{e(PATTERNS[c.pattern].title if c.pattern in PATTERNS else c.pattern)} · run {c.run_id}{e(first_run)}</div>
  <h1>{e(c.cluster_id)}</h1>
  <div style="margin-top:8px"><span class="pill">{e(c.pattern)}</span>
  <span class="pill {e(status)}">{e(status)}</span>
  <span class="pill">score {c.score:.2f}</span></div></div>
  <div class="money"><div class="sub">money at risk</div><div class="big">{e(money(c.loss_estimate))}</div>
  <div class="sub">{e(money_label(c.pattern))}</div>
  <div class="sub">{e(local(c.first_seen, c.tz))} → {e(local(c.last_seen, c.tz))}</div></div>
  <div class="summary">{e(c.summary) or '<span class="muted">no summary</span>'}</div>
</header>"""


def _figures(d: Dossier, stats: pl.DataFrame) -> str:
    c = d.case
    figs = [(f"{len(c.account_ids):,}", "member accounts")]
    if c.shop_ids is not None:
        figs.append((f"{len(c.shop_ids):,}", "targeted shops"))
    if c.loss_estimate is not None:  # the header's figure, by the same definition
        figs.append((money(c.loss_estimate), f"money at risk: {money_label(c.pattern)}"))
    total = {k: stats[k].sum() or 0 for k in ("low", "withdrawn", "coupons", "redeems")}
    more = [
        (d.events.height, "logged events of the members (all history)"),
        (total["low"], "low ratings (1–2★, all history)"),
        (total["withdrawn"], "reviews withdrawn (all history)"),
        (total["coupons"], "coupons claimed (all history)"),
        (total["redeems"], "coupons redeemed (all history)"),
    ]
    figs += [(f"{int(n):,}", label) for n, label in more if n]
    cells = "".join(f"<div class='fig'><b>{e(v)}</b><span>{e(label)}</span></div>" for v, label in figs)
    return f"<div class='figures'>{cells}</div>"


def _graph_section(d: Dossier) -> str:
    pic = graph.picture(d.case.pattern, d.case.account_ids, d.edges)
    what = (
        "accounts and the shops they attacked; a line is one account's low ratings, refund "
        "and compensation requests on one shop (thicker = more)"
        if d.case.pattern == "extortion_ring"
        else "accounts and the identifiers two or more of them share (device, IP, /24 range, "
        "number block, shipping address, inviter)"
    )
    capped = f" <span class='warn'>{e(pic.cap_note())}</span>" if pic.cap_note() else ""
    legend = "".join(f"<span><i style='background:{col}'></i>{e(kind)} ({n})</span>" for kind, col, n in pic.legend)
    return (
        f"<section><h2>Who is tied to whom</h2><p class='note'>{e(what)}. Hover a node or line "
        f"for details.{capped}</p><div class='legend'>{legend}</div>{pic.svg}</section>"
    )


def _timeline_section(d: Dossier) -> str:
    c = d.case
    times = [t for t in (svg.epoch(c.window_start), svg.epoch(c.first_seen)) if t is not None]
    ends = [t for t in (svg.epoch(c.window_end), svg.epoch(c.last_seen)) if t is not None]
    ev = d.events["t"]
    lo = min(times) if times else (number(ev.min()) if len(ev) else 0.0)
    hi = max(ends) if ends else (number(ev.max()) if len(ev) else 3600.0)
    before = int((ev < lo).sum()) if len(ev) else 0
    marks = [
        (t, f"{name} {local(ts, c.tz)}")
        for name, ts in (("first seen", c.first_seen), ("last seen", c.last_seen))
        if (t := svg.epoch(ts))
    ]
    note = f" {before:,} earlier events (e.g. registrations of old accounts) are outside the chart." if before else ""
    return (
        f"<section><h2>What they did, over time</h2><p class='note'>Every logged action of the "
        f"members per time bin, one strip per kind, each strip on its own scale; dashed red "
        f"lines mark the case's first and last sighting. Dates in {e(c.tz)}.{e(note)}</p>"
        f"{svg.timeline(d.events, float(lo), float(hi), c.tz, marks)}</section>"
    )


def _histograms(d: Dossier) -> str:
    return (
        f"<section><h2>Clockwork</h2><p class='note'>When in the hour and in the minute the members "
        f"act, per kind of log, in platform time ({e(d.case.tz)}). People spread out evenly "
        f"(dashed line); scripts pile up on a few marks. Dark red marks are too full for an even "
        f"spread (Poisson tail p &lt; 0.001, corrected for 60 marks).</p><div class='hists'>"
        f"{svg.clock(d.events, 'minute', 'minute of the hour', 'minute')}"
        f"{svg.clock(d.events, 'second', 'second of the minute', 'second')}</div></section>"
    )


def _members_table(d: Dossier, stats: pl.DataFrame) -> str:
    rows = d.members.join(stats, on="account_id", how="left")
    body = []
    for r in rows.iter_rows(named=True):
        score = r["score"]
        bar = (
            f"<span class='score'><i style='width:{100 * score:.0f}%'></i></span>{score:.2f}"
            if score is not None
            else "<span class='muted'>no finding</span>"
        )
        reason = r["reason"] or ""
        cell = (
            e(reason) if len(reason) <= 160 else f"<details><summary>{e(reason[:150])}…</summary>{e(reason)}</details>"
        )
        ident = "<br>".join(
            f"<span class='muted'>{k}</span> <code>{e(r[c])}</code>"
            for k, c in (("dev", "device_id"), ("ip", "ip"), ("tel", "phone_prefix"))
            if r[c]
        )
        nums = "".join(f"<td class='num'>{int(r[k] or 0):,}</td>" for k in ("orders", "low", "withdrawn", "asks"))
        body.append(
            f"<tr><td><code>{e(r['account_id'])}</code><br>{bar}</td><td class='reason'>{cell}</td>"
            f"<td class='mono'>{e(r['registered_at'])}</td><td class='ident'>{ident}</td>{nums}"
            f"<td class='num'>{money(float(r['paid'] or 0))}</td>"
            f"<td class='num'>{int(r['coupons'] or 0):,} / {int(r['redeems'] or 0):,}</td></tr>"
        )
    head = (
        "<tr><th>account · score</th><th>reason</th><th>registered</th><th>device · ip · phone</th>"
        "<th>orders</th><th>1–2★</th><th>with&shy;drawn</th><th>refund / comp. asks</th>"
        "<th>paid out (any shop)</th><th>coupons claimed / used</th></tr>"
    )
    return (
        f"<section><h2>Members ({rows.height:,})</h2><p class='note'>Score and reason from this "
        f"run's findings; registration facts from the accounts log; counts and payouts over all "
        f"history and every shop (the money at risk counts only the case's own, in the window)."
        f"</p><div style='overflow-x:auto'><table>{head}{''.join(body)}</table></div></section>"
    )


def _shops_table(d: Dossier) -> str:
    if d.shops is None or d.shops.is_empty():
        return ""
    rows = "".join(
        f"<tr><td><code>{e(shop)}</code></td><td class='num'>{m:,}</td><td class='num'>{low:,}</td>"
        f"<td class='num'>{paid:,}</td><td class='num'>{e(money(loss))}</td></tr>"
        for shop, m, low, paid, loss in d.shops.iter_rows()
    )
    total = money(float(d.shops["loss_estimate"].sum()))
    return (
        f"<section><h2>Victim shops</h2><p class='note'>What each shop paid the ring: "
        f"{e(money_label(d.case.pattern))}. The shops add up to the money at risk ({e(total)}).</p>"
        f"<table><tr><th>shop</th><th>members that attacked it</th><th>low ratings</th>"
        f"<th>paid requests</th><th>paid</th></tr>{rows}</table></section>"
    )


def _texts(d: Dossier) -> str:
    if d.texts.is_empty():
        return ""
    rows = "".join(
        f"<tr><td class='quote'>{e(t)}</td><td class='num'>{uses:,}</td><td class='num'>{m:,}</td>"
        f"<td class='num'>{s:,}</td><td class='num'>{r}★</td></tr>"
        for t, uses, m, s, r in d.texts.iter_rows()
    )
    return (
        f"<section><h2>What they wrote</h2><p class='note'>The members' most repeated low-rating "
        f"review texts (1–2★, exact text).</p><table><tr><th>text</th><th>times</th><th>members</th>"
        f"<th>shops</th><th>lowest</th></tr>{rows}</table></section>"
    )


def _evidence(d: Dossier) -> str:
    text = json.dumps(d.case.evidence, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return (
        f"<section><h2>Evidence</h2><p class='note'>The figures behind the case, as the "
        f"detector reported them.</p><details><summary>evidence JSON</summary>"
        f"<pre>{e(text)}</pre></details></section>"
    )


def render(d: Dossier, generated_at: datetime) -> str:
    stats = member_stats(d.events)
    c = d.case
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(c.cluster_id)} · {e(c.pattern)} · case dossier</title>
<style>{CSS}</style></head>
<body><main>
{_header(d)}
{_figures(d, stats)}
{_graph_section(d)}
{_timeline_section(d)}
{_histograms(d)}
{_shops_table(d)}
{_texts(d)}
{_members_table(d, stats)}
{_evidence(d)}
<footer>Case dossier of {e(c.cluster_id)}, run {c.run_id} (window {e(local(c.window_start, c.tz))} →
{e(local(c.window_end, c.tz))}), generated {e(local(generated_at, c.tz))} {e(c.tz)} by abuse.</footer>
</main></body></html>
"""
