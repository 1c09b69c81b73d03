-- The runs that gave a verdict on a period's files (:p) or on the files not tied to a unit that its
-- status page shows (:keys, expanding): when each began (its first verdict, UTC), how many files it
-- judged and how many it refused, flagged or held — the page links each to its Data Docs and to the
-- run in Airflow. Newest first.
SELECT o.run_id, MIN(o.recorded_at) AS started, COUNT(*) AS files,
       SUM(CASE WHEN o.outcome = 'rejected' THEN 1 ELSE 0 END) AS refused,
       SUM(CASE WHEN o.outcome = 'accepted_with_warnings' THEN 1 ELSE 0 END) AS flagged,
       SUM(CASE WHEN o.outcome = 'held' THEN 1 ELSE 0 END) AS held
FROM run_outcomes o
WHERE o.period_code = :p OR o.checksum IN :keys
GROUP BY o.run_id
ORDER BY MIN(o.recorded_at) DESC, o.run_id
