-- spikes_candidates: minutes of the window in which a scope's count may exceed its baseline
-- (at least getvariable('spikes_min_count') accounts, or getvariable('spikes_min_count_wide')
-- in the wide bin: below that not even the Poisson floor is beaten), with that baseline, for
-- the Poisson test in Python. Reads the per-minute counts `spikes_minutes` (TEMP view,
-- spikes_minutes.sql) and the wide counts of `feat_spikes_counts` (spikes_counts.sql).
--
-- A minute's count is the number of distinct accounts acting in it (one person's busy
-- session is not a crowd). For every scope (a family, or family:detail such as
-- coupon_claims:<campaign_id>) counts are laid on a dense grid of platform-local wall-clock
-- minutes (no time zone arithmetic per row), smoothed over +-getvariable('spikes_smooth_min')
-- minutes; the baseline of a candidate minute is the median of the same minute of the day
-- over up to getvariable('spikes_baseline_days') earlier days, or, with fewer than
-- getvariable('spikes_min_history_days') of them, over the other days either side (the larger of raw and
-- smoothed: a daily 20:00 habit keeps its sharp peak, a sparse scope its average; spread from
-- the interquartile range), scaled by a day-of-week factor from daily totals. The same is done for the distinct accounts of each
-- tumbling bin of getvariable('spikes_wide_min') minutes (n_wide, on the bin's first minute):
-- a sparse scope's spike shows at that scale. `day_uplift` is how much busier than usual the
-- candidate's whole day runs (median over its hours: a burst moves one hour), to judge
-- whether a sale day explains it.
WITH bounds AS (
    SELECT CAST(getvariable('window_start') AS TIMESTAMP) AS w0,
           CAST(getvariable('window_end') AS TIMESTAMP) AS w1,
           CAST(getvariable('window_start') AS TIMESTAMP)
               - to_days(getvariable('spikes_baseline_days')) AS b0
),
counts AS (SELECT scope, minute, n FROM spikes_minutes),  -- TEMP view of spikes_minutes.sql
wide_counts AS (  -- the per-day wide counts of spikes_counts.sql
    SELECT scope, minute, n AS n_wide
    FROM feat_spikes_counts
    WHERE grain = 'wide'
      AND minute >= CAST(getvariable('spikes_from') AS TIMESTAMP)
      AND minute < CAST(getvariable('window_end') AS TIMESTAMP)
),
scopes AS (
    SELECT scope, greatest(min(minute), b.b0) AS first_minute
    FROM counts, bounds AS b
    GROUP BY scope, b.b0, b.w0
    HAVING max(n) FILTER (WHERE minute >= b.w0) >= getvariable('spikes_min_count')
),
grid AS (
    SELECT s.scope, unnest(generate_series(s.first_minute, b.w1 - INTERVAL 1 MINUTE, INTERVAL 1 MINUTE)) AS minute
    FROM scopes AS s, bounds AS b
),
dense AS (
    SELECT g.scope, g.minute, coalesce(c.n, 0) AS n,
           coalesce(wc.n_wide, 0) AS bin_wide,  -- the wide count of the minute's bin
           CASE WHEN g.minute = g.bin THEN coalesce(wc.n_wide, 0) END AS n_wide,
           CAST(g.minute AS DATE) AS day,
           CAST(extract(hour FROM g.minute) * 60 + extract(minute FROM g.minute) AS INTEGER) AS minute_of_day,
           isodow(g.minute) AS dow
    FROM (SELECT *, time_bucket(to_minutes(getvariable('spikes_wide_min')), minute) AS bin FROM grid) AS g
    LEFT JOIN counts AS c USING (scope, minute)
    LEFT JOIN wide_counts AS wc ON wc.scope = g.scope AND wc.minute = g.bin
),
smoothed AS (
    SELECT *, avg(n) OVER (PARTITION BY scope ORDER BY minute
                           ROWS BETWEEN getvariable('spikes_smooth_min') PRECEDING
                                    AND getvariable('spikes_smooth_min') FOLLOWING) AS n_smooth
    FROM dense
),
candidates AS (
    SELECT s.* FROM smoothed AS s, bounds AS b
    WHERE s.minute >= b.w0
      AND (s.n >= getvariable('spikes_min_count') OR s.bin_wide >= getvariable('spikes_min_count_wide'))
),
usual AS (
    -- the same minute of the day on the baseline days before the candidate's day
    SELECT c.scope, c.minute,
        quantile_cont(h.n, 0.5) AS med_raw,
        quantile_cont(h.n_smooth, [0.25, 0.5, 0.75]) AS q_smooth,
        quantile_cont(h.n_wide, [0.25, 0.5, 0.75]) AS q_wide,
        count(h.n) AS n_days
    FROM candidates AS c
    JOIN smoothed AS h
      ON h.scope = c.scope AND h.minute_of_day = c.minute_of_day AND h.day < c.day
     AND h.day >= c.day - getvariable('spikes_baseline_days')
    GROUP BY c.scope, c.minute
),
around AS (
    -- for a scope with too little history (the window's first days, a new campaign), every
    -- other day up to that many days either side (only for those candidates: the usual case
    -- needs one pass over the earlier days, not two over both sides)
    SELECT c.scope, c.minute,
        quantile_cont(h.n, 0.5) AS any_med_raw,
        quantile_cont(h.n_smooth, [0.25, 0.5, 0.75]) AS any_q_smooth,
        quantile_cont(h.n_wide, [0.25, 0.5, 0.75]) AS any_q_wide
    FROM candidates AS c
    LEFT JOIN usual AS u USING (scope, minute)
    JOIN smoothed AS h
      ON h.scope = c.scope AND h.minute_of_day = c.minute_of_day AND h.day <> c.day
     AND h.day >= c.day - getvariable('spikes_baseline_days')
     AND h.day <= c.day + getvariable('spikes_baseline_days')
    WHERE NOT coalesce(u.n_days >= getvariable('spikes_min_history_days'), false)
    GROUP BY c.scope, c.minute
),
baseline AS (
    SELECT c.scope, c.minute, u.n_days,
        CASE WHEN u.n_days >= getvariable('spikes_min_history_days') THEN u.med_raw ELSE a.any_med_raw END AS med_raw,
        CASE WHEN u.n_days >= getvariable('spikes_min_history_days') THEN u.q_smooth ELSE a.any_q_smooth END AS q_smooth,
        CASE WHEN u.n_days >= getvariable('spikes_min_history_days') THEN u.q_wide ELSE a.any_q_wide END AS q_wide
    FROM candidates AS c
    LEFT JOIN usual AS u USING (scope, minute)
    LEFT JOIN around AS a USING (scope, minute)
    WHERE u.scope IS NOT NULL OR a.scope IS NOT NULL
),
hourly AS (
    SELECT scope, day, extract(hour FROM minute) AS hour, any_value(dow) AS dow, sum(n) AS total
    FROM dense
    GROUP BY scope, day, hour
),
uplift AS (
    SELECT h.scope, h.day, median(h.total / b.usual) AS day_uplift
    FROM hourly AS h
    JOIN (SELECT scope, hour, median(total) AS usual FROM hourly, bounds
          WHERE day < CAST(w0 AS DATE) GROUP BY ALL) AS b USING (scope, hour)
    WHERE b.usual > 0
    GROUP BY ALL
),
daily AS (
    SELECT scope, day, any_value(dow) AS dow, sum(total) AS total
    FROM hourly, bounds
    WHERE day < CAST(w0 AS DATE)
    GROUP BY scope, day
),
weekday AS (
    SELECT d.scope, d.dow,
           CASE WHEN count(*) >= 2 AND any_value(a.mean_total) > 0
                THEN least(greatest(avg(d.total) / any_value(a.mean_total), 0.5), 2.0)
                ELSE 1.0 END AS factor
    FROM daily AS d
    JOIN (SELECT scope, avg(total) AS mean_total FROM daily GROUP BY scope) AS a USING (scope)
    GROUP BY d.scope, d.dow
)
SELECT c.scope, CAST(c.minute AS TIMESTAMPTZ) AS minute, c.n AS observed, c.n_wide AS observed_wide,
       coalesce(greatest(u.med_raw, u.q_smooth[2]), 0) * coalesce(w.factor, 1.0) AS expected,
       coalesce((u.q_smooth[3] - u.q_smooth[1]) / 1.349, 0) * coalesce(w.factor, 1.0) AS spread,
       coalesce(greatest(u.q_wide[2], u.q_smooth[2] * getvariable('spikes_wide_min')), 0)
           * coalesce(w.factor, 1.0) AS expected_wide,
       coalesce((u.q_wide[3] - u.q_wide[1]) / 1.349, 0) * coalesce(w.factor, 1.0) AS spread_wide,
       coalesce(u.n_days, 0) AS n_days, coalesce(d.day_uplift, 1.0) AS day_uplift
FROM candidates AS c
LEFT JOIN baseline AS u USING (scope, minute)
LEFT JOIN weekday AS w ON w.scope = c.scope AND w.dow = c.dow
LEFT JOIN uplift AS d ON d.scope = c.scope AND d.day = c.day
