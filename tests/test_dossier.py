"""Case dossiers: a hand-made work database with one extortion ring and one coupon batch,
the pages written from it, and the pages rendered by headless Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import chromium, chromium_exe

from abuse.dossier import case_command, graph, write_dossier, write_top_dossiers
from abuse.store import connect_work

TZ = "Asia/Shanghai"
EVIL = "a_<b>&\"q'1"  # an account id that must be escaped everywhere
TEXT = "<script>alert(1)</script> 假货 & 骗子 😡"
RING = ["r1", "r2", "r3", EVIL]
BATCH = ["b1", "b2", "b3", "b4", "b5", "b6"]

STAGED = {
    "stg_accounts": "account_id VARCHAR, registered_at TIMESTAMPTZ, phone_prefix VARCHAR, "
    "phone_hash VARCHAR, device_id VARCHAR, ip VARCHAR, channel VARCHAR, invited_by VARCHAR",
    "stg_orders": "order_id VARCHAR, account_id VARCHAR, shop_id VARCHAR, item_id VARCHAR, "
    "amount DECIMAL(18,2), discount DECIMAL(18,2), coupon_id VARCHAR, created_at TIMESTAMPTZ, "
    "device_id VARCHAR, ip VARCHAR, ship_addr_hash VARCHAR, status VARCHAR",
    "stg_reviews": "review_id VARCHAR, order_id VARCHAR, account_id VARCHAR, shop_id VARCHAR, "
    "rating INTEGER, created_at TIMESTAMPTZ, action VARCHAR, text VARCHAR",
    "stg_refunds": "refund_id VARCHAR, order_id VARCHAR, account_id VARCHAR, shop_id VARCHAR, "
    "amount DECIMAL(18,2), kind VARCHAR, reason VARCHAR, requested_at TIMESTAMPTZ, "
    "resolved_at TIMESTAMPTZ, outcome VARCHAR",
    "stg_campaigns": "campaign_id VARCHAR, name VARCHAR, released_at TIMESTAMPTZ, face_value DECIMAL(18,2), "
    "threshold DECIMAL(18,2), per_account_limit INTEGER, total_quota INTEGER",
    "stg_coupon_events": "event_id VARCHAR, campaign_id VARCHAR, coupon_id VARCHAR, account_id VARCHAR, "
    "action VARCHAR, ts TIMESTAMPTZ, order_id VARCHAR, device_id VARCHAR, ip VARCHAR",
    "stg_activity": "event_id VARCHAR, account_id VARCHAR, ts TIMESTAMPTZ, action VARCHAR, "
    "session_id VARCHAR, duration_s DOUBLE, target_id VARCHAR, device_id VARCHAR, ip VARCHAR",
}


def _rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _build(db: Path) -> None:
    con = connect_work(db, TZ)
    for table, cols in STAGED.items():
        con.execute(f"CREATE TABLE {table} ({cols})")
    accounts = [
        (a, f"2026-05-0{i + 1} 10:00:00+08", "1391234", None, f"dev_r{i}", f"10.{i}.0.1", "app", None)
        for i, a in enumerate(RING)
    ]
    # the batch: b1-b3 share device D1, b4-b5 share D2, all share a number block, b1-b4 one
    # inviter; IPs all in different /24 ranges, so no IP node.
    accounts += [
        (
            b,
            f"2026-06-01 0{i}:10:00+08",
            "1701234",
            None,
            "D1" if i < 3 else "D2" if i < 5 else "D3",
            f"{20 + i}.1.1.1",
            "app",
            "inv_1" if i < 4 else None,
        )
        for i, b in enumerate(BATCH)
    ]
    accounts.append(("outsider", "2026-01-01 00:00:00+08", "1381111", None, "D1", "1.1.1.1", "web", None))
    _rows(con, "stg_accounts", accounts)
    orders, reviews, refunds = [], [], []
    for i, a in enumerate(RING):
        for j, s in enumerate(["s1", "s2", "s3"]):
            oid = f"o_{i}_{j}"
            orders.append(
                (
                    oid,
                    a,
                    s,
                    "item",
                    100,
                    0,
                    None,
                    f"2026-06-0{j + 2} 1{i}:1{j}:00+08",
                    None,
                    None,
                    f"addr_{i}",
                    "completed",
                )
            )
            reviews.append((f"rv_{i}_{j}", oid, a, s, 1, f"2026-06-0{j + 3} 1{i}:2{j}:00+08", "posted", TEXT))
            refunds.append(
                (
                    f"rf_{i}_{j}",
                    oid,
                    a,
                    s,
                    80,
                    "compensation" if j == 2 else "refund",
                    "bad",
                    f"2026-06-0{j + 3} 1{i}:3{j}:00+08",
                    None,
                    "approved",
                )
            )
        reviews.append((f"rv_{i}_0", f"o_{i}_0", a, "s1", None, f"2026-06-08 1{i}:00:00+08", "withdrawn", None))
    orders += [
        ("ob1", "b1", "s7", "i", 50, 20, "c1", "2026-06-03 12:00:05+08", None, None, "h1", "paid"),
        ("ob2", "b2", "s7", "i", 50, 20, "c2", "2026-06-03 12:05:05+08", None, None, "h1", "paid"),
    ]
    _rows(con, "stg_orders", orders)
    _rows(con, "stg_reviews", reviews)
    _rows(con, "stg_refunds", refunds)
    _rows(con, "stg_campaigns", [("cmp1", "flash", "2026-06-02 04:00:00+00", 20, 50, 1, 100)])
    # every claim 1 s after 04:00 UTC = 12:00:01 in Shanghai, 09:30:01 in Kolkata
    _rows(
        con,
        "stg_coupon_events",
        [
            (f"ce{i}", "cmp1", f"c{i}", b, "claim", "2026-06-02 04:00:01+00", None, None, None)
            for i, b in enumerate(BATCH)
        ],
    )
    con.execute(
        "INSERT INTO runs (run_id, started_at, status, as_of, window_start, window_end) VALUES "
        "(1, now(), 'succeeded', DATE '2026-06-10', TIMESTAMPTZ '2026-05-12 00:00:00+08', "
        "TIMESTAMPTZ '2026-06-11 00:00:00+08'), (2, now(), 'failed', NULL, NULL, NULL)"
    )
    clusters = [
        (
            "ring-test",
            "extortion_ring",
            RING,
            ["s1", "s2", "s3"],
            960.0,
            0.93,
            f"4 accounts posted 12 one-star reviews on 3 shops; text {TEXT}",
            '{"n_low": 12}',
            "new",
        ),
        (
            "batch-test",
            "coupon_hoarding",
            BATCH,
            None,
            120.0,
            0.88,
            "6 accounts on 2 devices claimed at release",
            '{"devices": 2}',
            "grown",
        ),
        ("bots-ghost", "scripted_timing", ["ghost"], None, 0.0, 0.5, None, None, None),
    ]
    for run in (1, 2):  # run 2 failed: case_command must use run 1
        for cid, pat, acc, shops, loss, score, summary, ev, status in clusters:
            con.execute(
                "INSERT INTO clusters (run_id, cluster_id, pattern, n_accounts, account_ids, "
                "shop_ids, first_seen, last_seen, loss_estimate, score, summary, evidence, case_status, "
                "case_first_run) VALUES (?, ?, ?, ?, ?, ?, TIMESTAMPTZ '2026-06-01 00:00:00+08', "
                "TIMESTAMPTZ '2026-06-09 00:00:00+08', ?, ?, ?, ?, ?, 1)",
                [run, cid, pat, len(acc), acc, shops, loss, score, summary, ev, status],
            )
    findings = [(1, a, "extortion_ring", 0.9, "ring-test", f"posted 3 one-star reviews as {a}", "{}") for a in RING]
    findings += [(1, b, "coupon_hoarding", 0.8, "batch-test", "claimed within 1 s of release", "{}") for b in BATCH]
    con.executemany(
        "INSERT INTO findings (run_id, account_id, pattern, score, cluster_id, reason, evidence) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        findings,
    )
    con.close()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("dossier") / "abuse.duckdb"
    _build(db)
    return db


def _open(db: Path, tz: str = TZ) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db.with_name("abuse.work.duckdb")), read_only=True)
    con.execute("SET TimeZone = ?", [tz])
    return con


def _graph_svg(page: str) -> str:
    return re.search(r"<svg[^>]*class='chart graph'.*?</svg>", page, re.S).group(0)


def test_ring_dossier(work: Path, tmp_path: Path) -> None:
    with _open(work) as con:
        page = write_dossier(con, 1, "ring-test", tmp_path).read_text(encoding="utf-8")
    assert (
        '<meta charset="utf-8">' in page
        and "<script" not in page
        and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    )
    for a in ["r1", "r2", "r3"]:
        assert f"<code>{a}</code>" in page
    assert "a_&lt;b&gt;&amp;&quot;q&#x27;1" in page and EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 假货 &amp; 骗子 😡" in page
    assert "¥960.00" in page and ">new<" in page
    svg = _graph_svg(page)
    assert svg.count("class='node node-account'") == 4 and svg.count("class='node node-shop'") == 3
    assert svg.count("<line") == 12  # every member hit every shop
    assert "withdrawn" in page and "comp. paid" in page


def test_batch_dossier_graph_and_clock(work: Path, tmp_path: Path) -> None:
    with _open(work) as con:
        page = write_dossier(con, 1, "batch-test", tmp_path).read_text(encoding="utf-8")
    svg = _graph_svg(page)
    kinds = {
        k: svg.count(f"class='node node-{k}'")
        for k in ("account", "device", "phone_prefix", "inviter", "address", "ip", "ip_block")
    }
    # D1 (b1-b3 and no outsider), D2 (b4-b5), the number block, the inviter, address h1
    assert kinds == {"account": 6, "device": 2, "phone_prefix": 1, "inviter": 1, "address": 1, "ip": 0, "ip_block": 0}
    assert "outsider" not in page
    bars = page.count("class='bar'")
    strips = {"registrations", "orders", "coupons"}
    assert bars == 2 * 60 * len(strips)
    assert "coupons, minute 00: 6 " in page and "coupons, second 01: 6 " in page
    # six claims on one second is far too many for an even spread; two orders are not
    assert "fill='#b03a2e'><title>coupons, second 01: 6 " in page
    assert "fill='#b03a2e'><title>orders" not in page


def test_case_command_latest_successful_run_and_zone(work: Path, tmp_path: Path) -> None:
    path = case_command(work, "batch-test", tmp_path, tz="Asia/Kolkata")
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "batch-test.html"
    assert "run 1" in page and "coupons, minute 30: 6 " in page  # 09:30:01 in Kolkata
    default = case_command(work, "ring-test")
    assert default == work.parent / "dossiers" / "ring-test.html" and default.exists()
    with pytest.raises(KeyError, match="nope"):
        case_command(work, "nope", tmp_path)
    with _open(work) as con, pytest.raises(KeyError, match="nope"):
        write_dossier(con, 1, "nope", tmp_path)


def test_top_dossiers_and_index(work: Path, tmp_path: Path) -> None:
    with _open(work) as con:
        paths = write_top_dossiers(con, 1, tmp_path, top=1)
        assert [p.name for p in paths] == ["ring-test.html"]  # the larger loss first
        both = write_top_dossiers(con, 1, tmp_path / "all")
    index = (tmp_path / "all" / "index.html").read_text(encoding="utf-8")
    assert [p.name for p in both] == ["ring-test.html", "batch-test.html", "bots-ghost.html"]
    assert index.index("href='ring-test.html'") < index.index("href='batch-test.html'")


def test_graph_is_capped() -> None:
    members = [f"a{i:03d}" for i in range(300)]
    edges = pl.DataFrame(
        {
            "kind": ["device"] * 300 + ["ip"] * 300,
            "value": [f"d{i // 3}" for i in range(300)] + [f"ip{i // 2}" for i in range(300)],
            "account_id": members + members,
            "uses": [1] * 600,
        }
    )
    pic = graph.picture("coupon_hoarding", members, edges, limit=150)
    assert pic.total == 300 + 100 + 150 and pic.nodes <= 150
    assert pic.svg.count("<circle") == pic.nodes
    assert pic.cap_note() == f"Showing {pic.nodes} of 550 nodes (capped: the most connected)."
    again = graph.picture("coupon_hoarding", members, edges, limit=150)
    assert again.svg == pic.svg  # fixed seed: the same drawing every time


# --- rendering in a real browser ------------------------------------------------------------


def _screenshot(exe: str, html: Path, out: Path) -> Path:
    shot = out / f"{html.stem}.png"
    subprocess.run(
        chromium(exe, out / "profile", f"--screenshot={shot}", "--window-size=1280,2000", html.as_uri()),
        check=True,
        capture_output=True,
        timeout=90,
    )
    return shot


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    """(width, height, decompressed scanlines) of a PNG, with the standard library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    return width, height, zlib.decompress(idat)


