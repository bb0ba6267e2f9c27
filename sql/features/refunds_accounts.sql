-- refunds_accounts: per account, its orders placed in the window (the units of the TEMP table
-- refunds_units, sql/features/refunds_units.sql, built once for both passes of the detector),
-- how many of them had a refund or compensation claimed and paid (approved, requested before
-- the window end), the money paid, and the number of paid orders expected at the base rate of its own shops and items.
-- A claim without a known order counts as a unit of its own (claimed at its shop).
-- Base rate of an order: its item's paid rate, shrunk toward its shop's, shrunk toward the
-- platform's (a beta prior worth getvariable('refunds_prior_orders') orders each), each
-- leaving out the account's own orders, so an account cannot raise its own baseline and a
-- bad seller or a recalled item explains the refunds it pays everyone.
-- "The account's own orders" are those of its group, refunds_groups(account_id, grp) (accounts
-- linked by a rare shared address or device; an account without a row is its own group): a
-- crew buying at the same home shops cannot raise each other's baseline.
-- Accounts of the registered relation refunds_exclude(account_id) (those flagged by a first
-- pass) are left out of every base rate, so a crew cannot raise the baseline of its shops.
-- Leverage: a paid order the account itself rated low (refunds_units.lev) is a complaint or
-- extortion claim, counted apart (serial refunders need no leverage; one bad
-- review at a shop does not make a complaint of every later claim there).
-- Coupon loops: paid orders that redeemed a coupon are counted apart (refund-loop arbitrage is
-- coupon hoarding).
-- Reasons: the account's most used claim reason, how often, and that reason's share of all
-- the window's claims (the baseline of reusing it).
-- Claims: the same for orders claimed on at all (any outcome; whether to pay is the shop's
-- decision, claiming is the account's) without a low review of the order (complaints are
-- the other pattern), against the items' and shops' rates of such claims; and the platform's
-- share of claims paid (an account whose claims are rejected far more often is a complainer).
-- And every claim (..._all, ka_top), low review or not, against the rates of all claims, with
-- the count of claimed orders the account rated low (n_claimed_leveraged): a refunder's one
-- low review per shop is cover, a complainer rates nearly every claimed order low.
-- Also the same figures without the account's strongest shop (most paid orders), so one bad
-- seller cannot make a serial refunder.
WITH
units_l AS (  -- lev: the claim came with the account's own low review of the order (a complaint)
    SELECT u.*, coalesce(g.grp, u.account_id) AS grp
    FROM refunds_units u LEFT JOIN refunds_groups g ON g.account_id = u.account_id
),
reason_share AS (
    SELECT reason, count(*) / sum(count(*)) OVER () AS share
    FROM (SELECT unnest(reasons) AS reason FROM refunds_units WHERE reasons IS NOT NULL)
    GROUP BY reason
),
base AS (SELECT * FROM units_l WHERE account_id NOT IN (SELECT account_id FROM refunds_exclude)),
-- only accounts with a paid unit are reported (HAVING below): their units are the ones rated,
-- their groups' the ones left out (every rate above still counts every unit of `base`)
paid_accounts AS (SELECT DISTINCT account_id, grp FROM units_l WHERE paid),
own AS (SELECT * FROM base WHERE grp IN (SELECT grp FROM paid_accounts)),
platform AS (SELECT coalesce(avg(paid::INT)::DOUBLE, 0.05) AS p0,
                     coalesce(avg((claimed AND NOT lev)::INT)::DOUBLE, 0.05) AS c0,
                     coalesce(avg(claimed::INT)::DOUBLE, 0.05) AS ca0,
                     coalesce(sum(paid::INT) / nullif(sum(claimed::INT), 0), 0.5)::DOUBLE AS a0
              FROM base),
shop AS (SELECT shop_id, count(*) AS n, sum(paid::INT) AS k, sum((claimed AND NOT lev)::INT) AS kc,
                sum(claimed::INT) AS ka FROM base
         GROUP BY shop_id),
