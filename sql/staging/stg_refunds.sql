-- stg_refunds: one row per refund_id (raw rows are typed at ingest); kind defaults to 'refund'.
-- stg_refunds_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key. A full rebuild takes every file; a night merges only its
-- own files into stg_refunds (abuse.staging), with the same result.
CREATE OR REPLACE MACRO stg_refunds_rows(first_file, last_file) AS TABLE
WITH valid AS (
    SELECT * FROM raw_refunds WHERE _reject IS NULL AND _file_seq BETWEEN first_file AND last_file
),
cleaned AS (
    SELECT
        refund_id,
        order_id,
        account_id,
        shop_id,
        amount,
        coalesce(lower(kind), 'refund')         AS kind,
        reason,
        requested_at,
        resolved_at,
        lower(outcome) AS outcome,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (PARTITION BY refund_id ORDER BY _file_seq DESC, _row DESC) = 1;

CREATE OR REPLACE TABLE stg_refunds AS SELECT * FROM stg_refunds_rows(0, 9223372036854775807);
