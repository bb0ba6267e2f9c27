-- stg_orders: one row per order_id (raw rows are typed at ingest); a later delivery replaces an earlier one.
-- Identifiers are trimmed and an empty one is NULL (once, here: sql/intermediate relies on it).
-- stg_orders_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key (macros/latest_delivery.sql). A full rebuild takes every
-- file; a night merges only its own files into stg_orders (abuse.staging), with the same result.
CREATE OR REPLACE MACRO stg_orders_rows(first_file, last_file) AS TABLE
WITH valid AS (
    SELECT * FROM raw_orders WHERE _reject IS NULL AND _file_seq BETWEEN first_file AND last_file
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
        nullif(trim(device_id), '') AS device_id,
        nullif(trim(ip), '') AS ip,
        nullif(trim(ship_addr_hash), '') AS ship_addr_hash,
        lower(status) AS status,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM latest_delivery(cleaned, order_id);

CREATE OR REPLACE TABLE stg_orders AS SELECT * FROM stg_orders_rows(0, 9223372036854775807);
