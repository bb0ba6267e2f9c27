-- feat_spikes_counts: distinct accounts per scope (family, and family:detail) and
-- platform-local wall-clock minute (grain 'minute') and tumbling bin of getvariable('spikes_wide_min')
-- minutes (grain 'wide', on the bin's first minute), kept per local day (`day`: a minute and
-- a bin lie in one day) for the events of spikes_event_rows from getvariable('feat_from') to
-- getvariable('feat_to') on the days of `feat_days` (TEMP table; every day of that span when
-- getvariable('feat_all_days')). The spikes detector reads its per-minute counts
-- (spikes_minutes.sql) and wide counts (spikes_candidates.sql) from here; the spikes
-- feature step (detect/spikes/daily.py) deletes a changed day's rows and inserts these.
WITH e AS (
    SELECT family, detail, local_minute, account_id, CAST(local_minute AS DATE) AS day
    FROM spikes_event_rows(getvariable('feat_from'), getvariable('feat_to'))
    WHERE getvariable('feat_all_days') OR CAST(local_minute AS DATE) IN (SELECT day FROM feat_days)
)
SELECT any_value(day) AS day, 'minute' AS grain,
       CASE WHEN detail IS NULL THEN family ELSE family || ':' || detail END AS scope,
       local_minute AS minute, count(DISTINCT account_id) AS n
FROM e
GROUP BY GROUPING SETS ((family, local_minute), (family, detail, local_minute))
HAVING NOT (grouping(detail) = 0 AND detail IS NULL)
UNION ALL
SELECT any_value(day), 'wide',
       CASE WHEN detail IS NULL THEN family ELSE family || ':' || detail END,
       time_bucket(to_minutes(getvariable('spikes_wide_min')), local_minute) AS minute,
       count(DISTINCT account_id)
FROM e
GROUP BY GROUPING SETS ((family, 4), (family, detail, 4))
HAVING NOT (grouping(detail) = 0 AND detail IS NULL)
