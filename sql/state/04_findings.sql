-- findings: flagged accounts of every run (report.flagged_accounts shows the latest run).
CREATE TABLE IF NOT EXISTS findings (
    run_id      BIGINT NOT NULL,
    account_id  VARCHAR NOT NULL,
    pattern     VARCHAR NOT NULL,
    score       DOUBLE NOT NULL,
    cluster_id  VARCHAR,
    reason      VARCHAR NOT NULL,
    evidence    JSON
);
