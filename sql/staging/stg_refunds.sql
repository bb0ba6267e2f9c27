-- stg_refunds: one row per refund_id, typed; kind defaults to 'refund'.
CREATE OR REPLACE TABLE stg_refunds AS
WITH valid AS (
    SELECT * FROM raw_refunds WHERE _reject IS NULL
),
typed AS (
    SELECT
        refund_id,
        order_id,
        account_id,
        shop_id,
        CAST(amount AS DECIMAL(18,2))           AS amount,
        coalesce(lower(kind), 'refund')         AS kind,
        reason,
        CAST(requested_at AS TIMESTAMPTZ)       AS requested_at,
        CAST(resolved_at AS TIMESTAMPTZ)        AS resolved_at,
        lower(outcome)                          AS outcome,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM typed
QUALIFY row_number() OVER (PARTITION BY refund_id ORDER BY _file_seq DESC, _row DESC) = 1;
