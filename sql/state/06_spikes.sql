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
-- incidents (added later; old history keeps NULLs): a recurring incident folds `occurrences`
-- bursts at one `cadence`; `flagged_share` of its first minutes' accounts were flagged by other
-- detectors, whose cases are `cluster_ids`; `p_value` of the count against its baseline.
ALTER TABLE spikes ADD COLUMN IF NOT EXISTS occurrences INTEGER;
ALTER TABLE spikes ADD COLUMN IF NOT EXISTS cadence VARCHAR;
ALTER TABLE spikes ADD COLUMN IF NOT EXISTS flagged_share DOUBLE;
ALTER TABLE spikes ADD COLUMN IF NOT EXISTS cluster_ids VARCHAR[];
ALTER TABLE spikes ADD COLUMN IF NOT EXISTS p_value DOUBLE;
