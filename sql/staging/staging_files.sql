-- staging_files: the raw files (file_seq, run_id, per kind) that the stg_* tables hold. A night
-- merges the raw files not listed here into stg_* (abuse.staging); this full rebuild lists all.
CREATE OR REPLACE TABLE staging_files AS
SELECT 'accounts' AS kind, _file_seq AS file_seq, _run_id AS run_id FROM raw_accounts GROUP BY ALL
UNION ALL SELECT 'orders', _file_seq, _run_id FROM raw_orders GROUP BY ALL
UNION ALL SELECT 'reviews', _file_seq, _run_id FROM raw_reviews GROUP BY ALL
UNION ALL SELECT 'refunds', _file_seq, _run_id FROM raw_refunds GROUP BY ALL
UNION ALL SELECT 'campaigns', _file_seq, _run_id FROM raw_campaigns GROUP BY ALL
UNION ALL SELECT 'coupon_events', _file_seq, _run_id FROM raw_coupon_events GROUP BY ALL
UNION ALL SELECT 'activity', _file_seq, _run_id FROM raw_activity GROUP BY ALL;
