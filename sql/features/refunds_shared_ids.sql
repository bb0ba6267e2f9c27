-- refunds_shared_ids: shipping addresses and devices (at registration or on any order) used
-- by two or more accounts of the registered relation refunds_cand(account_id), with how many
-- accounts use the identifier in all (so hubs such as a campus NAT or a parcel locker can be
-- capped), and the candidate accounts among them.
WITH ids AS (
    SELECT account_id, 'address' AS kind, ship_addr_hash AS value FROM stg_orders
    WHERE ship_addr_hash IS NOT NULL
    UNION SELECT account_id, 'device', device_id FROM stg_orders WHERE device_id IS NOT NULL
    UNION SELECT account_id, 'device', device_id FROM stg_accounts WHERE device_id IS NOT NULL
),
cand_ids AS (
    SELECT DISTINCT kind, value FROM ids WHERE account_id IN (SELECT account_id FROM refunds_cand)
)
SELECT i.kind, i.value,
       count(DISTINCT i.account_id)                                        AS n_accounts,
       list(DISTINCT i.account_id ORDER BY i.account_id)
           FILTER (i.account_id IN (SELECT account_id FROM refunds_cand))  AS accounts
FROM ids i JOIN cand_ids USING (kind, value)
GROUP BY i.kind, i.value
HAVING count(DISTINCT i.account_id) FILTER (i.account_id IN (SELECT account_id FROM refunds_cand)) >= 2
ORDER BY i.kind, i.value
