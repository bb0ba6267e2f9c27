-- spikes_signups: per registration spike of `spikes_organic_found` (TEMP frame of the spikes
-- detector: scope, window_start, window_end) the accounts registered in it (n_members), how many
-- of them went on to do anything in the window (n_active: an order, review, refund, coupon claim
-- or activity event of `spikes_events`), and the inviter most of them name with how many
-- (top_inviter, n_top_inviter); plus the window's own new accounts and active ones as the base
-- rate (registered, registered_active, the same on every row); n_devices: their distinct devices
-- (an account without one counting as its own).
WITH members AS (
    SELECT DISTINCT s.scope, s.window_start, e.account_id
    FROM spikes_organic_found AS s
    JOIN spikes_events AS e
      ON e.family = 'registrations' AND e.ts >= s.window_start AND e.ts < s.window_end
    WHERE s.scope = 'registrations' AND e.account_id IS NOT NULL
),
active AS (
    SELECT DISTINCT account_id FROM spikes_events
    WHERE family <> 'registrations' AND ts >= getvariable('window_start')
),
base AS (
    SELECT count(DISTINCT e.account_id) AS registered,
           count(DISTINCT e.account_id) FILTER (WHERE x.account_id IS NOT NULL) AS registered_active
    FROM spikes_events AS e LEFT JOIN active AS x USING (account_id)
    WHERE e.family = 'registrations' AND e.ts >= getvariable('window_start')
),
inviters AS (
    SELECT m.scope, m.window_start, a.invited_by, count(*) AS n
    FROM members AS m JOIN stg_accounts AS a USING (account_id)
    WHERE a.invited_by IS NOT NULL
    GROUP BY ALL
),
top AS (
    SELECT scope, window_start, arg_max(invited_by, (n, invited_by)) AS top_inviter, max(n) AS n_top_inviter
    FROM inviters GROUP BY ALL
)
SELECT m.scope, m.window_start, count(*) AS n_members, count(x.account_id) AS n_active,
       count(DISTINCT coalesce(d.device_id, 'acc:' || m.account_id)) AS n_devices,
       any_value(t.top_inviter) AS top_inviter, coalesce(any_value(t.n_top_inviter), 0) AS n_top_inviter,
       any_value(b.registered) AS registered, any_value(b.registered_active) AS registered_active
FROM members AS m
LEFT JOIN active AS x USING (account_id)
LEFT JOIN stg_accounts AS d USING (account_id)
LEFT JOIN top AS t USING (scope, window_start)
CROSS JOIN base AS b
GROUP BY m.scope, m.window_start
