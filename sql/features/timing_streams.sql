-- timing_streams: one row per (account, stream) of `timing_events` (a TEMP table the timing
-- detector builds from sql/features/timing_events.sql): how many events, how many fell in
-- the first getvariable('timing_on_hour_s') seconds of a local hour, the regularity of the
-- gaps between consecutive events, and session durations. Claims timed by a campaign
-- release count towards volume (n_all) only.
WITH timed AS (
    SELECT *, t - lag(t) OVER (PARTITION BY account_id, stream ORDER BY t) AS gap
    FROM timing_events
    WHERE NOT at_release
),
per_stream AS (
    SELECT
        account_id, stream,
        count(*)                                                        AS n,
        count(*) FILTER (WHERE sec_of_hour < getvariable('timing_on_hour_s')) AS n_on_hour,
        count(gap)                                                      AS n_gaps,
        median(gap)                                                     AS median_gap,
        avg(gap)                                                        AS mean_gap,
        stddev_pop(gap)                                                 AS sd_gap,
        count(duration_s)                                               AS n_durations,
        median(duration_s)                                              AS median_duration,
        -- how steady: positive durations, their median and the robust spread of ln(duration)
        -- (interquartile range / 1.349: a normal sample's standard deviation, untouched by a few
        -- outliers; detect/timing/steady.py)
        count(duration_s) FILTER (WHERE duration_s > 0)                 AS n_timed,
        median(duration_s) FILTER (WHERE duration_s > 0)                AS median_timed,
        (quantile_cont(ln(CASE WHEN duration_s > 0 THEN duration_s END), 0.75)
         - quantile_cont(ln(CASE WHEN duration_s > 0 THEN duration_s END), 0.25)) / 1.349 AS duration_spread
    FROM timed
    GROUP BY account_id, stream
),
gap_mad AS (
    SELECT t.account_id, t.stream, median(abs(t.gap - p.median_gap)) AS mad_gap
    FROM timed AS t JOIN per_stream AS p USING (account_id, stream)
    WHERE t.gap IS NOT NULL
    GROUP BY t.account_id, t.stream
),
volume AS (
    SELECT account_id, stream, count(*) AS n_all
    FROM timing_events
    GROUP BY account_id, stream
)
SELECT v.account_id, v.stream, v.n_all,
       coalesce(p.n, 0) AS n, coalesce(p.n_on_hour, 0) AS n_on_hour,
       coalesce(p.n_gaps, 0) AS n_gaps, p.median_gap, m.mad_gap, p.mean_gap, p.sd_gap,
       coalesce(p.n_durations, 0) AS n_durations, p.median_duration,
       coalesce(p.n_timed, 0) AS n_timed, p.median_timed, p.duration_spread
FROM volume AS v
LEFT JOIN per_stream AS p USING (account_id, stream)
LEFT JOIN gap_mad AS m USING (account_id, stream)
