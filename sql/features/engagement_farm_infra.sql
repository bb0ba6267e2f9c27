-- engagement_farm_infra: per farm (TEMP tables `engagement_farm_members`: farm, account_id and
-- `engagement_farm_targets`: farm, target_id, action), the infrastructure its members used on
-- its targets: distinct IPs, network blocks and device ids, with their events. Reads
-- `engagement_events`.
SELECT m.farm, count(*) AS events, count(DISTINCT e.ip) AS ips, count(DISTINCT e.block) AS blocks,
       count(DISTINCT e.device_id) AS devices, min(e.ts) AS first_ts, max(e.ts) AS last_ts
FROM engagement_events AS e
JOIN engagement_farm_members AS m USING (account_id)
JOIN engagement_farm_targets AS t ON t.farm = m.farm AND t.target_id = e.target_id AND t.action = e.action
GROUP BY m.farm
