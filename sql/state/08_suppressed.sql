-- suppressed: findings and cases a run left out because an analyst dismissed them
-- (a dismissed case comes back only when it grows).
CREATE TABLE IF NOT EXISTS suppressed (
    run_id      BIGINT NOT NULL,
    cluster_id  VARCHAR,
    account_id  VARCHAR,
    pattern     VARCHAR,
    why         VARCHAR
);
