-- hoarding_claimers: one row per account that claimed a coupon in the window, with what
-- it did with its coupons and how much else it did. Delays are seconds after the
-- campaign's release; "excess" is how far an order's pre-discount amount lay above the
-- campaign's threshold, relative to the threshold (0 = exactly at the threshold).
WITH
claims AS (
    -- int_coupon_claims (sql/intermediate/): claims with their delay after release
    SELECT account_id, campaign_id, coupon_id, ts, delay_s
    FROM int_coupon_claims
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
),
coupon_life AS (
    -- every later event of the coupons claimed in the window
    SELECT e.account_id, e.coupon_id, e.campaign_id,
           count(*) FILTER (e.action = 'redeem') AS n_redeem,
           count(*) FILTER (e.action = 'return') AS n_return
    FROM stg_coupon_events e
    SEMI JOIN claims c ON c.coupon_id = e.coupon_id AND c.account_id = e.account_id
    WHERE e.ts < getvariable('window_end')
    GROUP BY ALL
),
redeem_orders AS (
    SELECT e.account_id, c.threshold::DOUBLE AS threshold, c.face_value::DOUBLE AS face_value,
           (o.amount + o.discount)::DOUBLE AS gross, o.ship_addr_hash
    FROM stg_coupon_events e
    JOIN stg_campaigns c USING (campaign_id)
    LEFT JOIN stg_orders o ON o.order_id = e.order_id
    WHERE e.action = 'redeem'
      AND e.ts >= getvariable('window_start') AND e.ts < getvariable('window_end')
),
per_claims AS (
    SELECT account_id,
           count(*)                         AS n_claims,
           count(DISTINCT campaign_id)      AS n_campaigns,
           min(delay_s)                     AS min_delay_s,
           median(delay_s)                  AS med_delay_s,
           min(ts)                          AS first_claim_at,
           max(ts)                          AS last_claim_at
    FROM claims GROUP BY account_id
),
per_life AS (
    SELECT account_id,
           count(*) FILTER (n_redeem = 0)            AS n_unused,
           sum(n_redeem)::BIGINT                     AS n_redeems,
           sum(n_return)::BIGINT                     AS n_returns,
           sum(greatest(n_redeem - 1, 0))::BIGINT    AS n_reredeems
    FROM coupon_life GROUP BY account_id
),
per_redeem AS (
    SELECT account_id,
           sum(face_value)                                            AS redeemed_value,
           min((gross - threshold) / threshold) FILTER (threshold > 0) AS min_excess,
           count(*) FILTER (threshold > 0 AND gross >= threshold
                            AND gross - threshold <= greatest(1.0, 0.01 * threshold))
                                                                      AS n_at_threshold,
           count(*) FILTER (gross <= face_value * 1.1 + 1)            AS n_tiny_orders
    FROM redeem_orders GROUP BY account_id
),
per_orders AS (
    SELECT account_id,
           count(*) FILTER (coupon_id IS NULL OR coupon_id = '')      AS n_plain_orders,
           count(*)                                                   AS n_orders
    FROM stg_orders
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
    GROUP BY account_id
),
per_activity AS (
    SELECT account_id,
           count(*) FILTER (action <> 'lottery_spin')                 AS n_activity,
           count(*) FILTER (action = 'lottery_spin')                  AS n_spins,
           count(DISTINCT session_id)                                 AS n_sessions,
           median(duration_s)                                         AS med_duration_s
    FROM stg_activity
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
    GROUP BY account_id
)
SELECT
    c.account_id,
    a.registered_at,
    a.phone_prefix,
    a.channel,
    a.invited_by,
    coalesce(s.kind = 'virtual', false)                       AS virtual_segment,
    (epoch(c.first_claim_at) - epoch(a.registered_at)) / 86400.0 AS age_days,
    c.first_claim_at, c.last_claim_at,
    c.n_claims, c.n_campaigns, c.min_delay_s, c.med_delay_s,
    coalesce(l.n_unused, 0)        AS n_unused,
    coalesce(l.n_redeems, 0)       AS n_redeems,
    coalesce(l.n_returns, 0)       AS n_returns,
    coalesce(l.n_reredeems, 0)     AS n_reredeems,
    coalesce(r.redeemed_value, 0)  AS redeemed_value,
    r.min_excess,
    coalesce(r.n_at_threshold, 0)  AS n_at_threshold,
    coalesce(r.n_tiny_orders, 0)   AS n_tiny_orders,
    coalesce(o.n_orders, 0)        AS n_orders,
    coalesce(o.n_plain_orders, 0)  AS n_plain_orders,
    coalesce(v.n_activity, 0)      AS n_activity,
    coalesce(v.n_spins, 0)         AS n_spins,
    coalesce(v.n_sessions, 0)      AS n_sessions,
    v.med_duration_s
FROM per_claims c
LEFT JOIN stg_accounts a USING (account_id)
LEFT JOIN seed_operator_segments s ON s.prefix3 = substr(a.phone_prefix, 1, 3)
LEFT JOIN per_life l USING (account_id)
LEFT JOIN per_redeem r USING (account_id)
LEFT JOIN per_orders o USING (account_id)
LEFT JOIN per_activity v USING (account_id)
