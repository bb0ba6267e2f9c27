-- rings_account_profile: history of each account in the registered relation
-- rings_accounts(account_id, first_at) before its first hostile action: account age and
-- orders placed before the attack (bought accounts are old but nearly unused).
WITH acc AS (
    SELECT account_id, min(first_at) AS first_at FROM rings_accounts GROUP BY account_id
),
before AS (
    SELECT a.account_id,
           count(o.order_id) FILTER (o.created_at < a.first_at) AS orders_before,
           count(o.order_id)                                   AS orders_total
    FROM acc a LEFT JOIN stg_orders o ON o.account_id = a.account_id
    GROUP BY a.account_id
)
SELECT
    a.account_id,
    a.first_at,
    s.registered_at,
    greatest(date_diff('day', s.registered_at, a.first_at), 0) AS age_days,
    b.orders_before,
    b.orders_total
FROM acc a
JOIN before b USING (account_id)
LEFT JOIN stg_accounts s USING (account_id)
