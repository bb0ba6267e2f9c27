-- stg_orders: one row per order_id (raw rows are typed at ingest); a later delivery replaces an earlier one.
-- Identifiers are trimmed and an empty one is NULL (once, here: sql/intermediate relies on it).
-- stg_orders_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key. A full rebuild takes every file; a night merges only its
-- own files into stg_orders (abuse.staging), with the same result.
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
),
-- Only keys delivered more than once need the latest-wins sort (a key is never NULL here:
-- a record without one is quarantined); every other record passes straight through.
dup AS (SELECT order_id FROM valid GROUP BY order_id HAVING count(*) > 1)
SELECT * FROM cleaned ANTI JOIN dup USING (order_id)
UNION ALL
SELECT * FROM (SELECT * FROM cleaned SEMI JOIN dup USING (order_id))
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _file_seq DESC, _row DESC) = 1;

CREATE OR REPLACE TABLE stg_orders AS SELECT * FROM stg_orders_rows(0, 9223372036854775807);
