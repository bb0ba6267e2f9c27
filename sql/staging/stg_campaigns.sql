-- stg_campaigns: one row per campaign_id (raw rows are typed at ingest); threshold 0 means "no minimum spend".
CREATE OR REPLACE TABLE stg_campaigns AS
WITH valid AS (
    SELECT * FROM raw_campaigns WHERE _reject IS NULL
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
