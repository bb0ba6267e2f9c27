-- feature_versions: per feature table kept per day (abuse.features), the version it was built
-- with (its SQL and parameters) and the last `staging_changes.seq` it has taken in. A table
-- whose version differs, or that finds a rebuilt kind among the changes since, is rebuilt.
CREATE TABLE IF NOT EXISTS feature_versions (
    table_name  VARCHAR PRIMARY KEY,
    version     VARCHAR NOT NULL,
    seq         BIGINT NOT NULL
);
