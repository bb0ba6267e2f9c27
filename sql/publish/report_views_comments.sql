-- What every report view and column means, as DuckDB comments: `SELECT comment FROM
-- duckdb_views()` / `duckdb_columns()`, or `.schema`-style tools show them. Runs after
-- report_views.sql. A test checks that every view and column of schema `report` has one.
-- Times (TIMESTAMPTZ) are absolute; the duckdb shell prints them in its session zone (UTC unless
-- `SET TimeZone = 'Asia/Shanghai'`); *_local columns are plain timestamps in the run's zone.
-- Money is in yuan; a pattern's loss_estimate has one definition (README "Money").

COMMENT ON VIEW report.runs IS 'One row per nightly run, whatever its outcome: window, status, parameters, rows ingested per input, data checks, the zone and the Prefect flow run behind it.';
COMMENT ON COLUMN report.runs.run_id IS 'Run number, increasing; other views carry it.';
COMMENT ON COLUMN report.runs.as_of IS 'Last day of the window (platform-local date).';
COMMENT ON COLUMN report.runs.window_start IS 'Start of the detection window (inclusive), local midnight of its first day.';
COMMENT ON COLUMN report.runs.window_end IS 'End of the detection window (exclusive), local midnight after as_of.';
COMMENT ON COLUMN report.runs.started_at IS 'When the run started.';
COMMENT ON COLUMN report.runs.finished_at IS 'When the run finished (null while running).';
COMMENT ON COLUMN report.runs.status IS 'running | succeeded | failed.';
COMMENT ON COLUMN report.runs.parameters IS 'The settings the run used (JSON): paths, zone, window, detector thresholds set.';
COMMENT ON COLUMN report.runs.rows_accounts IS 'Account rows ingested by this run.';
COMMENT ON COLUMN report.runs.rows_orders IS 'Order rows ingested by this run.';
COMMENT ON COLUMN report.runs.rows_reviews IS 'Review rows ingested by this run.';
COMMENT ON COLUMN report.runs.rows_refunds IS 'Refund rows ingested by this run.';
COMMENT ON COLUMN report.runs.rows_campaigns IS 'Campaign rows ingested by this run.';
COMMENT ON COLUMN report.runs.rows_coupon_events IS 'Coupon event rows ingested by this run.';
COMMENT ON COLUMN report.runs.rows_activity IS 'Activity rows ingested by this run.';
COMMENT ON COLUMN report.runs.rows_quarantined IS 'Rows this run put in quarantine.';
COMMENT ON COLUMN report.runs.files_read IS 'New files this run ingested.';
COMMENT ON COLUMN report.runs.checks IS 'Offending-row count of each data check (sql/checks), JSON.';
COMMENT ON COLUMN report.runs.error IS 'Why a failed run failed.';
COMMENT ON COLUMN report.runs.tz IS 'Platform time zone the run judged local time in (naive timestamps, time of day, *_local columns).';
COMMENT ON COLUMN report.runs.flow_run_id IS 'Prefect flow run id (find it in the UI); null when run without Prefect.';
COMMENT ON COLUMN report.runs.deployment IS 'Prefect deployment that started the run (flow/deployment); null for ad-hoc runs.';

COMMENT ON VIEW report.latest_run IS 'The run_id of the latest successful run: what the other views describe.';
COMMENT ON COLUMN report.latest_run.run_id IS 'Latest successful run.';

COMMENT ON VIEW report.flagged_accounts_all IS 'Every run''s flagged accounts, one row per run, account and pattern.';
COMMENT ON VIEW report.flagged_accounts IS 'The latest run''s flagged accounts, one row per account and pattern (dismissed accounts left out).';
COMMENT ON VIEW report.clusters_all IS 'Every run''s rings and batches, dismissed ones included.';
COMMENT ON VIEW report.clusters IS 'The latest run''s rings and batches (cases), dismissed ones left out.';
COMMENT ON VIEW report.cluster_shops_all IS 'Every run''s extortion-ring money shop by shop.';
COMMENT ON VIEW report.cluster_shops IS 'The latest run''s extortion-ring money shop by shop: what each victim shop paid the ring (sums to the ring''s loss_estimate).';
COMMENT ON VIEW report.activity_spikes_all IS 'Every run''s activity spikes.';
COMMENT ON VIEW report.activity_spikes IS 'The latest run''s activity spikes: one row per incident.';
COMMENT ON VIEW report.quarantine IS 'Rejected records and files of every run.';
COMMENT ON VIEW report.verdicts IS 'Analyst verdicts as of the latest run (add new ones with abuse verdict).';
COMMENT ON VIEW report.suppressed IS 'What the latest run left out because an analyst had dismissed it.';
COMMENT ON VIEW report.precision_by_pattern IS 'Precision by pattern and month from the verdicts: confirmed / (confirmed + dismissed).';

