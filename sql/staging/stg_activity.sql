-- stg_activity: one row per event_id, typed (logins, views, lottery spins, votes, likes...).
-- stg_activity_rows(first_file, last_file): the cleaned rows of the raw files first_file..last_file
-- (file_seq), latest delivery per key. A full rebuild takes every file; a night merges only its
-- own files into stg_activity (abuse.staging), with the same result.
CREATE OR REPLACE MACRO stg_activity_rows(first_file, last_file) AS TABLE
WITH valid AS (
    SELECT * FROM raw_activity WHERE _reject IS NULL AND _file_seq BETWEEN first_file AND last_file
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
        nullif(trim(device_id), '') AS device_id,
        nullif(trim(ip), '') AS ip,
        _file, _row, _file_seq
    FROM valid
),
-- Only keys delivered more than once need the latest-wins sort (a key is never NULL here:
-- a record without one is quarantined); every other record passes straight through.
dup AS (SELECT event_id FROM valid GROUP BY event_id HAVING count(*) > 1)
SELECT * FROM cleaned ANTI JOIN dup USING (event_id)
UNION ALL
SELECT * FROM (SELECT * FROM cleaned SEMI JOIN dup USING (event_id))
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _file_seq DESC, _row DESC) = 1;

CREATE OR REPLACE TABLE stg_activity AS SELECT * FROM stg_activity_rows(0, 9223372036854775807);
