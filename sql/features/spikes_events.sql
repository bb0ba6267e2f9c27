-- spikes_events: every countable event of the window, one row each (the macro
-- spikes_event_rows, spikes_event_rows.sql, defined first): its scope family, the narrower
-- detail (campaign or action), the minute it falls in (also as a platform-local wall-clock
-- time), the account behind it and, where the log has them, its device and IP. What the
-- spikes found inside the window are described, explained and handed over with; the baseline
-- days before it are read as per-day counts (`feat_spikes_counts`, spikes_counts.sql).
SELECT * FROM spikes_event_rows(getvariable('window_start'), getvariable('window_end'))
