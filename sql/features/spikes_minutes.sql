-- spikes_minutes: distinct accounts per scope (family, and family:detail) and platform-local
-- wall-clock minute from getvariable('spikes_from') to the end of the window, non-zero minutes
-- only: the counts the candidate minutes are tested on (spikes_candidates.sql) and the
-- multi-scale scan sums over windows of half an hour to two days. Read from the per-day
-- counts `feat_spikes_counts` (spikes_counts.sql; the minutes of local days, and the window's
-- bounds are local midnights). The spikes detector defines it as the TEMP view `spikes_minutes`.
SELECT scope, minute, n
FROM feat_spikes_counts
WHERE grain = 'minute'
  AND minute >= CAST(getvariable('spikes_from') AS TIMESTAMP)
  AND minute < CAST(getvariable('window_end') AS TIMESTAMP)
