-- int_coupon_claims: every coupon claim with its campaign and how many seconds after the
-- campaign's release it came (delay_s, never negative), over all history: a consumer filters
-- by ts (its window). One row per claim event.
CREATE OR REPLACE TEMP VIEW int_coupon_claims AS
SELECT e.event_id, e.account_id, e.campaign_id, e.coupon_id, e.ts,
       greatest(epoch(e.ts) - epoch(c.released_at), 0) AS delay_s
FROM stg_coupon_events e JOIN stg_campaigns c USING (campaign_id)
WHERE e.action = 'claim';
