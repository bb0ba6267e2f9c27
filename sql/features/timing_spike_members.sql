-- timing_spike_members: accounts that act inside an unexplained spike and nowhere else in
-- the window ("a sudden increase in registered users with no further behaviour"), with how
-- many such lone members share their device or network block (IPv4 /24, IPv6 /48: `ip_block`) and how
-- many of the spike's members are lone. The timing detector decides which to flag.
-- A spike's ragged edges count: members are looked for getvariable('timing_member_pad_min')
-- minutes either side of its window. Reads TEMP tables of the timing detector:
-- `timing_spikes` (the unexplained spikes), `timing_spike_events` (the events of those bursts
-- the spikes detector hands over: DetectorResult.handover) and `timing_events`.
WITH padded AS (
    SELECT scope, observed, expected, p_value, window_start AS spike_start, window_end AS spike_end,
           window_start - to_minutes(getvariable('timing_member_pad_min')) AS window_start,
           window_end + to_minutes(getvariable('timing_member_pad_min')) AS window_end
    FROM timing_spikes
),
spike_minutes AS (
    SELECT s.scope, s.window_start, s.window_end, s.spike_start, s.spike_end,
           s.observed, s.expected, s.p_value,
           split_part(s.scope, ':', 1) AS family,
           nullif(split_part(s.scope, ':', 2), '') AS detail,
           unnest(generate_series(s.window_start, s.window_end - INTERVAL 1 MINUTE, INTERVAL 1 MINUTE)) AS minute
    FROM padded AS s
),
hits AS (
    SELECT m.scope, m.window_start, m.window_end, m.spike_start, m.spike_end,
           m.observed, m.expected, m.p_value, e.account_id, e.ts, e.device_id,
           ip_block(e.ip) AS block
    FROM spike_minutes AS m
    JOIN timing_spike_events AS e ON e.family = m.family AND e.minute = m.minute
    WHERE (m.detail IS NULL OR e.detail = m.detail) AND e.account_id IS NOT NULL
),
totals AS (
    SELECT account_id, count(*) AS n_window
    FROM timing_events
    WHERE account_id IN (SELECT account_id FROM hits)
    GROUP BY account_id
),
inside AS (
    SELECT h.scope, h.window_start, h.account_id, count(t.ts) AS n_inside
    FROM (SELECT DISTINCT scope, window_start, window_end, account_id FROM hits) AS h
    JOIN timing_events AS t ON t.account_id = h.account_id
     AND t.ts >= h.window_start AND t.ts < h.window_end
    GROUP BY ALL
),
flags AS (
    -- a member is lone when it did nothing in the window outside the (padded) spike
    SELECT h.*, coalesce(t.n_window, 0) = coalesce(i.n_inside, 0) AS lone
    FROM hits AS h
    LEFT JOIN totals AS t USING (account_id)
    LEFT JOIN inside AS i USING (scope, window_start, account_id)
),
crowd AS (
    SELECT scope, window_start, count(DISTINCT account_id) AS n_members,
           count(DISTINCT account_id) FILTER (WHERE lone) AS n_lone
    FROM flags
    GROUP BY ALL
),
lone AS (
    SELECT * FROM flags WHERE lone
),
shared AS (
    SELECT scope, window_start, account_id,
           max(n_device) AS on_device, max(n_block) AS on_block
    FROM (
        SELECT *,
            CASE WHEN device_id IS NULL THEN 0 ELSE
                 count(DISTINCT account_id) OVER (PARTITION BY scope, window_start, device_id) END AS n_device,
            CASE WHEN block IS NULL THEN 0 ELSE
                 count(DISTINCT account_id) OVER (PARTITION BY scope, window_start, block) END AS n_block
        FROM lone
    )
    GROUP BY ALL
)
SELECT DISTINCT l.account_id, l.scope, l.spike_start, l.spike_end, l.observed, l.expected, l.p_value,
       s.on_device, s.on_block, c.n_members, c.n_lone,
       l.ts >= l.spike_start AND l.ts < l.spike_end AS in_core  -- not just in the padding
FROM lone AS l
JOIN shared AS s USING (scope, window_start, account_id)
JOIN crowd AS c USING (scope, window_start)
