-- dossier_review_texts: the low-rating review texts (1-2 stars, posted or amended) that a
-- case's members wrote most often, with how many members and shops each one reached.
-- Parameters: getvariable('dossier_accounts') (VARCHAR[], set by abuse.dossier.data), $limit (INTEGER).
SELECT text, count(*)::INTEGER AS uses, count(DISTINCT account_id)::INTEGER AS members,
       count(DISTINCT shop_id)::INTEGER AS shops, min(rating)::INTEGER AS min_rating
FROM stg_reviews
WHERE account_id IN (SELECT unnest(getvariable('dossier_accounts')))
  AND coalesce(action, 'posted') IN ('posted', 'amended') AND rating <= 2
  AND text IS NOT NULL AND trim(text) <> ''
GROUP BY text
ORDER BY uses DESC, members DESC, text
LIMIT $limit
