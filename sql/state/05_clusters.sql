-- clusters: rings and batches of every run, with their stable case identity.
CREATE TABLE IF NOT EXISTS clusters (
    run_id        BIGINT NOT NULL,
    cluster_id    VARCHAR NOT NULL,
    pattern       VARCHAR NOT NULL,
    n_accounts    INTEGER NOT NULL,
    account_ids   VARCHAR[],
    shop_ids      VARCHAR[],
    first_seen    TIMESTAMPTZ,
    last_seen     TIMESTAMPTZ,
    loss_estimate DOUBLE,
    score         DOUBLE,
    summary       VARCHAR,
    evidence      JSON,
    case_status   VARCHAR,      -- new | recurring | grown | shrunk
    case_first_run BIGINT       -- the run that first found this case
);

-- added later: the activity targets a vote_inflation cluster inflated (null for other patterns)
ALTER TABLE clusters ADD COLUMN IF NOT EXISTS target_ids VARCHAR[];
