-- engagement_targets: per target/action, all its engagement in the window. Reads `engagement_events`.
SELECT target_id, action, count(*) AS events, count(DISTINCT account_id) AS accounts,
       min(ts) AS first_ts, max(ts) AS last_ts
FROM engagement_events
GROUP BY ALL
