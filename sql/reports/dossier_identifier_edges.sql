-- dossier_identifier_edges: identifiers that two or more members of a case share (device,
-- IP, IPv4 /24 range, phone number block, shipping address, inviter), from registrations,
-- orders and coupon events. Parameters: $accounts (VARCHAR[]).
WITH members AS (SELECT DISTINCT unnest($accounts::VARCHAR[]) AS account_id),
ids AS (
    SELECT account_id, 'device' AS kind, device_id AS value FROM stg_accounts
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'ip', ip FROM stg_accounts
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'phone', phone_prefix FROM stg_accounts
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'inviter', invited_by FROM stg_accounts
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'device', device_id FROM stg_orders
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'ip', ip FROM stg_orders
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'address', ship_addr_hash FROM stg_orders
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'device', device_id FROM stg_coupon_events
    WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL SELECT account_id, 'ip', ip FROM stg_coupon_events
    WHERE account_id IN (SELECT account_id FROM members)
),
with_nets AS (
    SELECT account_id, kind, value FROM ids WHERE value IS NOT NULL AND value <> ''
    UNION ALL
    SELECT account_id, 'ip_range', regexp_extract(value, '^(\d+\.\d+\.\d+)\.\d+$', 1) || '.0/24'
    FROM ids WHERE kind = 'ip' AND regexp_matches(value, '^\d+\.\d+\.\d+\.\d+$')
),
pairs AS (
    SELECT kind, value, account_id, count(*)::INTEGER AS uses
    FROM with_nets GROUP BY ALL
)
SELECT kind, value, account_id, uses
FROM pairs
QUALIFY count(*) OVER (PARTITION BY kind, value) >= 2
ORDER BY kind, value, account_id
