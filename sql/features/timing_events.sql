-- timing_events: every event an account itself triggered in the window, one row each:
-- activity (logins, spins, check-ins...), coupon claims, orders and review actions.
-- `stream` names where it comes from; `sec_of_hour` / `sec_of_minute` are platform-local
-- (the session TimeZone is the platform zone). Coupon claims in the first
-- getvariable('timing_release_grace_s') seconds after their campaign's release are marked
-- `at_release`: the release, not a clock, timed them.
WITH events AS (
    SELECT account_id, 'activity:' || coalesce(action, '?') AS stream, ts, duration_s,
           false AS at_release
    FROM stg_activity
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
    UNION ALL
    SELECT e.account_id, 'coupon_claim', e.ts, NULL,
           coalesce(epoch(e.ts) - epoch(c.released_at)
                    BETWEEN 0 AND getvariable('timing_release_grace_s'), false)
    FROM stg_coupon_events AS e
    LEFT JOIN stg_campaigns AS c USING (campaign_id)
    WHERE e.action = 'claim'
      AND e.ts >= getvariable('window_start') AND e.ts < getvariable('window_end')
    UNION ALL
    SELECT account_id, 'order', created_at, NULL, false
    FROM stg_orders
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
    UNION ALL
    SELECT account_id, 'review:' || coalesce(action, 'posted'), created_at, NULL, false
    FROM stg_reviews
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
),
-- Any event in the minutes around a release (from getvariable('timing_release_before_min')
-- minutes before it to the grace after) is marked too: people open the app for the release.
release_minutes AS (
    SELECT DISTINCT unnest(generate_series(
               date_trunc('minute', released_at) - to_minutes(getvariable('timing_release_before_min')),
               date_trunc('minute', released_at) + to_seconds(CAST(getvariable('timing_release_grace_s') AS BIGINT)),
               INTERVAL 1 MINUTE)) AS minute
    FROM stg_campaigns
    WHERE released_at IS NOT NULL
      AND released_at >= getvariable('window_start') - INTERVAL 1 DAY
      AND released_at < getvariable('window_end')
),
-- Events of one account and stream at the very same instant are one action (a checkout
-- split into one order per shop, a batch export stamping one time): counted once.
-- `local` is the platform-local wall clock (one zone conversion per event; everything of the
-- time of day is read from it, naive and cheap) and `hour_cell` its clock hour.
grouped AS (
    SELECT account_id, stream, ts, median(duration_s) AS duration_s, bool_or(at_release) AS at_release
    FROM events
    WHERE account_id IS NOT NULL
    GROUP BY account_id, stream, ts
),
localised AS (
    SELECT *, CAST(ts AS TIMESTAMP) AS local FROM grouped
)
SELECT
    account_id,
    stream,
    ts,
    epoch_ms(ts) / 1000.0                                                  AS t,
    CAST(extract(minute FROM local) * 60 + extract(second FROM local) AS INTEGER) AS sec_of_hour,
    CAST(extract(second FROM local) AS INTEGER)                            AS sec_of_minute,
    duration_s,
    -- (minutes as epoch minutes: every zone's offset is whole minutes)
    at_release OR epoch_ms(ts) // 60000 IN (SELECT epoch_ms(minute) // 60000 FROM release_minutes) AS at_release,
    local,
    date_trunc('hour', local)                                              AS hour_cell
FROM localised
