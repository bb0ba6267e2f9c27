"""Inline SVG charts for a dossier: the timeline strip chart and the time-of-hour histograms.
Plain strings, every text escaped; no scripts, no external references."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from html import escape
from typing import cast
from zoneinfo import ZoneInfo

import polars as pl
from scipy.stats import poisson

LANES = ("registrations", "orders", "reviews", "refunds", "coupons", "activity")
KIND_COLORS = {
    "registered": "#3b6fb6",
    "1★": "#c0392b",
    "2★": "#e67e22",
    "3★": "#f1c40f",
    "4★": "#9bc53d",
    "5★": "#2e9e5b",
    "withdrawn": "#7a7f87",
    "refund paid": "#d35400",
    "refund denied": "#f5cba7",
    "refund open": "#f0a35e",
    "comp. paid": "#a93226",
    "comp. denied": "#f2b8b5",
    "comp. open": "#d9786f",
    "claim": "#2e86c1",
    "redeem": "#17a589",
    "return": "#ca6f1e",
    "expire": "#aab7b8",
    "paid": "#5d6d7e",
    "completed": "#2c3e50",
    "refunded": "#e59866",
    "cancelled": "#ccd1d1",
}
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac", "#e15759")
BIN_CHOICES = (600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400)
HOT_P = 0.001 / 60
FONT = "font-family='system-ui, -apple-system, Segoe UI, Noto Sans CJK SC, sans-serif'"


def kind_color(kind: str, others: list[str]) -> str:
    if kind in KIND_COLORS:
        return KIND_COLORS[kind]
    if kind.startswith("amended"):
        return "#8e44ad"
    return PALETTE[others.index(kind) % len(PALETTE)] if kind in others else "#999999"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _fmt_count(n: float) -> str:
    return f"{n:,.0f}"


def _time_ticks(lo: float, hi: float, tz: str, max_ticks: int = 10) -> list[tuple[float, str]]:
    """Local midnights between lo and hi (epoch s), thinned to at most ``max_ticks``."""
    zone = ZoneInfo(tz)
    start = datetime.fromtimestamp(lo, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(int((hi - lo) / 86400) + 2, 1)
    step = max(1, math.ceil(days / max_ticks))
    out = []
    for i in range(0, days + 1, step):
        d = (start + timedelta(days=i)).replace(tzinfo=None)
        t = d.replace(tzinfo=zone).timestamp()
        if lo <= t <= hi:
            out.append((t, d.strftime("%m-%d")))
    return out


def timeline(
    events: pl.DataFrame, lo: float, hi: float, tz: str, marks: Sequence[tuple[float, str]] = (), width: int = 1100
) -> str:
    """Stacked counts per time bin, one strip per kind of log, each with its own scale."""
    hi = max(hi, lo + 3600)
    inside = events.filter((pl.col("t") >= lo) & (pl.col("t") < hi))
    lanes = [lane for lane in LANES if lane in set(inside["lane"].to_list())]
    if not lanes:
        return "<p class='muted'>No events of the members fall in this period.</p>"
    bin_s = next((b for b in BIN_CHOICES if (hi - lo) / b <= 160), BIN_CHOICES[-1])
    n_bins = math.ceil((hi - lo) / bin_s)
    left, right, lane_h, gap, top = 130, 250, 54, 14, 10
    plot_w = width - left - right
    height = top + len(lanes) * (lane_h + gap) + 30
    bw = plot_w / n_bins
    x = lambda t: left + (t - lo) / (hi - lo) * plot_w  # noqa: E731
    counts = inside.with_columns(b=((pl.col("t") - lo) // bin_s).cast(pl.Int64)).group_by("lane", "kind", "b").len()
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"class='chart timeline' role='img' aria-label='timeline of the members actions' {FONT}>"
    ]
    for i, lane in enumerate(lanes):
        y0 = top + i * (lane_h + gap)
        base = y0 + lane_h
        part = counts.filter(pl.col("lane") == lane)
        totals = part.group_by("kind").agg(pl.col("len").sum()).sort("len", descending=True)
        kinds = totals["kind"].to_list()
        others = [k for k in kinds if k not in KIND_COLORS and not k.startswith("amended")]
        peak = int(cast(int, part.group_by("b").agg(pl.col("len").sum())["len"].max()) or 1)
        parts.append(f"<rect x='{left}' y='{y0}' width='{plot_w}' height='{lane_h}' fill='#f7f8fa'/>")
        parts.append(
            f"<text x='{left - 10}' y='{y0 + 18}' text-anchor='end' font-size='13' "
            f"font-weight='600' fill='#222'>{_e(lane)}</text>"
        )
        parts.append(
            f"<text x='{left - 10}' y='{y0 + 34}' text-anchor='end' font-size='11' "
            f"fill='#777'>peak {peak:,} / {_e(_bin_label(bin_s))}</text>"
        )
        stack: dict[int, float] = {}
        for kind in kinds:
            color = kind_color(kind, others)
            for b, n in part.filter(pl.col("kind") == kind).select("b", "len").iter_rows():
                h = n / peak * (lane_h - 4)
                s = stack.get(b, 0.0)
                stack[b] = s + h
                parts.append(
                    f"<rect x='{left + b * bw:.1f}' y='{base - s - h:.1f}' width='{max(bw - 0.6, 0.8):.1f}' "
                    f"height='{max(h, 0.6):.1f}' fill='{color}'><title>{_e(kind)}: {n:,}</title></rect>"
                )
        parts += _lane_legend(totals, others, width - right + 12, y0, lane_h)
    axis_y = top + len(lanes) * (lane_h + gap) - gap + 4
    for t, label in _time_ticks(lo, hi, tz):
        parts.append(
            f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='{top}' y2='{axis_y}' stroke='#ffffff' stroke-width='1'/>"
        )
        parts.append(
            f"<text x='{x(t):.1f}' y='{axis_y + 14}' text-anchor='middle' font-size='11' fill='#555'>{_e(label)}</text>"
        )
    for t, label in marks:
        if lo <= t <= hi:
            parts.append(
                f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='{top - 4}' y2='{axis_y}' "
                f"stroke='#c0392b' stroke-dasharray='4 3' stroke-width='1.2'>"
                f"<title>{_e(label)}</title></line>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _lane_legend(totals: pl.DataFrame, others: list[str], x0: int, y0: int, lane_h: int) -> list[str]:
    """A lane's six biggest kinds of event with their counts, two a row, from ``x0``."""
    parts = []
    for j, (kind, n) in enumerate(totals.head(6).iter_rows()):
        lx, ly = x0 + (j % 2) * 122, y0 + 12 + (j // 2) * 16
        parts.append(f"<rect x='{lx}' y='{ly - 9}' width='10' height='10' rx='2' fill='{kind_color(kind, others)}'/>")
        parts.append(
            f"<text x='{lx + 14}' y='{ly}' font-size='11' fill='#333'>{_e(_short(kind, 13))} {_fmt_count(n)}</text>"
        )
    if len(totals) > 6:
        parts.append(
            f"<text x='{x0}' y='{y0 + lane_h}' font-size='10' fill='#888'>+{len(totals) - 6} more kinds</text>"
        )
    return parts


def _bin_label(seconds: int) -> str:
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 and unit == 'day' else ''}" if n > 1 else unit
    return f"{seconds} s"


