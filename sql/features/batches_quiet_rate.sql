-- batches_quiet_rate: of the accounts registered in the window's quiet hours (`batches_hours`,
-- the TEMP table of sql/features/batches_hours.sql, less every hour that overlaps a registration
-- spike of `batches_spans`: window_start, window_end, the spikes detector's, explained or not),
-- how many did nothing else in the window: the base rate of idle signups against which a run of
-- hours around a burst is judged (a slow wave's idle accounts raise it hour after hour).
SELECT coalesce(sum(h.n_new), 0) AS registered, coalesce(sum(h.n_idle), 0) AS idle
FROM batches_hours AS h
WHERE NOT EXISTS (
    SELECT 1 FROM batches_spans AS s
    WHERE s.window_start < h.hour_start + INTERVAL 1 HOUR AND s.window_end > h.hour_start
)
