-- hoarding_accounts: registration facts of every account registered before the window end,
-- for batch members that have not claimed anything (yet) in the window.
SELECT account_id, registered_at, phone_prefix
FROM stg_accounts
WHERE registered_at < getvariable('window_end')
