-- Reference data, loaded from include/reference/*.csv. Rows are dated and never edited in place:
-- a change closes the old row (valid_to) and opens a new one, so old periods consolidate as they were.
CREATE TABLE IF NOT EXISTS ref_units (
    unit_code     VARCHAR(16)  NOT NULL,
    valid_from    DATE         NOT NULL,
    valid_to      DATE,
    name_vi       VARCHAR(200) NOT NULL,
    unit_type     VARCHAR(16)  NOT NULL,   -- department | district | commune
    subtype       VARCHAR(16)  NOT NULL,   -- so, ban, quan, huyen, xa, phuong, thi_tran, ...
    parent_code   VARCHAR(16),             -- a commune's district
    handles_tthc  INTEGER      NOT NULL,   -- 1 if the unit handles administrative procedures
    PRIMARY KEY (unit_code, valid_from)
);

CREATE TABLE IF NOT EXISTS ref_periods (
    period_code  VARCHAR(16)  PRIMARY KEY, -- 2024-H1, 2024-Q3, 2024-M05, 2024-9M, 2024-Y, 2024-W23
    kind         VARCHAR(16)  NOT NULL,
    year         INTEGER      NOT NULL,
    start_date   DATE         NOT NULL,    -- data window, cut on the 14th (Nghị định 09/2019)
    end_date     DATE         NOT NULL,
    name_vi      VARCHAR(100) NOT NULL
);

CREATE TABLE IF NOT EXISTS ref_plan_tasks (
    task_code            VARCHAR(16)   NOT NULL,
    valid_from           DATE          NOT NULL,
    valid_to             DATE,
    task_group           VARCHAR(32)   NOT NULL,
    name_vi              VARCHAR(1000) NOT NULL,
    lead_unit            VARCHAR(16)   NOT NULL,
    deadline             DATE          NOT NULL,
    expected_product_vi  VARCHAR(1000),
    PRIMARY KEY (task_code, valid_from)
);

CREATE TABLE IF NOT EXISTS ref_indicators (
    indicator_code  VARCHAR(64)  NOT NULL,
    valid_from      DATE         NOT NULL,
    valid_to        DATE,
    group_code      VARCHAR(32)  NOT NULL,
    label_vi        VARCHAR(500) NOT NULL,
    unit_vi         VARCHAR(32)  NOT NULL,
    rule            VARCHAR(16)  NOT NULL,  -- count | amount | percent | score | rank | flag
    reporters       VARCHAR(64),            -- unit types or one authoritative unit; empty if computed
    method          VARCHAR(16)  NOT NULL,  -- sum | single | ratio | registry_count | plan_total | plan_done
    expression      VARCHAR(500),
    decimals        INTEGER      NOT NULL,
    section         VARCHAR(16),
    PRIMARY KEY (indicator_code, valid_from)
);

CREATE TABLE IF NOT EXISTS ref_identities (
    identity_code  VARCHAR(64)  PRIMARY KEY,
    expression     VARCHAR(500) NOT NULL,
    label_vi       VARCHAR(500) NOT NULL,
    label_en       VARCHAR(500) NOT NULL
);
