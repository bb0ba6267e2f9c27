-- dossier_incidents: the run's activity spikes as incidents for the dossier index, largest and
-- least explained first: scope, start and end, accounts, occurrences and cadence, the share
-- flagged, the cases behind it (cluster_ids) and the explanation. Parameters: $run_id (BIGINT).
SELECT scope, window_start, window_end, observed, expected, score,
       coalesce(occurrences, 1) AS occurrences, cadence, flagged_share,
       coalesce(cluster_ids, []) AS cluster_ids, explained_by
FROM spikes
WHERE run_id = $run_id
ORDER BY (explained_by IS NOT NULL AND coalesce(flagged_share, 0) < 0.5), score DESC, window_start, scope
