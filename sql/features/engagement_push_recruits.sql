-- engagement_push_recruits: the accounts of no farm (TEMP table `engagement_farm_members`)
-- whose every engagement of a pushed target (TEMP table `engagement_push_passed`: farm,
-- target_id, action, push_lo, push_hi) fell inside the farm's push, with their events there.
-- Reads `engagement_events`.
SELECT p.farm, p.target_id, p.action, p.run, e.account_id, count(*) AS push_events
FROM engagement_events AS e
JOIN engagement_push_passed AS p ON p.target_id = e.target_id AND p.action = e.action
ANTI JOIN (SELECT DISTINCT account_id FROM engagement_farm_members) AS f ON f.account_id = e.account_id
GROUP BY p.farm, p.target_id, p.action, p.run, p.push_lo, p.push_hi, e.account_id
HAVING bool_and(e.t >= p.push_lo AND e.t <= p.push_hi)
