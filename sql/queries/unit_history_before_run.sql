-- Past figures of some units (:units, expanding) as the warehouse held them before run :run: every
-- latest accepted submission's values, leaving out what the run itself loaded (run_outcomes). A DAG
-- run checks its chunks in parallel; without this, a file's cross-period checks would see whatever
-- other chunks of the same run happened to load first, and a warning would come and go by timing.
SELECT s.unit_code, s.period_code, v.indicator_code, v.value
FROM submissions s
JOIN indicator_values v ON v.submission_id = s.submission_id
WHERE s.unit_code IN :units
  AND s.status IN ('accepted', 'accepted_with_warnings')
  AND v.value IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM run_outcomes o WHERE o.run_id = :run AND o.checksum = s.submission_id)
  AND NOT EXISTS (
      SELECT 1 FROM submissions n
      WHERE n.unit_code = s.unit_code
        AND n.period_code = s.period_code
        AND n.status IN ('accepted', 'accepted_with_warnings')
        AND n.version > s.version
        AND NOT EXISTS (SELECT 1 FROM run_outcomes o WHERE o.run_id = :run AND o.checksum = n.submission_id)
  )
