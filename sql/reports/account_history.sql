-- account_history: every flag an account has had, run by run (set the account first:
--   SET VARIABLE account_id = 'a_000123';
SELECT f.run_id, r.as_of, f.pattern, round(f.score, 2) AS score, f.cluster_id, f.reason
FROM report.flagged_accounts_all f
JOIN report.runs r USING (run_id)
WHERE f.account_id = getvariable('account_id')
ORDER BY f.run_id, f.pattern;
