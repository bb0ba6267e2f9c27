-- timing_steady: how steady each account's durations are, per stream of `timing_events` (TEMP
-- table of the timing detector): per (account, stream) with at least
-- getvariable('timing_min_durations') timed events outside release minutes, their count, the
-- median duration and the robust spread of ln(duration) (interquartile range / 1.349: the
-- standard deviation for a normal sample, untouched by a few outliers). A person's sessions of
-- one kind vary by a factor of two or more; a script's are held to a fraction of a percent.
SELECT account_id, stream, count(*) AS n_durations, median(duration_s) AS median_duration,
       (quantile_cont(ln(duration_s), 0.75) - quantile_cont(ln(duration_s), 0.25)) / 1.349 AS spread
FROM timing_events
WHERE duration_s > 0 AND NOT at_release
GROUP BY account_id, stream
HAVING count(*) >= getvariable('timing_min_durations')
