-- latest_delivery(t, key): the rows of t (a table or CTE name: cleaned raw rows with _file_seq
-- and _row), one per key, the latest delivery winning (highest _file_seq, then _row). Only keys
-- delivered more than once need the latest-wins sort (a key is never NULL here: a record without
-- one is quarantined); every other row passes straight through, so the big event tables are not
-- sorted whole. Used by the stg_<kind>_rows macros of the tables keyed by one id column; the
-- staging macros run before sql/staging/ (abuse.sqlfiles.run_folder, abuse.staging.maintain).
CREATE OR REPLACE MACRO latest_delivery(t, key) AS TABLE
WITH keyed AS (SELECT *, key AS _key FROM query_table(t)),
dup AS (SELECT _key FROM keyed GROUP BY _key HAVING count(*) > 1)
SELECT * EXCLUDE (_key) FROM keyed ANTI JOIN dup USING (_key)
UNION ALL
SELECT * EXCLUDE (_key) FROM (SELECT * FROM keyed SEMI JOIN dup USING (_key))
QUALIFY row_number() OVER (PARTITION BY _key ORDER BY _file_seq DESC, _row DESC) = 1;
