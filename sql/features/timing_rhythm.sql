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
WITH ev AS (
    SELECT account_id, ts, t, any_value(local) AS local, any_value(hour_cell) AS hour_cell,
           median(duration_s) AS duration_s
    FROM timing_events
    WHERE NOT at_release
    GROUP BY account_id, ts, t
),
tested AS (
    SELECT account_id, count(*) AS n, count(DISTINCT CAST(local AS DATE)) AS active_days,
           count(DISTINCT extract(hour FROM local)) AS hours_active,
           count(DISTINCT hour_cell) AS hour_cells,
           avg(CASE WHEN isodow(local) >= 6 THEN 1.0 ELSE 0.0 END) AS weekend_share,
           count(duration_s) AS n_durations,
           quantile_cont(duration_s, 0.25) AS dur_q1,
           quantile_cont(duration_s, 0.5) AS dur_median,
           quantile_cont(duration_s, 0.75) AS dur_q3
    FROM ev
    GROUP BY account_id
    HAVING count(*) >= getvariable('timing_min_events')
),
hours AS (
    SELECT account_id, CAST(extract(hour FROM local) AS INTEGER) AS h, count(*) AS k
    FROM ev SEMI JOIN tested USING (account_id)
    GROUP BY ALL
),
grid AS (
    SELECT t.account_id, g.h, coalesce(x.k, 0) AS k
    FROM tested AS t CROSS JOIN range(24) AS g(h)
    LEFT JOIN hours AS x ON x.account_id = t.account_id AND x.h = g.h
),
circular AS (
    SELECT account_id, h, k FROM grid
    UNION ALL
    SELECT account_id, h + 24, k FROM grid WHERE h < getvariable('timing_sleep_h')
),
quiet AS (
    SELECT account_id, CAST(min(s) AS BIGINT) AS quiet
    FROM (
        SELECT account_id, h,
               sum(k) OVER (PARTITION BY account_id ORDER BY h
                            ROWS BETWEEN CURRENT ROW AND getvariable('timing_sleep_h') - 1 FOLLOWING) AS s
        FROM circular
    )
    WHERE h < 24
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
SELECT t.*, q.quiet, g.n_intervals, g.mean_interval, g.sd_interval, g.span_days,
       s.sleepless_halves, s.longest_awake_h
FROM tested AS t
JOIN quiet AS q USING (account_id)
LEFT JOIN gaps AS g USING (account_id)
LEFT JOIN sleepless AS s USING (account_id)
