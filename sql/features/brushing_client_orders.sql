-- brushing_client_orders: the window's orders at the candidate client shops of the registered
-- relation brushing_clients(shop_id) (a few dozen shops), with their item and order time in
-- epoch seconds: the base rate of buying a crew's pushed items, off the crew's bursts.
SELECT o.account_id, o.shop_id, coalesce(o.item_id, '') AS item_id, epoch(o.created_at) AS t
FROM stg_orders o
JOIN brushing_clients c USING (shop_id)
WHERE o.created_at >= getvariable('window_start') AND o.created_at < getvariable('window_end')
ORDER BY o.shop_id, o.created_at, o.order_id
