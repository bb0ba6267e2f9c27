-- stg_accounts: one row per account_id (raw rows are typed at ingest); a later delivery replaces an earlier one.
-- Identifiers are trimmed and an empty one is NULL (once, here: sql/intermediate relies on it).
-- stg_accounts_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key. A full rebuild takes every file; a night merges only its
-- own files into stg_accounts (abuse.staging), with the same result.
CREATE OR REPLACE MACRO stg_accounts_rows(first_file, last_file) AS TABLE
WITH valid AS (
    SELECT * FROM raw_accounts WHERE _reject IS NULL AND _file_seq BETWEEN first_file AND last_file
),
cleaned AS (
    SELECT
        account_id,
        registered_at,
        nullif(trim(phone_prefix), '') AS phone_prefix,
        nullif(trim(phone_hash), '') AS phone_hash,
        nullif(trim(device_id), '') AS device_id,
        nullif(trim(ip), '') AS ip,
        lower(channel) AS channel,
        nullif(trim(invited_by), '') AS invited_by,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY _file_seq DESC, _row DESC) = 1;

CREATE OR REPLACE TABLE stg_accounts AS SELECT * FROM stg_accounts_rows(0, 9223372036854775807);
