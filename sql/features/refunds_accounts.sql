-- refunds_accounts: per account, its orders placed in the window, how many of them had a refund
-- or compensation claimed and paid (approved, requested before the window end), the money
-- paid, and the number of paid orders expected at the base rate of its own shops and items.
-- A claim without a known order counts as a unit of its own (claimed at its shop).
-- Base rate of an order: its item's paid rate, shrunk toward its shop's, shrunk toward the
-- platform's (a beta prior worth getvariable('refunds_prior_orders') orders each), each
-- leaving out the account's own orders, so an account cannot raise its own baseline and a
-- bad seller or a recalled item explains the refunds it pays everyone.
-- Accounts of the registered relation refunds_exclude(account_id) (those flagged by a first
-- pass) are left out of every base rate, so a crew cannot raise the baseline of its shops.
-- Leverage: a paid order the account itself rated low (<= getvariable('refunds_complaint_rating')
-- stars, the review's order, else its latest order at the shop before the review) in the window
-- is a complaint or extortion claim, counted apart (serial refunders need no leverage; one bad
-- review at a shop does not make a complaint of every later claim there).
-- Coupon loops: paid orders that redeemed a coupon are counted apart (refund-loop arbitrage is
-- coupon hoarding).
-- Reasons: the account's most used claim reason, how often, and that reason's share of all
-- the window's claims (the baseline of reusing it).
-- Claims: the same for orders claimed on at all (any outcome; whether to pay is the shop's
-- decision, claiming is the account's) without a low review of the order (complaints are
-- the other pattern), against the items' and shops' rates of such claims; and the platform's
-- share of claims paid (an account whose claims are rejected far more often is a complainer).
-- Also the same figures without the account's strongest shop (most paid orders), so one bad
-- seller cannot make a serial refunder.
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
),
units_l AS (  -- lev: the claim came with the account's own low review of the order (a complaint)
    SELECT u.*, l.order_id IS NOT NULL AS lev
    FROM units u LEFT JOIN low l ON l.account_id = u.account_id AND l.order_id = u.order_id
),
reason_share AS (
    SELECT reason, count(*) / sum(count(*)) OVER () AS share
    FROM (SELECT unnest(reasons) AS reason FROM units WHERE reasons IS NOT NULL)
    GROUP BY reason
),
base AS (SELECT * FROM units_l WHERE account_id NOT IN (SELECT account_id FROM refunds_exclude)),
platform AS (SELECT coalesce(avg(paid::INT)::DOUBLE, 0.05) AS p0,
                     coalesce(avg((claimed AND NOT lev)::INT)::DOUBLE, 0.05) AS c0,
                     coalesce(sum(paid::INT) / nullif(sum(claimed::INT), 0), 0.5)::DOUBLE AS a0
              FROM base),
shop AS (SELECT shop_id, count(*) AS n, sum(paid::INT) AS k, sum((claimed AND NOT lev)::INT) AS kc FROM base
         GROUP BY shop_id),
item AS (SELECT shop_id, item_id, count(*) AS n, sum(paid::INT) AS k, sum((claimed AND NOT lev)::INT) AS kc
         FROM base GROUP BY shop_id, item_id),
acc_shop AS (SELECT account_id, shop_id, count(*) AS n, sum(paid::INT) AS k, sum((claimed AND NOT lev)::INT) AS kc
             FROM base GROUP BY account_id, shop_id),
acc_item AS (SELECT account_id, shop_id, item_id, count(*) AS n, sum(paid::INT) AS k,
                    sum((claimed AND NOT lev)::INT) AS kc
             FROM base GROUP BY account_id, shop_id, item_id),
