-- rings_account_links: for each account of the registered relation rings_hostile(account_id),
-- its registration time, its inviter and how many accounts that inviter invited in all (a
-- referral campaign's popular inviter links nobody), for invitation and registration-cohort
-- linkage between hostile accounts. The fan-out counts the shared kind 'inviter' of
-- int_account_identifiers (source accounts: the invited accounts).
WITH fan AS (
    SELECT value AS invited_by, count(*) AS n_invited
    FROM int_account_identifiers WHERE kind = 'inviter' AND source = 'accounts' GROUP BY value
)
SELECT h.account_id, a.registered_at, a.invited_by, coalesce(f.n_invited, 0) AS inviter_fanout
FROM rings_hostile h
LEFT JOIN stg_accounts a USING (account_id)
LEFT JOIN fan f ON f.invited_by = a.invited_by
ORDER BY h.account_id
