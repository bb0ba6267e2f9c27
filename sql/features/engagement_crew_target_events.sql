-- engagement_crew_target_events: per crew (TEMP table `engagement_audience_targets`: crew,
-- target_id, action) and each of its targets, all the target's engagement events in the window:
-- the chance that an account's own events land on a crew's targets. Reads `engagement_events`.
SELECT c.crew, c.target_id, c.action, count(*) AS target_events
FROM engagement_events AS e
JOIN engagement_audience_targets AS c USING (target_id, action)
GROUP BY ALL
