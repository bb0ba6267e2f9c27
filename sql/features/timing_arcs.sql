-- timing_arcs: clock alignment at every scale. For each account and source of `timing_events`
-- (TEMP table of the timing detector) with at least getvariable('timing_min_events')
-- clock-testable events, and for each dial (the 3600 s of the hour, the 60 s of the minute) and arc width
-- (3, 5, 10, 15, 20, 30, 45, 60 s of the hour; 3, 5, 10 s of the minute), the arc with the most events: where it starts, how many
-- events fall in it, and the share of events the population puts in that same arc (pooled over
-- the lighter half of the accounts, so heavy bots cannot shape it). Arcs wrap round the dial.
-- Each source (activity, coupon_claim, order, review) is scanned against its own population
-- (a source whose timestamps are cut to the minute is cut for everyone). The minute dial is
-- scanned at 3, 5 and 10 s only (a fixed second of every minute): wider arcs of the minute are
-- what any steady rhythm of tens of seconds fills. Events of one account
-- and source at the same instant count once; claims timed by a release are left out.
-- One row per (account, source, dial, width): the scan never leaves SQL.
WITH events AS (
    SELECT DISTINCT account_id, split_part(stream, ':', 1) AS source, ts, sec_of_hour, sec_of_minute, hour_cell
    FROM timing_events
    WHERE NOT at_release
),
-- A person's events come in sessions, seconds apart, and an app's in steady rhythms: each
-- account counts one event per clock hour (a pseudo-random one, not the first, which would
-- favour the start of the hour), so the events tested are about independent.
sampled AS (  -- (an aggregate, not a window: no sort)
    SELECT account_id, source, pick.sec_of_hour, pick.sec_of_minute
    FROM (SELECT account_id, source,
                 arg_min({'sec_of_hour': sec_of_hour, 'sec_of_minute': sec_of_minute}, hash(ts)) AS pick
          FROM events
          GROUP BY account_id, source, hour_cell)
),
hist AS (
    SELECT 3600 AS dial, account_id, source, sec_of_hour AS sec, count(*) AS k FROM sampled GROUP BY ALL
    UNION ALL
    SELECT 60, account_id, source, sec_of_minute, count(*) FROM sampled GROUP BY ALL
),
acc AS (
    SELECT dial, account_id, source, sum(k) AS n FROM hist GROUP BY ALL
),
tested AS (
    SELECT dial, account_id, source, n FROM acc WHERE n >= getvariable('timing_min_events')
),
light AS (
    SELECT a.dial, a.account_id, a.source FROM acc AS a
    JOIN (SELECT dial, source, median(n) AS m FROM acc GROUP BY ALL) AS m USING (dial, source)
    WHERE a.n <= m.m
),
wrapped AS (  -- the dial's first minute repeated one turn on, so arcs wrap round
    SELECT dial, account_id, source, sec, k FROM hist
    UNION ALL
    SELECT dial, account_id, source, sec + dial, k FROM hist WHERE sec < 60
),
population AS (
    SELECT dial, source, sec, sum(k) AS k
    FROM wrapped SEMI JOIN light USING (dial, account_id, source)
    GROUP BY ALL
),
dense AS (  -- every second of both dials, so population arcs sum over a full range
    SELECT d.dial, s.source, r.sec
    FROM (VALUES (3600), (60)) AS d(dial)
    CROSS JOIN (SELECT DISTINCT source FROM population) AS s
    CROSS JOIN range(3660) AS r(sec)
    WHERE r.sec < d.dial + 60
),
pop_arcs AS (
    SELECT dial, source, sec AS arc_start, unnest([3, 5, 10, 15, 20, 30, 45, 60]) AS width,
           unnest([
               sum(k) OVER w3, sum(k) OVER w5, sum(k) OVER w10, sum(k) OVER w15,
               sum(k) OVER w20, sum(k) OVER w30, sum(k) OVER w45, sum(k) OVER w60]) AS k,
           (SELECT sum(k) FROM population AS q
            WHERE q.dial = d.dial AND q.source = d.source AND q.sec < q.dial) AS total
    FROM (SELECT dial, source, sec, coalesce(p.k, 0) AS k
          FROM dense LEFT JOIN population AS p USING (dial, source, sec)) AS d
    WINDOW w3 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING),
           w5 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 4 FOLLOWING),
           w10 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 9 FOLLOWING),
           w15 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 14 FOLLOWING),
           w20 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 19 FOLLOWING),
           w30 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 29 FOLLOWING),
           w45 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 44 FOLLOWING),
           w60 AS (PARTITION BY dial, source ORDER BY sec ROWS BETWEEN CURRENT ROW AND 59 FOLLOWING)
),
arcs AS (  -- each dial on its own: the minute dial needs only its three widths
    SELECT dial, account_id, source, sec AS arc_start, unnest([3, 5, 10, 15, 20, 30, 45, 60]) AS width, unnest([sum(k) OVER w3, sum(k) OVER w5, sum(k) OVER w10, sum(k) OVER w15, sum(k) OVER w20, sum(k) OVER w30, sum(k) OVER w45, sum(k) OVER w60]) AS hits
    FROM wrapped SEMI JOIN tested USING (dial, account_id, source)
    WHERE dial = 3600
    WINDOW w3 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 2 FOLLOWING),
           w5 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 4 FOLLOWING),
           w10 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 9 FOLLOWING),
           w15 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 14 FOLLOWING),
           w20 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 19 FOLLOWING),
           w30 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 29 FOLLOWING),
           w45 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 44 FOLLOWING),
           w60 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 59 FOLLOWING)
    UNION ALL
    SELECT dial, account_id, source, sec AS arc_start, unnest([3, 5, 10]) AS width, unnest([sum(k) OVER m3, sum(k) OVER m5, sum(k) OVER m10]) AS hits
    FROM wrapped SEMI JOIN tested USING (dial, account_id, source)
    WHERE dial = 60
    WINDOW m3 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 2 FOLLOWING),
           m5 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 4 FOLLOWING),
           m10 AS (PARTITION BY account_id, source ORDER BY sec RANGE BETWEEN CURRENT ROW AND 9 FOLLOWING)
),
best AS (
    SELECT dial, account_id, source, width, CAST(max(hits) AS BIGINT) AS hits, arg_max(arc_start, hits * 100000 - arc_start) AS arc_start  -- ties: the earliest start
    FROM arcs
    WHERE arc_start < dial AND width <= CASE dial WHEN 60 THEN 10 ELSE 60 END
    GROUP BY ALL
)
SELECT b.account_id, b.source, b.dial, b.width, b.arc_start, b.hits, CAST(t.n AS BIGINT) AS n,
       greatest(coalesce(p.k / nullif(p.total, 0), 0), b.width / b.dial) AS null_share
FROM best AS b
JOIN tested AS t USING (dial, account_id, source)
LEFT JOIN pop_arcs AS p
  ON p.dial = b.dial AND p.source = b.source AND p.width = b.width AND p.arc_start = b.arc_start