COMMENT ON COLUMN report.flagged_accounts_all.run_id IS 'Run that flagged the account.';
COMMENT ON COLUMN report.flagged_accounts_all.account_id IS 'The flagged account.';
COMMENT ON COLUMN report.flagged_accounts_all.pattern IS 'Pattern name (README pattern table).';
COMMENT ON COLUMN report.flagged_accounts_all.score IS '0..1, higher = more certain (one score map over the evidence''s surprise).';
COMMENT ON COLUMN report.flagged_accounts_all.cluster_id IS 'The ring or batch it belongs to (report.clusters); null when it acts alone.';
COMMENT ON COLUMN report.flagged_accounts_all.reason IS 'One sentence a person can read, with the figures behind the flag.';
COMMENT ON COLUMN report.flagged_accounts_all.evidence IS 'JSON with the figures behind the reason.';
COMMENT ON COLUMN report.flagged_accounts.run_id IS 'Run that flagged the account.';
COMMENT ON COLUMN report.flagged_accounts.account_id IS 'The flagged account.';
COMMENT ON COLUMN report.flagged_accounts.pattern IS 'Pattern name (README pattern table).';
COMMENT ON COLUMN report.flagged_accounts.score IS '0..1, higher = more certain (one score map over the evidence''s surprise).';
COMMENT ON COLUMN report.flagged_accounts.cluster_id IS 'The ring or batch it belongs to (report.clusters); null when it acts alone.';
COMMENT ON COLUMN report.flagged_accounts.reason IS 'One sentence a person can read, with the figures behind the flag.';
COMMENT ON COLUMN report.flagged_accounts.evidence IS 'JSON with the figures behind the reason.';

COMMENT ON COLUMN report.clusters_all.run_id IS 'Run that found the case.';
COMMENT ON COLUMN report.clusters_all.cluster_id IS 'Stable case id: kept while the case recurs (matched by member overlap).';
COMMENT ON COLUMN report.clusters_all.pattern IS 'Pattern name.';
COMMENT ON COLUMN report.clusters_all.n_accounts IS 'Members.';
COMMENT ON COLUMN report.clusters_all.account_ids IS 'Member accounts.';
COMMENT ON COLUMN report.clusters_all.shop_ids IS 'Shops a ring targeted (extortion: victims; brushing: clients); null where not relevant.';
COMMENT ON COLUMN report.clusters_all.first_seen IS 'First action of the case in the window.';
COMMENT ON COLUMN report.clusters_all.last_seen IS 'Last action of the case in the window.';
COMMENT ON COLUMN report.clusters_all.loss_estimate IS 'Yuan; one definition per pattern: extortion_ring = refunds + compensation the victim shops approved for members on requests in the window where the member attacked that shop; coupon_hoarding = face value of the members'' coupon redemptions in the window; null = the pattern estimates no money (scripted_timing, vote_inflation, batch_registration, brushing_ring).';
COMMENT ON COLUMN report.clusters_all.score IS '0..1, higher = more certain.';
COMMENT ON COLUMN report.clusters_all.summary IS 'One sentence describing the case.';
COMMENT ON COLUMN report.clusters_all.evidence IS 'JSON with the figures behind the case.';
COMMENT ON COLUMN report.clusters_all.case_status IS 'new | recurring | grown | shrunk | dismissed (dismissed only in clusters_all).';
COMMENT ON COLUMN report.clusters_all.case_first_run IS 'Run that first found this case.';
COMMENT ON COLUMN report.clusters_all.target_ids IS 'Activity targets a vote_inflation case inflated; null where not relevant.';
COMMENT ON COLUMN report.clusters_all.verdict IS 'Analysts'' latest verdict on the case as of the run: confirmed | dismissed | null (none yet).';
COMMENT ON COLUMN report.clusters_all.verdict_at IS 'When that verdict was recorded.';
COMMENT ON COLUMN report.clusters.run_id IS 'Run that found the case.';
COMMENT ON COLUMN report.clusters.cluster_id IS 'Stable case id: kept while the case recurs (matched by member overlap).';
COMMENT ON COLUMN report.clusters.pattern IS 'Pattern name.';
COMMENT ON COLUMN report.clusters.n_accounts IS 'Members.';
COMMENT ON COLUMN report.clusters.account_ids IS 'Member accounts.';
COMMENT ON COLUMN report.clusters.shop_ids IS 'Shops a ring targeted (extortion: victims; brushing: clients); null where not relevant.';
COMMENT ON COLUMN report.clusters.first_seen IS 'First action of the case in the window.';
COMMENT ON COLUMN report.clusters.last_seen IS 'Last action of the case in the window.';
COMMENT ON COLUMN report.clusters.loss_estimate IS 'Yuan; one definition per pattern: extortion_ring = refunds + compensation the victim shops approved for members on requests in the window where the member attacked that shop; coupon_hoarding = face value of the members'' coupon redemptions in the window; null = the pattern estimates no money (scripted_timing, vote_inflation, batch_registration, brushing_ring).';
COMMENT ON COLUMN report.clusters.score IS '0..1, higher = more certain.';
COMMENT ON COLUMN report.clusters.summary IS 'One sentence describing the case.';
COMMENT ON COLUMN report.clusters.evidence IS 'JSON with the figures behind the case.';
COMMENT ON COLUMN report.clusters.case_status IS 'new | recurring | grown | shrunk | dismissed (dismissed only in clusters_all).';
COMMENT ON COLUMN report.clusters.case_first_run IS 'Run that first found this case.';
COMMENT ON COLUMN report.clusters.target_ids IS 'Activity targets a vote_inflation case inflated; null where not relevant.';
COMMENT ON COLUMN report.clusters.verdict IS 'Analysts'' latest verdict on the case as of the run: confirmed | dismissed | null (none yet).';
COMMENT ON COLUMN report.clusters.verdict_at IS 'When that verdict was recorded.';
COMMENT ON COLUMN report.clusters.case_first_seen IS 'as_of day of the run that first found the case.';
COMMENT ON COLUMN report.clusters.first_seen_local IS 'first_seen in the run''s platform zone (report.runs.tz).';
COMMENT ON COLUMN report.clusters.last_seen_local IS 'last_seen in the run''s platform zone (report.runs.tz).';

