-- engagement_push_counts: per farm and tested target (TEMP tables `engagement_farm_members`:
-- farm, account_id, and `engagement_farm_targets`: farm, target_id, action) the farm's pushes
-- on it: runs of its members' events there that come faster than the target's own audience's
-- (no gap longer than the mean gap between the target's events by accounts of no farm), each
-- with its span (push_lo..push_hi, epoch seconds; span_s at least one bucket) and the target's
-- engagement by accounts of no farm: inside the push, in a span of the push's length before and
-- after it, each past a guard of half that length (the push's own stragglers), as a radar's
-- CFAR test leaves guard cells around the cell it tests (clipped to the window: before_s,
-- after_s), and anywhere outside the push (outside_s seconds of window). Reads `engagement_events`.
WITH flagged AS (
    SELECT DISTINCT account_id FROM engagement_farm_members
),
win AS (
    SELECT epoch(getvariable('window_start')) AS ws, epoch(getvariable('window_end')) AS we
),
farm_ev AS (
    SELECT t.farm, t.target_id, t.action, e.t
    FROM engagement_events AS e
    JOIN engagement_farm_members AS m USING (account_id)
    JOIN engagement_farm_targets AS t ON t.farm = m.farm AND t.target_id = e.target_id AND t.action = e.action
),
other AS (
    SELECT e.target_id, e.action, e.t
    FROM engagement_events AS e
    SEMI JOIN engagement_farm_targets AS p ON p.target_id = e.target_id AND p.action = e.action
    ANTI JOIN flagged AS f ON f.account_id = e.account_id
),
organic_gap AS (
    SELECT p.target_id, p.action, any_value(w.we - w.ws) / (count(o.t) + 1.0) AS gap_s
    FROM (SELECT DISTINCT target_id, action FROM engagement_farm_targets) AS p
    CROSS JOIN win AS w
    LEFT JOIN other AS o ON o.target_id = p.target_id AND o.action = p.action
    GROUP BY p.target_id, p.action
),
runs AS (
    SELECT farm, target_id, action, t,
           sum(CASE WHEN t - prev_t > gap_s THEN 1 ELSE 0 END)
               OVER (PARTITION BY farm, target_id, action ORDER BY t ROWS UNBOUNDED PRECEDING) AS run
    FROM (
        SELECT f.*, g.gap_s, lag(f.t) OVER (PARTITION BY f.farm, f.target_id, f.action ORDER BY f.t) AS prev_t
        FROM farm_ev AS f JOIN organic_gap AS g USING (target_id, action)
    )
),
push AS (
    SELECT farm, target_id, action, run, min(t) AS push_lo, max(t) AS push_hi, count(*) AS farm_events
    FROM runs
    GROUP BY ALL
    HAVING count(*) >= 2
),
span AS (
    SELECT p.*, greatest(p.push_hi - p.push_lo, getvariable('engagement_bucket_s')) AS span_s, w.ws, w.we
    FROM push AS p CROSS JOIN win AS w
)
SELECT s.farm, s.target_id, s.action, s.run, s.push_lo, s.push_hi, s.span_s, s.farm_events,
       count(o.t) FILTER (o.t >= s.push_lo AND o.t <= s.push_hi)                   AS inside,
       count(o.t) FILTER (o.t >= s.push_lo - 1.5 * s.span_s AND o.t < s.push_lo - 0.5 * s.span_s) AS before,
       count(o.t) FILTER (o.t > s.push_hi + 0.5 * s.span_s AND o.t <= s.push_hi + 1.5 * s.span_s) AS after,
       count(o.t) FILTER (o.t < s.push_lo OR o.t > s.push_hi)                     AS outside,
       any_value(greatest(least(s.push_lo - 0.5 * s.span_s, s.we) - greatest(s.push_lo - 1.5 * s.span_s, s.ws), 0.0))
                                                                                   AS before_s,
       any_value(greatest(least(s.push_hi + 1.5 * s.span_s, s.we) - greatest(s.push_hi + 0.5 * s.span_s, s.ws), 0.0))
                                                                                   AS after_s,
       any_value(greatest((s.we - s.ws) - (s.push_hi - s.push_lo), 1.0))          AS outside_s
FROM span AS s
LEFT JOIN other AS o ON o.target_id = s.target_id AND o.action = s.action
GROUP BY s.farm, s.target_id, s.action, s.run, s.push_lo, s.push_hi, s.span_s, s.farm_events
