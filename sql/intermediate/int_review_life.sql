-- int_review_life: one row per review over all history, its life folded into one row:
-- (review_id, account_id, shop_id, order_id, posted_at, first_rating, last_action,
-- last_rating, text). posted_at and first_rating are those of its first 'posted' action,
-- last_action its latest action, last_rating its latest rating not withdrawn, text the one
-- first posted. A positive review at bar m (review_positive, below): first posted at or above
-- the bar, neither withdrawn nor amended below it since. Consumers filter by posted_at (their
-- window).
CREATE OR REPLACE TEMP VIEW int_review_life AS
SELECT review_id,
       any_value(account_id)                                             AS account_id,
       any_value(shop_id)                                                AS shop_id,
       any_value(order_id) FILTER (order_id IS NOT NULL)                 AS order_id,
       min(created_at) FILTER (action = 'posted')                        AS posted_at,
       arg_min(rating, created_at) FILTER (action = 'posted')            AS first_rating,
       arg_max(action, created_at)                                       AS last_action,
       arg_max(rating, created_at) FILTER (action <> 'withdrawn')        AS last_rating,
       arg_min(text, created_at) FILTER (action = 'posted')              AS text
FROM stg_reviews
GROUP BY review_id;

-- review_positive(first_rating, last_action, last_rating, m): an int_review_life row is a
-- positive review at bar m, the one definition brushing's features use.
CREATE OR REPLACE TEMP MACRO review_positive(first_rating, last_action, last_rating, m) AS (
    first_rating >= m AND last_action <> 'withdrawn' AND last_rating >= m
);

-- window_positive_reviews(m): the int_review_life rows first posted in the window
-- (getvariable('window_start') .. getvariable('window_end')) that are positive at bar m.
CREATE OR REPLACE TEMP MACRO window_positive_reviews(m) AS TABLE
SELECT * FROM int_review_life
WHERE posted_at >= getvariable('window_start') AND posted_at < getvariable('window_end')
  AND review_positive(first_rating, last_action, last_rating, m);