def test_dossier_renders_in_chromium(work: Path, tmp_path: Path) -> None:
    exe = chromium_exe()
    with _open(work) as con:
        page = write_dossier(con, 1, "ring-test", tmp_path)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    shot, empty = _screenshot(exe, page, tmp_path), _screenshot(exe, blank, tmp_path)
    width, height, raw = _png_pixels(shot)
    assert (width, height) == (1280, 2000)
    # A blank page is one colour: its filtered scanlines are nearly all zero bytes.
    assert sum(b != 0 for b in raw[::97]) > 0.05 * len(raw[::97])
    assert shot.stat().st_size > 10 * empty.stat().st_size


def test_case_without_logs(work: Path, tmp_path: Path) -> None:
    """A case whose member left no logged events still gets a page that says so."""
    with _open(work) as con:
        page = write_dossier(con, 1, "bots-ghost", tmp_path).read_text(encoding="utf-8")
    assert "<code>ghost</code>" in page and "No events of the members" in page
    assert "class='bar'" not in page and "no finding" in page and "no links between" in page
    assert "Showing" not in page


def test_dismissed_cases_are_not_in_the_top_list(work: Path, tmp_path: Path) -> None:
    shutil.copy(work.with_name("abuse.work.duckdb"), tmp_path / "abuse.work.duckdb")
    con = duckdb.connect(str(tmp_path / "abuse.work.duckdb"))
    con.execute("UPDATE clusters SET case_status = 'dismissed' WHERE cluster_id = 'batch-test'")
    con.execute("UPDATE clusters SET loss_estimate = NULL WHERE cluster_id = 'bots-ghost'")
    pages = write_top_dossiers(con, 1, tmp_path / "d")
    con.close()
    index = (tmp_path / "d" / "index.html").read_text(encoding="utf-8")
    assert [p.name for p in pages] == ["ring-test.html", "bots-ghost.html"]
    assert "batch-test" not in index and "not estimated" in index


