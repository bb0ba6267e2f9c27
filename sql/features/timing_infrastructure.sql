-- timing_infrastructure: the devices and network blocks (IPv4 /24, IPv6 /48: `ip_block`) that the
-- accounts of `timing_flagged` (TEMP table of the timing detector: account_id) used in the
-- window, from activity, coupon events, orders and their registration.
WITH used AS (
    SELECT account_id, device_id, ip FROM stg_activity
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
    UNION ALL
    SELECT account_id, device_id, ip FROM stg_coupon_events
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
    UNION ALL
    SELECT account_id, device_id, ip FROM stg_orders
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
    UNION ALL
    SELECT account_id, device_id, ip FROM stg_accounts
)
SELECT DISTINCT u.account_id, u.device_id,
       ip_block(u.ip) AS block
FROM used AS u
SEMI JOIN timing_flagged AS f USING (account_id)
