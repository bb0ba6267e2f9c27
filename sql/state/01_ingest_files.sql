-- ingest_files: every landing file a successful run has read, by content hash.
-- A file whose sha256 is here is never read again (the same bytes under any name are a no-op).
CREATE TABLE IF NOT EXISTS ingest_files (
    file_seq     BIGINT PRIMARY KEY,   -- delivery order: a later file_seq wins on a repeated key
    path         VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    format       VARCHAR NOT NULL,
    size_bytes   BIGINT,
    modified_at  TIMESTAMPTZ,
    run_id       BIGINT NOT NULL,
    ingested_at  TIMESTAMPTZ NOT NULL,
    rows         BIGINT,
    quarantined  BIGINT,
    rejected     VARCHAR                -- why the whole file was refused, else NULL
);
-- added by issue 9: repeated keys inside the file, raw mobile numbers masked per column,
-- and why the careful (record-by-record) reader read it, when it did
ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS duplicate_keys BIGINT;
ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS pii_masked JSON;
ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS read_carefully VARCHAR;
-- the "now" of the future-timestamp rule when the file was dated ahead of this machine's clock
-- (its own 99th-percentile timestamp), else NULL
ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS future_clock TIMESTAMPTZ;
