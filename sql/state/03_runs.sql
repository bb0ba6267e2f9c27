-- runs: one row per nightly run, whatever its outcome.
CREATE TABLE IF NOT EXISTS runs (
    run_id        BIGINT PRIMARY KEY,
    as_of         DATE,
    window_start  TIMESTAMPTZ,
    window_end    TIMESTAMPTZ,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,     -- running | succeeded | failed
    parameters    JSON,
    rows_accounts BIGINT, rows_orders BIGINT, rows_reviews BIGINT, rows_refunds BIGINT,
    rows_campaigns BIGINT, rows_coupon_events BIGINT, rows_activity BIGINT,
    rows_quarantined BIGINT,
    files_read    BIGINT,
    checks        JSON,                 -- offending-row counts of each sql/checks file
    error         VARCHAR
);

-- added later (run lifecycle): where a run is or failed, one readable reason, notes, and the
-- temporary report a 'publishing' run committed (status 'publishing': the history is
-- committed and the report file not yet swapped in; the next start finishes or undoes it).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS stage VARCHAR;          -- stage in progress, or where it failed
ALTER TABLE runs ADD COLUMN IF NOT EXISTS failure_reason VARCHAR; -- one readable line, failed runs only
ALTER TABLE runs ADD COLUMN IF NOT EXISTS notes VARCHAR;          -- warnings the run went on despite
ALTER TABLE runs ADD COLUMN IF NOT EXISTS report_tmp VARCHAR;     -- temp report of a 'publishing' run
-- added by issue 9: per kind, valid records whose key an earlier record of the same file had;
-- per kind.column, raw mobile numbers masked at ingest
ALTER TABLE runs ADD COLUMN IF NOT EXISTS duplicate_keys JSON;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS pii_masked JSON;

-- added later: what a report can be traced to. The platform zone the run judged local time in;
-- the Prefect flow run and deployment that ran it (null when run without Prefect).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS tz VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS flow_run_id VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS deployment VARCHAR;
