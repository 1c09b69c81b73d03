"""
### cchc_weekly_rollup — báo cáo nhanh CCHC hằng tuần

Every Monday 07:00 (Asia/Ho_Chi_Minh), and whenever `cchc_ingest` updates the warehouse, take the
latest accepted year-to-date submission of each unit as of the end of the week, consolidate them by
the indicator catalogue, store the week's figures in `weekly_figures` and write the week's workbook
to `data/outputs/weekly/`, with a sheet "Tình hình báo cáo": reporting rates by unit type and by
district, and the units late, refused or missing for the week and for any period due in it, and a
sheet "Xu hướng theo tuần": the year-to-date figures of every week so far, with line charts.
`flash_report` writes the leaders' one-page flash report beside it (`<week>_bao_cao_du_thao.docx`,
from include/templates/bao_cao_nhanh_tuan.docx: plan tasks done, feedback, dossiers).
`alert_late` sends ops those units (e-mail via the `cchc_smtp` connection, else the log). Which
week: the `week` param (e.g. `2024-W24`) if given, else the week holding the day before the run
(a Monday run covers the week that just ended).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, get_current_context, task
from cchc_assets import WAREHOUSE


def _alert_failure(context):
    """A task failed for good (after its retries): tell ops (cchc_smtp e-mail, else the log)."""
    from cchc.notify import on_failure

    on_failure(context)


@dag(
    dag_id="cchc_weekly_rollup",
    dag_display_name="Báo cáo nhanh CCHC hằng tuần",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * 1", timezone="Asia/Ho_Chi_Minh"), assets=[WAREHOUSE]
    ),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    params={"week": Param(None, type=["null", "string"], pattern=r"^\d{4}-W\d{2}$",
                          description="ISO week, e.g. 2024-W24; empty: the week before the run")},
    tags=["cchc", "report"],
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 2, "retry_delay": dt.timedelta(minutes=5)},
)
def cchc_weekly_rollup():
    @task(task_display_name="Tổng hợp tuần")
    def roll_up() -> dict:
        """Consolidate the week, store it, write its workbook."""
        from zoneinfo import ZoneInfo

        from cchc.completeness import for_week
        from cchc.config import output_dir
        from cchc.consolidate import consolidate_week, store
        from cchc.periods import parse_period, week_of
        from cchc.publish import publish_week
        from cchc.runtime import prepared_engine

        ctx = get_current_context()
        if ctx["params"].get("week"):
            week = parse_period(ctx["params"]["week"])
        else:
            run_after = ctx["dag_run"].run_after.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
            week = week_of(run_after.date() - dt.timedelta(days=1))
        engine, ref = prepared_engine()
        result = consolidate_week(engine, ref, week)
        store(engine, result, "weekly_figures")
        path = publish_week(output_dir() / "weekly", result, ref, for_week(engine, week), engine=engine)
        print(f"{week.code} ({week.start} – {week.end}): {len(result.units_reported)} units with figures, "
              f"{len(result.units_missing)} without; workbook {path}")
        for code in ("plan.tasks_done", "pakn.received_new", "pakn.resolved", "dossier.received"):
            print(f"  {code}: {result.figures[code].text}")
        return {"week": week.code, "workbook": str(path), "units_reported": len(result.units_reported)}

    @task(task_display_name="Báo đơn vị chậm, thiếu")
    def alert_late(summary: dict) -> str:
        """Tell ops which units are late, refused or missing for periods already past their deadline."""
        from zoneinfo import ZoneInfo

        from cchc.completeness import for_week, to_chase
        from cchc.notify import alert, late_units_message
        from cchc.periods import parse_period
        from cchc.runtime import warehouse_engine

        engine, _ = warehouse_engine()
        rows, _ = for_week(engine, parse_period(summary["week"]))
        today = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
        return alert(late_units_message(to_chase(rows, today)))

    @task(task_display_name="Viết báo cáo nhanh")
    def flash_report(summary: dict) -> str:
        """The leaders' one-page weekly flash report (Word), from the week's year-to-date figures."""
        from cchc.config import output_dir
        from cchc.draft import write_draft
        from cchc.runtime import warehouse_engine

        engine, ref = warehouse_engine()
        d = write_draft(engine, ref, summary["week"], output_dir() / "weekly")
        print(f"Flash report: {d.path}  ({d.seconds:.1f} s)")
        return str(d.path)

    summary = roll_up()
    alert_late(summary)
    flash_report(summary)


cchc_weekly_rollup()
