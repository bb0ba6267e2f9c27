-- new_cases: cases the latest run found for the first time or that grew, with their members.
SELECT cluster_id, pattern, case_status, n_accounts, round(loss_estimate, 2) AS loss_yuan,
       account_ids, summary
FROM report.clusters
WHERE case_status IN ('new', 'grown')
ORDER BY loss_estimate DESC NULLS LAST, score DESC, cluster_id;
