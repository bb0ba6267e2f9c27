-- dossier_ring_edges: the hostile actions of a ring's members on each shop: low ratings
-- (posted or amended to 1-2 stars), refund and compensation requests, and what was paid.
-- Parameters: getvariable('dossier_accounts') (VARCHAR[], set by abuse.dossier.data), getvariable('dossier_shops') (VARCHAR[]; empty = every shop they hit).
WITH members AS (SELECT DISTINCT unnest(getvariable('dossier_accounts')) AS account_id),
shops AS (SELECT DISTINCT unnest(getvariable('dossier_shops')) AS shop_id),
hostile AS (
    SELECT account_id, shop_id, 1 AS low_reviews, 0 AS refunds, 0 AS compensations, 0.0 AS paid
    FROM stg_reviews
    WHERE account_id IN (SELECT account_id FROM members)
      AND coalesce(action, 'posted') IN ('posted', 'amended') AND rating <= 2
    UNION ALL
    SELECT account_id, shop_id, 0, (coalesce(kind, 'refund') = 'refund')::INTEGER,
           (kind = 'compensation')::INTEGER,
           CASE WHEN outcome = 'approved' THEN amount::DOUBLE ELSE 0 END
    FROM stg_refunds
    WHERE account_id IN (SELECT account_id FROM members)
)
SELECT account_id, shop_id, sum(low_reviews)::INTEGER AS low_reviews,
       sum(refunds)::INTEGER AS refunds, sum(compensations)::INTEGER AS compensations,
       sum(paid) AS paid
FROM hostile
WHERE (SELECT count(*) FROM shops) = 0 OR shop_id IN (SELECT shop_id FROM shops)
GROUP BY account_id, shop_id
ORDER BY account_id, shop_id