def _header_money(page: str) -> str:
    return re.search(
        r"<div class=\"money\"><div class=\"sub\">money at risk</div><div class=\"big\">([^<]*)</div>", page
    ).group(1)


def test_dossier_header_and_tiles_equal_the_report(sample_report: Path, tmp_path: Path) -> None:
    rep = duckdb.connect(str(sample_report), read_only=True)
    cases = rep.execute("SELECT cluster_id, pattern, loss_estimate FROM report.clusters").fetchall()
    shops = dict(
        rep.execute("SELECT cluster_id, round(sum(loss_estimate), 2) FROM report.cluster_shops GROUP BY 1").fetchall()
    )
    rep.close()
    rings = [c for c in cases if c[1] == "extortion_ring"]
    assert rings and any(c[2] is None for c in cases if c[1] == "scripted_timing")
    for cid, pattern, loss in cases:
        page = case_command(sample_report, cid, tmp_path).read_text(encoding="utf-8")
        if loss is None:
            assert pattern != "extortion_ring" and _header_money(page) == "not estimated"
            continue
        shown = f"¥{loss:,.2f}"
        assert _header_money(page) == shown, cid
        tiles = re.findall(r"<div class='fig'><b>(¥[^<]*)</b><span>([^<]*)</span>", page)
        assert tiles == [(shown, tiles[0][1])] and "money at risk" in tiles[0][1], tiles  # one money tile, the same
        if pattern == "extortion_ring":
            assert shops[cid] == pytest.approx(loss, abs=0.011)  # shop by shop adds up
            assert "Victim shops" in page and f"({shown})" in page


