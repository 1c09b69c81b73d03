-- Who must report each period and by when: include/reference/deadlines.csv expanded over
-- ref_periods by the loader (dates are computed there so the views need no date arithmetic,
-- which SQLite and PostgreSQL spell differently).
CREATE TABLE IF NOT EXISTS ref_report_due (
    period_code   VARCHAR(16)  NOT NULL REFERENCES ref_periods (period_code),
    unit_type     VARCHAR(16)  NOT NULL,   -- department | district | commune
    registry_on   DATE         NOT NULL,   -- the day the dated registry is read on (the as-of date)
    due_on        DATE         NOT NULL,   -- last day to send, Asia/Ho_Chi_Minh
    due_before    TIMESTAMP    NOT NULL,   -- the end of due_on in UTC, for received times
    basis         VARCHAR(16)  NOT NULL,   -- sent_on | received: which date meets the deadline
    PRIMARY KEY (period_code, unit_type)
);

-- What each consolidated figure was made from, written with it by the same computation:
-- a unit's cell (sum, single), a plan task's status (plan_done), or another figure (ratio).
CREATE TABLE IF NOT EXISTS figure_inputs (
    period_code     VARCHAR(16)    NOT NULL, -- a period (2024-H1) or a week (2024-W24)
    indicator_code  VARCHAR(64)    NOT NULL,
    seq             INTEGER        NOT NULL,
    input_kind      VARCHAR(16)    NOT NULL, -- cell | task | figure
    input_code      VARCHAR(64)    NOT NULL, -- the indicator summed, the task, or the part
    unit_code       VARCHAR(16),
    submission_id   CHAR(64),
    value           NUMERIC(20, 6),
    task_status     VARCHAR(16),
    completed_on    DATE,
    counted         INTEGER        NOT NULL, -- 1 if it went into the figure (a done task), 0 if shown only
    sheet           VARCHAR(100),
    cell            VARCHAR(16),
    PRIMARY KEY (period_code, indicator_code, seq)
);
