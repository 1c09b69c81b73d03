-- Every figure of every latest accepted submission, with the unit (as registered on its as-of
-- date) and the cell it came from.
DROP VIEW IF EXISTS v_unit_figures;
CREATE VIEW v_unit_figures AS
SELECT l.period_code, l.unit_code, u.name_vi AS unit_name_vi, u.unit_type, u.parent_code,
       l.version, l.as_of, l.file_name, l.submission_id,
       v.indicator_code, v.value, v.raw_text, v.sheet, v.cell
FROM v_latest_submission l
JOIN indicator_values v ON v.submission_id = l.submission_id
LEFT JOIN ref_units u ON u.unit_code = l.unit_code
                     AND u.valid_from <= l.as_of AND (u.valid_to IS NULL OR u.valid_to >= l.as_of);
