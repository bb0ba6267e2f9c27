-- rings_signature_ids: devices and IPs (at registration or on any order) used by two or more
-- accounts of the registered relation rings_sig(account_id) (accounts with the extortion
-- signature), with how many accounts use the id in all (so hubs such as a campus NAT can be
-- capped) and the signature accounts among them.
WITH ids AS (
    SELECT account_id, 'd:' || device_id AS id FROM stg_accounts WHERE device_id IS NOT NULL
    UNION SELECT account_id, 'd:' || device_id FROM stg_orders WHERE device_id IS NOT NULL
    UNION SELECT account_id, 'i:' || ip FROM stg_accounts WHERE ip IS NOT NULL
    UNION SELECT account_id, 'i:' || ip FROM stg_orders WHERE ip IS NOT NULL
),
sig_ids AS (
    SELECT DISTINCT id FROM ids WHERE account_id IN (SELECT account_id FROM rings_sig)
)
SELECT i.id,
       count(DISTINCT i.account_id)                                     AS n_accounts,
       list(DISTINCT i.account_id ORDER BY i.account_id)
           FILTER (i.account_id IN (SELECT account_id FROM rings_sig))  AS sig_accounts
FROM ids i JOIN sig_ids USING (id)
GROUP BY i.id
HAVING count(DISTINCT i.account_id) FILTER (i.account_id IN (SELECT account_id FROM rings_sig)) >= 2
ORDER BY i.id
