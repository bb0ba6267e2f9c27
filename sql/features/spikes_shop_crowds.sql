-- spikes_shop_crowds: per orders spike of `spikes_organic_found` (scope, window_start,
-- window_end) the shop most of its orders went to (top_shop, n_top of n_orders) and who bought
-- there in it: n_buyers, their distinct devices and shipping addresses (an account without one
-- counting as its own) and n_established, the buyers with an order on the platform before the
-- spike's day. A shop's own sale draws its regulars and the platform's ordinary buyers, each on
-- their own phone and to their own door; a crew pushing orders shares machines and drop
-- addresses, or is freshly made.
WITH hits AS (
    SELECT s.scope, s.window_start, o.shop_id, o.account_id,
           coalesce(o.device_id, 'acc:' || o.account_id) AS device,
           coalesce(o.ship_addr_hash, 'acc:' || o.account_id) AS address
    FROM spikes_organic_found AS s
    JOIN stg_orders AS o ON o.created_at >= s.window_start AND o.created_at < s.window_end
    WHERE s.scope = 'orders' AND o.account_id IS NOT NULL
),
per AS (
    SELECT scope, window_start, shop_id, count(*) AS n FROM hits WHERE shop_id IS NOT NULL GROUP BY ALL
),
top AS (
    SELECT scope, window_start, arg_max(shop_id, (n, shop_id)) AS top_shop, max(n) AS n_top,
           CAST(sum(n) AS BIGINT) AS n_orders
    FROM per GROUP BY ALL
),
buyers AS (
    SELECT DISTINCT h.scope, h.window_start, h.account_id, h.device, h.address
    FROM hits AS h JOIN top AS t ON t.scope = h.scope AND t.window_start = h.window_start AND h.shop_id = t.top_shop
),
established AS (
    SELECT b.scope, b.window_start, b.account_id
    FROM (SELECT DISTINCT scope, window_start, account_id FROM buyers) AS b
    WHERE EXISTS (
        SELECT 1 FROM stg_orders AS o
        WHERE o.account_id = b.account_id AND o.created_at < date_trunc('day', b.window_start)
    )
)
SELECT t.scope, t.window_start, t.top_shop, t.n_top, t.n_orders,
       (SELECT count(DISTINCT account_id) FROM buyers AS b
        WHERE b.scope = t.scope AND b.window_start = t.window_start) AS n_buyers,
       (SELECT count(DISTINCT device) FROM buyers AS b
        WHERE b.scope = t.scope AND b.window_start = t.window_start) AS n_devices,
       (SELECT count(DISTINCT address) FROM buyers AS b
        WHERE b.scope = t.scope AND b.window_start = t.window_start) AS n_addresses,
       (SELECT count(*) FROM established AS e
        WHERE e.scope = t.scope AND e.window_start = t.window_start) AS n_established
FROM top AS t
