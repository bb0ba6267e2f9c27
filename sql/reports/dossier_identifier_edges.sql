-- dossier_identifier_edges: identifiers that two or more members of a case share (device,
-- IP, network block, phone number block, phone number, shipping address, inviter; the kinds
-- of int_account_identifiers), from registrations, orders and coupon events, with how often
-- each member used it. Parameters: getvariable('dossier_accounts') (VARCHAR[], set by abuse.dossier.data).
WITH members AS (SELECT DISTINCT unnest(getvariable('dossier_accounts')) AS account_id),
pairs AS (
    SELECT kind, value, account_id, count(*)::INTEGER AS uses
    FROM int_account_identifiers
    WHERE source IN ('accounts', 'orders', 'coupon_events', 'inviter')
      AND account_id IN (SELECT account_id FROM members)
    GROUP BY ALL
)
SELECT kind, value, account_id, uses
FROM pairs
QUALIFY count(*) OVER (PARTITION BY kind, value) >= 2
ORDER BY kind, value, account_id
