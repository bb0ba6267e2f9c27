-- batches_members: the accounts registered in each registration burst of `batches_bursts`
-- (TEMP table of the batches detector: burst_no, window_start, window_end, and the extent of
-- the slow waves it was given, wave_start and wave_end, null when none; the spikes detector's
-- results),
-- looked for getvariable('batches_pad_min') minutes either side of it, with whether they did
-- anything else in the window (an order, review, refund, coupon event or activity event: `idle`
-- when none), their identifiers (device, network block `ip_block`: IPv4 /24 or IPv6 /48, 7-digit
-- number segment, inviter), how many of the burst's idle members share each, and the burst's
-- member and idle counts. Accounts registered up to getvariable('batches_reach_min') minutes
-- either side (`near` = false, `in_reach`) or in the extent of its waves come too: a wave
-- that rises slowly starts before its burst stands out, on the same machines. `inviter_new`:
-- the account's inviter registered no earlier than the span looked at (one of the crowd, not an
-- established member who invited it).
WITH members AS (
    SELECT b.burst_no, a.account_id, a.registered_at, a.device_id, a.phone_prefix, a.invited_by,
           ip_block(a.ip) AS block,
           a.registered_at >= b.window_start AND a.registered_at < b.window_end AS in_core,
           a.registered_at >= b.window_start - to_minutes(getvariable('batches_pad_min'))
           AND a.registered_at < b.window_end + to_minutes(getvariable('batches_pad_min')) AS near,
           a.registered_at >= b.window_start - to_minutes(getvariable('batches_reach_min'))
           AND a.registered_at < b.window_end + to_minutes(getvariable('batches_reach_min')) AS in_reach,
           coalesce(i.registered_at >= b.lo, false) AS inviter_new
    FROM (
        SELECT *,
               least(window_start - to_minutes(getvariable('batches_reach_min')),
                     coalesce(wave_start, window_start)) AS lo,
               greatest(window_end + to_minutes(getvariable('batches_reach_min')),
                        coalesce(wave_end, window_end)) AS hi
        FROM batches_bursts
    ) AS b
    JOIN stg_accounts AS a ON a.registered_at >= b.lo AND a.registered_at < b.hi
    LEFT JOIN stg_accounts AS i ON i.account_id = a.invited_by
),
active AS (
    SELECT DISTINCT account_id FROM int_account_events  -- sql/intermediate
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
      AND account_id IN (SELECT account_id FROM members)
),
flags AS (
    SELECT m.*, x.account_id IS NULL AS idle
    FROM members AS m LEFT JOIN active AS x USING (account_id)
),
crowd AS (
    SELECT burst_no, count(DISTINCT account_id) FILTER (WHERE near) AS n_members,
           count(DISTINCT account_id) FILTER (WHERE near AND idle) AS n_idle
    FROM flags GROUP BY burst_no
),
counted AS (
    SELECT f.burst_no, f.account_id, f.registered_at, f.device_id, f.block, f.phone_prefix, f.invited_by,
           f.in_core, f.near, f.in_reach, f.inviter_new, c.n_members, c.n_idle,
           CASE WHEN f.device_id IS NULL THEN 0 ELSE
                count(*) FILTER (WHERE f.near) OVER (PARTITION BY f.burst_no, f.device_id) END AS on_device,
           CASE WHEN f.block IS NULL THEN 0 ELSE
                count(*) FILTER (WHERE f.near) OVER (PARTITION BY f.burst_no, f.block) END AS on_block,
           CASE WHEN f.phone_prefix IS NULL THEN 0 ELSE
                count(*) FILTER (WHERE f.near) OVER (PARTITION BY f.burst_no, f.phone_prefix) END AS on_segment,
           CASE WHEN f.invited_by IS NULL THEN 0 ELSE
                count(*) FILTER (WHERE f.near) OVER (PARTITION BY f.burst_no, f.invited_by) END AS on_inviter
    FROM flags AS f JOIN crowd AS c USING (burst_no)
    WHERE f.idle
)
SELECT * FROM counted
