-- engagement_accounts: per account that engaged in the window, its engagement "moments"
-- (distinct target, action and bucket), events, targets, the events within
-- getvariable('engagement_purchase_s') seconds after its own purchase, and how much else it
-- did in the window: activity other than engagement and logins, orders, reviews, coupon events.
-- Reads `engagement_events`.
WITH eng AS (
    SELECT account_id,
           count(DISTINCT (target_id, action, bucket)) AS moments,
           count(*) AS events,
           count(DISTINCT (target_id, action)) AS targets,
           count(*) FILTER (WHERE since_purchase_s <= getvariable('engagement_purchase_s')) AS after_purchase,
           count(DISTINCT device_id) AS devices,
           count(DISTINCT ip) AS ips
    FROM engagement_events
    GROUP BY account_id
),
other AS (
    SELECT account_id, count(*) AS n FROM (
        SELECT account_id FROM stg_activity
        WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
          AND NOT list_contains(getvariable('engagement_actions'), lower(action))
          AND NOT list_contains(getvariable('engagement_purchase_actions'), lower(action))
          AND lower(action) <> 'login'
        UNION ALL
        SELECT account_id FROM stg_orders
        WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
        UNION ALL
        SELECT account_id FROM stg_reviews
        WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
        UNION ALL
        SELECT account_id FROM stg_coupon_events
        WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
    )
    WHERE account_id IN (SELECT account_id FROM eng)
    GROUP BY account_id
)
SELECT e.*, coalesce(o.n, 0) AS other_events
FROM eng AS e LEFT JOIN other AS o USING (account_id)
