-- pattern_overlap: accounts flagged under more than one pattern tonight (e.g. a hoarding batch
-- that is also machine-timed).
SELECT account_id, list(pattern ORDER BY pattern) AS patterns, round(max(score), 2) AS max_score
FROM report.flagged_accounts
GROUP BY account_id
HAVING count(*) > 1
ORDER BY max_score DESC;
