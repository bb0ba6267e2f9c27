-- top_cases: tonight's cases by money at risk (NULL: the pattern estimates no money), with whether
-- each is new, since when it runs, and the analysts' verdict (dismissed cases are left out).
SELECT cluster_id, pattern, case_status, verdict, case_first_seen, n_accounts,
       round(loss_estimate, 2) AS loss_yuan, round(score, 2) AS score, summary
FROM report.clusters
ORDER BY loss_estimate DESC NULLS LAST, score DESC, cluster_id
LIMIT 20;