COMMENT ON COLUMN report.cluster_shops_all.run_id IS 'Run that found the ring.';
COMMENT ON COLUMN report.cluster_shops_all.cluster_id IS 'The ring (report.clusters).';
COMMENT ON COLUMN report.cluster_shops_all.shop_id IS 'A shop the ring targeted.';
COMMENT ON COLUMN report.cluster_shops_all.members IS 'Ring members that attacked this shop.';
COMMENT ON COLUMN report.cluster_shops_all.low_ratings IS 'Their low ratings of this shop in the window.';
COMMENT ON COLUMN report.cluster_shops_all.paid_requests IS 'Refunds + compensations this shop approved for them on requests in the window.';
COMMENT ON COLUMN report.cluster_shops_all.loss_estimate IS 'Yuan this shop paid them (its part of the ring''s loss_estimate).';
COMMENT ON COLUMN report.cluster_shops.run_id IS 'Run that found the ring.';
COMMENT ON COLUMN report.cluster_shops.cluster_id IS 'The ring (report.clusters).';
COMMENT ON COLUMN report.cluster_shops.shop_id IS 'A shop the ring targeted.';
COMMENT ON COLUMN report.cluster_shops.members IS 'Ring members that attacked this shop.';
COMMENT ON COLUMN report.cluster_shops.low_ratings IS 'Their low ratings of this shop in the window.';
COMMENT ON COLUMN report.cluster_shops.paid_requests IS 'Refunds + compensations this shop approved for them on requests in the window.';
COMMENT ON COLUMN report.cluster_shops.loss_estimate IS 'Yuan this shop paid them (its part of the ring''s loss_estimate).';

