-- engagement_audience: per target/action, its engaging accounts and how many of them do nothing
-- else on the platform in the window (TEMP table `engagement_accounts`, other_events = 0).
-- Reads `engagement_events`.
SELECT e.target_id, e.action, count(DISTINCT e.account_id) AS accounts,
       count(DISTINCT e.account_id) FILTER (WHERE a.other_events = 0) AS thin
FROM engagement_events AS e
JOIN engagement_accounts AS a USING (account_id)
GROUP BY ALL
