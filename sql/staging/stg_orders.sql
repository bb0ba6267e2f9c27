-- stg_orders: one row per order_id, typed; a later delivery replaces an earlier one.
CREATE OR REPLACE TABLE stg_orders AS
WITH valid AS (
    SELECT * FROM raw_orders WHERE _reject IS NULL
),
typed AS (
    SELECT
        order_id,
        account_id,
        shop_id,
        item_id,
        CAST(amount AS DECIMAL(18,2))                    AS amount,
        coalesce(CAST(discount AS DECIMAL(18,2)), 0)     AS discount,
        coupon_id,
        CAST(created_at AS TIMESTAMPTZ)                  AS created_at,
        device_id,
        ip,
        ship_addr_hash,
        lower(status)                                    AS status,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM typed
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _file_seq DESC, _row DESC) = 1;
