-- hoarding_identifiers: the bipartite account-identifier graph, one row per distinct
-- (account_id, kind, value), over all history before getvariable('window_end').
-- kinds: device (registration, orders, coupon events, activity), ip (registration, orders,
-- coupon events), ip_net (IPv4 /24, IPv6 /48 of those IPs), phone7 (7-digit number block),
-- phone (full-number hash), inviter (the referring account, and the referrer itself),
-- addr (shipping address hash), redeem_item (campaign and item of a coupon redemption at or
-- within 10% above the threshold: a crew turning coupons into resale goods buys the same few
-- items at the threshold with every campaign).
-- Linking accounts through identifier nodes keeps the cost linear: no account pairs here.
WITH
acc AS (
    SELECT * FROM stg_accounts WHERE registered_at < getvariable('window_end')
),
devices AS (
    SELECT DISTINCT account_id, value FROM (
        SELECT account_id, device_id AS value FROM acc
        UNION ALL SELECT account_id, device_id FROM stg_orders
                  WHERE created_at < getvariable('window_end')
        UNION ALL SELECT account_id, device_id FROM stg_coupon_events
                  WHERE ts < getvariable('window_end')
        UNION ALL SELECT account_id, device_id FROM stg_activity
                  WHERE ts < getvariable('window_end')
    ) WHERE value IS NOT NULL
),
ips AS (
    SELECT DISTINCT account_id, value FROM (
        SELECT account_id, ip AS value FROM acc
        UNION ALL SELECT account_id, ip FROM stg_orders
                  WHERE created_at < getvariable('window_end')
        UNION ALL SELECT account_id, ip FROM stg_coupon_events
                  WHERE ts < getvariable('window_end')
    ) WHERE value IS NOT NULL
),
nets AS (
    SELECT DISTINCT account_id,
           CASE WHEN contains(value, ':')
                THEN array_to_string(string_split(value, ':')[1:3], ':') || '::/48'
                ELSE regexp_extract(value, '^(\d+\.\d+\.\d+)\.\d+$', 1) || '.0/24' END AS value
    FROM ips
),
addrs AS (
    SELECT DISTINCT account_id, ship_addr_hash AS value FROM stg_orders
    WHERE created_at < getvariable('window_end') AND ship_addr_hash IS NOT NULL
),
redeem_items AS (
    -- only redemptions at or just above the threshold: the identical item-and-threshold
    -- choice ("100 minus 20" on the same item at 100.00), not an item bought in passing
    SELECT DISTINCT e.account_id, e.campaign_id || ' / ' || o.item_id AS value
    FROM stg_coupon_events e
    JOIN stg_orders o ON o.order_id = e.order_id
    JOIN stg_campaigns c ON c.campaign_id = e.campaign_id
    WHERE e.action = 'redeem' AND e.ts < getvariable('window_end') AND o.item_id IS NOT NULL
      AND c.threshold > 0 AND o.amount + o.discount >= c.threshold
      AND o.amount + o.discount <= c.threshold * 1.1
),
inviters AS (
    SELECT DISTINCT account_id, value FROM (
        SELECT account_id, invited_by AS value FROM acc
        UNION ALL SELECT invited_by, invited_by FROM acc
    ) WHERE value IS NOT NULL
)
SELECT account_id, 'device' AS kind, value FROM devices
UNION ALL SELECT account_id, 'ip', value FROM ips
UNION ALL SELECT account_id, 'ip_net', value FROM nets WHERE value <> '.0/24'
UNION ALL SELECT account_id, 'phone7', phone_prefix FROM acc WHERE length(phone_prefix) >= 7
UNION ALL SELECT DISTINCT account_id, 'phone', phone_hash FROM acc WHERE phone_hash IS NOT NULL
UNION ALL SELECT account_id, 'inviter', value FROM inviters
UNION ALL SELECT account_id, 'addr', value FROM addrs
UNION ALL SELECT account_id, 'redeem_item', value FROM redeem_items
