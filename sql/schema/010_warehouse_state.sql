-- What a process that finds it current need not redo: item 'reference' is the SHA-256 of the
-- reference rows last loaded (cchc.warehouse.engine.load_reference_tables; the weekly roll-up's
-- fingerprint includes it). Releases before migrations created this table from code and kept item
-- 'schema' too (the SQL files' checksum), which `alembic_version` replaces; such a row is left be.
CREATE TABLE IF NOT EXISTS warehouse_state (
    item        VARCHAR(32)  PRIMARY KEY,
    checksum    CHAR(64)     NOT NULL,
    applied_at  TIMESTAMP    NOT NULL
);
