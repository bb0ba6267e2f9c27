-- hoarding_registration_bursts: for every account, how many accounts registered in the
-- same 10-minute bucket, and how many the daily rhythm would lead us to expect there:
-- the mean count for that 10-minute slot of the day over the other days of history
-- (platform-local time of day; leave-one-out, so a burst does not raise its own baseline).
-- A burst is a bucket far above its slot's expectation.
WITH
acc AS (
    SELECT account_id, registered_at,
           time_bucket(INTERVAL 10 MINUTE, registered_at) AS bucket
    FROM stg_accounts
    WHERE registered_at < getvariable('window_end')
),
buckets AS (
    SELECT bucket, count(*) AS n,
           extract(hour FROM bucket) * 6 + extract(minute FROM bucket) // 10 AS slot
    FROM acc GROUP BY bucket
),
span AS (
    SELECT greatest(date_diff('day', min(registered_at), max(registered_at)) + 1, 1) AS days
    FROM acc
),
slots AS (
    SELECT slot, sum(n) AS slot_total, any_value(days) AS days
    FROM buckets, span GROUP BY slot
)
SELECT a.account_id, a.bucket AS reg_bucket, b.n AS bucket_count,
       (s.slot_total - b.n)::DOUBLE / greatest(s.days - 1, 1) AS bucket_expected
FROM acc a
JOIN buckets b USING (bucket)
JOIN slots s USING (slot)
