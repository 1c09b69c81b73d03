-- The one submission of each unit that counts as of a day (:as_of), within the year's window
-- (:window_start = 15/12 of the previous year): weekly snapshots, 6 and 9 months, the year.
-- One per unit, never figures from two: the latest as-of day; on the same day the period's own
-- report (nine months, year) before a week's snapshot; then the latest delivered (arrival, receipt,
-- name), never the latest loaded.
SELECT submission_id, unit_code, as_of, version, file_name
FROM (
    SELECT s.submission_id, s.unit_code, s.as_of, s.version, s.file_name,
           ROW_NUMBER() OVER (
               PARTITION BY s.unit_code
               ORDER BY s.as_of DESC,
                        CASE WHEN p.kind = 'week' THEN 1 ELSE 0 END,
                        COALESCE(a.arrived_at, f.first_seen_at) DESC, f.first_seen_at DESC,
                        f.first_name DESC, s.submission_id DESC
           ) AS precedence
    FROM v_latest_submission s
    JOIN ref_periods p ON p.period_code = s.period_code
    JOIN received_files f ON f.checksum = s.submission_id
    LEFT JOIN file_arrivals a ON a.checksum = s.submission_id
    WHERE p.kind IN ('week', 'half_year', 'nine_months', 'year')
      AND s.as_of <= :as_of AND s.as_of >= :window_start
) ranked
WHERE precedence = 1
