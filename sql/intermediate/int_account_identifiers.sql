-- int_account_identifiers: every identifier an account was seen with, one row per sighting:
-- (account_id, kind, value, source, seen_at). The one place identifier kinds are defined:
--   device        device_id (registration, orders, coupon events, activity)
--   ip            the IP itself (registration, orders, coupon events, activity)
--   ip_block      ip_block(ip): IPv4 /24, IPv6 /48 (see macros/ip_block.sql)
--   phone_prefix  the 7-digit number block (operator segment), registrations with >= 7 digits
--   phone_hash    the salted hash of the full number (registrations)
--   inviter       the referring account (invited_by, registration); the referrer itself is
--                 listed too, with source 'inviter', so it links to the accounts it invited
--   address       the shipping address hash (orders; the platform normalises the address
--                 before hashing it)
-- source: accounts | orders | coupon_events | activity | inviter; seen_at: when (registered_at,
-- created_at, ts). Values arrive trimmed, an empty one as NULL (staging cleans them once per
-- row, so this view adds no per-row string work beyond ip_block). A consumer filters by
-- kind, source and seen_at (its window): filters reach the tables through the view, so an
-- unused source is never scanned. Linking accounts through identifier values keeps the cost
-- linear: never join this view to itself on value without a cap on the value's accounts.
-- Cost: the filter value IS NOT NULL makes DuckDB compute ip_block(ip) twice per row (in the
-- filter and in the projection): read 'ip_block' rows for the accounts you need, not for all
-- history (bench/bench_ip_block.py: 3e6 order rows, 3.6 s for the macro alone, 7.7 s through
-- the view); engagement, which needs a block per event, calls ip_block(ip) directly.
-- int_sightings (below) is the (account, source, time, device_id, ip) of every row that has them.
CREATE OR REPLACE TEMP VIEW int_sightings AS
SELECT account_id, 'accounts' AS source, registered_at AS seen_at, device_id, ip FROM stg_accounts
UNION ALL SELECT account_id, 'orders', created_at, device_id, ip FROM stg_orders
UNION ALL SELECT account_id, 'coupon_events', ts, device_id, ip FROM stg_coupon_events
UNION ALL SELECT account_id, 'activity', ts, device_id, ip FROM stg_activity;

CREATE OR REPLACE TEMP VIEW int_account_identifiers AS
SELECT account_id, 'device' AS kind, device_id AS value, source, seen_at FROM int_sightings
WHERE device_id IS NOT NULL AND account_id IS NOT NULL
UNION ALL SELECT account_id, 'ip', ip, source, seen_at FROM int_sightings
WHERE ip IS NOT NULL AND account_id IS NOT NULL
UNION ALL SELECT * FROM (SELECT account_id, 'ip_block', ip_block(ip) AS value, source, seen_at FROM int_sightings
                         WHERE ip IS NOT NULL AND account_id IS NOT NULL) WHERE value IS NOT NULL
UNION ALL SELECT account_id, 'phone_prefix', left(phone_prefix, 7), 'accounts', registered_at FROM stg_accounts
WHERE length(phone_prefix) >= 7 AND account_id IS NOT NULL
UNION ALL SELECT account_id, 'phone_hash', phone_hash, 'accounts', registered_at FROM stg_accounts
WHERE phone_hash IS NOT NULL AND account_id IS NOT NULL
UNION ALL SELECT account_id, 'inviter', invited_by, 'accounts', registered_at FROM stg_accounts
WHERE invited_by IS NOT NULL AND account_id IS NOT NULL
UNION ALL SELECT invited_by, 'inviter', invited_by, 'inviter', registered_at FROM stg_accounts
WHERE invited_by IS NOT NULL
UNION ALL SELECT account_id, 'address', ship_addr_hash, 'orders', created_at FROM stg_orders
WHERE ship_addr_hash IS NOT NULL AND account_id IS NOT NULL;
