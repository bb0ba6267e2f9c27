-- top_cases: tonight's cases by money at risk, with whether each is new and since when it runs.
SELECT cluster_id, pattern, case_status, case_first_seen, n_accounts,
       round(loss_estimate, 2) AS loss_yuan, round(score, 2) AS score, summary
FROM report.clusters
ORDER BY loss_estimate DESC, score DESC
LIMIT 20;
