-- spikes_event_rows(lo, hi): the macro behind `spikes_events` (spikes_events.sql) and the
-- per-day counts `feat_spikes_counts` (spikes_counts.sql): every countable event with lo <= ts <
-- hi, one row each: its scope family, the narrower detail (campaign or action), the minute it
-- falls in (also as a platform-local wall-clock time), the account behind it and, where the
-- log has them, its device and IP.
CREATE OR REPLACE TEMP MACRO spikes_event_rows(lo, hi) AS TABLE
WITH events AS (
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
-- The minute by epoch arithmetic and the wall clock from it, one zone conversion per event
-- (the same as truncating either clock: every zone's offset since 1972 is whole minutes, and
-- timestamps before earliest_timestamp, 2000 by default, are quarantined at ingest).
SELECT family, detail, minute,
       CAST(minute AS TIMESTAMP) AS local_minute,  -- wall clock, no zone
       ts, account_id, device_id, ip
FROM (SELECT *, to_timestamp((epoch_ms(ts) // 60000) * 60) AS minute
      FROM events
      WHERE ts >= lo AND ts < hi)
