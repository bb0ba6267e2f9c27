-- engagement_sync_members: who acted in each lockstep bucket (TEMP table
-- `engagement_lockstep`: target_id, action, bucket), one row per account and bucket, with the
-- device, IP and network block it used there. Reads `engagement_events`.
SELECT e.account_id, e.target_id, e.action, e.bucket, count(*) AS events,
       min(e.ts) AS first_ts, max(e.ts) AS last_ts,
       any_value(e.device_id) AS device_id, any_value(e.ip) AS ip, any_value(e.block) AS block
FROM engagement_events AS e
JOIN engagement_lockstep AS l USING (target_id, action, bucket)
GROUP BY ALL
