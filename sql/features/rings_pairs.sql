-- rings_pairs: account pairs that were hostile to the same shop at most
-- getvariable('rings_co_seconds') apart, on two or more shops, from the registered relation
-- rings_cand(account_id, shop_id, first_at) (candidate edges, hub shops already removed so
-- the self-join stays about linear).
SELECT a.account_id AS a, b.account_id AS b, count(*) AS k
FROM rings_cand a
JOIN rings_cand b
  ON a.shop_id = b.shop_id
 AND a.account_id < b.account_id
 AND abs(epoch(a.first_at) - epoch(b.first_at)) <= getvariable('rings_co_seconds')
GROUP BY a.account_id, b.account_id
HAVING count(*) >= 2
ORDER BY a, b
