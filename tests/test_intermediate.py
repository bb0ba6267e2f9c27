"""The shared SQL vocabulary of sql/intermediate/: one network block for every IP, one name
per identifier kind, the sources each identifier comes from."""

from __future__ import annotations

import pytest

from abuse.sqlfiles import use_intermediate
from abuse.testing import empty_staged


@pytest.mark.parametrize(
    "ip, block",
    [
        ("10.1.2.3", "10.1.2.0/24"),
        (" 10.1.2.250 ", "10.1.2.0/24"),
        ("::ffff:10.1.2.3", "10.1.2.0/24"),  # IPv4-mapped IPv6 is the IPv4 address
        ("2409:8a00:1:2:3:4:5:6", "2409:8a00:1::/48"),
        ("2409:8A00:0001::1", "2409:8a00:1::/48"),  # case, leading zeros and '::' do not matter
        ("2409:8a00::1:2:3:4:5", "2409:8a00:0::/48"),  # '::' expanded in the middle
        ("1::2:3:4:5:6:7", "1:0:2::/48"),
        ("fe80::1%eth0", "fe80:0:0::/48"),
        ("", None),
        (None, None),
        ("garbage", None),
        ("1.2.3", None),
    ],
)
def test_ip_block_is_ipv4_24_and_ipv6_48(ip, block):
    con = empty_staged(seeds=False)
    use_intermediate(con)
    assert con.execute("SELECT ip_block(?)", [ip]).fetchone()[0] == block


def test_account_identifiers_kinds_and_sources():
    con = empty_staged(seeds=False)
    con.execute("""INSERT INTO stg_accounts (account_id, registered_at, phone_prefix, phone_hash,
                   device_id, ip, invited_by) VALUES
                   ('a1', '2026-06-01 10:00:00+08', '1703321', 'h1', 'd1', '10.0.0.1', 'boss'),
                   ('a2', '2026-06-01 11:00:00+08', '170', NULL, NULL, NULL, NULL)""")
    con.execute("""INSERT INTO stg_orders (order_id, account_id, shop_id, amount, created_at,
                   device_id, ip, ship_addr_hash) VALUES
                   ('o1', 'a2', 's1', 10, '2026-06-02 10:00:00+08', 'd1', '2409:8a00:1::9', 'addr1')""")
    use_intermediate(con)
    rows = set(con.execute("SELECT account_id, kind, value, source FROM int_account_identifiers").fetchall())
    assert rows == {
        ("a1", "device", "d1", "accounts"),
        ("a1", "ip", "10.0.0.1", "accounts"),
        ("a1", "ip_block", "10.0.0.0/24", "accounts"),
        ("a1", "phone_prefix", "1703321", "accounts"),
        ("a1", "phone_hash", "h1", "accounts"),
        ("a1", "inviter", "boss", "accounts"),
        ("boss", "inviter", "boss", "inviter"),  # the inviter links to the accounts it invited
        ("a2", "device", "d1", "orders"),
        ("a2", "ip", "2409:8a00:1::9", "orders"),
        ("a2", "ip_block", "2409:8a00:1::/48", "orders"),
        ("a2", "address", "addr1", "orders"),
    }  # a2's short number block is no identifier (blank values are NULL after staging, below)


def test_staging_cleans_identifiers_once():
    """Identifiers are trimmed and a blank one is NULL in staging, so the shared view needs
    no per-row string work and a blank device links nobody."""
    import duckdb

    from abuse.ingest import raw_table_ddl
    from abuse.sqlfiles import read_sql

    con = duckdb.connect()
    con.execute(raw_table_ddl("accounts"))
    con.execute("""INSERT INTO raw_accounts (account_id, registered_at, phone_prefix, phone_hash, device_id,
                   ip, invited_by, _row, _file_seq) VALUES
                   ('a1', '2026-06-01 10:00:00+08', ' 1703321 ', '', ' d1 ', ' ', '  ', 1, 1),
                   ('a2', '2026-06-01 11:00:00+08', NULL, 'h2', '', '10.0.0.2', 'a1', 2, 1)""")
    con.execute(read_sql("staging/stg_accounts.sql"))
    rows = con.execute(
        "SELECT account_id, phone_prefix, phone_hash, device_id, ip, invited_by FROM stg_accounts ORDER BY account_id"
    ).fetchall()
    assert rows == [("a1", "1703321", None, "d1", None, None), ("a2", None, "h2", None, "10.0.0.2", "a1")]


