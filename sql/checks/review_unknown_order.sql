-- Reviews that name an order the platform never delivered.
SELECT v.review_id, v.order_id
FROM stg_reviews v
WHERE v.order_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM stg_orders o WHERE o.order_id = v.order_id)
