-- engagement_audience_edges: which thin accounts (nothing else to do in the window) engaged
-- which thin-heavy target (TEMP table `engagement_thin_targets`: target_id, action), with the
-- events. Reads `engagement_events` and `engagement_accounts`.
SELECT e.account_id, e.target_id, e.action, count(*) AS events
FROM engagement_events AS e
JOIN engagement_thin_targets AS t USING (target_id, action)
JOIN engagement_accounts AS a USING (account_id)
WHERE a.other_events = 0
GROUP BY ALL
