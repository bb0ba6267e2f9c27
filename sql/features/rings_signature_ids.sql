-- rings_signature_ids: devices and IPs (at registration or on any order) used by two or more
-- accounts of the registered relation rings_sig(account_id) (accounts with the extortion
-- signature), with how many accounts use the id in all (so hubs such as a campus NAT can be
-- capped) and the signature accounts among them. Identifiers are the shared kinds 'device'
-- and 'ip' of int_account_identifiers (sources accounts and orders); ``id`` is kind:value.
WITH ids AS (
    SELECT DISTINCT account_id, kind || ':' || value AS id FROM int_account_identifiers
    WHERE kind IN ('device', 'ip') AND source IN ('accounts', 'orders')
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
