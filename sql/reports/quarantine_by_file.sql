-- quarantine_by_file: rejected records per delivered file and reason, newest runs first.
SELECT run_id, file, coalesce(reason, '?') AS reason, count(*) AS records,
       min(row_number) AS first_row
FROM report.quarantine
GROUP BY ALL
ORDER BY run_id DESC, records DESC;
