"""The case as a picture: members and what ties them together, laid out by networkx with a
fixed seed (the same case always gives the same drawing) and drawn as inline SVG.

An extortion ring is drawn as accounts and the shops they attacked (edge weight = hostile
actions); any other case as accounts and the identifiers two or more of them share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import networkx as nx
import polars as pl

from abuse.dossier.svg import FONT
from abuse.report_text import plural

# identifier kinds as sql/intermediate/int_account_identifiers.sql names them
NODE_COLORS = {
    "account": "#3b6fb6",
    "shop": "#d35400",
    "device": "#8e44ad",
    "ip": "#16a085",
    "ip_block": "#76c7b7",
    "phone_prefix": "#e0a526",
    "phone_hash": "#b9770e",
    "address": "#7b8a8b",
    "inviter": "#c2185b",
}
KIND_ORDER = ("inviter", "device", "phone_hash", "phone_prefix", "address", "ip", "ip_block")
SEED = 20240618


@dataclass
class Picture:
    svg: str
    nodes: int  # drawn
    total: int  # in the full graph
    legend: list[tuple[str, str, int]]  # (kind, color, count drawn)

    def cap_note(self) -> str:
        if 0 < self.nodes < self.total:
            return f"Showing {self.nodes} of {self.total} nodes (capped: the most connected)."
        return ""


def ring_graph(members: list[str], edges: pl.DataFrame) -> nx.Graph:
    g = nx.Graph()
    for a in members:
        g.add_node(("account", a), kind="account", label=a)
    for a, s, low, ref, comp, paid in edges.select(
        "account_id", "shop_id", "low_reviews", "refunds", "compensations", "paid"
    ).iter_rows():
        g.add_node(("shop", s), kind="shop", label=s)
        tip = (
            f"{a} → {s}: {plural(low, 'low rating')}, {plural(ref, 'refund')}, "
            f"{plural(comp, 'compensation')}, {paid or 0:,.2f} yuan paid"
        )
        g.add_edge(("account", a), ("shop", s), weight=low + ref + comp, tip=tip)
    return g


def identifier_graph(members: list[str], edges: pl.DataFrame) -> nx.Graph:
    """Accounts and shared identifiers; an identifier whose members are exactly those of a
    stronger kind's identifier (a /24 holding one shared IP) is left out as redundant."""
    g = nx.Graph()
    for a in members:
        g.add_node(("account", a), kind="account", label=a)
    seen: set[frozenset[str]] = set()
    groups = edges.group_by("kind", "value").agg(pl.col("account_id").sort(), pl.col("uses").sum())
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    rows = sorted(groups.iter_rows(), key=lambda r: (rank.get(r[0], 99), -len(r[2]), r[1]))
    for kind, value, accounts, uses in rows:
        key = frozenset(accounts)
        if key in seen and kind in ("ip", "ip_block"):
            continue
        seen.add(key)
        node = (kind, value)
        g.add_node(node, kind=kind, label=value)
        for a in accounts:
            g.add_edge(
                ("account", a),
                node,
                weight=1,
                tip=f"{a} used {kind} {value} (shared by {plural(len(accounts), 'member')})",
            )
    return g


