-- Latest accepted submission of each unit for one period (:period_code).
SELECT submission_id, unit_code, as_of, version, file_name
FROM v_latest_submission
WHERE period_code = :period_code
