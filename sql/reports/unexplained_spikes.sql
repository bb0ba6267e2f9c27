-- unexplained_spikes: activity spikes with no campaign release or sale day behind them.
SELECT scope, window_start, window_end, observed, round(expected, 1) AS expected,
       round(score, 2) AS score, top_account_ids[1:10] AS top_accounts
FROM report.activity_spikes
WHERE explained_by IS NULL
ORDER BY score DESC;
