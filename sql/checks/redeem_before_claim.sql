-- Coupons redeemed before they were first claimed (or never claimed at all).
WITH claims AS (
    SELECT coupon_id, min(ts) AS first_claim
    FROM stg_coupon_events WHERE action = 'claim' GROUP BY coupon_id
)
SELECT e.event_id, e.coupon_id, e.account_id, e.ts AS redeemed_at, c.first_claim
FROM stg_coupon_events e
LEFT JOIN claims c USING (coupon_id)
WHERE e.action = 'redeem' AND (c.first_claim IS NULL OR e.ts < c.first_claim)