rated AS (
    SELECT u.*,
           (coalesce(s.k, 0) - coalesce(a.k, 0) + getvariable('refunds_prior_orders') * p.p0)
             / (coalesce(s.n, 0) - coalesce(a.n, 0) + getvariable('refunds_prior_orders'))   AS p_shop,
           (coalesce(i.k, 0) - coalesce(ai.k, 0) + getvariable('refunds_prior_orders')
                * ((coalesce(s.k, 0) - coalesce(a.k, 0) + getvariable('refunds_prior_orders') * p.p0)
                   / (coalesce(s.n, 0) - coalesce(a.n, 0) + getvariable('refunds_prior_orders'))))
             / (coalesce(i.n, 0) - coalesce(ai.n, 0) + getvariable('refunds_prior_orders'))  AS p_item,
           (coalesce(i.kc, 0) - coalesce(ai.kc, 0) + getvariable('refunds_prior_orders')
                * ((coalesce(s.kc, 0) - coalesce(a.kc, 0) + getvariable('refunds_prior_orders') * p.c0)
                   / (coalesce(s.n, 0) - coalesce(a.n, 0) + getvariable('refunds_prior_orders'))))
             / (coalesce(i.n, 0) - coalesce(ai.n, 0) + getvariable('refunds_prior_orders'))  AS c_item
    FROM units_l u
    CROSS JOIN platform p
    LEFT JOIN shop s USING (shop_id)
    LEFT JOIN acc_shop a USING (account_id, shop_id)
    LEFT JOIN item i USING (shop_id, item_id)
    LEFT JOIN acc_item ai USING (account_id, shop_id, item_id)
),
per_shop AS (
    SELECT account_id, shop_id, count(*) AS n, sum(paid::INT) AS k, sum(p_item) AS mu,
           sum((claimed AND NOT lev)::INT) AS kc, sum(c_item) AS muc,
           row_number() OVER (PARTITION BY account_id
                              ORDER BY sum(paid::INT) DESC, count(*) DESC, shop_id) AS rk
    FROM rated GROUP BY account_id, shop_id
),
top AS (SELECT account_id, n AS n_top, k AS k_top, mu AS mu_top, kc AS kc_top, muc AS muc_top
        FROM per_shop WHERE rk = 1),
reasons AS (
    SELECT account_id, count(*) AS n_reasons, max(cnt) AS top_reason_n,
           arg_max(reason, (cnt, reason)) AS top_reason, sum(cnt) AS n_reasoned  -- ties by text
    FROM (SELECT account_id, reason, count(*) AS cnt
          FROM (SELECT account_id, unnest(reasons) AS reason FROM rated WHERE reasons IS NOT NULL)
          GROUP BY account_id, reason)
    GROUP BY account_id
)
SELECT r.account_id,
       count(*)                                        AS n_orders,
       sum(r.claimed::INT)                             AS n_claimed,
       sum((r.claimed AND NOT r.lev)::INT)             AS n_claimed_clean,
       sum(r.paid::INT)                                AS n_paid,
       sum(r.comp::INT)                                AS n_comp_claimed,
       count(DISTINCT r.shop_id)                       AS n_shops,
       count(DISTINCT r.shop_id) FILTER (r.paid)       AS n_paid_shops,
       sum(r.p_item)                                   AS expected_paid,
       sum(r.c_item)                                   AS expected_claimed,
       sum(r.paid_amount)                              AS paid_amount,
       sum(r.comp_amount)                              AS comp_amount,
       min(r.created_at)                               AS first_at,
       max(coalesce(r.last_claim_at, r.created_at))    AS last_at,
       any_value(t.n_top)                              AS n_top,
       any_value(t.k_top)                              AS k_top,
       any_value(t.mu_top)                             AS mu_top,
       any_value(t.kc_top)                             AS kc_top,
       any_value(t.muc_top)                            AS muc_top,
       any_value(x.n_reasons)                          AS n_reasons,
       any_value(x.top_reason_n)                       AS top_reason_n,
       any_value(x.top_reason)                         AS top_reason,
       any_value(x.n_reasoned)                         AS n_reasoned,
       any_value(rs.share)                             AS top_reason_share,
       (SELECT a0 FROM platform)                       AS platform_approval,
       sum((r.paid AND r.lev)::INT)                    AS n_paid_leveraged,
       sum((r.paid AND r.with_coupon)::INT)            AS n_paid_coupon,
       list(DISTINCT r.shop_id ORDER BY r.shop_id) FILTER (r.paid) AS paid_shops
FROM rated r
JOIN top t USING (account_id)
LEFT JOIN reasons x USING (account_id)
LEFT JOIN reason_share rs ON rs.reason = x.top_reason
GROUP BY r.account_id
HAVING sum(r.paid::INT) > 0
ORDER BY r.account_id
