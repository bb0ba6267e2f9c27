-- stg_refunds: one row per refund_id (raw rows are typed at ingest); kind defaults to 'refund'.
CREATE OR REPLACE TABLE stg_refunds AS
WITH valid AS (
    SELECT * FROM raw_refunds WHERE _reject IS NULL
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
