-- quarantine: every record (or whole file, row_number NULL) that broke a contract rule.
CREATE TABLE IF NOT EXISTS quarantine (
    run_id       BIGINT NOT NULL,
    file         VARCHAR NOT NULL,
    row_number   BIGINT,
    reason       VARCHAR NOT NULL,
    raw          VARCHAR,
    ingested_at  TIMESTAMPTZ NOT NULL
);
