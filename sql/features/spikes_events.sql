-- spikes_events: every countable event from getvariable('spikes_from') to the end of the
-- window, one row each (the macro spikes_event_rows, spikes_event_rows.sql, defined first):
-- its scope family, the narrower detail (campaign or action), the minute it falls in (also as
-- a platform-local wall-clock time), the account behind it and, where the log has them, its
-- device and IP.
SELECT * FROM spikes_event_rows(getvariable('spikes_from'), getvariable('window_end'))
