-- refunds_units: the order and claim units of the window, one row each, that both passes of
-- the refunds detector read (sql/features/refunds_accounts.sql reads them as the TEMP table
-- refunds_units; neither the base rates' leave-outs nor the groups change them): every order
-- placed in the window with whether a refund or compensation was claimed and paid on it
-- (approved, requested before the window end), the money paid, the claim reasons, whether it
-- redeemed a coupon, and `lev`, whether the account itself rated that order low (a complaint).
-- A claim without a known order counts as a unit of its own (claimed at its shop).
-- Leverage: a paid order the account itself rated low (<= getvariable('refunds_complaint_rating')
-- stars, the review's order, else its latest order at the shop before the review) in the window
-- is a complaint or extortion claim (one bad review at a shop does not make a complaint of every
-- later claim there).
WITH
claims AS (
    SELECT order_id, account_id, shop_id,
           count(*)                                                        AS n_claims,
           count(*) FILTER (kind = 'compensation')                         AS n_comp,
           count(*) FILTER (outcome = 'approved')                          AS n_paid,
           coalesce(sum(amount::DOUBLE) FILTER (outcome = 'approved'), 0)  AS paid_amount,
           coalesce(sum(amount::DOUBLE) FILTER (outcome = 'approved'
                                                AND kind = 'compensation'), 0) AS comp_amount,
           min(requested_at)                                               AS first_claim_at,
           max(requested_at)                                               AS last_claim_at,
           list(reason ORDER BY requested_at) FILTER (reason IS NOT NULL)  AS reasons
    FROM stg_refunds
    WHERE requested_at < getvariable('window_end')
    GROUP BY order_id, account_id, shop_id
),
win_orders AS (
    SELECT order_id, account_id, shop_id, coalesce(item_id, '') AS item_id, created_at,
           coupon_id IS NOT NULL OR coalesce(discount, 0) > 0 AS with_coupon
    FROM stg_orders
    WHERE created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
),
units AS (
    SELECT o.order_id, o.account_id, o.shop_id, o.item_id, o.created_at,
           coalesce(c.n_claims, 0) > 0 AS claimed, coalesce(c.n_paid, 0) > 0 AS paid,
           coalesce(c.n_comp, 0) > 0 AS comp, coalesce(c.paid_amount, 0) AS paid_amount,
           coalesce(c.comp_amount, 0) AS comp_amount, c.last_claim_at, c.reasons, o.with_coupon
    FROM win_orders o
    LEFT JOIN claims c ON c.order_id = o.order_id AND c.account_id = o.account_id
    UNION ALL
    -- claims in the window on no order of the window's (order unknown or not given)
    SELECT coalesce(c.order_id, 'claim'), c.account_id, c.shop_id, '', c.first_claim_at,
           true, c.n_paid > 0, c.n_comp > 0, c.paid_amount, c.comp_amount, c.last_claim_at,
           c.reasons, false
    FROM claims c
    WHERE c.first_claim_at >= getvariable('window_start')
      AND NOT EXISTS (SELECT 1 FROM win_orders o
                      WHERE o.order_id = c.order_id AND o.account_id = c.account_id)
      AND NOT EXISTS (SELECT 1 FROM stg_orders o
                      WHERE o.order_id = c.order_id AND o.created_at < getvariable('window_start'))
),
low_reviews AS (
    SELECT * FROM stg_reviews
    WHERE rating <= getvariable('refunds_complaint_rating') AND action <> 'withdrawn'
      AND created_at >= getvariable('window_start') AND created_at < getvariable('window_end')
),
low AS (  -- the orders the account itself rated low: by order_id, else its latest order there before
    SELECT DISTINCT r.account_id, coalesce(r.order_id, o.order_id) AS order_id
    FROM low_reviews r
    ASOF LEFT JOIN stg_orders o
      ON r.account_id = o.account_id AND r.shop_id = o.shop_id AND r.created_at >= o.created_at
)
SELECT u.*, l.order_id IS NOT NULL AS lev
FROM units u LEFT JOIN low l ON l.account_id = u.account_id AND l.order_id = u.order_id
