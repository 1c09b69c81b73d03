-- When each file reached the office, what each run made of each file, and files that crash their
-- reader. New tables rather than new columns: a deployed warehouse gets them from the schema apply
-- (CREATE TABLE IF NOT EXISTS), where an added column would not reach it.

-- The arrival of the first delivery of each file's bytes: versions of a unit's period are numbered
-- in this order, "latest" means latest arrived (never latest loaded), and timeliness is judged on it.
-- arrived_at is the file's modification time as it landed (capped at the time it was received),
-- for an e-mail its receipt time; ties go to received_files.first_seen_at, then the file's name.
CREATE TABLE IF NOT EXISTS file_arrivals (
    checksum          CHAR(64)     PRIMARY KEY REFERENCES received_files (checksum),
    arrived_at        TIMESTAMP    NOT NULL,  -- UTC
    source            VARCHAR(16)  NOT NULL,  -- mtime | receipt
    received_on       DATE         NOT NULL,  -- the day it counts as received (Asia/Ho_Chi_Minh): on time if <= due_on
    declared_on       DATE,                   -- `--received-on`: a past period imported, its receipt day declared
    declared_by       VARCHAR(200)            -- who declared it (the run or user)
);

-- One row per file per run: the verdict the run gave it, stored in the transaction that loaded it,
-- so a retried task returns it instead of recomputing, and every later step (summary, ops alert,
-- telling the unit) reads it here, even when another chunk of the run failed.
CREATE TABLE IF NOT EXISTS run_outcomes (
    run_id        VARCHAR(250)  NOT NULL,
    checksum      CHAR(64)      NOT NULL REFERENCES received_files (checksum),
    file_name     VARCHAR(300)  NOT NULL,
    outcome       VARCHAR(32)   NOT NULL,  -- accepted | accepted_with_warnings | rejected | duplicate
    unit_code     VARCHAR(16)   NOT NULL,
    period_code   VARCHAR(16)   NOT NULL,
    version       INTEGER,
    findings      VARCHAR(4000) NOT NULL,  -- finding codes, comma separated
    feedback      VARCHAR(500)  NOT NULL,  -- the feedback workbook ('' if none)
    note          VARCHAR(2000) NOT NULL,
    recorded_at   TIMESTAMP     NOT NULL,  -- UTC
    told_at       TIMESTAMP,               -- when the unit was e-mailed about it (NULL: not yet)
    PRIMARY KEY (run_id, checksum, file_name)
);
CREATE INDEX IF NOT EXISTS ix_run_outcomes_checksum ON run_outcomes (checksum);

-- Reads begun of a file that has no verdict yet: counted before reading, so a file that kills its
-- reader (or the whole process) is known at the next run, read alone, and refused
-- (FILE_UNREADABLE) after 3 attempts instead of failing every run.
CREATE TABLE IF NOT EXISTS read_attempts (
    checksum         CHAR(64)   PRIMARY KEY REFERENCES received_files (checksum),
    attempts         INTEGER    NOT NULL,
    last_attempt_at  TIMESTAMP  NOT NULL   -- UTC
);