def _compact(n: int) -> str:
    return f"{n:,}" if n < 10_000 else f"{n / 1000:,.0f}k"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def clock(events: pl.DataFrame, field: str, title: str, unit: str, width: int = 540) -> str:
    """Small multiples: for each kind of log, 60 bars of how many events fall on each
    minute of the hour (or second of the minute), with the even spread as a dashed line;
    a bar whose count an even spread would reach with probability below ``HOT_P`` (Poisson
    tail, Bonferroni over the 60 marks) is drawn dark red."""
    lanes = [lane for lane in LANES if lane in set(events["lane"].to_list())]
    if not lanes:
        return f"<p class='muted'>{_e(title)}: no events.</p>"
    left, right, top, strip, gap = 104, 8, 26, 46, 10
    plot_w = width - left - right
    height = top + max(len(lanes), 1) * (strip + gap) + 16
    bw = plot_w / 60
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"class='chart histogram' role='img' aria-label='{_e(title)}' {FONT}>",
        f"<text x='{left}' y='15' font-size='13' font-weight='600' fill='#222'>{_e(title)}</text>",
    ]
    for j, lane in enumerate(lanes):
        counts = [0] * 60
        for v, n in events.filter(pl.col("lane") == lane).group_by(field).len().iter_rows():
            if v is not None and 0 <= v < 60:
                counts[v] = n
        total = sum(counts)
        expected = total / 60
        peak = max(max(counts), expected, 1)
        y0 = top + j * (strip + gap)
        parts.append(f"<rect x='{left}' y='{y0}' width='{plot_w}' height='{strip}' fill='#f7f8fa'/>")
        parts.append(
            f"<text x='{left - 8}' y='{y0 + 16}' text-anchor='end' font-size='11.5' "
            f"font-weight='600' fill='#222'>{_e(lane)}</text>"
        )
        parts.append(
            f"<text x='{left - 8}' y='{y0 + 31}' text-anchor='end' font-size='10' "
            f"fill='#777'>{_compact(total)} · max {_compact(max(counts))}</text>"
        )
        for i, n in enumerate(counts):
            h = n / peak * (strip - 2)
            color = "#b03a2e" if n > expected and poisson.sf(n - 1, expected) < HOT_P else "#5b8cc9"
            parts.append(
                f"<rect class='bar' x='{left + i * bw + 0.4:.1f}' y='{y0 + strip - h:.1f}' "
                f"width='{bw - 0.8:.1f}' height='{h:.1f}' fill='{color}'>"
                f"<title>{_e(lane)}, {unit} {i:02d}: {n:,} (even spread {expected:,.1f})"
                f"</title></rect>"
            )
        ey = y0 + strip - expected / peak * (strip - 2)
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{ey:.1f}' y2='{ey:.1f}' "
            f"stroke='#333' stroke-opacity='0.6' stroke-dasharray='4 3' stroke-width='1'/>"
        )
    axis = top + len(lanes) * (strip + gap) - gap + 12
    for i in range(0, 60, 5):
        parts.append(
            f"<text x='{left + (i + 0.5) * bw:.1f}' y='{axis}' font-size='10' "
            f"text-anchor='middle' fill='#555'>:{i:02d}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def epoch(ts: datetime | None) -> float | None:
    if ts is None:
        return None
    return (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp()
