-- timing_seconds: per (account, stream, local second of the minute) the number of events of
-- `timing_events` (TEMP table of the timing detector), claims timed by a release left out.
SELECT account_id, stream, sec_of_minute, count(*) AS n
FROM timing_events
WHERE NOT at_release
GROUP BY ALL
