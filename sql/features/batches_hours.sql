-- batches_hours: per hour of the window (hour_no 0.. counted from getvariable('window_start'),
-- hour_start), how many accounts registered in it (n_new) and how many of those did nothing else
-- in the window (n_idle: no order, review, refund, coupon event or activity event). Hours with no
-- signup are there too, with zeros. The batches detector scans runs of these hours around each
-- registration burst for a slow wave: an idle share beyond the quiet hours' (batches_quiet_rate).
WITH hours AS (
    SELECT h AS hour_no, getvariable('window_start') + to_hours(h) AS hour_start
    FROM range(
        0,
        CAST(ceil((epoch(getvariable('window_end')) - epoch(getvariable('window_start'))) / 3600) AS BIGINT)
    ) AS t(h)
),
active AS (
    SELECT DISTINCT account_id FROM int_account_events  -- sql/intermediate
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
),
signups AS (
    SELECT CAST(floor((epoch(a.registered_at) - epoch(getvariable('window_start'))) / 3600) AS BIGINT) AS hour_no,
           x.account_id IS NULL AS idle
    FROM stg_accounts AS a LEFT JOIN active AS x USING (account_id)
    WHERE a.registered_at >= getvariable('window_start') AND a.registered_at < getvariable('window_end')
)
SELECT h.hour_no, h.hour_start, count(s.hour_no) AS n_new, count(s.hour_no) FILTER (WHERE s.idle) AS n_idle
FROM hours AS h LEFT JOIN signups AS s USING (hour_no)
GROUP BY ALL
ORDER BY h.hour_no
