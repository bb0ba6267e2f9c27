-- victim_shops: shops targeted by extortion rings tonight, with how many rings and members hit them.
SELECT shop_id,
       count(DISTINCT cluster_id)              AS rings,
       sum(n_accounts)                         AS ring_members,
       round(sum(loss_estimate / len(shop_ids)), 2) AS loss_share_yuan
FROM report.clusters, unnest(shop_ids) AS s(shop_id)
WHERE pattern = 'extortion_ring'
GROUP BY shop_id
ORDER BY rings DESC, loss_share_yuan DESC;
