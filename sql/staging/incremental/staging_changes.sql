-- staging_changes: which event hours each merge into a stg_* table touched, so that features
-- kept per day (abuse.features) recompute only those days. `seq` rises with every
-- staging.maintain call; `hour` is the epoch hour (UTC, epoch_ms // 3600000) of the event time
-- (abuse.window.EVENT_TIMES) of a row the merge replaced or inserted; a NULL hour says the kind
-- was rebuilt from raw history (every day may have changed).
CREATE TABLE IF NOT EXISTS staging_changes (
    seq   BIGINT NOT NULL,
    kind  VARCHAR NOT NULL,
    hour  BIGINT
);
