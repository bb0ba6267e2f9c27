-- spikes_flagged: per spike of `spikes_crowd_found` (scope, window_start, window_end; registered by
-- the spikes detector), the distinct accounts of `spikes_events` in its scope, how many of them
-- `spikes_flagged_marks` (account_id, pattern, cluster_key: the findings of the detectors spikes
-- requires) holds, the pattern most of those have, and their cluster keys as 'pattern|key', most
-- accounts first. Two crowds are looked at: the first getvariable('spikes_crowd_min') minutes (who
-- came at a release) and the whole window (who made a wave of hours, whose edges are ordinary
-- signups); the row is the crowd with the larger flagged share (the first minutes on a tie;
-- `whole` says which).
WITH crowd AS (
    SELECT DISTINCT s.scope, s.window_start, e.account_id,
           e.ts < s.window_start + to_minutes(getvariable('spikes_crowd_min')) AS early
    FROM spikes_crowd_found AS s
    JOIN spikes_events AS e
      ON e.family = split_part(s.scope, ':', 1)
     AND (NOT contains(s.scope, ':') OR e.detail = split_part(s.scope, ':', 2))
     AND e.ts >= s.window_start
     AND e.ts < s.window_end
    WHERE e.account_id IS NOT NULL
),
parts AS (
    SELECT DISTINCT scope, window_start, account_id, 0 AS part FROM crowd WHERE early
    UNION ALL
    SELECT DISTINCT scope, window_start, account_id, 1 AS part FROM crowd
),
marked AS (
    SELECT c.scope, c.window_start, c.part, c.account_id, m.pattern, m.cluster_key
    FROM parts AS c LEFT JOIN spikes_flagged_marks AS m USING (account_id)
),
keys AS (
    SELECT scope, window_start, part, pattern || '|' || cluster_key AS k, count(*) AS n
    FROM marked WHERE cluster_key IS NOT NULL
    GROUP BY ALL
),
per_part AS (
    SELECT m.scope, m.window_start, m.part,
           count(*) AS n_accounts,
           count(m.pattern) AS n_flagged,
           mode(m.pattern) AS top_pattern,
           coalesce((SELECT list(k ORDER BY n DESC, k) FROM keys AS x
                     WHERE x.scope = m.scope AND x.window_start = m.window_start AND x.part = m.part), [])
               AS cluster_keys
    FROM marked AS m
    GROUP BY m.scope, m.window_start, m.part
)
SELECT scope, window_start, n_accounts, n_flagged, top_pattern, cluster_keys, part = 1 AS whole
FROM per_part
QUALIFY row_number() OVER (
    PARTITION BY scope, window_start ORDER BY n_flagged / n_accounts DESC, part
) = 1
