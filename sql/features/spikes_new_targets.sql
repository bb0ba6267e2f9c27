-- spikes_new_targets: per activity spike of `spikes_organic_found` (scope, window_start,
-- window_end) the target most of its events in its scope went to (top_target, n_top of n_events)
-- and when that target first appeared in the log (first_seen): a burst on a target that did not
-- exist before it is the crowd of a new post or entry, like a release; n_accounts and n_devices
-- (distinct devices, an account without one counting as its own) of the accounts on that target
-- say whether the crowd is people on their own phones or a few machines.
WITH hits AS (
    SELECT s.scope, s.window_start, a.target_id, a.account_id, coalesce(a.device_id, 'acc:' || a.account_id) AS device
    FROM spikes_organic_found AS s
    JOIN stg_activity AS a
      ON a.ts >= s.window_start AND a.ts < s.window_end
     AND (NOT contains(s.scope, ':') OR a.action = split_part(s.scope, ':', 2))
    WHERE split_part(s.scope, ':', 1) = 'activity'
),
per AS (
    SELECT scope, window_start, target_id, count(*) AS n FROM hits
    WHERE target_id IS NOT NULL GROUP BY ALL
),
top AS (
    SELECT scope, window_start, arg_max(target_id, (n, target_id)) AS top_target, max(n) AS n_top,
           CAST(sum(n) AS BIGINT) AS n_events
    FROM per GROUP BY ALL
)
SELECT t.scope, t.window_start, t.top_target, t.n_top, t.n_events,
       (SELECT min(a.ts) FROM stg_activity AS a WHERE a.target_id = t.top_target) AS first_seen,
       (SELECT count(DISTINCT h.account_id) FROM hits AS h
        WHERE h.scope = t.scope AND h.window_start = t.window_start AND h.target_id = t.top_target) AS n_accounts,
       (SELECT count(DISTINCT h.device) FROM hits AS h
        WHERE h.scope = t.scope AND h.window_start = t.window_start AND h.target_id = t.top_target) AS n_devices
FROM top AS t
