-- spikes_flagged: per spike of `spikes_crowd_found` (scope, window_start, window_end; registered by
-- the spikes detector), the distinct accounts of `spikes_events` in its scope during its first
-- getvariable('spikes_crowd_min') minutes, how many of them `spikes_flagged_marks` (account_id,
-- pattern, cluster_key: the findings of the detectors spikes requires) holds, the pattern most
-- of those have, and their cluster keys as 'pattern|key', most accounts first.
WITH crowd AS (
    SELECT DISTINCT s.scope, s.window_start, e.account_id
    FROM spikes_crowd_found AS s
    JOIN spikes_events AS e
      ON e.family = split_part(s.scope, ':', 1)
     AND (NOT contains(s.scope, ':') OR e.detail = split_part(s.scope, ':', 2))
     AND e.ts >= s.window_start
     AND e.ts < least(s.window_end, s.window_start + to_minutes(getvariable('spikes_crowd_min')))
    WHERE e.account_id IS NOT NULL
),
marked AS (
    SELECT c.scope, c.window_start, c.account_id, m.pattern, m.cluster_key
    FROM crowd AS c LEFT JOIN spikes_flagged_marks AS m USING (account_id)
),
keys AS (
    SELECT scope, window_start, pattern || '|' || cluster_key AS k, count(*) AS n
    FROM marked WHERE cluster_key IS NOT NULL
    GROUP BY ALL
)
SELECT m.scope, m.window_start,
       count(*) AS n_accounts,
       count(m.pattern) AS n_flagged,
       mode(m.pattern) AS top_pattern,
       coalesce((SELECT list(k ORDER BY n DESC) FROM keys AS x
                 WHERE x.scope = m.scope AND x.window_start = m.window_start), []) AS cluster_keys
FROM marked AS m
GROUP BY m.scope, m.window_start
