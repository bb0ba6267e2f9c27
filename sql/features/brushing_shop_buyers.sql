-- brushing_shop_buyers: one row per (account, shop) with an order in the window, for the
-- own-staff test (abuse.detect.brushing.own): the account's orders at the shop and in all,
-- its positive reviews of the shop posted in the window (first posted with rating >=
-- getvariable('brushing_min_rating') and neither withdrawn nor amended below it since) and
-- all its reviews of it, its refund requests there, the order devices and IPs it used there,
-- its shipping addresses there, the money, and the shop's buyers in the window (its size).
-- One pass over the window's orders, reviews and refunds: linear in the logs.
WITH
win_orders AS (
    SELECT account_id, shop_id, amount, created_at,
           nullif(trim(device_id), '') AS device_id, nullif(trim(ip), '') AS ip,
           nullif(trim(ship_addr_hash), '') AS ship_addr_hash
    FROM stg_orders
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
),
rv AS (
    SELECT account_id, shop_id,
           count(*) AS n_reviews,
           count(*) FILTER (review_positive(first_rating, last_action, last_rating,
                                            getvariable('brushing_min_rating'))) AS n_pos
    FROM int_review_life
    WHERE posted_at >= getvariable('window_start') AND posted_at < getvariable('window_end')
    GROUP BY account_id, shop_id
),
rf AS (
    SELECT account_id, shop_id, count(*) AS n_refunds
    FROM stg_refunds
    WHERE requested_at >= getvariable('window_start') AND requested_at < getvariable('window_end')
    GROUP BY account_id, shop_id
),
edges AS (
    SELECT account_id, shop_id, count(*) AS n_orders, sum(amount::DOUBLE) AS gmv,
           min(created_at) AS first_order_at, max(created_at) AS last_order_at,
           list(DISTINCT device_id ORDER BY device_id) FILTER (device_id IS NOT NULL) AS devices,
           list(DISTINCT ip ORDER BY ip) FILTER (ip IS NOT NULL) AS ips,
           list(DISTINCT ship_addr_hash ORDER BY ship_addr_hash) FILTER (ship_addr_hash IS NOT NULL) AS addrs
    FROM win_orders
    GROUP BY account_id, shop_id
)
SELECT e.account_id, e.shop_id, e.n_orders,
       (sum(e.n_orders) OVER (PARTITION BY e.account_id))::BIGINT AS n_all,
       count(*) OVER (PARTITION BY e.shop_id)           AS shop_buyers,
       coalesce(r.n_pos, 0) AS n_pos, coalesce(r.n_reviews, 0) AS n_reviews,
       coalesce(f.n_refunds, 0) AS n_refunds, e.gmv, e.first_order_at, e.last_order_at,
       coalesce(e.devices, []) AS devices, coalesce(e.ips, []) AS ips, coalesce(e.addrs, []) AS addrs
FROM edges e
LEFT JOIN rv r USING (account_id, shop_id)
LEFT JOIN rf f USING (account_id, shop_id)
ORDER BY e.shop_id, e.account_id
