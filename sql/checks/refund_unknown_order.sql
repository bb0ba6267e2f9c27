-- Refunds that name an order the platform never delivered.
SELECT r.refund_id, r.order_id
FROM stg_refunds r
WHERE r.order_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM stg_orders o WHERE o.order_id = r.order_id)
