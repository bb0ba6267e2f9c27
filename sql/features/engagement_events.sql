-- engagement_events: every vote, like, follow or view (getvariable('engagement_actions')) with a
-- target in the window, one row each, with the network block of its IP (ip_block: IPv4 /24, IPv6 /48),
-- its short time bucket (getvariable('engagement_bucket_s') seconds) and the seconds since the
-- same account's latest purchase before it (an order, or an activity row whose action is one of
-- getvariable('engagement_purchase_actions'): a recharge / top-up); null when none.
WITH ev AS (
    SELECT account_id, target_id, lower(action) AS action, ts, epoch(ts) AS t, device_id, ip,
           ip_block(ip) AS block
    FROM stg_activity
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
      AND account_id IS NOT NULL AND target_id IS NOT NULL
      AND list_contains(getvariable('engagement_actions'), lower(action))
),
purchases AS (
    SELECT account_id, created_at AS ts FROM stg_orders
    WHERE created_at >= getvariable('window_start') - INTERVAL 1 DAY
      AND created_at < getvariable('window_end') AND account_id IS NOT NULL
    UNION ALL
    SELECT account_id, ts FROM stg_activity
    WHERE ts >= getvariable('window_start') - INTERVAL 1 DAY AND ts < getvariable('window_end')
      AND account_id IS NOT NULL
      AND list_contains(getvariable('engagement_purchase_actions'), lower(action))
)
SELECT ev.*, floor(ev.t / getvariable('engagement_bucket_s'))::BIGINT AS bucket,
       ev.t - epoch(p.ts) AS since_purchase_s
FROM ev ASOF LEFT JOIN purchases AS p ON ev.account_id = p.account_id AND ev.ts >= p.ts