def test_coupon_claims_delay_after_release():
    con = empty_staged(seeds=False)
    con.execute("""INSERT INTO stg_campaigns (campaign_id, released_at) VALUES
                   ('c1', '2026-06-01 10:00:00+08')""")
    con.execute("""INSERT INTO stg_coupon_events (event_id, campaign_id, coupon_id, account_id, action, ts)
                   VALUES ('e1', 'c1', 'k1', 'a1', 'claim', '2026-06-01 10:00:02.5+08'),
                          ('e2', 'c1', 'k2', 'a2', 'claim', '2026-06-01 09:59:00+08'),
                          ('e3', 'c1', 'k1', 'a1', 'redeem', '2026-06-01 11:00:00+08')""")
    use_intermediate(con)
    rows = con.execute(
        "SELECT event_id, account_id, coupon_id, delay_s FROM int_coupon_claims ORDER BY event_id"
    ).fetchall()
    assert rows == [("e1", "a1", "k1", 2.5), ("e2", "a2", "k2", 0.0)]  # early clock: no negative delay


def test_review_life_and_positive_reviews():
    """int_review_life folds a review's actions into one row; window_positive_reviews(m) keeps
    those first posted in the window at or above the bar and neither withdrawn nor amended below."""
    from datetime import datetime, timezone

    from abuse.sqlfiles import set_variables

    con = empty_staged(seeds=False)
    con.execute("""INSERT INTO stg_reviews (review_id, order_id, account_id, shop_id, rating, created_at, action, text)
                   VALUES ('r1', 'o1', 'a1', 's1', 5, '2026-06-10 10:00:00+00', 'posted', 'great'),
                          ('r2', 'o2', 'a1', 's1', 5, '2026-06-10 10:00:00+00', 'posted', 'fine'),
                          ('r2', NULL, 'a1', 's1', 2, '2026-06-11 10:00:00+00', 'amended', 'bad after all'),
                          ('r3', 'o3', 'a2', 's1', 4, '2026-06-10 10:00:00+00', 'posted', 'ok'),
                          ('r3', NULL, 'a2', 's1', NULL, '2026-06-12 10:00:00+00', 'withdrawn', NULL),
                          ('r4', 'o4', 'a2', 's2', 3, '2026-06-10 10:00:00+00', 'posted', 'meh'),
                          ('r4', NULL, 'a2', 's2', 5, '2026-06-11 10:00:00+00', 'amended', 'better'),
                          ('r5', 'o5', 'a3', 's2', 4, '2026-06-10 10:00:00+00', 'posted', 'good'),
                          ('r5', NULL, 'a3', 's2', 5, '2026-06-13 10:00:00+00', 'amended', 'very good'),
                          ('r6', 'o6', 'a3', 's2', 5, '2026-05-01 10:00:00+00', 'posted', 'before the window')""")
    use_intermediate(con)
    life = con.execute(
        "SELECT review_id, order_id, first_rating, last_action, last_rating, text FROM int_review_life "
        "WHERE review_id IN ('r2', 'r3') ORDER BY review_id"
    ).fetchall()
    assert life == [("r2", "o2", 5, "amended", 2, "fine"), ("r3", "o3", 4, "withdrawn", 4, "ok")]
    set_variables(
        con,
        window_start=datetime(2026, 6, 1, tzinfo=timezone.utc),
        window_end=datetime(2026, 7, 1, tzinfo=timezone.utc),
    )

    def positive(m: int) -> list[str]:
        rows = con.execute("SELECT review_id FROM window_positive_reviews(?) ORDER BY 1", [m]).fetchall()
        return [r[0] for r in rows]

    assert positive(4) == ["r1", "r5"]  # r2 amended below, r3 withdrawn, r4 first posted below, r6 before
    assert positive(5) == ["r1"]  # r5 was first posted at 4
