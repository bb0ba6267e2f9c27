-- refunds_shared_ids: shipping addresses and devices (at registration or on any order) used
-- by two or more accounts of the registered relation refunds_cand(account_id), with how many
-- accounts use the identifier in all (so hubs such as a campus NAT or a parcel locker can be
-- capped), and the candidate accounts among them. Identifiers: int_account_identifiers.
WITH ids AS (
    SELECT DISTINCT account_id, kind, value FROM int_account_identifiers
    WHERE (kind = 'address' AND source = 'orders')
       OR (kind = 'device' AND source IN ('orders', 'accounts'))
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
