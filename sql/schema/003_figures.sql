-- Consolidated figures: what the city reports, per period and per week. Rewritten by each
-- consolidation (delete + insert in one transaction), with the time and inputs it was made from.
CREATE TABLE IF NOT EXISTS consolidated_figures (
    period_code     VARCHAR(16)    NOT NULL,
    indicator_code  VARCHAR(64)    NOT NULL,
    value           NUMERIC(20, 6),
    value_text      VARCHAR(64),            -- as the report prints it: 1.317 / 25,6 / 08/57
    n_units         INTEGER        NOT NULL, -- units whose figures went into it
    as_of           DATE           NOT NULL,
    computed_at     TIMESTAMP      NOT NULL,
    PRIMARY KEY (period_code, indicator_code)
);

CREATE TABLE IF NOT EXISTS weekly_figures (
    week_code       VARCHAR(16)    NOT NULL, -- 2024-W23
    indicator_code  VARCHAR(64)    NOT NULL,
    value           NUMERIC(20, 6),
    value_text      VARCHAR(64),
    n_units         INTEGER        NOT NULL,
    week_end        DATE           NOT NULL,
    computed_at     TIMESTAMP      NOT NULL,
    PRIMARY KEY (week_code, indicator_code)
);
