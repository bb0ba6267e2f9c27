-- timing_rhythm: does an account live like a person? For each account of `timing_events`
-- (TEMP table of the timing detector) with at least getvariable('timing_min_events') events
-- (same instant counted once, claims timed by a release left out), over the platform-local
-- clock (the session TimeZone):
-- - n, active_days, hours_active (local hours of the day with any event), hour_cells (clock
--   hours with any event: a timer covers most hours of each day it runs, a person a few);
-- - quiet: events in its quietest getvariable('timing_sleep_h') consecutive hours of the day
--   (a person sleeps; a timer does not);
-- - sleepless_halves: half days without sleep (in stretches with no gap of
--   getvariable('timing_sleep_gap_h') hours, every half day beyond the first), longest_awake_h,
--   span_days (first to last event);
-- - weekend_share: share of events on Saturday and Sunday;
-- - the intervals between its consecutive events, all streams together (n_intervals, mean,
--   sd: a Poisson timer has sd = mean);
-- - session lengths of its activity (count, quartiles: a script's barely vary).
WITH ev AS (  -- (t, local and hour_cell follow from ts: grouped by it alone)
    SELECT account_id, ts, any_value(t) AS t, any_value(hour_cell) AS hour_cell,
           median(duration_s) AS duration_s
    FROM timing_events
    WHERE NOT at_release
    GROUP BY account_id, ts
),
-- the clock hours of each account with their event counts: the day, hour-of-day and weekend
-- figures are read from these (a few per account-day) rather than from every event
cells AS (
    SELECT account_id, hour_cell, count(*) AS k
    FROM ev
    GROUP BY account_id, hour_cell
),
tested AS (
    SELECT account_id, CAST(sum(k) AS BIGINT) AS n, count(DISTINCT CAST(hour_cell AS DATE)) AS active_days,
           count(DISTINCT extract(hour FROM hour_cell)) AS hours_active,
           count(*) AS hour_cells,
           sum(CASE WHEN isodow(hour_cell) >= 6 THEN k ELSE 0 END) / sum(k) AS weekend_share
    FROM cells
    GROUP BY account_id
    HAVING sum(k) >= getvariable('timing_min_events')
),
durations AS (  -- session lengths: the three quartiles from one sort
    SELECT account_id, count(duration_s) AS n_durations,
           quantile_cont(duration_s, [0.25, 0.5, 0.75]) AS q
    FROM ev SEMI JOIN tested USING (account_id)
    GROUP BY account_id
),
hours AS (
    SELECT account_id, CAST(extract(hour FROM hour_cell) AS INTEGER) AS h, sum(k) AS k
    FROM cells SEMI JOIN tested USING (account_id)
    GROUP BY ALL
),
-- events in the getvariable('timing_sleep_h') hours of the day starting at each hour (round
-- the clock): every hour's count goes to the starts that cover it; a start no event covers
-- holds none, so an account with fewer starts than 24 has a quiet stretch of 0
quiet AS (
    SELECT account_id, CASE WHEN count(*) < 24 THEN 0 ELSE CAST(min(s) AS BIGINT) END AS quiet
    FROM (
        SELECT account_id, (h - d.d + 24) % 24 AS start, sum(k) AS s
        FROM hours CROSS JOIN range(getvariable('timing_sleep_h')) AS d(d)
        GROUP BY ALL
    )
    GROUP BY account_id
),
intervals AS (
    SELECT account_id, t, t - lag(t) OVER (PARTITION BY account_id ORDER BY t) AS gap
    FROM ev SEMI JOIN tested USING (account_id)
),
gaps AS (
    SELECT account_id, count(gap) AS n_intervals, avg(gap) AS mean_interval, stddev_pop(gap) AS sd_interval,
           (max(t) - min(t)) / 86400.0 AS span_days
    FROM intervals
    GROUP BY account_id
),
-- awake stretches: runs of events with no gap of getvariable('timing_sleep_gap_h') hours or more;
-- every whole day inside one is a day without sleep
awake AS (
    SELECT account_id, stretch, max(t) - min(t) AS length_s
    FROM (
        SELECT account_id, t,
               sum(CASE WHEN gap IS NULL OR gap >= getvariable('timing_sleep_gap_h') * 3600 THEN 1 ELSE 0 END)
                   OVER (PARTITION BY account_id ORDER BY t ROWS UNBOUNDED PRECEDING) AS stretch
        FROM intervals
    )
    GROUP BY account_id, stretch
),
sleepless AS (
    SELECT account_id, CAST(sum(greatest(floor(length_s / 43200) - 1, 0)) AS BIGINT) AS sleepless_halves,
           max(length_s) / 3600.0 AS longest_awake_h
    FROM awake
    GROUP BY account_id
)
SELECT t.account_id, t.n, t.active_days, t.hours_active, t.hour_cells, t.weekend_share,
       du.n_durations, du.q[1] AS dur_q1, du.q[2] AS dur_median, du.q[3] AS dur_q3,
       q.quiet, g.n_intervals, g.mean_interval, g.sd_interval, g.span_days,
       s.sleepless_halves, s.longest_awake_h
FROM tested AS t
JOIN durations AS du USING (account_id)
JOIN quiet AS q USING (account_id)
LEFT JOIN gaps AS g USING (account_id)
LEFT JOIN sleepless AS s USING (account_id)
