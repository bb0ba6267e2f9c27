-- engagement_blocks: per network block (ip_block: IPv4 /24, IPv6 /48), the distinct accounts that engaged
-- from it in the window (the base rate of landing in that block). Reads `engagement_events`.
SELECT block, count(DISTINCT account_id) AS block_accounts
FROM engagement_events
WHERE block IS NOT NULL
GROUP BY block
