-- stg_activity: one row per event_id, typed (logins, views, lottery spins, votes, likes...).
CREATE OR REPLACE TABLE stg_activity AS
WITH valid AS (
    SELECT * FROM raw_activity WHERE _reject IS NULL
),
cleaned AS (
    SELECT
        event_id,
        account_id,
        ts,
        lower(action) AS action,
        session_id,
        duration_s,
        target_id,
        device_id,
        ip,
        _file, _row, _file_seq
    FROM valid
)
SELECT * FROM cleaned
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _file_seq DESC, _row DESC) = 1;
