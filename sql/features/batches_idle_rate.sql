-- batches_idle_rate: of the accounts registered in the window, how many did nothing else in it
-- (no order, review, refund, coupon event or activity event): the base rate against which a
-- registration burst's share of idle accounts is judged.
WITH active AS (
    SELECT DISTINCT account_id FROM int_account_events  -- sql/intermediate
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
)
SELECT count(*) AS registered, count(*) FILTER (WHERE x.account_id IS NULL) AS idle
FROM stg_accounts AS a LEFT JOIN active AS x USING (account_id)
WHERE a.registered_at >= getvariable('window_start') AND a.registered_at < getvariable('window_end')
