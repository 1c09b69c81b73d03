-- What units sent and what became of it. Nothing is deleted: every file received is recorded,
-- every version of a unit's submission stays queryable, and rejected ones keep their findings.
CREATE TABLE IF NOT EXISTS received_files (
    checksum      CHAR(64)     PRIMARY KEY, -- SHA-256 of the bytes: the file's address in the archive
    size_bytes    BIGINT       NOT NULL,
    archive_path  VARCHAR(500) NOT NULL,
    first_name    VARCHAR(300) NOT NULL,
    first_seen_at TIMESTAMP    NOT NULL
);

-- Every arrival, duplicates included (the same bytes sent twice are two receipts, one submission).
CREATE TABLE IF NOT EXISTS file_receipts (
    receipt_id   CHAR(32)     PRIMARY KEY,  -- random UUID: two arrivals in the same instant stay two
    checksum     CHAR(64)     NOT NULL REFERENCES received_files (checksum),
    file_name    VARCHAR(300) NOT NULL,
    received_at  TIMESTAMP    NOT NULL,
    run_id       VARCHAR(250)
);
CREATE INDEX IF NOT EXISTS ix_file_receipts_checksum ON file_receipts (checksum);

CREATE TABLE IF NOT EXISTS submissions (
    submission_id  CHAR(64)     PRIMARY KEY REFERENCES received_files (checksum),
    unit_code      VARCHAR(16)  NOT NULL,   -- as written in the file ('' if unreadable)
    period_code    VARCHAR(16)  NOT NULL,
    version        INTEGER      NOT NULL,   -- 1, 2, ... per unit and period, in order of arrival
    status         VARCHAR(32)  NOT NULL,   -- accepted | accepted_with_warnings | rejected
    as_of          DATE,
    sent_on        DATE,
    file_name      VARCHAR(300) NOT NULL,
    preparer       VARCHAR(200),
    phone          VARCHAR(50),
    email          VARCHAR(200),
    form_version   VARCHAR(32),
    n_errors       INTEGER      NOT NULL,
    n_warnings     INTEGER      NOT NULL,
    loaded_at      TIMESTAMP    NOT NULL,
    UNIQUE (unit_code, period_code, version)
);
CREATE INDEX IF NOT EXISTS ix_submissions_unit_period ON submissions (unit_code, period_code, status);

CREATE TABLE IF NOT EXISTS indicator_values (
    submission_id   CHAR(64)       NOT NULL REFERENCES submissions (submission_id),
    indicator_code  VARCHAR(64)    NOT NULL,
    value           NUMERIC(20, 6),          -- NULL: left blank, i.e. not reported (not zero)
    raw_text        VARCHAR(100),            -- as typed, e.g. '1.150' or '25,6%'
    sheet           VARCHAR(100)   NOT NULL,
    cell            VARCHAR(16)    NOT NULL,
    PRIMARY KEY (submission_id, indicator_code)
);

CREATE TABLE IF NOT EXISTS task_statuses (
    submission_id  CHAR(64)     NOT NULL REFERENCES submissions (submission_id),
    task_code      VARCHAR(16)  NOT NULL,
    status         VARCHAR(16)  NOT NULL,    -- done | in_progress | not_started | unreported (left blank)
    completed_on   DATE,
    status_raw     VARCHAR(100),
    sheet          VARCHAR(100) NOT NULL,
    cell           VARCHAR(16)  NOT NULL,
    PRIMARY KEY (submission_id, task_code)
);

CREATE TABLE IF NOT EXISTS findings (
    submission_id  CHAR(64)      NOT NULL REFERENCES submissions (submission_id),
    seq            INTEGER       NOT NULL,
    code           VARCHAR(64)   NOT NULL,
    severity       VARCHAR(16)   NOT NULL,   -- error refuses the submission, warning flags it
    sheet          VARCHAR(100),
    cell           VARCHAR(16),
    message_vi     VARCHAR(2000) NOT NULL,
    message_en     VARCHAR(2000) NOT NULL,
    PRIMARY KEY (submission_id, seq)
);

-- A refused submission re-checked after a fix to reference data (`cchc reprocess`): its earlier
-- verdict is kept here before the submission row is replaced by the new one.
CREATE TABLE IF NOT EXISTS reprocessings (
    submission_id    CHAR(64)      NOT NULL REFERENCES received_files (checksum),
    reprocessed_at   TIMESTAMP     NOT NULL,
    old_unit_code    VARCHAR(16)   NOT NULL,
    old_period_code  VARCHAR(16)   NOT NULL,
    old_version      INTEGER       NOT NULL,
    old_status       VARCHAR(32)   NOT NULL,
    old_findings     VARCHAR(4000) NOT NULL,  -- 'CODE@sheet!cell; …' as refused then
    new_status       VARCHAR(32)   NOT NULL,
    PRIMARY KEY (submission_id, reprocessed_at)
);
