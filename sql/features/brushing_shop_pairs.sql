-- brushing_shop_pairs: shop pairs positively reviewed by the same accounts, from the
-- registered relation brushing_cand(account_id, shop_id) (candidate edges: accounts with
-- several positive shops). The projection is onto shops, not accounts: its cost is the sum of
-- the squared shop counts of the accounts, linear in the edges when those stay bounded.
SELECT a.shop_id AS s, b.shop_id AS t, count(*) AS c
FROM brushing_cand a
JOIN brushing_cand b ON a.account_id = b.account_id AND a.shop_id < b.shop_id
GROUP BY a.shop_id, b.shop_id
HAVING count(*) >= 2
ORDER BY s, t