COMMENT ON COLUMN report.activity_spikes_all.run_id IS 'Run that found the spike.';
COMMENT ON COLUMN report.activity_spikes_all.scope IS 'What was counted: registrations, orders, reviews, refunds, coupon_claims, activity, or narrower (coupon_claims:<campaign_id>).';
COMMENT ON COLUMN report.activity_spikes_all.window_start IS 'Start of the burst.';
COMMENT ON COLUMN report.activity_spikes_all.window_end IS 'End of the burst.';
COMMENT ON COLUMN report.activity_spikes_all.observed IS 'Events counted in the burst.';
COMMENT ON COLUMN report.activity_spikes_all.expected IS 'Events expected from the baseline.';
COMMENT ON COLUMN report.activity_spikes_all.score IS '0..1, higher = more surprising.';
COMMENT ON COLUMN report.activity_spikes_all.top_account_ids IS 'Accounts driving the burst.';
COMMENT ON COLUMN report.activity_spikes_all.explained_by IS 'A benign cause (campaign release, sale day) or the abuse behind it; null when unexplained.';
COMMENT ON COLUMN report.activity_spikes.run_id IS 'Run that found the spike.';
COMMENT ON COLUMN report.activity_spikes.scope IS 'What was counted: registrations, orders, reviews, refunds, coupon_claims, activity, or narrower (coupon_claims:<campaign_id>).';
COMMENT ON COLUMN report.activity_spikes.window_start IS 'Start of the burst.';
COMMENT ON COLUMN report.activity_spikes.window_end IS 'End of the burst.';
COMMENT ON COLUMN report.activity_spikes.observed IS 'Events counted in the burst.';
COMMENT ON COLUMN report.activity_spikes.expected IS 'Events expected from the baseline.';
COMMENT ON COLUMN report.activity_spikes.score IS '0..1, higher = more surprising.';
COMMENT ON COLUMN report.activity_spikes.top_account_ids IS 'Accounts driving the burst.';
COMMENT ON COLUMN report.activity_spikes.explained_by IS 'A benign cause (campaign release, sale day) or the abuse behind it; null when unexplained.';
COMMENT ON COLUMN report.activity_spikes.window_start_local IS 'window_start in the run''s platform zone (report.runs.tz).';

COMMENT ON COLUMN report.quarantine.run_id IS 'Run that read the record.';
COMMENT ON COLUMN report.quarantine.file IS 'Delivered file.';
COMMENT ON COLUMN report.quarantine.row_number IS 'Data record number in the file, from 1 (header not counted); null when the whole file was rejected.';
COMMENT ON COLUMN report.quarantine.reason IS 'Why it was rejected.';
COMMENT ON COLUMN report.quarantine.raw IS 'The record as text.';
COMMENT ON COLUMN report.quarantine.ingested_at IS 'When it was read.';

COMMENT ON COLUMN report.verdicts.recorded_at IS 'When the verdict was recorded.';
COMMENT ON COLUMN report.verdicts.cluster_id IS 'The case judged (or null).';
COMMENT ON COLUMN report.verdicts.account_id IS 'The account judged (or null).';
COMMENT ON COLUMN report.verdicts.pattern IS 'Pattern the verdict is about (null: every pattern).';
COMMENT ON COLUMN report.verdicts.verdict IS 'confirmed | dismissed.';
COMMENT ON COLUMN report.verdicts.analyst IS 'Who decided.';
COMMENT ON COLUMN report.verdicts.note IS 'Why.';
COMMENT ON COLUMN report.verdicts.n_accounts IS 'Case size when judged (a dismissed case comes back only when it grows).';

COMMENT ON COLUMN report.suppressed.run_id IS 'The latest run.';
COMMENT ON COLUMN report.suppressed.cluster_id IS 'Case left out (or null).';
COMMENT ON COLUMN report.suppressed.account_id IS 'Account left out (or null).';
COMMENT ON COLUMN report.suppressed.pattern IS 'Its pattern.';
COMMENT ON COLUMN report.suppressed.why IS 'Which verdict left it out.';

COMMENT ON COLUMN report.precision_by_pattern.pattern IS 'Pattern name.';
COMMENT ON COLUMN report.precision_by_pattern.month IS 'Month the verdicts were recorded.';
COMMENT ON COLUMN report.precision_by_pattern.confirmed IS 'Confirmed verdicts.';
COMMENT ON COLUMN report.precision_by_pattern.dismissed IS 'Dismissed verdicts.';
COMMENT ON COLUMN report.precision_by_pattern.precision IS 'confirmed / (confirmed + dismissed).';

COMMENT ON COLUMN report.runs.stage IS 'Stage in progress, or where a failed run failed.';
COMMENT ON COLUMN report.runs.failure_reason IS 'A failed run''s reason, one readable line.';
COMMENT ON COLUMN report.runs.notes IS 'Warnings the run went on despite.';
COMMENT ON COLUMN report.runs.report_tmp IS 'Temporary report of a run caught between its commit and its report swap (status publishing).';

