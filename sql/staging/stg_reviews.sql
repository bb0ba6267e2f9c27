-- stg_reviews: one row per review action (review_id, action, created_at) (raw rows are typed at ingest).
-- action defaults to 'posted'; rating may be null only on a 'withdrawn' action.
CREATE OR REPLACE TABLE stg_reviews AS
WITH valid AS (
    SELECT * FROM raw_reviews WHERE _reject IS NULL
),
cleaned AS (
    SELECT
        review_id,
        order_id,
        account_id,
        shop_id,
        rating,
        created_at,
        coalesce(lower(action), 'posted')       AS action,
        text,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (
    PARTITION BY review_id, action, created_at ORDER BY _file_seq DESC, _row DESC
) = 1;
