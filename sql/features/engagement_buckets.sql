-- engagement_buckets: per target, action and short time bucket, the distinct accounts acting in
-- it and in the getvariable('engagement_neighbour_buckets') buckets on either side (the target's
-- own local rate, left and right apart, so the onset of a real crowd is judged by its right
-- side and its tail by its left). Only non-empty buckets are listed. Reads `engagement_events`.
WITH b AS (
    SELECT target_id, action, bucket, count(DISTINCT account_id) AS accounts, count(*) AS events
    FROM engagement_events
    GROUP BY ALL
)
SELECT *,
    coalesce(sum(accounts) OVER (PARTITION BY target_id, action ORDER BY bucket
        RANGE BETWEEN getvariable('engagement_neighbour_buckets') PRECEDING AND 1 PRECEDING), 0) AS left_accounts,
    coalesce(sum(accounts) OVER (PARTITION BY target_id, action ORDER BY bucket
        RANGE BETWEEN 1 FOLLOWING AND getvariable('engagement_neighbour_buckets') FOLLOWING), 0) AS right_accounts
FROM b
