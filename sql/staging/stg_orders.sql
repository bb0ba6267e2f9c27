-- stg_orders: one row per order_id (raw rows are typed at ingest); a later delivery replaces an earlier one.
CREATE OR REPLACE TABLE stg_orders AS
WITH valid AS (
    SELECT * FROM raw_orders WHERE _reject IS NULL
),
cleaned AS (
    SELECT
        order_id,
        account_id,
        shop_id,
        item_id,
        amount,
        coalesce(discount, 0) AS discount,
        coupon_id,
        created_at,
        device_id,
        ip,
        ship_addr_hash,
        lower(status) AS status,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _file_seq DESC, _row DESC) = 1;
