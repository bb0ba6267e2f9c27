-- engagement_crew_members: per crew candidate (TEMP table `engagement_crew_pairs`: crew, block,
-- target_id, action: the targets a crew's blocks boost together), each account that engaged
-- one of the crew's targets from one of its blocks, with those events, and the events per
-- (account, target) for the fixed-multiple test. Reads `engagement_events`.
SELECT c.crew, e.account_id, e.target_id, e.action, count(*) AS events,
       count(*) FILTER (WHERE e.since_purchase_s <= getvariable('engagement_purchase_s')) AS after_purchase,
       min(e.ts) AS first_ts, max(e.ts) AS last_ts,
       count(DISTINCT e.device_id) AS devices, count(DISTINCT e.ip) AS ips
FROM engagement_events AS e
JOIN engagement_crew_pairs AS c USING (block, target_id, action)
GROUP BY ALL
