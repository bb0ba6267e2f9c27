-- dossier_events: every logged action of a case's members, one row per event, for the
-- timeline and the time-of-hour histograms. minute/second are platform-local (session zone).
-- Parameters: getvariable('dossier_accounts') (VARCHAR[], set by abuse.dossier.data).
WITH members AS (SELECT DISTINCT unnest(getvariable('dossier_accounts')) AS account_id),
events AS (
    SELECT account_id, registered_at AS ts, 'registrations' AS lane, 'registered' AS kind,
           NULL::VARCHAR AS shop_id, NULL::DOUBLE AS amount
    FROM stg_accounts WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL
    SELECT account_id, created_at, 'orders', coalesce(status, 'order'), shop_id, amount::DOUBLE
    FROM stg_orders WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL
    SELECT account_id, created_at, 'reviews',
           CASE WHEN action = 'withdrawn' THEN 'withdrawn'
                WHEN action = 'amended' THEN 'amended ' || coalesce(rating::VARCHAR, '?') || '★'
                ELSE coalesce(rating::VARCHAR, '?') || '★' END,
           shop_id, NULL
    FROM stg_reviews WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL
    SELECT account_id, requested_at, 'refunds',
           CASE WHEN kind = 'compensation' THEN 'comp.' ELSE 'refund' END || ' '
           || CASE outcome WHEN 'approved' THEN 'paid' WHEN 'rejected' THEN 'denied' ELSE 'open' END,
           shop_id, amount::DOUBLE
    FROM stg_refunds WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL
    SELECT account_id, ts, 'coupons', action, NULL, NULL
    FROM stg_coupon_events WHERE account_id IN (SELECT account_id FROM members)
    UNION ALL
    SELECT account_id, ts, 'activity', action, NULL, NULL
    FROM stg_activity WHERE account_id IN (SELECT account_id FROM members)
)
SELECT account_id, epoch(ts) AS t, lane, kind, shop_id, amount,
       extract(minute FROM ts)::INTEGER AS minute, extract(second FROM ts)::INTEGER AS second
FROM events
WHERE ts IS NOT NULL