def cap(g: nx.Graph, limit: int) -> nx.Graph:
    """At most ``limit`` nodes: the best-connected non-account nodes (up to a third), then
    the accounts most tied to them."""
    if g.number_of_nodes() <= limit:
        return g
    hubs = sorted((n for n in g if n[0] != "account"), key=lambda n: (-g.degree(n), n))
    keep = set(hubs[: max(limit // 3, 1)])
    accounts = sorted((n for n in g if n[0] == "account"), key=lambda n: (-sum(1 for m in g[n] if m in keep), n))
    keep |= set(accounts[: limit - len(keep)])
    sub = g.subgraph(keep).copy()
    sub.remove_nodes_from([n for n in list(sub) if n[0] != "account" and sub.degree(n) == 0])
    return sub


def _radius(g: nx.Graph, n: tuple[str, str]) -> float:
    if n[0] == "account":
        return 5.5
    return min(5 + 2.2 * math.sqrt(g.degree(n)), 18)


def layout(g: nx.Graph, hub_share: float | None) -> dict:
    """Spring layout with a fixed seed. With ``hub_share``, a line into an identifier that
    many accounts share pulls weakly (1/degree), so a hub does not knot everyone together
    and small shared devices or addresses still show as tight groups."""
    if hub_share is None:
        return nx.spring_layout(g, seed=SEED, k=1.6 / math.sqrt(g.number_of_nodes()), iterations=150, weight=None)
    h = nx.Graph()
    h.add_nodes_from(sorted(g))
    for u, v in g.edges():
        ident = v if u[0] == "account" else u
        h.add_edge(u, v, pull=1.0 / g.degree(ident))
    pos = nx.spring_layout(h, seed=SEED, k=1.2 / math.sqrt(h.number_of_nodes()), iterations=200, weight="pull")
    n_acc = sum(1 for n in g if n[0] == "account")
    hubs = [n for n in g if n[0] != "account" and g.degree(n) > max(12, hub_share * n_acc)]
    if len(hubs) > 1:  # big hubs all land in the middle: set them apart on a small circle
        cx = sum(p[0] for p in pos.values()) / len(pos)
        cy = sum(p[1] for p in pos.values()) / len(pos)
        r = 0.32 * max(max(abs(p[0] - cx), abs(p[1] - cy)) for p in pos.values())
        hubs.sort(key=lambda n: (math.atan2(pos[n][1] - cy, pos[n][0] - cx), n))
        for i, n in enumerate(hubs):
            a = 2 * math.pi * i / len(hubs)
            pos[n] = (cx + r * math.cos(a), cy + r * math.sin(a))
    return pos


def draw(g: nx.Graph, total: int, hub_share: float | None = None, width: int = 1100, height: int = 620) -> Picture:
    if g.number_of_edges() == 0:
        return Picture("<p class='muted'>Nothing to draw: no links between the members.</p>", 0, total, [])
    pos = layout(g, hub_share)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad, pad_right = 30, 120  # room on the right for labels
    sx = (width - pad - pad_right) / ((max(xs) - min(xs)) or 1)
    sy = (height - 2 * pad) / ((max(ys) - min(ys)) or 1)
    at = {n: (pad + (p[0] - min(xs)) * sx, pad + (p[1] - min(ys)) * sy) for n, p in pos.items()}
    wmax = max((d.get("weight", 1) for _, _, d in g.edges(data=True)), default=1)
    labels = g.number_of_nodes() <= 60
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"class='chart graph' role='img' aria-label='case graph' {FONT}>",
        f"<rect width='{width}' height='{height}' fill='#fbfcfd'/>",
        "<g class='edges'>",
    ]
    for u, v, d in sorted(g.edges(data=True), key=lambda e: (e[0], e[1])):
        (x1, y1), (x2, y2) = at[u], at[v]
        w = 0.6 + 3.4 * d.get("weight", 1) / wmax
        fan = max(g.degree(u), g.degree(v))  # lines into a big hub fade, so small ties show
        op = 0.5 if fan <= 12 else max(0.12, 0.5 * math.sqrt(12 / fan))
        parts.append(
            f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' "
            f"stroke='#8a97a8' stroke-opacity='{op:.2f}' stroke-width='{w:.2f}'>"
            f"<title>{escape(d.get('tip', ''))}</title></line>"
        )
    parts.append("</g><g class='nodes'>")
    for n in sorted(g, key=lambda n: (n[0] == "account", n)):
        x, y = at[n]
        kind, label = n
        color = NODE_COLORS.get(kind, "#555")
        parts.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{_radius(g, n):.1f}' "
            f"class='node node-{escape(kind)}' fill='{color}' stroke='#fff' "
            f"stroke-width='1.2'><title>{escape(kind)} {escape(label)} · "
            f"{plural(g.degree(n), 'link')}</title></circle>"
        )
        if labels or (kind != "account" and (g.number_of_nodes() <= 90 or g.degree(n) >= 8)):
            short = label if len(label) <= 18 else label[:17] + "…"
            size, ink = (10, "#556") if kind == "account" else (11.5, "#222")
            parts.append(
                f"<text x='{x + _radius(g, n) + 3:.1f}' y='{y + 4:.1f}' font-size='{size}' "
                f"fill='{ink}' paint-order='stroke' stroke='#fbfcfd' stroke-width='3'>"
                f"{escape(short)}</text>"
            )
    parts.append("</g></svg>")
    counts: dict[str, int] = {}
    for kind, _ in g:
        counts[kind] = counts.get(kind, 0) + 1
    legend = [(k, NODE_COLORS.get(k, "#555"), counts[k]) for k in ("account", "shop", *KIND_ORDER) if k in counts]
    return Picture("".join(parts), g.number_of_nodes(), total, legend)


def picture(pattern: str, members: list[str], edges: pl.DataFrame, limit: int = 150) -> Picture:
    if pattern == "extortion_ring":
        g = ring_graph(members, edges)
        return draw(cap(g, limit), g.number_of_nodes())
    g = identifier_graph(members, edges)
    return draw(cap(g, limit), g.number_of_nodes(), hub_share=0.1)
