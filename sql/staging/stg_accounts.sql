-- stg_accounts: one row per account_id, typed; a later delivery replaces an earlier one.
CREATE OR REPLACE TABLE stg_accounts AS
WITH valid AS (
    SELECT * FROM raw_accounts WHERE _reject IS NULL
),
typed AS (
    SELECT
        account_id,
        CAST(registered_at AS TIMESTAMPTZ)  AS registered_at,
        phone_prefix,
        phone_hash,
        device_id,
        ip,
        lower(channel)                       AS channel,
        invited_by,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM typed
QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY _file_seq DESC, _row DESC) = 1;
