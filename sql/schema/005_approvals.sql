-- Approval of a period's figures and the lock it puts on them (include/cchc/approval.py).
-- Every approval is a numbered version whose figures, inputs and counted submissions are kept as
-- approved; rows are only ever added, except period_locks, the current state of each period.

-- The current state, one row per period ever reported or approved. Approve, reopen and every
-- report of the period take this row first (SELECT … FOR UPDATE on PostgreSQL; SQLite's one writer
-- at a time), so they happen one after the other and a report never sees half an approval.
CREATE TABLE IF NOT EXISTS period_locks (
    period_code  VARCHAR(16)  PRIMARY KEY,
    locked       INTEGER      NOT NULL,  -- 1 while the approved figures stand; 0 before, and after reopening
    version      INTEGER      NOT NULL,  -- the last approved version (0: never approved)
    changed_at   TIMESTAMP    NOT NULL   -- UTC
);

CREATE TABLE IF NOT EXISTS approvals (
    period_code  VARCHAR(16)   NOT NULL,
    version      INTEGER       NOT NULL,  -- 1, 2, … per period
    approved_by  VARCHAR(200)  NOT NULL,
    approved_at  TIMESTAMP     NOT NULL,  -- UTC
    note         VARCHAR(2000) NOT NULL,
    as_of        DATE          NOT NULL,  -- the figures' as-of date
    n_figures    INTEGER       NOT NULL,
    PRIMARY KEY (period_code, version)
);

-- A reopening ends the lock of one approved version (so at most one per version).
CREATE TABLE IF NOT EXISTS reopenings (
    period_code  VARCHAR(16)   NOT NULL,
    version      INTEGER       NOT NULL,  -- the approved version reopened
    reopened_by  VARCHAR(200)  NOT NULL,
    reopened_at  TIMESTAMP     NOT NULL,  -- UTC
    reason       VARCHAR(2000) NOT NULL,
    PRIMARY KEY (period_code, version),
    FOREIGN KEY (period_code, version) REFERENCES approvals (period_code, version)
);

-- The figures as approved: what consolidated_figures held when the version was approved.
CREATE TABLE IF NOT EXISTS approved_figures (
    period_code     VARCHAR(16)    NOT NULL,
    version         INTEGER        NOT NULL,
    indicator_code  VARCHAR(64)    NOT NULL,
    seq             INTEGER        NOT NULL, -- order in the consolidation
    value           NUMERIC(20, 6),
    decimals        INTEGER        NOT NULL, -- the catalogue's decimals at approval
    value_text      VARCHAR(64),
    n_units         INTEGER        NOT NULL,
    PRIMARY KEY (period_code, version, indicator_code),
    FOREIGN KEY (period_code, version) REFERENCES approvals (period_code, version)
);

-- What each approved figure was computed from (figure_inputs as approved).
CREATE TABLE IF NOT EXISTS approved_figure_inputs (
    period_code     VARCHAR(16)    NOT NULL,
    version         INTEGER        NOT NULL,
    indicator_code  VARCHAR(64)    NOT NULL,
    seq             INTEGER        NOT NULL,
    input_kind      VARCHAR(16)    NOT NULL,
    input_code      VARCHAR(64)    NOT NULL,
    unit_code       VARCHAR(16),
    submission_id   CHAR(64),
    value           NUMERIC(20, 6),
    task_status     VARCHAR(16),
    completed_on    DATE,
    counted         INTEGER        NOT NULL,
    sheet           VARCHAR(100),
    cell            VARCHAR(16),
    PRIMARY KEY (period_code, version, indicator_code, seq),
    FOREIGN KEY (period_code, version) REFERENCES approvals (period_code, version)
);

-- Each unit at approval: expected to report or not, and which of its submissions was counted
-- (NULL: none). A newer accepted submission is a pending correction (v_pending_corrections).
CREATE TABLE IF NOT EXISTS approved_units (
    period_code         VARCHAR(16)  NOT NULL,
    version             INTEGER      NOT NULL,
    unit_code           VARCHAR(16)  NOT NULL,
    expected            INTEGER      NOT NULL,
    submission_id       CHAR(64)     REFERENCES submissions (submission_id),
    submission_version  INTEGER,
    PRIMARY KEY (period_code, version, unit_code),
    FOREIGN KEY (period_code, version) REFERENCES approvals (period_code, version)
);
