-- stg_coupon_events: one row per event_id (raw rows are typed at ingest); action is claim/redeem/return/expire.
CREATE OR REPLACE TABLE stg_coupon_events AS
WITH valid AS (
    SELECT * FROM raw_coupon_events WHERE _reject IS NULL
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
        device_id,
        ip,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _file_seq DESC, _row DESC) = 1;
