-- brushing_edges: one row per (account, shop) with a positive review in the window: a review
-- first posted with rating >= getvariable('brushing_min_rating') and neither withdrawn nor
-- amended below it since. Each review is tied to its order (order_id, else the account's
-- latest order at the shop before the review) for the lag from order to review. Carries the
-- number of the edge's reviews posted within the platform's getvariable('brushing_quick_q')
-- quantile of that lag ("quick"), the money of the account's orders at the shop in the window
-- (the fake GMV if the edge is fake), their shipping addresses, items and order devices, whether one of them is used
-- by another account too, the review texts, and the shop's positive reviews (and five-star
-- ones among them). The review's life (first rating, last action and rating) is
-- int_review_life's.
WITH
pos AS (SELECT * FROM window_positive_reviews(getvariable('brushing_min_rating'))),
by_id AS (
    SELECT p.*, o.created_at AS ordered_at
    FROM pos p LEFT JOIN stg_orders o ON o.order_id = p.order_id AND o.account_id = p.account_id
),
orphans AS (
    SELECT b.review_id, o.created_at AS ordered_at
    FROM (SELECT * FROM by_id WHERE ordered_at IS NULL) b
    ASOF LEFT JOIN stg_orders o
      ON b.account_id = o.account_id AND b.shop_id = o.shop_id AND b.posted_at >= o.created_at
),
lagged AS (
    SELECT b.review_id, b.account_id, b.shop_id, b.posted_at, b.text, b.last_rating,
           epoch(b.posted_at) - epoch(coalesce(b.ordered_at, r.ordered_at)) AS lag_s
    FROM by_id b LEFT JOIN orphans r USING (review_id)
),
quick AS (
    SELECT quantile_cont(lag_s, getvariable('brushing_quick_q')) AS lag_q FROM lagged
    WHERE lag_s IS NOT NULL
),
win_orders AS (
    SELECT account_id, shop_id, amount, nullif(trim(ship_addr_hash), '') AS ship_addr_hash,
           item_id, nullif(trim(device_id), '') AS device_id, created_at
    FROM stg_orders
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
),
addr_use AS (
    SELECT value AS ship_addr_hash, count(DISTINCT account_id) AS n_accounts
    FROM int_account_identifiers
    WHERE kind = 'address' AND source = 'orders'
      AND seen_at >= getvariable('window_start') AND seen_at < getvariable('window_end')
    GROUP BY value
),
acc_shop_orders AS (
    SELECT o.account_id, o.shop_id, count(*) AS n_orders, sum(o.amount::DOUBLE) AS gmv,
           min(o.created_at) AS first_order_at,
           list(DISTINCT o.ship_addr_hash) FILTER (o.ship_addr_hash IS NOT NULL) AS addrs,
           list(DISTINCT o.item_id ORDER BY o.item_id) FILTER (o.item_id IS NOT NULL) AS items,
           list(DISTINCT o.device_id ORDER BY o.device_id) FILTER (o.device_id IS NOT NULL) AS devices,
           coalesce(max(a.n_accounts), 1) >= 2 AS addr_shared
    FROM win_orders o LEFT JOIN addr_use a USING (ship_addr_hash)
    GROUP BY o.account_id, o.shop_id
),
edges AS (
    SELECT l.account_id, l.shop_id,
           count(*)                                                         AS n_pos,
           count(*) FILTER (l.last_rating = 5)                              AS n_five,
           count(*) FILTER (l.lag_s IS NOT NULL AND l.lag_s <= q.lag_q)     AS n_quick,
           count(*) FILTER (l.lag_s IS NOT NULL)                            AS n_lagged,
           median(l.lag_s)                                                  AS lag_median_s,
           min(l.posted_at)                                                 AS first_at,
           max(l.posted_at)                                                 AS last_at,
           list(l.text ORDER BY l.posted_at, l.review_id) FILTER (l.text IS NOT NULL AND l.text <> '') AS texts
    FROM lagged l CROSS JOIN quick q
    GROUP BY l.account_id, l.shop_id
),
shop_pos AS (
    SELECT shop_id, count(*) AS shop_pos, count(*) FILTER (last_rating = 5) AS shop_five
    FROM lagged GROUP BY shop_id
)
SELECT e.*, coalesce(o.n_orders, 0) AS n_orders, coalesce(o.gmv, 0) AS gmv,
       coalesce(o.addrs, []) AS addrs, coalesce(o.addr_shared, false) AS addr_shared,
       o.first_order_at, coalesce(o.items, []) AS items, coalesce(o.devices, []) AS devices,
       s.shop_pos, s.shop_five, (SELECT lag_q FROM quick) AS lag_q
FROM edges e
LEFT JOIN acc_shop_orders o USING (account_id, shop_id)
JOIN shop_pos s USING (shop_id)
ORDER BY e.account_id, e.shop_id
