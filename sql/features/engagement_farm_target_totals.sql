-- engagement_farm_target_totals: the farms' tested targets only (TEMP
-- table `engagement_farm_targets`: farm, target_id, action): per target/action, all its
-- engagement in the window. Reads `engagement_events`.
SELECT e.target_id, e.action, count(*) AS events, count(DISTINCT e.account_id) AS accounts,
       min(e.ts) AS first_ts, max(e.ts) AS last_ts
FROM engagement_events AS e
SEMI JOIN engagement_farm_targets AS t ON t.target_id = e.target_id AND t.action = e.action
GROUP BY ALL
