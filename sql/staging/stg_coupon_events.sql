-- stg_coupon_events: one row per event_id (raw rows are typed at ingest); action is claim/redeem/return/expire.
-- stg_coupon_events_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key (macros/latest_delivery.sql). A full rebuild takes every
-- file; a night merges only its own files into stg_coupon_events (abuse.staging), with the same result.
CREATE OR REPLACE MACRO stg_coupon_events_rows(first_file, last_file) AS TABLE
WITH valid AS (
    SELECT * FROM raw_coupon_events WHERE _reject IS NULL AND _file_seq BETWEEN first_file AND last_file
),
cleaned AS (
    SELECT
        event_id,
        campaign_id,
        coupon_id,
        account_id,
        lower(action) AS action,
        ts,
        order_id,
        nullif(trim(device_id), '') AS device_id,
        nullif(trim(ip), '') AS ip,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM latest_delivery(cleaned, event_id);

CREATE OR REPLACE TABLE stg_coupon_events AS SELECT * FROM stg_coupon_events_rows(0, 9223372036854775807);