COMMENT ON VIEW report.nights IS 'One row per night (as_of day): the run whose findings are that night''s report, how many runs it had.';
COMMENT ON COLUMN report.nights.as_of IS 'The night (last day of its window).';
COMMENT ON COLUMN report.nights.run_id IS 'Latest successful run of that night: filter the *_all views on it.';
COMMENT ON COLUMN report.nights.runs IS 'Runs of that night.';
COMMENT ON COLUMN report.nights.failed_runs IS 'Failed runs of that night.';
COMMENT ON COLUMN report.nights.published_at IS 'When that night''s report was last published.';

COMMENT ON VIEW report.inflated_targets_all IS 'Every run''s targets inflated by vote_inflation cases, one row per run, target and action.';
COMMENT ON VIEW report.inflated_targets IS 'The latest run''s targets inflated by vote_inflation cases, one row per target and action.';
COMMENT ON COLUMN report.inflated_targets_all.run_id IS 'Run that found it.';
COMMENT ON COLUMN report.inflated_targets_all.target_id IS 'The voted, liked, followed or viewed target (activity.target_id).';
COMMENT ON COLUMN report.inflated_targets_all.action IS 'Activity action (vote, like, follow, ...).';
COMMENT ON COLUMN report.inflated_targets_all.total IS 'All such actions on the target in the window.';
COMMENT ON COLUMN report.inflated_targets_all.from_flagged IS 'Those cast by the accounts of vote_inflation cases.';
COMMENT ON COLUMN report.inflated_targets_all.share IS 'from_flagged / total.';
COMMENT ON COLUMN report.inflated_targets_all.first_seen IS 'First flagged action on the target.';
COMMENT ON COLUMN report.inflated_targets_all.last_seen IS 'Last flagged action on the target.';
COMMENT ON COLUMN report.inflated_targets_all.cluster_ids IS 'The vote_inflation cases that inflated it, biggest part first.';
COMMENT ON COLUMN report.inflated_targets.run_id IS 'Run that found it.';
COMMENT ON COLUMN report.inflated_targets.target_id IS 'The voted, liked, followed or viewed target (activity.target_id).';
COMMENT ON COLUMN report.inflated_targets.action IS 'Activity action (vote, like, follow, ...).';
COMMENT ON COLUMN report.inflated_targets.total IS 'All such actions on the target in the window.';
COMMENT ON COLUMN report.inflated_targets.from_flagged IS 'Those cast by the accounts of vote_inflation cases.';
COMMENT ON COLUMN report.inflated_targets.share IS 'from_flagged / total.';
COMMENT ON COLUMN report.inflated_targets.first_seen IS 'First flagged action on the target.';
COMMENT ON COLUMN report.inflated_targets.last_seen IS 'Last flagged action on the target.';
COMMENT ON COLUMN report.inflated_targets.cluster_ids IS 'The vote_inflation cases that inflated it, biggest part first.';


COMMENT ON COLUMN report.activity_spikes_all.occurrences IS 'Bursts folded into this incident (a burst that recurs with the same cadence and accounts is one row).';
COMMENT ON COLUMN report.activity_spikes_all.cadence IS 'How a recurring incident recurs (e.g. every hour at :00); null for a single burst.';
COMMENT ON COLUMN report.activity_spikes_all.flagged_share IS 'Share of the first minutes'' accounts that other detectors flagged.';
COMMENT ON COLUMN report.activity_spikes_all.cluster_ids IS 'The cases of those flagged accounts.';
COMMENT ON COLUMN report.activity_spikes_all.p_value IS 'Chance of a count this high from the baseline (Poisson tail).';
COMMENT ON COLUMN report.activity_spikes.occurrences IS 'Bursts folded into this incident (a burst that recurs with the same cadence and accounts is one row).';
COMMENT ON COLUMN report.activity_spikes.cadence IS 'How a recurring incident recurs (e.g. every hour at :00); null for a single burst.';
COMMENT ON COLUMN report.activity_spikes.flagged_share IS 'Share of the first minutes'' accounts that other detectors flagged.';
COMMENT ON COLUMN report.activity_spikes.cluster_ids IS 'The cases of those flagged accounts.';
COMMENT ON COLUMN report.activity_spikes.p_value IS 'Chance of a count this high from the baseline (Poisson tail).';
COMMENT ON COLUMN report.runs.duplicate_keys IS 'Per kind: valid records whose key an earlier record of the same file had (JSON).';
COMMENT ON COLUMN report.runs.pii_masked IS 'Per kind.column: raw mobile numbers masked at ingest (JSON).';
