-- engagement_coengage_audience: per target/action, its engaging accounts and the hours from its
-- first engagement in the window to its median engager's first (how fast its audience came).
-- Reads `engagement_events`.
WITH first AS (
    SELECT target_id, action, account_id, min(epoch(ts)) AS t FROM engagement_events GROUP BY ALL
)
SELECT target_id, action, count(*) AS accounts, (quantile_cont(t, 0.5) - min(t)) / 3600.0 AS median_arrival_h
FROM first
GROUP BY ALL
