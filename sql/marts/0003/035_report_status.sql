-- Completeness and timeliness, as DHIS2 reports them: who was expected to report each period
-- (the dated registry on the period's as-of date, the unit types deadlines.csv names for its kind),
-- who did, who was accepted, who on time. Columns are described in sql/dictionary.yml.
-- Revision 0003 (units send by e-mail): a unit whose latest file is `held` (mailed from an address
-- not registered for it, cchc.loading.holds) and that has no accepted file is `held`, not
-- `refused`: nothing is wrong with the file, ops have to confirm who sent it. The rates count them.
DROP VIEW IF EXISTS v_expected_reports;
CREATE VIEW v_expected_reports AS
SELECT p.period_code, p.kind AS period_kind, p.start_date, p.end_date, d.due_on, d.due_before, d.basis,
       u.unit_code, u.name_vi AS unit_name_vi, u.unit_type, u.parent_code
FROM ref_periods p
JOIN ref_report_due d ON d.period_code = p.period_code
JOIN ref_units u ON u.unit_type = d.unit_type
               AND u.valid_from <= d.registry_on
               AND (u.valid_to IS NULL OR u.valid_to >= d.registry_on);

-- One row per expected unit and period. On time means received by the office by the due day
-- (the first accepted version's arrival, or the day declared with `cchc ingest --received-on` for a
-- past period imported later: received_basis says which), never the date the unit typed in
-- "Ngày gửi" (kept as accepted_sent_on, for ops to compare). A refused file sent on time does not
-- make the unit on time, its accepted correction does; nor does a held one until ops confirm it
-- (it then counts from its arrival, like any accepted file).
DROP VIEW IF EXISTS v_report_status;
CREATE VIEW v_report_status AS
SELECT e.period_code, e.period_kind, e.unit_code, e.unit_name_vi, e.unit_type, e.parent_code,
       e.due_on, e.basis,
       COALESCE(r.n_versions, 0) AS n_versions,
       r.first_received_at,
       a.version AS accepted_version,
       a.sent_on AS accepted_sent_on,
       a.arrived_at AS accepted_received_at,
       a.received_on AS accepted_received_on,
       CASE WHEN a.submission_id IS NULL THEN NULL
            WHEN a.declared_on IS NOT NULL THEN 'declared' ELSE 'arrival' END AS received_basis,
       CASE
           WHEN r.n_versions IS NULL THEN 'missing'
           WHEN a.submission_id IS NULL THEN CASE WHEN l.status = 'held' THEN 'held' ELSE 'refused' END
           WHEN a.received_on IS NOT NULL
               THEN CASE WHEN a.received_on <= e.due_on THEN 'on_time' ELSE 'late' END
           WHEN a.arrived_at < e.due_before THEN 'on_time'
           ELSE 'late'
       END AS status
FROM v_expected_reports e
LEFT JOIN (
    SELECT s.unit_code, s.period_code, COUNT(*) AS n_versions,
           MIN(COALESCE(fa.arrived_at, f.first_seen_at)) AS first_received_at,
           MAX(s.version) AS latest_version
    FROM submissions s
    JOIN received_files f ON f.checksum = s.submission_id
    LEFT JOIN file_arrivals fa ON fa.checksum = s.submission_id
    GROUP BY s.unit_code, s.period_code
) r ON r.unit_code = e.unit_code AND r.period_code = e.period_code
LEFT JOIN submissions l ON l.unit_code = r.unit_code AND l.period_code = r.period_code
                       AND l.version = r.latest_version
LEFT JOIN (
    SELECT s.submission_id, s.unit_code, s.period_code, s.version, s.sent_on,
           COALESCE(fa.arrived_at, f.first_seen_at) AS arrived_at, fa.received_on, fa.declared_on
    FROM submissions s
    JOIN received_files f ON f.checksum = s.submission_id
    LEFT JOIN file_arrivals fa ON fa.checksum = s.submission_id
    WHERE s.status IN ('accepted', 'accepted_with_warnings')
      AND NOT EXISTS (
          SELECT 1 FROM submissions o
          WHERE o.unit_code = s.unit_code AND o.period_code = s.period_code
            AND o.status IN ('accepted', 'accepted_with_warnings') AND o.version < s.version)
) a ON a.unit_code = e.unit_code AND a.period_code = e.period_code;

-- Rates per period and unit type (department, district, commune).
DROP VIEW IF EXISTS v_completeness;
CREATE VIEW v_completeness AS
SELECT period_code, unit_type,
       COUNT(*) AS expected,
       SUM(CASE WHEN status <> 'missing' THEN 1 ELSE 0 END) AS reported,
       SUM(CASE WHEN status IN ('on_time', 'late') THEN 1 ELSE 0 END) AS accepted,
       SUM(CASE WHEN status = 'on_time' THEN 1 ELSE 0 END) AS on_time,
       SUM(CASE WHEN status = 'late' THEN 1 ELSE 0 END) AS late,
       SUM(CASE WHEN status = 'refused' THEN 1 ELSE 0 END) AS refused,
       SUM(CASE WHEN status = 'held' THEN 1 ELSE 0 END) AS held,
       SUM(CASE WHEN status = 'missing' THEN 1 ELSE 0 END) AS missing,
       ROUND(100.0 * SUM(CASE WHEN status <> 'missing' THEN 1 ELSE 0 END) / COUNT(*), 1) AS reporting_rate,
       ROUND(100.0 * SUM(CASE WHEN status = 'on_time' THEN 1 ELSE 0 END) / COUNT(*), 1) AS on_time_rate
FROM v_report_status
GROUP BY period_code, unit_type;

-- Communes' rates per district: which district's communes to chase.
DROP VIEW IF EXISTS v_commune_completeness;
CREATE VIEW v_commune_completeness AS
SELECT s.period_code, s.parent_code AS district_code, d.name_vi AS district_name_vi,
       COUNT(*) AS expected,
       SUM(CASE WHEN s.status <> 'missing' THEN 1 ELSE 0 END) AS reported,
       SUM(CASE WHEN s.status IN ('on_time', 'late') THEN 1 ELSE 0 END) AS accepted,
       SUM(CASE WHEN s.status = 'on_time' THEN 1 ELSE 0 END) AS on_time,
       SUM(CASE WHEN s.status = 'late' THEN 1 ELSE 0 END) AS late,
       SUM(CASE WHEN s.status = 'refused' THEN 1 ELSE 0 END) AS refused,
       SUM(CASE WHEN s.status = 'held' THEN 1 ELSE 0 END) AS held,
       SUM(CASE WHEN s.status = 'missing' THEN 1 ELSE 0 END) AS missing,
       ROUND(100.0 * SUM(CASE WHEN s.status <> 'missing' THEN 1 ELSE 0 END) / COUNT(*), 1) AS reporting_rate,
       ROUND(100.0 * SUM(CASE WHEN s.status = 'on_time' THEN 1 ELSE 0 END) / COUNT(*), 1) AS on_time_rate
FROM v_report_status s
LEFT JOIN ref_units d ON d.unit_code = s.parent_code
                     AND d.valid_from <= s.due_on AND (d.valid_to IS NULL OR d.valid_to >= s.due_on)
WHERE s.unit_type = 'commune'
GROUP BY s.period_code, s.parent_code, d.name_vi;
