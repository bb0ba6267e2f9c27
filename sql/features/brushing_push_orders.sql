-- brushing_push_orders: one row per positive review posted in the window (first posted with
-- rating >= getvariable('brushing_min_rating'), neither withdrawn nor amended below it since),
-- with the local day its order was placed (order_id, else the account's latest order at the
-- shop before the review; the session TimeZone is the platform's), that order's item and
-- shipping address, and the review text: the groups of one push day at one shop
-- (abuse.detect.brushing.push). Linear in the window's reviews and orders. The review's life
-- (first rating, last action and rating) is int_review_life's.
WITH
pos AS (SELECT * FROM window_positive_reviews(getvariable('brushing_min_rating'))),
by_id AS (
    SELECT p.review_id, p.account_id, p.shop_id, p.posted_at, p.text,
           o.created_at AS ordered_at, o.item_id, nullif(trim(o.ship_addr_hash), '') AS addr
    FROM pos p LEFT JOIN stg_orders o ON o.order_id = p.order_id AND o.account_id = p.account_id
),
orphans AS (
    SELECT b.review_id, o.created_at AS ordered_at, o.item_id, nullif(trim(o.ship_addr_hash), '') AS addr
    FROM (SELECT * FROM by_id WHERE ordered_at IS NULL) b
    ASOF LEFT JOIN stg_orders o
      ON b.account_id = o.account_id AND b.shop_id = o.shop_id AND b.posted_at >= o.created_at
)
SELECT b.review_id, b.account_id, b.shop_id,
       date_trunc('day', coalesce(b.ordered_at, r.ordered_at))  AS day,
       coalesce(b.item_id, r.item_id, '')                         AS item_id,
       coalesce(b.addr, r.addr)                                   AS addr,
       coalesce(b.text, '')                                       AS text
FROM by_id b LEFT JOIN orphans r USING (review_id)
WHERE coalesce(b.ordered_at, r.ordered_at) >= getvariable('window_start')
ORDER BY b.shop_id, day, b.account_id, b.review_id
