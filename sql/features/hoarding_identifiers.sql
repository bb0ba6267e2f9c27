-- hoarding_identifiers: the bipartite account-identifier graph, one row per distinct
-- (account_id, kind, value), over all history before getvariable('window_end').
-- Kinds as int_account_identifiers names them (sql/intermediate/): device (registration,
-- orders, coupon events, activity), ip and ip_block (registration, orders, coupon events:
-- browsing IPs are left out, a claimer's traffic is what ties a batch), phone_prefix,
-- phone_hash, inviter (the referring account, and the referrer itself), address (orders).
-- One link is hoarding's own: redeem_item, the campaign and item of a coupon redemption at or
-- within 10% above the threshold (a crew turning coupons into resale goods buys the same few
-- items at the threshold with every campaign).
-- Linking accounts through identifier nodes keeps the cost linear: no account pairs here.
WITH
shared AS (
    SELECT DISTINCT account_id, kind, value
    FROM int_account_identifiers
    WHERE seen_at < getvariable('window_end')
      AND (kind IN ('device', 'phone_prefix', 'phone_hash', 'inviter', 'address')
           OR (kind IN ('ip', 'ip_block') AND source IN ('accounts', 'orders', 'coupon_events')))
),
redeem_items AS (
    -- only redemptions at or just above the threshold: the identical item-and-threshold
    -- choice ("100 minus 20" on the same item at 100.00), not an item bought in passing
    SELECT DISTINCT e.account_id, 'redeem_item' AS kind, e.campaign_id || ' / ' || o.item_id AS value
    FROM stg_coupon_events e
    JOIN stg_orders o ON o.order_id = e.order_id
    JOIN stg_campaigns c ON c.campaign_id = e.campaign_id
    WHERE e.action = 'redeem' AND e.ts < getvariable('window_end') AND o.item_id IS NOT NULL
      AND c.threshold > 0 AND o.amount + o.discount >= c.threshold
      AND o.amount + o.discount <= c.threshold * 1.1
)
SELECT account_id, kind, value FROM shared
UNION ALL SELECT account_id, kind, value FROM redeem_items
