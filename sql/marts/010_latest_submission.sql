-- The newest accepted version of each unit's submission for each period: what consolidation uses.
DROP VIEW IF EXISTS v_latest_submission;
CREATE VIEW v_latest_submission AS
SELECT s.*
FROM submissions s
WHERE s.status IN ('accepted', 'accepted_with_warnings')
  AND NOT EXISTS (
      SELECT 1 FROM submissions n
      WHERE n.unit_code = s.unit_code
        AND n.period_code = s.period_code
        AND n.status IN ('accepted', 'accepted_with_warnings')
        AND n.version > s.version
  );
