-- The analyst-facing schema `report`: views over the history tables of the report file.
-- Each view describes the latest successful run; the *_all views keep every run.
CREATE SCHEMA IF NOT EXISTS report;

CREATE OR REPLACE VIEW report.runs AS
SELECT * FROM history.runs ORDER BY run_id;

CREATE OR REPLACE VIEW report.latest_run AS
SELECT max(run_id) AS run_id FROM history.runs WHERE status = 'succeeded';

CREATE OR REPLACE VIEW report.flagged_accounts_all AS
SELECT run_id, account_id, pattern, score, cluster_id, reason, evidence FROM history.findings;

CREATE OR REPLACE VIEW report.flagged_accounts AS
SELECT * FROM report.flagged_accounts_all
WHERE run_id = (SELECT run_id FROM report.latest_run)
ORDER BY pattern, score DESC, account_id;

CREATE OR REPLACE VIEW report.clusters_all AS
SELECT run_id, cluster_id, pattern, n_accounts, account_ids, shop_ids, first_seen, last_seen,
       loss_estimate, score, summary, evidence, case_status, case_first_run
FROM history.clusters;

CREATE OR REPLACE VIEW report.clusters AS
SELECT * FROM report.clusters_all
WHERE run_id = (SELECT run_id FROM report.latest_run)
ORDER BY pattern, score DESC, cluster_id;

CREATE OR REPLACE VIEW report.activity_spikes_all AS
SELECT run_id, scope, window_start, window_end, observed, expected, score, top_account_ids,
       explained_by
FROM history.spikes;

CREATE OR REPLACE VIEW report.activity_spikes AS
SELECT * FROM report.activity_spikes_all
WHERE run_id = (SELECT run_id FROM report.latest_run)
ORDER BY window_start, scope;

CREATE OR REPLACE VIEW report.quarantine AS
SELECT run_id, file, row_number, reason, raw, ingested_at
FROM history.quarantine ORDER BY run_id, file, row_number NULLS FIRST;
