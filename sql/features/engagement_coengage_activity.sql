-- engagement_coengage_activity: the null of independent engagement. Per account and action, how
-- many distinct targets it engaged with that action (its own activity). Reads `engagement_events`.
SELECT account_id, action, count(DISTINCT target_id) AS d
FROM engagement_events
GROUP BY ALL
