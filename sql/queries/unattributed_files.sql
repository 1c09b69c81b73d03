-- Files that could not be tied to a unit's report (the status page's "files not tied to a unit",
-- cchc.ops.unattributed): submissions whose unit and period match no expected report — not a
-- workbook at all (unit and period ''), a unit code the registry does not know on that day, a period
-- it cannot read or has no deadline for. With when each arrived (its arrival, else its first receipt:
-- UTC), the day it counts as received (Hanoi) and how it came (file_arrivals.source: mail, mtime
-- or receipt).
SELECT s.submission_id, s.unit_code, s.period_code, s.version, s.status, s.file_name,
       COALESCE(a.arrived_at, f.first_seen_at) AS arrived_at, a.source, a.received_on, a.declared_on,
       f.first_seen_at
FROM submissions s
JOIN received_files f ON f.checksum = s.submission_id
LEFT JOIN file_arrivals a ON a.checksum = s.submission_id
WHERE NOT EXISTS (SELECT 1 FROM v_expected_reports e
                  WHERE e.unit_code = s.unit_code AND e.period_code = s.period_code)
ORDER BY COALESCE(a.arrived_at, f.first_seen_at), s.file_name, s.submission_id
