-- engagement_block_targets: per network block and target/action, the distinct accounts that
-- engaged the target from the block, with the block's engaging accounts and the target's
-- engaging accounts (for the expected overlap if accounts chose targets independently of
-- where they connect from). Reads `engagement_events`.
WITH bt AS (
    SELECT block, target_id, action, count(DISTINCT account_id) AS accounts
    FROM engagement_events WHERE block IS NOT NULL
    GROUP BY ALL
),
blocks AS (
    SELECT block, count(DISTINCT account_id) AS block_accounts, count(DISTINCT device_id) AS block_devices,
           count(DISTINCT ip) AS block_ips
    FROM engagement_events WHERE block IS NOT NULL GROUP BY block
),
targets AS (
    SELECT target_id, action, count(DISTINCT account_id) AS target_accounts
    FROM engagement_events GROUP BY ALL
)
SELECT bt.*, b.block_accounts, b.block_devices, b.block_ips, t.target_accounts
FROM bt JOIN blocks AS b USING (block) JOIN targets AS t USING (target_id, action)
WHERE bt.accounts >= 2
