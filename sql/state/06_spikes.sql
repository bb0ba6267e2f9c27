-- spikes: activity spikes of every run.
CREATE TABLE IF NOT EXISTS spikes (
    run_id          BIGINT NOT NULL,
    scope           VARCHAR NOT NULL,
    window_start    TIMESTAMPTZ NOT NULL,
    window_end      TIMESTAMPTZ NOT NULL,
    observed        DOUBLE,
    expected        DOUBLE,
    score           DOUBLE,
    top_account_ids VARCHAR[],
    explained_by    VARCHAR
);
