-- batches_hoarding_ids: the identifiers (device, network block, 7-digit number segment, and
-- the account itself as an inviter) of the members of the hoarding detector's batches
-- (`batches_hoarders`: account_id, cluster_key; its results), one row per identifier and batch,
-- with how many of the batch's members hold it. An idle burst registrant that shares one of
-- these ties to that batch.
WITH ids AS (
    SELECT h.cluster_key, 'device' AS kind, a.device_id AS value FROM batches_hoarders AS h
    JOIN stg_accounts AS a USING (account_id) WHERE a.device_id IS NOT NULL
    UNION ALL
    SELECT h.cluster_key, 'block',
           ip_block(a.ip)
    FROM batches_hoarders AS h JOIN stg_accounts AS a USING (account_id) WHERE a.ip IS NOT NULL
    UNION ALL
    SELECT h.cluster_key, 'segment', a.phone_prefix FROM batches_hoarders AS h
    JOIN stg_accounts AS a USING (account_id) WHERE a.phone_prefix IS NOT NULL
    UNION ALL
    SELECT h.cluster_key, 'inviter', coalesce(a.invited_by, h.account_id) FROM batches_hoarders AS h
    JOIN stg_accounts AS a USING (account_id)
)
SELECT cluster_key, kind, value, count(*) AS n_holders
FROM ids WHERE value IS NOT NULL
GROUP BY ALL
