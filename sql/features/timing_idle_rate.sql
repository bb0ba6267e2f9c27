-- timing_idle_rate: of the accounts registered in the window, how many did nothing else in
-- it (no event in `timing_events`, the TEMP table of the timing detector): the base rate
-- against which a registration spike's share of idle accounts is judged.
SELECT count(*) AS registered,
       count(*) FILTER (WHERE a.account_id NOT IN (SELECT account_id FROM timing_events)) AS idle
FROM stg_accounts AS a
WHERE a.registered_at >= getvariable('window_start') AND a.registered_at < getvariable('window_end')
