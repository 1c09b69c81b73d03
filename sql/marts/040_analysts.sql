-- Views for analysts who query the warehouse with SQL. Columns: sql/dictionary.yml.

-- Each plan task's status as its lead unit reported it in its latest accepted submission for a
-- period (every period anything was received for). 'unreported': the lead unit sent nothing, or
-- left the task's status blank. Done counts as consolidation's plan.tasks_done counts it: reported
-- done and completed by the period's cut-off (cut_off: Period.as_of_default, 15/6 for H1, stored by
-- the loader as ref_report_due.registry_on), not by the as-of date the unit wrote, which may be later.
DROP VIEW IF EXISTS v_plan_task_status;
CREATE VIEW v_plan_task_status AS
SELECT p.period_code, t.task_code, t.task_group, t.lead_unit, t.deadline,
       COALESCE(ts.status, 'unreported') AS status, ts.completed_on, c.cut_off,
       CASE WHEN ts.status = 'done' AND ts.completed_on IS NOT NULL AND ts.completed_on <= c.cut_off
            THEN 1 ELSE 0 END AS counted_done,
       CASE WHEN ts.status = 'done' AND ts.completed_on > t.deadline THEN 1 ELSE 0 END AS done_late,
       l.file_name, ts.sheet, ts.cell
FROM ref_periods p
JOIN (SELECT period_code, MIN(registry_on) AS cut_off FROM ref_report_due GROUP BY period_code) c
  ON c.period_code = p.period_code
JOIN ref_plan_tasks t ON t.valid_from <= c.cut_off AND (t.valid_to IS NULL OR t.valid_to >= c.cut_off)
LEFT JOIN v_latest_submission l ON l.period_code = p.period_code AND l.unit_code = t.lead_unit
LEFT JOIN task_statuses ts ON ts.submission_id = l.submission_id AND ts.task_code = t.task_code
WHERE EXISTS (SELECT 1 FROM submissions s WHERE s.period_code = p.period_code);

-- Plan progress by period, task group and lead unit.
DROP VIEW IF EXISTS v_plan_progress;
CREATE VIEW v_plan_progress AS
SELECT period_code, task_group, lead_unit,
       COUNT(*) AS tasks,
       SUM(counted_done) AS done,
       SUM(CASE WHEN counted_done = 1 AND done_late = 0 THEN 1 ELSE 0 END) AS done_on_time,
       SUM(CASE WHEN counted_done = 1 AND done_late = 1 THEN 1 ELSE 0 END) AS done_late,
       SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END) AS in_progress,
       SUM(CASE WHEN status = 'not_started' THEN 1 ELSE 0 END) AS not_started,
       SUM(CASE WHEN status = 'unreported' THEN 1 ELSE 0 END) AS unreported
FROM v_plan_task_status
GROUP BY period_code, task_group, lead_unit;

-- Feedback on regulations (PAKN) each unit handled, from its latest accepted submission.
DROP VIEW IF EXISTS v_feedback_by_unit;
CREATE VIEW v_feedback_by_unit AS
SELECT f.period_code, f.unit_code, f.unit_name_vi, f.unit_type, f.as_of,
       MAX(CASE WHEN f.indicator_code = 'pakn.received_new' THEN f.value END) AS received_new,
       MAX(CASE WHEN f.indicator_code = 'pakn.carried_over' THEN f.value END) AS carried_over,
       MAX(CASE WHEN f.indicator_code = 'pakn.resolved' THEN f.value END) AS resolved,
       MAX(CASE WHEN f.indicator_code = 'pakn.in_progress' THEN f.value END) AS in_progress,
       MAX(CASE WHEN f.indicator_code = 'pakn.in_progress_on_time' THEN f.value END) AS in_progress_on_time,
       MAX(CASE WHEN f.indicator_code = 'pakn.in_progress_overdue' THEN f.value END) AS in_progress_overdue
FROM v_unit_figures f
WHERE f.indicator_code LIKE 'pakn.%'
GROUP BY f.period_code, f.unit_code, f.unit_name_vi, f.unit_type, f.as_of;

-- Administrative-procedure dossiers (Biểu 06/VPCP/KSTT) of each unit, from its latest accepted submission.
DROP VIEW IF EXISTS v_dossiers_by_unit;
CREATE VIEW v_dossiers_by_unit AS
SELECT f.period_code, f.unit_code, f.unit_name_vi, f.unit_type, f.parent_code, f.as_of,
       MAX(CASE WHEN f.indicator_code = 'dossier.received' THEN f.value END) AS received,
       MAX(CASE WHEN f.indicator_code = 'dossier.received_online' THEN f.value END) AS received_online,
       MAX(CASE WHEN f.indicator_code = 'dossier.received_direct' THEN f.value END) AS received_direct,
       MAX(CASE WHEN f.indicator_code = 'dossier.carried_over' THEN f.value END) AS carried_over,
       MAX(CASE WHEN f.indicator_code = 'dossier.resolved' THEN f.value END) AS resolved,
       MAX(CASE WHEN f.indicator_code = 'dossier.resolved_early' THEN f.value END) AS resolved_early,
       MAX(CASE WHEN f.indicator_code = 'dossier.resolved_on_time' THEN f.value END) AS resolved_on_time,
       MAX(CASE WHEN f.indicator_code = 'dossier.resolved_late' THEN f.value END) AS resolved_late,
       MAX(CASE WHEN f.indicator_code = 'dossier.in_progress' THEN f.value END) AS in_progress,
       MAX(CASE WHEN f.indicator_code = 'dossier.in_progress_on_time' THEN f.value END) AS in_progress_on_time,
       MAX(CASE WHEN f.indicator_code = 'dossier.in_progress_overdue' THEN f.value END) AS in_progress_overdue
FROM v_unit_figures f
WHERE f.indicator_code LIKE 'dossier.%'
GROUP BY f.period_code, f.unit_code, f.unit_name_vi, f.unit_type, f.parent_code, f.as_of;

-- The city's consolidated figures per reporting period, with the catalogue's labels.
DROP VIEW IF EXISTS v_period_figures;
CREATE VIEW v_period_figures AS
SELECT c.period_code, c.indicator_code, i.group_code, i.label_vi, i.unit_vi, i.method,
       c.value, c.value_text, c.n_units, c.as_of, c.computed_at
FROM consolidated_figures c
LEFT JOIN ref_indicators i ON i.indicator_code = c.indicator_code
                          AND i.valid_from <= c.as_of AND (i.valid_to IS NULL OR i.valid_to >= c.as_of);

-- The weekly roll-up's year-to-date figures per ISO week, with the catalogue's labels.
DROP VIEW IF EXISTS v_week_figures;
CREATE VIEW v_week_figures AS
SELECT w.week_code, w.indicator_code, i.group_code, i.label_vi, i.unit_vi, i.method,
       w.value, w.value_text, w.n_units, w.week_end, w.computed_at
FROM weekly_figures w
LEFT JOIN ref_indicators i ON i.indicator_code = w.indicator_code
                          AND i.valid_from <= w.week_end AND (i.valid_to IS NULL OR i.valid_to >= w.week_end);
