-- verdicts: the analysts' feedback as of this run, copied from the feedback database
-- (<report>.feedback.duckdb, table `verdicts`; see README "Feedback").
CREATE TABLE IF NOT EXISTS verdicts (
    recorded_at  TIMESTAMPTZ,
    cluster_id   VARCHAR,
    account_id   VARCHAR,
    pattern      VARCHAR,
    verdict      VARCHAR,
    analyst      VARCHAR,
    note         VARCHAR,
    n_accounts   INTEGER
);
