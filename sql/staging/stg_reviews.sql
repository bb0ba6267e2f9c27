-- stg_reviews: one row per review action (review_id, action, created_at) (raw rows are typed at ingest).
-- action defaults to 'posted'; rating may be null only on a 'withdrawn' action.
-- stg_reviews_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key. A full rebuild takes every file; a night merges only its
-- own files into stg_reviews (abuse.staging), with the same result.
CREATE OR REPLACE MACRO stg_reviews_rows(first_file, last_file) AS TABLE
WITH valid AS (
    SELECT * FROM raw_reviews WHERE _reject IS NULL AND _file_seq BETWEEN first_file AND last_file
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

CREATE OR REPLACE TABLE stg_reviews AS SELECT * FROM stg_reviews_rows(0, 9223372036854775807);
