-- int_account_events: every time an account did something (account_id, source, ts): an order, a
-- review, a refund request, a coupon event or an activity event. Registration is not an event
-- here: an account with no row in a window did nothing in it (an idle account). Consumers filter
-- by ts (their window) and, where they can, by account_id, so only what they need is scanned.
CREATE OR REPLACE TEMP VIEW int_account_events AS
SELECT account_id, 'orders' AS source, created_at AS ts FROM stg_orders
UNION ALL SELECT account_id, 'reviews', created_at FROM stg_reviews
UNION ALL SELECT account_id, 'refunds', requested_at FROM stg_refunds
UNION ALL SELECT account_id, 'coupon_events', ts FROM stg_coupon_events
UNION ALL SELECT account_id, 'activity', ts FROM stg_activity;
