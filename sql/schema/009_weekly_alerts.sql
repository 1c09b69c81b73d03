-- The weekly roll-up's memory (cchc.weekly): what each week was last rolled up from, and which
-- units ops were already told about. New tables, so a deployed warehouse gets them from the
-- schema apply (CREATE TABLE IF NOT EXISTS).

-- One row per week: the fingerprint (SHA-256) of the inputs of its last roll-up — the latest
-- accepted year-to-date submission of each unit as of the week's end, the reporting statuses of
-- the week and of the periods due in it, the reference data. A run that finds the same
-- fingerprint, left by a roll-up run after the week's deadline, changes nothing and sends nothing.
CREATE TABLE IF NOT EXISTS weekly_rollups (
    week_code      VARCHAR(16)   PRIMARY KEY,   -- 2024-W24
    fingerprint    CHAR(64)      NOT NULL,
    n_submissions  INTEGER       NOT NULL,      -- submissions the figures were taken from
    run_at         TIMESTAMP     NOT NULL,      -- the run's time (logical date, else run-after), UTC
    rolled_at      TIMESTAMP     NOT NULL,      -- when it finished, UTC
    run_id         VARCHAR(250)  NOT NULL       -- the Airflow run (or the command) that made it
);

-- The ledger of late-unit alerts: one row per roll-up week, unit and kind alerted. A unit already
-- in it for the week is not alerted again that week, whatever runs follow.
CREATE TABLE IF NOT EXISTS weekly_alerts (
    week_code     VARCHAR(16)   NOT NULL,       -- the roll-up week whose run sent the alert
    unit_code     VARCHAR(16)   NOT NULL,
    kind          VARCHAR(16)   NOT NULL,       -- missing | refused (a late but accepted report is not chased)
    period_codes  VARCHAR(200)  NOT NULL,       -- the periods it was missing or refused for, comma separated
    due_on        DATE          NOT NULL,       -- the earliest of their deadlines
    alerted_at    TIMESTAMP     NOT NULL,       -- UTC
    channel       VARCHAR(16)   NOT NULL,       -- smtp | log
    run_id        VARCHAR(250)  NOT NULL,
    PRIMARY KEY (week_code, unit_code, kind)
);
