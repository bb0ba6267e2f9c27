-- ring_shop_losses: an extortion ring's money per victim shop, by the same definition as the
-- ring's loss_estimate: approved refunds + compensation on the members' hostile (account, shop)
-- edges of the window. Reads the registered table _ring_targets(cluster_id, account_id, shop_id)
-- (every member x every shop of each ring) and the hostile edges of sql/features/rings_hostile_edges.sql,
-- spliced in below by abuse.cases.
WITH edges AS ({hostile_edges})
SELECT t.cluster_id, t.shop_id,
       count(DISTINCT e.account_id)::INTEGER                      AS members,
       coalesce(sum(e.n_low), 0)::INTEGER                         AS low_ratings,
       coalesce(sum(e.n_refund_paid + e.n_comp_paid), 0)::INTEGER AS paid_requests,
       round(coalesce(sum(e.refund_paid + e.comp_paid), 0), 2)    AS loss_estimate
FROM _ring_targets t
LEFT JOIN edges e ON e.account_id = t.account_id AND e.shop_id = t.shop_id
GROUP BY t.cluster_id, t.shop_id
ORDER BY t.cluster_id, loss_estimate DESC, t.shop_id
