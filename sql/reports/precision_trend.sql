-- precision_trend: how often analysts confirmed what each pattern raised, month by month.
SELECT pattern, month, confirmed, dismissed, precision
FROM report.precision_by_pattern
ORDER BY pattern, month;
