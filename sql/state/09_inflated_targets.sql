-- inflated_targets: per run, each target and action a vote_inflation cluster inflated, one row
-- per cluster (the report view sums the clusters of a target): its total engagement in the
-- window, the cluster's part of it, and when the cluster acted on it.
CREATE TABLE IF NOT EXISTS inflated_targets (
    run_id       BIGINT NOT NULL,
    target_id    VARCHAR NOT NULL,
    action       VARCHAR,
    cluster_id   VARCHAR NOT NULL,
    total        BIGINT,
    from_cluster BIGINT,
    share        DOUBLE,
    first_seen   TIMESTAMPTZ,
    last_seen    TIMESTAMPTZ
);
