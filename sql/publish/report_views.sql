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

-- verdict: the analysts' latest verdict on the case (confirmed | dismissed | null), as of the run.
CREATE OR REPLACE VIEW report.clusters_all AS
WITH verdict AS (
    SELECT cluster_id, arg_max(verdict, recorded_at) AS verdict, max(recorded_at) AS verdict_at
    FROM history.verdicts WHERE cluster_id IS NOT NULL GROUP BY cluster_id
)
SELECT c.run_id, c.cluster_id, c.pattern, c.n_accounts, c.account_ids, c.shop_ids, c.first_seen,
       c.last_seen, c.loss_estimate, c.score, c.summary, c.evidence, c.case_status, c.case_first_run,
       c.target_ids, v.verdict, v.verdict_at
FROM history.clusters c LEFT JOIN verdict v USING (cluster_id);

-- case_status: new | recurring | grown | shrunk (dismissed cases stay in clusters_all only);
-- case_first_seen: when the case was first found (the as_of day of its first run);
-- *_local: the times in the platform zone of the run (report.runs.tz), as plain timestamps.
CREATE OR REPLACE VIEW report.clusters AS
SELECT c.*, f.as_of AS case_first_seen,
       timezone(coalesce(r.tz, 'Asia/Shanghai'), c.first_seen) AS first_seen_local,
       timezone(coalesce(r.tz, 'Asia/Shanghai'), c.last_seen) AS last_seen_local
FROM report.clusters_all c
LEFT JOIN history.runs f ON f.run_id = c.case_first_run
LEFT JOIN history.runs r ON r.run_id = c.run_id
WHERE c.run_id = (SELECT run_id FROM report.latest_run) AND c.case_status <> 'dismissed'
ORDER BY c.pattern, c.score DESC, c.cluster_id;

-- An extortion ring's money shop by shop (sums to the ring's loss_estimate).
CREATE OR REPLACE VIEW report.cluster_shops_all AS
SELECT s.run_id, s.cluster_id, s.shop_id, s.members, s.low_ratings, s.paid_requests, s.loss_estimate
FROM history.cluster_shops s;

CREATE OR REPLACE VIEW report.cluster_shops AS
SELECT s.* FROM report.cluster_shops_all s
JOIN report.clusters c USING (run_id, cluster_id)
ORDER BY s.cluster_id, s.loss_estimate DESC, s.shop_id;

CREATE OR REPLACE VIEW report.activity_spikes_all AS
SELECT run_id, scope, window_start, window_end, observed, expected, score, top_account_ids,
       explained_by, coalesce(occurrences, 1) AS occurrences, cadence, flagged_share, cluster_ids, p_value
FROM history.spikes;

CREATE OR REPLACE VIEW report.activity_spikes AS
SELECT s.*, timezone(coalesce(r.tz, 'Asia/Shanghai'), s.window_start) AS window_start_local
FROM report.activity_spikes_all s LEFT JOIN history.runs r USING (run_id)
WHERE s.run_id = (SELECT run_id FROM report.latest_run)
ORDER BY s.window_start, s.scope;

CREATE OR REPLACE VIEW report.quarantine AS
SELECT run_id, file, row_number, reason, raw, ingested_at
FROM history.quarantine ORDER BY run_id, file, row_number NULLS FIRST;

-- Analyst verdicts as of the latest run (add new ones in <report>.feedback.duckdb, see README).
CREATE OR REPLACE VIEW report.verdicts AS
SELECT * FROM history.verdicts ORDER BY recorded_at;

-- What the latest run left out because analysts had dismissed it.
CREATE OR REPLACE VIEW report.suppressed AS
SELECT * FROM history.suppressed WHERE run_id = (SELECT run_id FROM report.latest_run);

-- Precision by pattern and month, from the verdicts: confirmed / (confirmed + dismissed).
CREATE OR REPLACE VIEW report.precision_by_pattern AS
WITH judged AS (
    SELECT v.verdict, date_trunc('month', v.recorded_at) AS month,
           coalesce(v.pattern,
                    (SELECT any_value(c.pattern) FROM history.clusters c WHERE c.cluster_id = v.cluster_id),
                    (SELECT any_value(f.pattern) FROM history.findings f WHERE f.account_id = v.account_id))
               AS pattern
    FROM history.verdicts v
)
SELECT pattern, month,
       count(*) FILTER (WHERE verdict = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE verdict = 'dismissed') AS dismissed,
       round(count(*) FILTER (WHERE verdict = 'confirmed') / count(*), 3) AS precision
FROM judged GROUP BY ALL ORDER BY pattern, month;

-- Targets (posts, entries, accounts) that vote_inflation farms inflated: one row per target and
-- action; from_flagged sums the farms' engagement, share = from_flagged / total.
CREATE OR REPLACE VIEW report.inflated_targets_all AS
SELECT i.run_id, i.target_id, i.action, max(i.total) AS total, sum(i.from_cluster) AS from_flagged,
       round(least(sum(i.from_cluster) / nullif(max(i.total), 0), 1.0), 4) AS share,
       min(i.first_seen) AS first_seen, max(i.last_seen) AS last_seen,
       list(i.cluster_id ORDER BY i.from_cluster DESC, i.cluster_id) AS cluster_ids
FROM history.inflated_targets i
WHERE NOT EXISTS (SELECT 1 FROM history.clusters c WHERE c.run_id = i.run_id
                  AND c.cluster_id = i.cluster_id AND c.case_status = 'dismissed')
GROUP BY i.run_id, i.target_id, i.action;

CREATE OR REPLACE VIEW report.inflated_targets AS
SELECT * FROM report.inflated_targets_all
WHERE run_id = (SELECT run_id FROM report.latest_run)
ORDER BY share DESC, from_flagged DESC, target_id, action;
