-- victim_shops: shops targeted by extortion rings tonight: how many rings and members hit each,
-- and what each shop itself paid them (report.cluster_shops: computed shop by shop).
SELECT s.shop_id,
       count(DISTINCT s.cluster_id)  AS rings,
       sum(s.members)                AS ring_members,
       sum(s.low_ratings)            AS low_ratings,
       sum(s.paid_requests)          AS paid_requests,
       round(sum(s.loss_estimate), 2) AS loss_yuan
FROM report.cluster_shops s
JOIN report.clusters c USING (run_id, cluster_id)
WHERE c.pattern = 'extortion_ring'
GROUP BY s.shop_id
ORDER BY rings DESC, loss_yuan DESC, s.shop_id;
