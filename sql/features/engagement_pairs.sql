-- engagement_pairs: per account and target/action, its events (for fixed multiples: votes
-- bought at "one yuan, three votes" come in multiples) and when. Reads `engagement_events`.
SELECT account_id, target_id, action, count(*) AS events, min(ts) AS first_ts, max(ts) AS last_ts
FROM engagement_events
GROUP BY ALL
