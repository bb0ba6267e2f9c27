-- rings_account_profile: for each account of the registered relation
-- rings_accounts(account_id, first_at): its age and orders placed before its first hostile
-- action (bought accounts are old but nearly unused), and whether it shares a device or IP
-- (at registration or on any order) with any other account (the base rate against which
-- sharing inside a ring is judged). Identifiers: the shared kinds 'device' and 'ip' of
-- int_account_identifiers (sources accounts and orders).
WITH acc AS (
    SELECT account_id, min(first_at) AS first_at FROM rings_accounts GROUP BY account_id
),
before AS (
    SELECT a.account_id,
           count(o.order_id) FILTER (o.created_at < a.first_at) AS orders_before,
           count(o.order_id)                                   AS orders_total
    FROM acc a LEFT JOIN stg_orders o ON o.account_id = a.account_id
    GROUP BY a.account_id
),
ids AS (
    SELECT DISTINCT account_id, kind || ':' || value AS id FROM int_account_identifiers
    WHERE kind IN ('device', 'ip') AND source IN ('accounts', 'orders')
),
shared AS (
    SELECT DISTINCT account_id
    FROM ids
    WHERE id IN (SELECT id FROM ids GROUP BY id HAVING count(DISTINCT account_id) >= 2)
      AND account_id IN (SELECT account_id FROM acc)
)
SELECT
    a.account_id,
    a.first_at,
    s.registered_at,
    greatest(date_diff('day', s.registered_at, a.first_at), 0) AS age_days,
    b.orders_before,
    b.orders_total,
    a.account_id IN (SELECT account_id FROM shared)            AS shares_id
FROM acc a
JOIN before b USING (account_id)
LEFT JOIN stg_accounts s USING (account_id)
