-- report.nights: one row per night (as_of day). The report for a night is what the latest
-- successful run with that as_of found (run_id); filter the *_all views on it to read it:
--   SELECT * FROM report.flagged_accounts_all
--   WHERE run_id = (SELECT run_id FROM report.nights WHERE as_of = DATE '2026-06-18');
-- Re-runs, nights run out of order and backfills leave every night's report as if the nights
-- had been run once, in order (see README "Guarantees").
CREATE SCHEMA IF NOT EXISTS report;

CREATE OR REPLACE VIEW report.nights AS
SELECT as_of,
       max(run_id) FILTER (WHERE status = 'succeeded') AS run_id,
       count(*) AS runs,
       count(*) FILTER (WHERE status = 'failed') AS failed_runs,
       max(finished_at) FILTER (WHERE status = 'succeeded') AS published_at
FROM history.runs
WHERE as_of IS NOT NULL
GROUP BY as_of
ORDER BY as_of;
