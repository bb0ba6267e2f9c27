-- staging_versions: the sha256 of the SQL file each stg_* table was last fully built with. A
-- table whose file has changed since (a schema change) is rebuilt from raw, not merged into.
CREATE TABLE IF NOT EXISTS staging_versions (
    table_name  VARCHAR PRIMARY KEY,
    sql_sha256  VARCHAR NOT NULL
);
