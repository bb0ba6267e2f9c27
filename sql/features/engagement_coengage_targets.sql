-- engagement_coengage_targets: per target/action with at least
-- getvariable('coengage_min_accounts') engaging accounts, MinHash signature bands over its set
-- of engagers (getvariable('coengage_hashes') hashes, getvariable('coengage_rows') per band): two targets whose audiences overlap share a
-- band's signature with high chance, so candidate pairs come without projecting all account
-- pairs. One pass of getvariable('coengage_parts'): the targets whose hash(target_id, action)
-- falls in part getvariable('coengage_part') (a target's bands are its own: passes are disjoint).
-- Reads `engagement_events`.
WITH ae AS (
    SELECT DISTINCT account_id, target_id, action FROM engagement_events
    WHERE hash(target_id, action) % getvariable('coengage_parts') = getvariable('coengage_part')
),
tgt AS (SELECT target_id, action FROM ae GROUP BY ALL HAVING count(*) >= getvariable('coengage_min_accounts')),
h AS (
    SELECT ae.target_id, ae.action, s.i, min(hash(ae.account_id, s.i)) AS mh
    FROM ae JOIN tgt USING (target_id, action)
    CROSS JOIN range(getvariable('coengage_hashes')) AS s(i)
    GROUP BY ALL
)
SELECT target_id, action, i // getvariable('coengage_rows') AS band, hash(list(mh ORDER BY i)) AS sig
FROM h
GROUP BY ALL
