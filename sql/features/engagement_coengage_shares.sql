-- engagement_coengage_shares: per co-engaged crew (TEMP table `engagement_coengage_members`:
-- crew, account_id) and each of its targets (TEMP table `engagement_audience_targets`: crew,
-- target_id, action), the target's engaging accounts and how many of them are the crew's
-- members. Reads `engagement_events`.
WITH ae AS (SELECT DISTINCT account_id, target_id, action FROM engagement_events)
SELECT c.crew, c.target_id, c.action, count(*) AS accounts, count(m.account_id) AS from_members
FROM engagement_audience_targets AS c
JOIN ae USING (target_id, action)
LEFT JOIN engagement_coengage_members AS m ON m.crew = c.crew AND m.account_id = ae.account_id
GROUP BY ALL
