-- engagement_farm_pairs: the farms' members only (TEMP table
-- `engagement_farm_members`: farm, account_id): per member account and target/action, its
-- events and when. Reads `engagement_events`.
SELECT account_id, target_id, action, count(*) AS events, min(ts) AS first_ts, max(ts) AS last_ts
FROM engagement_events AS e
SEMI JOIN engagement_farm_members AS m USING (account_id)
GROUP BY ALL
