-- Where every consolidated figure came from: the cells, task statuses or other figures it was
-- computed from, with the file and version. Written by the consolidation itself: a unit's cell
-- as its submission and indicator (figure_cells, the rest read back from indicator_values, whose
-- key they are, and submissions), every other input whole (figure_inputs).
DROP VIEW IF EXISTS v_figure_provenance;
CREATE VIEW v_figure_provenance AS
SELECT fi.period_code, fi.indicator_code, fi.seq, fi.input_kind, fi.input_code, fi.unit_code,
       fi.value, fi.task_status, fi.completed_on, fi.counted,
       s.file_name, s.version, s.status AS submission_status, fi.sheet, fi.cell, fi.submission_id,
       r.archive_path
FROM figure_inputs fi
LEFT JOIN submissions s ON s.submission_id = fi.submission_id
LEFT JOIN received_files r ON r.checksum = fi.submission_id
UNION ALL
SELECT fc.period_code, fc.indicator_code, fc.seq, CAST('cell' AS VARCHAR(16)), fc.input_code, s.unit_code,
       v.value, CAST(NULL AS VARCHAR(16)), CAST(NULL AS DATE), 1,
       s.file_name, s.version, s.status, v.sheet, v.cell, fc.submission_id,
       r.archive_path
FROM figure_cells fc
JOIN indicator_values v ON v.submission_id = fc.submission_id AND v.indicator_code = fc.input_code
JOIN submissions s ON s.submission_id = fc.submission_id
LEFT JOIN received_files r ON r.checksum = fc.submission_id;
