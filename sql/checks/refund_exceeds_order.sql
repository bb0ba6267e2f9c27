-- Refunds (kind 'refund') larger than the amount paid on their order.
SELECT r.refund_id, r.order_id, r.amount AS refund_amount, o.amount AS order_amount
FROM stg_refunds r
JOIN stg_orders o USING (order_id)
WHERE r.kind = 'refund' AND r.amount > o.amount
