-- A consolidated figure's inputs that are a unit's cell (a sum's or a single's): which submission
-- and indicator, nothing more. The cell's unit, value, sheet and address are indicator_values' and
-- submissions' own (a loaded submission's rows never change): v_figure_provenance joins them back,
-- identical to the whole row figure_inputs keeps for the other inputs (tasks, a ratio's parts).
-- Five narrow columns for ~220,000 rows of a national period, written ~5× faster than whole rows.
CREATE TABLE IF NOT EXISTS figure_cells (
    period_code     VARCHAR(16)    NOT NULL, -- a period (2024-H1) or a week (2024-W24)
    indicator_code  VARCHAR(64)    NOT NULL, -- the figure
    seq             INTEGER        NOT NULL, -- its input's place, numbered with figure_inputs' rows
    submission_id   CHAR(64)       NOT NULL, -- indicator_values (submission_id, indicator_code)
    input_code      VARCHAR(64)    NOT NULL, -- the indicator summed
    PRIMARY KEY (period_code, indicator_code, seq)
);