def test_index_lists_incidents_with_their_cases(work: Path, tmp_path: Path) -> None:
    """The index's incidents section: one line per incident, unexplained first, its case linked."""
    import shutil

    db = tmp_path / "copy" / "abuse.duckdb"
    db.parent.mkdir()
    shutil.copy(work.with_name("abuse.work.duckdb"), db.with_name("abuse.work.duckdb"))
    con = duckdb.connect(str(db.with_name("abuse.work.duckdb")))
    con.execute("SET TimeZone = ?", [TZ])
    con.execute("DELETE FROM spikes WHERE run_id = 1")
    con.execute("""INSERT INTO spikes (run_id, scope, window_start, window_end, observed, expected, score,
                   top_account_ids, explained_by, occurrences, cadence, flagged_share, cluster_ids)
                   VALUES (1, 'coupon_claims:c9', TIMESTAMPTZ '2026-06-02 20:00:00+08', TIMESTAMPTZ '2026-06-02 20:01:00+08',
                           163, 0.2, 0.97, ['b1'], 'campaign:c9 release at 20:00; 93% flagged', 1, NULL, 0.93, ['batch-test']),
                          (1, 'registrations', TIMESTAMPTZ '2026-06-09 22:45:00+08', TIMESTAMPTZ '2026-06-09 23:05:00+08',
                           125, 0.0, 0.6, ['p1'], 'organic signups: 86% went on to use the app', 1, NULL, 0.0, []),
                          (1, 'activity:lottery_spin', TIMESTAMPTZ '2026-06-14 03:41:00+08', TIMESTAMPTZ '2026-06-16 02:42:00+08',
                           1173, 13.6, 0.78, ['g1'], NULL, 48, 'every hour at :41', 0.2, ['bots-ghost'])""")
    try:
        write_top_dossiers(con, 1, tmp_path / "d")
    finally:
        con.close()
    index = (tmp_path / "d" / "index.html").read_text(encoding="utf-8")
    section = index[index.index("<h2>Incidents</h2>") :]
    assert section.count("<tr><td>") == 3
    # not explained away (unexplained, or a release its batch dominates) by score first, then the explained crowd
    assert section.index("coupon_claims:c9") < section.index("lottery_spin") < section.index("organic signups")
    assert "48 bursts, every hour at :41" in section and "<b>unexplained</b>" in section
    assert "<a href='batch-test.html'>batch-test</a>" in section and "2026-06-14 03:41" in section
