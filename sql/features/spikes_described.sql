-- spikes_described: for each spike of `spikes_found` (TEMP table of the spikes detector:
-- spike_id, scope, window_start, window_end) the number of distinct accounts acting in its
-- scope inside its window and the getvariable('spikes_top_accounts') with most events there,
-- from `spikes_events`.
WITH spike_minutes AS (
    SELECT spike_id, split_part(scope, ':', 1) AS family,
           nullif(split_part(scope, ':', 2), '') AS detail,
           unnest(generate_series(window_start, window_end - INTERVAL 1 MINUTE, INTERVAL 1 MINUTE)) AS minute
    FROM spikes_found
),
per_account AS (
    SELECT m.spike_id, e.account_id, count(*) AS n
    FROM spike_minutes AS m
    JOIN spikes_events AS e ON e.family = m.family AND e.minute = m.minute
    WHERE (m.detail IS NULL OR e.detail = m.detail) AND e.account_id IS NOT NULL
    GROUP BY ALL
)
SELECT spike_id, count(*) AS observed,
       list(account_id ORDER BY n DESC, account_id) FILTER (WHERE rank <= getvariable('spikes_top_accounts'))
           AS top_account_ids
FROM (SELECT *, row_number() OVER (PARTITION BY spike_id ORDER BY n DESC, account_id) AS rank FROM per_account)
GROUP BY spike_id
