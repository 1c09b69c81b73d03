-- Past figures of some units (:units, expanding): every latest accepted submission's values, for
-- the cross-period checks (carry-over, outliers against the unit's own history).
SELECT f.unit_code, f.period_code, f.indicator_code, f.value
FROM v_unit_figures f
WHERE f.unit_code IN :units
  AND f.value IS NOT NULL
