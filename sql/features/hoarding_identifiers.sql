-- hoarding_identifiers: the bipartite account-identifier graph, one row per distinct
-- (account_id, kind, value), over all history before getvariable('window_end').
-- kinds: device (registration, orders, coupon events, activity), ip (registration, orders,
-- coupon events), ip_net (IPv4 /24, IPv6 /48 of those IPs), phone7 (7-digit number block),
-- phone (full-number hash), inviter (the referring account), addr (shipping address hash).
-- Linking accounts through identifier nodes keeps the cost linear: no account pairs here.
WITH
acc AS (
    SELECT * FROM stg_accounts WHERE registered_at < getvariable('window_end')
),
ord AS (
    SELECT account_id, device_id, ip, ship_addr_hash FROM stg_orders
    WHERE created_at < getvariable('window_end')
),
cpn AS (
    SELECT account_id, device_id, ip FROM stg_coupon_events
    WHERE ts < getvariable('window_end')
),
act AS (
    SELECT account_id, device_id FROM stg_activity
    WHERE ts < getvariable('window_end') AND device_id IS NOT NULL
),
devices AS (
    SELECT account_id, device_id AS value FROM acc
    UNION ALL SELECT account_id, device_id FROM ord
    UNION ALL SELECT account_id, device_id FROM cpn
    UNION ALL SELECT account_id, device_id FROM act
),
ips AS (
    SELECT account_id, ip AS value FROM acc
    UNION ALL SELECT account_id, ip FROM ord
    UNION ALL SELECT account_id, ip FROM cpn
),
edges AS (
    SELECT account_id, 'device' AS kind, value FROM devices
    UNION ALL SELECT account_id, 'ip', value FROM ips
    UNION ALL
    SELECT account_id, 'ip_net',
           CASE WHEN contains(value, ':')
                THEN array_to_string(string_split(value, ':')[1:3], ':') || '::/48'
                ELSE regexp_extract(value, '^(\d+\.\d+\.\d+)\.\d+$', 1) || '.0/24' END
    FROM ips
    UNION ALL
    SELECT account_id, 'phone7', phone_prefix FROM acc WHERE length(phone_prefix) >= 7
    UNION ALL SELECT account_id, 'phone', phone_hash FROM acc
    UNION ALL SELECT account_id, 'inviter', invited_by FROM acc
    UNION ALL SELECT DISTINCT invited_by, 'inviter', invited_by FROM acc  -- the referrer too
    UNION ALL SELECT account_id, 'addr', ship_addr_hash FROM ord
)
SELECT DISTINCT account_id, kind, value
FROM edges
WHERE value IS NOT NULL AND value NOT IN ('', '.0/24')
