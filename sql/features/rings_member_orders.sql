-- rings_member_orders: the (group, account, shop) triples of the registered relation
-- rings_members(account_id, group_key) with an order at a shop of the registered relation
-- rings_candidate_shops(group_key, shop_id) in the window: how many of a ring's members
-- bought at a shop, the denominator of their hostility there.
SELECT DISTINCT m.group_key, o.account_id, o.shop_id
FROM stg_orders o
JOIN rings_members m USING (account_id)
JOIN rings_candidate_shops c ON c.group_key = m.group_key AND c.shop_id = o.shop_id
WHERE o.created_at >= getvariable('window_start') AND o.created_at < getvariable('window_end')
ORDER BY m.group_key, o.shop_id, o.account_id
