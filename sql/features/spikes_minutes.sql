-- spikes_minutes: distinct accounts per scope (family, and family:detail) and platform-local
-- wall-clock minute of `spikes_events` (TEMP table of the spikes detector), non-zero minutes
-- only: the counts the candidate minutes are tested on (spikes_candidates.sql) and the
-- multi-scale scan sums over windows of half an hour to two days. The spikes detector defines
-- it as the TEMP view `spikes_minutes` beside `spikes_events`.
SELECT CASE WHEN detail IS NULL THEN family ELSE family || ':' || detail END AS scope,
       local_minute AS minute, count(DISTINCT account_id) AS n
FROM spikes_events
GROUP BY GROUPING SETS ((family, local_minute), (family, detail, local_minute))
HAVING NOT (grouping(detail) = 0 AND detail IS NULL)
