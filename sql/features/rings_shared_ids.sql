-- rings_shared_ids: devices and IPs (at registration or on any order) used by two or more
-- members of the same candidate group, from the registered relation
-- rings_members(account_id, group_key).
WITH ids AS (
    SELECT account_id, 'device' AS kind, device_id AS value FROM stg_accounts
    WHERE device_id IS NOT NULL AND account_id IN (SELECT account_id FROM rings_members)
    UNION
    SELECT account_id, 'device', device_id FROM stg_orders
    WHERE device_id IS NOT NULL AND account_id IN (SELECT account_id FROM rings_members)
    UNION
    SELECT account_id, 'ip', ip FROM stg_accounts
    WHERE ip IS NOT NULL AND account_id IN (SELECT account_id FROM rings_members)
    UNION
    SELECT account_id, 'ip', ip FROM stg_orders
    WHERE ip IS NOT NULL AND account_id IN (SELECT account_id FROM rings_members)
)
SELECT m.group_key, i.kind, i.value,
       count(DISTINCT m.account_id)          AS n_members,
       list(DISTINCT m.account_id ORDER BY m.account_id) AS account_ids
FROM rings_members m JOIN ids i USING (account_id)
GROUP BY m.group_key, i.kind, i.value
HAVING count(DISTINCT m.account_id) >= 2
