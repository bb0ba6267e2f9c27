-- rings_links: pairs of accounts hostile to the same shop at most
-- getvariable('rings_link_seconds') apart (ONE shared shop is enough: sparse crews), from the
-- registered relation rings_link_edges(account_id, shop_id, t, w) whose hub shops were already
-- removed, so the self-join stays about linear. ``w`` is the rarity of a coincidence at the
-- shop; each pair sums, over the shops it shares, rarity plus closeness in time.
SELECT a.account_id AS a, b.account_id AS b, count(*) AS k,
       sum(a.w + log10(getvariable('rings_window_seconds')
                       / greatest(abs(a.t - b.t), 86400.0))) AS weight
FROM rings_link_edges a
JOIN rings_link_edges b
  ON a.shop_id = b.shop_id
 AND a.account_id < b.account_id
 AND abs(a.t - b.t) <= getvariable('rings_link_seconds')
GROUP BY a.account_id, b.account_id
ORDER BY a, b
