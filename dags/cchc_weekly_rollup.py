"""
### cchc_weekly_rollup — báo cáo nhanh CCHC hằng tuần

**When.** Wednesdays 06:00 (Asia/Ho_Chi_Minh), once the week just ended is past its deadline
(include/reference/deadlines.csv: weekly figures are due "chậm nhất thứ Ba tuần sau"), and whenever
`cchc_ingest` updates the warehouse. **Which week**: the `week` param (e.g. `2024-W24`) if given,
else the latest week whose deadline has passed at the run's time (logical date, else run-after):
from Wednesday 00:00 the week just ended, on Monday and Tuesday still the week before — so an on-time
Tuesday file is in its week's roll-up (`cchc.ops.weekly.choose_week`).

**Only when something changed.** `check_week` fingerprints the week's inputs (the latest accepted
year-to-date submission of each unit as of the week's end, the reporting statuses of the week and of
the periods due in it, the reference data). If the last finished roll-up of that week
(`weekly_rollups`, run after the week's deadline) had the same fingerprint, the run stops there,
successfully, and logs
"Số liệu không đổi … bỏ qua / inputs unchanged … skipped": the tasks after it are skipped. The `force`
param rolls up regardless.

**What.** `roll_up` takes the latest accepted year-to-date submission of each unit as of the end of
the week, consolidates them by the indicator catalogue, stores the week's figures in
`weekly_figures` and writes the week's workbook to `data/outputs/weekly/`, with a sheet "Tình hình
báo cáo": reporting rates by unit type and by district, and the units late, refused or missing for
the week and for any period due in it, and a sheet "Xu hướng theo tuần": the year-to-date figures
of every week so far, with line charts. `flash_report` writes the leaders' one-page flash report
beside it (`<week>_bao_cao_du_thao.docx`, from include/templates/bao_cao_nhanh_tuan.docx).
`alert_late` sends ops the units still without an accepted report (missing, or every file refused)
past the deadline — not those that reported late — each unit at most once per week (the ledger
`weekly_alerts`; e-mail via the `cchc_smtp` connection, else the log). `record` stores the
fingerprint once all of it has succeeded.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, get_current_context, task
from cchc_assets import WAREHOUSE

from cchc.orchestration.wiring import dag_args, default_args, label, task_args

DAG_ID = "cchc_weekly_rollup"


@dag(
    **dag_args(DAG_ID),
    # Wednesday 06:00: the week ended Sunday is due by the end of Tuesday (deadlines.csv, due_days 2);
    # tests/test_weekly_rollup.py holds this time against the rule for every week of a year.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 * * 3", timezone="Asia/Ho_Chi_Minh"), assets=[WAREHOUSE]
    ),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    params={
        "week": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-W\d{2}$",
            title=str(label("param_week_title")),
            description=str(label("param_week")),
        ),
        "force": Param(
            False, type="boolean", title=str(label("param_force_title")), description=str(label("param_force"))
        ),
    },
    tags=["cchc", "report"],
    default_args=default_args(retries=2, retry_delay=dt.timedelta(minutes=5)),
)
def cchc_weekly_rollup():
    # Each task imports its work (cchc.orchestration.weekly_tasks) when it runs: parsing stays cheap.
    @task.short_circuit(**task_args(DAG_ID, "check_week"))
    def check_week() -> dict | bool:
        """The week to roll up, and whether its inputs changed since its last roll-up (False: skip the rest)."""
        from cchc.orchestration import weekly_tasks

        return weekly_tasks.check_week(get_current_context())

    @task(**task_args(DAG_ID, "roll_up"))
    def roll_up(plan: dict) -> dict:
        """Consolidate the week, store it, write its workbook."""
        from cchc.orchestration import weekly_tasks

        return weekly_tasks.roll_up(plan)

    @task(**task_args(DAG_ID, "alert_late"))
    def alert_late(summary: dict) -> str:
        """Tell ops, once a week per unit, which units still have no accepted report past the deadline."""
        from cchc.orchestration import weekly_tasks

        return weekly_tasks.alert_late(get_current_context(), summary)

    @task(**task_args(DAG_ID, "flash_report"))
    def flash_report(summary: dict) -> str:
        """The leaders' one-page weekly flash report (Word), from the week's year-to-date figures."""
        from cchc.orchestration import weekly_tasks

        return weekly_tasks.flash_report(summary)

    @task(**task_args(DAG_ID, "record"))
    def record(summary: dict) -> None:
        """Remember the week's fingerprint, now that the roll-up, its alert and its report are done."""
        from cchc.orchestration import weekly_tasks

        weekly_tasks.record(get_current_context(), summary)

    summary = roll_up(check_week())
    [alert_late(summary), flash_report(summary)] >> record(summary)


cchc_weekly_rollup()
