-- dossier_members: one row per member of a case, with its finding of that run and its
-- registration facts. Parameters: $run_id, $cluster_id, getvariable('dossier_accounts') (VARCHAR[], set by abuse.dossier.data).
WITH members AS (SELECT DISTINCT unnest(getvariable('dossier_accounts')) AS account_id),
found AS (
    SELECT account_id, max(score) AS score,
           string_agg(reason, ' | ' ORDER BY score DESC, pattern) AS reason
    FROM findings
    WHERE run_id = $run_id AND cluster_id = $cluster_id
      AND account_id IN (SELECT account_id FROM members)
    GROUP BY account_id
)
SELECT m.account_id, f.score, f.reason,
       strftime(a.registered_at, '%Y-%m-%d %H:%M:%S') AS registered_at,
       a.device_id, a.ip, a.phone_prefix, a.channel, a.invited_by
FROM members m
LEFT JOIN found f USING (account_id)
LEFT JOIN stg_accounts a USING (account_id)
ORDER BY f.score DESC NULLS LAST, m.account_id
