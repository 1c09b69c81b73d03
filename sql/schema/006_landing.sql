-- Files taken from the landing folder: each delivery (the file as it lay there: name, size,
-- modification time, bytes) is recorded in the same transaction as its receipt, and cleared once
-- the landing file is removed. A run killed between the two leaves an uncleared delivery; the
-- next run finds the same file still there and only removes it, so a delivery never gets a
-- second receipt (cchc.landing).
CREATE TABLE IF NOT EXISTS landing_deliveries (
    delivery_id  CHAR(32)     PRIMARY KEY,  -- random UUID
    file_name    VARCHAR(300) NOT NULL,     -- as it lay in the landing folder
    size_bytes   BIGINT       NOT NULL,
    mtime_ns     BIGINT       NOT NULL,     -- modification time, nanoseconds since 1970
    checksum     CHAR(64)     NOT NULL,     -- SHA-256 of the bytes (received_files.checksum)
    run_id       VARCHAR(250),
    taken_at     TIMESTAMP    NOT NULL,
    cleared_at   TIMESTAMP                  -- NULL until the landing file is removed
);
CREATE INDEX IF NOT EXISTS ix_landing_deliveries_file ON landing_deliveries (file_name, checksum);
