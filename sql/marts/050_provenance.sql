-- Where every consolidated figure came from: the cells, task statuses or other figures it was
-- computed from (figure_inputs, written by the consolidation itself), with the file and version.
DROP VIEW IF EXISTS v_figure_provenance;
CREATE VIEW v_figure_provenance AS
SELECT fi.period_code, fi.indicator_code, fi.seq, fi.input_kind, fi.input_code, fi.unit_code,
       fi.value, fi.task_status, fi.completed_on, fi.counted,
       s.file_name, s.version, s.status AS submission_status, fi.sheet, fi.cell, fi.submission_id,
       r.archive_path
FROM figure_inputs fi
LEFT JOIN submissions s ON s.submission_id = fi.submission_id
LEFT JOIN received_files r ON r.checksum = fi.submission_id;
