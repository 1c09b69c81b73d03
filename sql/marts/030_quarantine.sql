-- Quarantine: every received file whose submission stands refused, with where it is kept and why it
-- was refused. `cchc reprocess` re-checks them (e.g. after a unit is added to the registry).
DROP VIEW IF EXISTS v_quarantine;
CREATE VIEW v_quarantine AS
SELECT s.submission_id AS checksum, r.first_name AS file_name, r.archive_path, r.first_seen_at,
       s.unit_code, s.period_code, s.version, s.n_errors, s.loaded_at,
       (SELECT MIN(f.code) FROM findings f
         WHERE f.submission_id = s.submission_id AND f.severity = 'error') AS first_error_code
FROM submissions s
JOIN received_files r ON r.checksum = s.submission_id
WHERE s.status = 'rejected';
