-- stg_campaigns: one row per campaign_id (raw rows are typed at ingest); threshold 0 means "no minimum spend".
-- stg_campaigns_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key. A full rebuild takes every file; a night merges only its
-- own files into stg_campaigns (abuse.staging), with the same result.
CREATE OR REPLACE MACRO stg_campaigns_rows(first_file, last_file) AS TABLE
WITH valid AS (
    SELECT * FROM raw_campaigns WHERE _reject IS NULL AND _file_seq BETWEEN first_file AND last_file
),
cleaned AS (
    SELECT
        campaign_id,
        name,
        released_at,
        face_value,
        coalesce(threshold, 0) AS threshold,
        per_account_limit,
        total_quota,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY _file_seq DESC, _row DESC) = 1;

CREATE OR REPLACE TABLE stg_campaigns AS SELECT * FROM stg_campaigns_rows(0, 9223372036854775807);
