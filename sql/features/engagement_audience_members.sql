-- engagement_audience_members: per audience crew (TEMP table `engagement_audience_targets`:
-- crew, target_id, action) every account that engaged its targets, thin or not, with how many of
-- the crew's targets and events. Reads `engagement_events`.
SELECT c.crew, e.account_id, count(DISTINCT (e.target_id, e.action)) AS crew_targets, count(*) AS crew_events
FROM engagement_events AS e
JOIN engagement_audience_targets AS c USING (target_id, action)
GROUP BY ALL
