-- engagement_coengage_pairs: candidate target pairs (sharing a MinHash band signature in
-- TEMP table `engagement_coengage_bands`: target_id, action, band, sig; bands that put more than
-- getvariable('coengage_max_bucket') targets together are skipped, which keeps the pairs linear)
-- with their shared engaging accounts. One pass of getvariable('coengage_parts'): the pairs whose
-- first target's hash(target_id, action) falls in part getvariable('coengage_part') (passes are
-- disjoint; their union is every pair). Reads `engagement_events`.
WITH b AS (
    SELECT * FROM engagement_coengage_bands
    QUALIFY count(*) OVER (PARTITION BY band, sig) <= getvariable('coengage_max_bucket')
),
cand AS (
    SELECT DISTINCT x.target_id AS t1, x.action AS a1, y.target_id AS t2, y.action AS a2
    FROM b AS x JOIN b AS y ON x.band = y.band AND x.sig = y.sig
     AND (x.target_id, x.action) < (y.target_id, y.action)
    WHERE hash(x.target_id, x.action) % getvariable('coengage_parts') = getvariable('coengage_part')
),
ae AS (SELECT DISTINCT account_id, target_id, action FROM engagement_events)
SELECT c.t1, c.a1, c.t2, c.a2, count(*) AS shared
FROM cand AS c
JOIN ae AS e1 ON e1.target_id = c.t1 AND e1.action = c.a1
JOIN ae AS e2 ON e2.target_id = c.t2 AND e2.action = c.a2 AND e2.account_id = e1.account_id
GROUP BY ALL