item AS (SELECT shop_id, item_id, count(*) AS n, sum(paid::INT) AS k, sum((claimed AND NOT lev)::INT) AS kc,
                sum(claimed::INT) AS ka
         FROM base GROUP BY shop_id, item_id),
acc_shop AS (SELECT grp, shop_id, count(*) AS n, sum(paid::INT) AS k, sum((claimed AND NOT lev)::INT) AS kc,
                    sum(claimed::INT) AS ka
             FROM own GROUP BY grp, shop_id),
acc_item AS (SELECT grp, shop_id, item_id, count(*) AS n, sum(paid::INT) AS k,
                    sum((claimed AND NOT lev)::INT) AS kc, sum(claimed::INT) AS ka
             FROM own GROUP BY grp, shop_id, item_id),
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
             / (coalesce(i.n, 0) - coalesce(ai.n, 0) + getvariable('refunds_prior_orders'))  AS c_item,
           (coalesce(i.ka, 0) - coalesce(ai.ka, 0) + getvariable('refunds_prior_orders')
                * ((coalesce(s.ka, 0) - coalesce(a.ka, 0) + getvariable('refunds_prior_orders') * p.ca0)
                   / (coalesce(s.n, 0) - coalesce(a.n, 0) + getvariable('refunds_prior_orders'))))
             / (coalesce(i.n, 0) - coalesce(ai.n, 0) + getvariable('refunds_prior_orders'))  AS ca_item
    FROM (SELECT * FROM units_l WHERE account_id IN (SELECT account_id FROM paid_accounts)) u
    CROSS JOIN platform p
    LEFT JOIN shop s USING (shop_id)
    LEFT JOIN acc_shop a USING (grp, shop_id)
    LEFT JOIN item i USING (shop_id, item_id)
    LEFT JOIN acc_item ai USING (grp, shop_id, item_id)
),
per_shop AS (
    SELECT account_id, shop_id, count(*) AS n, sum(paid::INT) AS k, sum(p_item) AS mu,
           sum((claimed AND NOT lev)::INT) AS kc, sum(c_item) AS muc,
           sum(claimed::INT) AS ka, sum(ca_item) AS muca,
           row_number() OVER (PARTITION BY account_id
                              ORDER BY sum(paid::INT) DESC, count(*) DESC, shop_id) AS rk
    FROM rated GROUP BY account_id, shop_id
),
top AS (SELECT account_id, n AS n_top, k AS k_top, mu AS mu_top, kc AS kc_top, muc AS muc_top,
               ka AS ka_top, muca AS muca_top
        FROM per_shop WHERE rk = 1),
reasons AS (
    SELECT account_id, count(*) AS n_reasons, max(cnt) AS top_reason_n,
           arg_max(reason, (cnt, reason)) AS top_reason, sum(cnt) AS n_reasoned  -- ties by text
    FROM (SELECT account_id, reason, count(*) AS cnt
          FROM (SELECT account_id, unnest(reasons) AS reason FROM refunds_units WHERE reasons IS NOT NULL)
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
       sum(r.ca_item)                                  AS expected_claimed_all,
       sum((r.claimed AND r.lev)::INT)                 AS n_claimed_leveraged,
       sum(r.paid_amount)                              AS paid_amount,
       sum(r.comp_amount)                              AS comp_amount,
       min(r.created_at)                               AS first_at,
       max(coalesce(r.last_claim_at, r.created_at))    AS last_at,
       any_value(t.n_top)                              AS n_top,
       any_value(t.k_top)                              AS k_top,
       any_value(t.mu_top)                             AS mu_top,
       any_value(t.kc_top)                             AS kc_top,
       any_value(t.muc_top)                            AS muc_top,
       any_value(t.ka_top)                             AS ka_top,
       any_value(t.muca_top)                           AS muca_top,
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
