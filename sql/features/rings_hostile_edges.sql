-- rings_hostile_edges: one row per (account, shop) with hostile actions in the window.
-- A hostile edge has a low rating (<= getvariable('rings_low_rating')), a compensation
-- request, or a review withdrawn / raised to >= 4 stars after the shop paid the account.
-- Refund requests add weight but do not make an edge hostile on their own (ordinary buyers
-- ask for refunds all the time). Also carries the shop's distinct buyers in the
-- window and totals over all shops (buyer-shop pairs, shops), so a detector can judge
-- hostility against order volume. ``n_comp_words`` counts refund reasons and low-review texts
-- that ask for compensation in words (crews that avoid the ``kind`` field), in the languages a
-- script of threats comes in (zh, ja, ko, ru, vi, id, fr, de, es/pt/it, en); ``n_comp_words_text``
-- counts the low-review texts alone (a threat posted in public, where a refund's reason is private).
-- ``spent_all`` is what the account ever paid the shop (history included): a shop that paid it
-- back more than that paid more than a refund. ``n_ask_beyond_price`` counts the requests (a refund
-- or a compensation, whatever came of it) that asked for more than their own order cost: a buyer
-- who wants the money back asks for what was paid, a demand asks for more (``退一赔三``).
WITH
review_life AS (
    SELECT
        review_id,
        any_value(account_id)                                         AS account_id,
        any_value(shop_id)                                            AS shop_id,
        min(created_at) FILTER (rating <= getvariable('rings_low_rating')
                                AND action <> 'withdrawn')            AS low_at,
        min(rating)                                                   AS min_rating,
        any_value(text ORDER BY created_at)
            FILTER (rating <= getvariable('rings_low_rating'))        AS low_text
    FROM stg_reviews
    GROUP BY review_id
),
reversals AS (
    -- the first withdrawal or raise to >= 4 stars after the low rating
    SELECT l.review_id, min(r.created_at) AS reversed_at
    FROM review_life l
    JOIN stg_reviews r
      ON r.review_id = l.review_id AND r.created_at > l.low_at
     AND (r.action = 'withdrawn' OR (r.action = 'amended' AND r.rating >= 4))
    GROUP BY l.review_id
),
low_reviews AS (
    SELECT l.*, v.reversed_at
    FROM review_life l LEFT JOIN reversals v USING (review_id)
    WHERE l.low_at >= getvariable('window_start') AND l.low_at < getvariable('window_end')
),
refunds AS (
    SELECT
        account_id, shop_id,
        count(*) FILTER (kind <> 'compensation')                                AS n_refund,
        count(*) FILTER (kind = 'compensation')                                 AS n_comp,
        count(*) FILTER (kind <> 'compensation' AND outcome = 'approved')       AS n_refund_paid,
        count(*) FILTER (kind = 'compensation' AND outcome = 'approved')        AS n_comp_paid,
        coalesce(sum(amount::DOUBLE) FILTER (kind <> 'compensation'
                                             AND outcome = 'approved'), 0)      AS refund_paid,
        coalesce(sum(amount::DOUBLE) FILTER (kind = 'compensation'
                                             AND outcome = 'approved'), 0)      AS comp_paid,
        min(coalesce(resolved_at, requested_at)) FILTER (outcome = 'approved')  AS first_paid_at,
        min(requested_at)                                                       AS first_req_at,
        min(requested_at) FILTER (kind = 'compensation')                        AS first_comp_at,
        max(requested_at)                                                       AS last_req_at,
        count(*) FILTER (regexp_matches(lower(coalesce(reason, '')),
                                        '赔|补偿|compensa|精神损失|補償|賠償|보상|배상|компенсац|возмещ|bồi thường|ganti rugi|dédommag|indemni|entschädig|schadensersatz'))           AS n_comp_words_reason,
        count(*) FILTER (amount > order_amount)                                 AS n_ask_beyond_price
    FROM (
        SELECT f.*, o.amount AS order_amount
        FROM stg_refunds f LEFT JOIN stg_orders o ON o.order_id = f.order_id
    )
    WHERE requested_at >= getvariable('window_start') AND requested_at < getvariable('window_end')
    GROUP BY account_id, shop_id
),
reviews AS (
    SELECT
        account_id, shop_id,
        count(*)                                AS n_low,
        count(*) FILTER (min_rating = 1)        AS n_one_star,
        min(low_at)                             AS first_low_at,
        max(low_at)                             AS last_low_at,
        list(reversed_at ORDER BY reversed_at) FILTER (reversed_at IS NOT NULL) AS reversed_ats,
        list(low_text ORDER BY low_at, review_id) FILTER (low_text IS NOT NULL) AS texts,
        count(*) FILTER (regexp_matches(lower(coalesce(low_text, '')),
                                        '赔|补偿|compensa|精神损失|補償|賠償|보상|배상|компенсац|возмещ|bồi thường|ganti rugi|dédommag|indemni|entschädig|schadensersatz'))           AS n_comp_words_text
    FROM low_reviews
    GROUP BY account_id, shop_id
),
edges AS (
    SELECT
        account_id, shop_id,
        coalesce(v.n_low, 0)           AS n_low,
        coalesce(v.n_one_star, 0)      AS n_one_star,
        coalesce(f.n_refund, 0)        AS n_refund,
        coalesce(f.n_comp, 0)          AS n_comp,
        coalesce(f.n_refund_paid, 0)   AS n_refund_paid,
        coalesce(f.n_comp_paid, 0)     AS n_comp_paid,
        coalesce(f.refund_paid, 0)     AS refund_paid,
        coalesce(f.comp_paid, 0)       AS comp_paid,
        coalesce(len(list_filter(v.reversed_ats, x -> x >= f.first_paid_at)), 0)
                                       AS n_reversed_after_pay,
        coalesce(len(v.reversed_ats), 0) AS n_reversed,
        least(v.first_low_at, f.first_comp_at)           AS first_at,
        greatest(v.last_low_at, f.last_req_at)           AS last_at,
        coalesce(v.texts, [])          AS texts,
        coalesce(f.n_comp_words_reason, 0) + coalesce(v.n_comp_words_text, 0) AS n_comp_words,
        coalesce(v.n_comp_words_text, 0) AS n_comp_words_text,
        coalesce(f.n_ask_beyond_price, 0) AS n_ask_beyond_price
    FROM reviews v FULL OUTER JOIN refunds f USING (account_id, shop_id)
),
account_shop_orders AS (
    -- all orders (history included) of the account at the shop: a regular customer's
    -- complaint is not a crew's hit
    SELECT account_id, shop_id, count(*) AS n_orders_all, sum(amount::DOUBLE) AS spent_all
    FROM stg_orders GROUP BY account_id, shop_id
),
shop_volume AS (
    SELECT shop_id, count(*) AS shop_orders, count(DISTINCT account_id) AS shop_buyers
    FROM stg_orders
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
    GROUP BY shop_id
),
totals AS (
    SELECT coalesce(sum(shop_buyers), 0) AS total_buyer_shops, count(*) AS n_shops
    FROM shop_volume
)
SELECT e.*, coalesce(s.shop_orders, 0) AS shop_orders, coalesce(s.shop_buyers, 0) AS shop_buyers,
       t.total_buyer_shops, t.n_shops, coalesce(o.n_orders_all, 0) AS n_orders_all,
       coalesce(o.spent_all, 0) AS spent_all
FROM edges e LEFT JOIN shop_volume s USING (shop_id) CROSS JOIN totals t
LEFT JOIN account_shop_orders o USING (account_id, shop_id)
WHERE e.n_low > 0 OR e.n_comp > 0 OR e.n_reversed_after_pay > 0
ORDER BY e.account_id, e.shop_id
