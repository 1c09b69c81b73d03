-- Approval and lock (`cchc approve`, `cchc reopen`, `cchc approvals`): the audit, the figures as
-- approved, what changed between approved versions, and corrections waiting behind a lock.
-- Columns: sql/dictionary.yml.

-- Every approval and reopening: who, when, why, which version.
DROP VIEW IF EXISTS v_period_audit;
CREATE VIEW v_period_audit AS
SELECT a.period_code, a.version, 'approved' AS action, a.approved_by AS action_by, a.approved_at AS action_at,
       a.note, a.n_figures
FROM approvals a
UNION ALL
SELECT r.period_code, r.version, 'reopened' AS action, r.reopened_by AS action_by, r.reopened_at AS action_at,
       r.reason AS note, NULL AS n_figures
FROM reopenings r;

-- The figures of every approved version, with the catalogue's labels and whether it is the one in force.
DROP VIEW IF EXISTS v_approved_figures;
CREATE VIEW v_approved_figures AS
SELECT f.period_code, f.version, f.indicator_code, i.label_vi, i.unit_vi, f.value, f.value_text, f.n_units,
       a.approved_by, a.approved_at,
       CASE WHEN k.locked = 1 AND k.version = f.version THEN 1 ELSE 0 END AS in_force
FROM approved_figures f
JOIN approvals a ON a.period_code = f.period_code AND a.version = f.version
LEFT JOIN period_locks k ON k.period_code = f.period_code
LEFT JOIN ref_indicators i ON i.indicator_code = f.indicator_code
                          AND i.valid_from <= a.as_of AND (i.valid_to IS NULL OR i.valid_to >= a.as_of);

-- What changed from each approved version to the next: figure, old and new value and text.
DROP VIEW IF EXISTS v_approval_changes;
CREATE VIEW v_approval_changes AS
SELECT n.period_code, o.version AS from_version, n.version AS to_version, n.indicator_code, i.label_vi,
       o.value AS old_value, n.value AS new_value, n.value - o.value AS change,
       o.value_text AS old_text, n.value_text AS new_text
FROM approved_figures n
JOIN approved_figures o ON o.period_code = n.period_code AND o.version = n.version - 1
                       AND o.indicator_code = n.indicator_code
JOIN approvals a ON a.period_code = n.period_code AND a.version = n.version
LEFT JOIN ref_indicators i ON i.indicator_code = n.indicator_code
                          AND i.valid_from <= a.as_of AND (i.valid_to IS NULL OR i.valid_to >= a.as_of)
WHERE COALESCE(o.value_text, '') <> COALESCE(n.value_text, '')
   OR (o.value IS NULL AND n.value IS NOT NULL) OR (o.value IS NOT NULL AND n.value IS NULL)
   OR o.value <> n.value;

-- Accepted submissions of a locked period newer than the one counted at approval (or from a unit
-- none of whose submissions was counted): received, archived and loaded, but not in the figures
-- until the period is reopened.
DROP VIEW IF EXISTS v_pending_corrections;
CREATE VIEW v_pending_corrections AS
SELECT k.period_code, k.version AS approved_version, s.unit_code, u.name_vi AS unit_name_vi,
       s.file_name, s.version, au.submission_version AS counted_version, r.first_seen_at AS received_at,
       s.submission_id
FROM period_locks k
JOIN submissions s ON s.period_code = k.period_code AND s.status IN ('accepted', 'accepted_with_warnings')
JOIN received_files r ON r.checksum = s.submission_id
LEFT JOIN approved_units au ON au.period_code = k.period_code AND au.version = k.version
                           AND au.unit_code = s.unit_code
LEFT JOIN ref_units u ON u.unit_code = s.unit_code
                     AND u.valid_from <= s.as_of AND (u.valid_to IS NULL OR u.valid_to >= s.as_of)
WHERE k.locked = 1
  AND (au.submission_version IS NULL OR s.version > au.submission_version);
