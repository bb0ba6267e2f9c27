-- hoarding_campaign_use: one row per (account, campaign) with a claim in the window: the
-- fastest claim (seconds after release), coupons claimed, and what was redeemed: every
-- redeem event counts, so a coupon returned after a refund and redeemed again counts twice.
WITH
claims AS (
    -- int_coupon_claims (sql/intermediate/): claims with their delay after release
    SELECT account_id, campaign_id, coupon_id, delay_s
    FROM int_coupon_claims
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
),
redeems AS (
    SELECT e.account_id, e.campaign_id,
           count(*) AS n_redeems
    FROM stg_coupon_events e
    WHERE e.action = 'redeem'
      AND e.ts >= getvariable('window_start') AND e.ts < getvariable('window_end')
    GROUP BY ALL
)
SELECT c.account_id, c.campaign_id,
       min(c.delay_s)                               AS min_delay_s,
       count(DISTINCT c.coupon_id)                  AS n_coupons,
       coalesce(any_value(r.n_redeems), 0)          AS n_redeems,
       coalesce(any_value(r.n_redeems), 0) * any_value(k.face_value)::DOUBLE AS redeemed_value
FROM claims c
JOIN stg_campaigns k USING (campaign_id)
LEFT JOIN redeems r USING (account_id, campaign_id)
GROUP BY c.account_id, c.campaign_id
