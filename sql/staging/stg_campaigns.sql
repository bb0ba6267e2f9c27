-- stg_campaigns: one row per campaign_id, typed; threshold 0 means "no minimum spend".
CREATE OR REPLACE TABLE stg_campaigns AS
WITH valid AS (
    SELECT * FROM raw_campaigns WHERE _reject IS NULL
),
typed AS (
    SELECT
        campaign_id,
        name,
        CAST(released_at AS TIMESTAMPTZ)                 AS released_at,
        CAST(face_value AS DECIMAL(18,2))                AS face_value,
        coalesce(CAST(threshold AS DECIMAL(18,2)), 0)    AS threshold,
        CAST(per_account_limit AS INTEGER)               AS per_account_limit,
        CAST(total_quota AS INTEGER)                     AS total_quota,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM typed
QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY _file_seq DESC, _row DESC) = 1;
