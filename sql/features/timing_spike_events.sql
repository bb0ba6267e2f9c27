-- timing_spike_events: the events of `spikes_events` (sql/features/spikes_events.sql, from the
-- window start) that fall inside an unexplained spike of `timing_spikes` (TEMP table of the
-- timing detector: the spikes detector's results) or getvariable('timing_member_pad_min')
-- minutes either side of it, so the lone-member search never holds the window's whole log.
SELECT e.*
FROM (
    SELECT family, detail, date_trunc('minute', ts) AS minute, ts, account_id, device_id, ip
    FROM (
        SELECT 'registrations' AS family, NULL AS detail, registered_at AS ts, account_id, device_id, ip
        FROM stg_accounts
        UNION ALL SELECT 'orders', NULL, created_at, account_id, device_id, ip FROM stg_orders
        UNION ALL SELECT 'reviews', NULL, created_at, account_id, NULL, NULL FROM stg_reviews
        WHERE coalesce(action, 'posted') = 'posted'
        UNION ALL SELECT 'refunds', NULL, requested_at, account_id, NULL, NULL FROM stg_refunds
        UNION ALL SELECT 'coupon_claims', campaign_id, ts, account_id, device_id, ip FROM stg_coupon_events
        WHERE action = 'claim'
        UNION ALL SELECT 'activity', action, ts, account_id, device_id, ip FROM stg_activity
    )
    WHERE ts >= getvariable('window_start') AND ts < getvariable('window_end')
) AS e
SEMI JOIN timing_spikes AS s
  ON e.family = split_part(s.scope, ':', 1)
 AND e.ts >= s.window_start - to_minutes(getvariable('timing_member_pad_min'))
 AND e.ts < s.window_end + to_minutes(getvariable('timing_member_pad_min'))
