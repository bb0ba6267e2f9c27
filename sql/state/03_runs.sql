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

-- added later: what a report can be traced to. The platform zone the run judged local time in;
-- the Prefect flow run and deployment that ran it (null when run without Prefect).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS tz VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS flow_run_id VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS deployment VARCHAR;
