-- rings_shared_ids: devices and IPs (at registration or on any order) used by two or more
-- members of the same candidate group, from the registered relation
-- rings_members(account_id, group_key). Identifiers are the shared kinds 'device' and 'ip' of
-- int_account_identifiers (sources accounts and orders).
WITH ids AS (
    SELECT DISTINCT account_id, kind, value FROM int_account_identifiers
    WHERE kind IN ('device', 'ip') AND source IN ('accounts', 'orders')
      AND account_id IN (SELECT account_id FROM rings_members)
)
SELECT m.group_key, i.kind, i.value,
       count(DISTINCT m.account_id)          AS n_members,
       list(DISTINCT m.account_id ORDER BY m.account_id) AS account_ids
FROM rings_members m JOIN ids i USING (account_id)
GROUP BY m.group_key, i.kind, i.value
HAVING count(DISTINCT m.account_id) >= 2
