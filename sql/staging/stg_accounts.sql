-- stg_accounts: one row per account_id (raw rows are typed at ingest); a later delivery replaces an earlier one.
CREATE OR REPLACE TABLE stg_accounts AS
WITH valid AS (
    SELECT * FROM raw_accounts WHERE _reject IS NULL
),
cleaned AS (
    SELECT
        account_id,
        registered_at,
        phone_prefix,
        phone_hash,
        device_id,
        ip,
        lower(channel) AS channel,
        invited_by,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY _file_seq DESC, _row DESC) = 1;
