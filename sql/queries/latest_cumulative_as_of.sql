-- Latest accepted year-to-date submission of each unit as of a day (:as_of), within the year's
-- window (:window_start = 15/12 of the previous year): weekly snapshots, 6 and 9 months, the year.
-- Ties on as_of go to the newest version.
SELECT s.submission_id, s.unit_code, s.as_of, s.version, s.file_name
FROM v_latest_submission s
JOIN ref_periods p ON p.period_code = s.period_code
WHERE p.kind IN ('week', 'half_year', 'nine_months', 'year')
  AND s.as_of <= :as_of AND s.as_of >= :window_start
  AND NOT EXISTS (
      SELECT 1 FROM v_latest_submission n
      JOIN ref_periods np ON np.period_code = n.period_code
      WHERE n.unit_code = s.unit_code
        AND np.kind IN ('week', 'half_year', 'nine_months', 'year')
        AND n.as_of <= :as_of AND n.as_of >= :window_start
        AND (n.as_of > s.as_of OR (n.as_of = s.as_of AND n.loaded_at > s.loaded_at))
  )
