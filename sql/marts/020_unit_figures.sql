-- Every figure of every latest accepted submission, with the unit and the cell it came from.
DROP VIEW IF EXISTS v_unit_figures;
CREATE VIEW v_unit_figures AS
SELECT l.period_code, l.unit_code, l.version, l.as_of, l.file_name, l.submission_id,
       v.indicator_code, v.value, v.raw_text, v.sheet, v.cell
FROM v_latest_submission l
JOIN indicator_values v ON v.submission_id = l.submission_id;
