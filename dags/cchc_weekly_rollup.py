"""
### cchc_weekly_rollup — báo cáo nhanh CCHC hằng tuần

**When.** Wednesdays 06:00 (Asia/Ho_Chi_Minh), once the week just ended is past its deadline
(include/reference/deadlines.csv: weekly figures are due "chậm nhất thứ Ba tuần sau"), and whenever
`cchc_ingest` updates the warehouse. **Which week**: the `week` param (e.g. `2024-W24`) if given,
else the latest week whose deadline has passed at the run's time (logical date, else run-after):
from Wednesday 00:00 the week just ended, on Monday and Tuesday still the week before — so an on-time
Tuesday file is in its week's roll-up (`cchc.weekly.choose_week`).

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


def _alert_failure(context):
    """A task failed for good (after its retries): tell ops (cchc_smtp e-mail, else the log)."""
    from cchc.notify import on_failure

    on_failure(context)


def _run_time(ctx) -> dt.datetime:
    """The run's time: its logical date (scheduled runs, `airflow dags test DAG DATE`), else when it
    was due to run (asset-triggered runs have no logical date)."""
    return ctx.get("logical_date") or ctx["dag_run"].run_after


@dag(
    dag_id="cchc_weekly_rollup",
    dag_display_name="Báo cáo nhanh CCHC hằng tuần",
    # Wednesday 06:00: the week ended Sunday is due by the end of Tuesday (deadlines.csv, due_days 2);
    # tests/test_weekly_rollup.py holds this time against the rule for every week of a year.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 * * 3", timezone="Asia/Ho_Chi_Minh"), assets=[WAREHOUSE]
    ),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    params={"week": Param(None, type=["null", "string"], pattern=r"^\d{4}-W\d{2}$",
                          description="ISO week, e.g. 2024-W24; empty: the latest week past its deadline"),
            "force": Param(False, type="boolean",
                           description="roll up even if the week's inputs are those of its last roll-up")},
    tags=["cchc", "report"],
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 2, "retry_delay": dt.timedelta(minutes=5)},
)
def cchc_weekly_rollup():
    @task.short_circuit(task_display_name="Chọn tuần, kiểm tra thay đổi")
    def check_week() -> dict | bool:
        """The week to roll up, and whether its inputs changed since its last roll-up (False: skip the rest)."""
        from cchc.runtime import prepared_engine
        from cchc.weekly import plan_run

        ctx = get_current_context()
        engine, ref = prepared_engine()
        plan = plan_run(engine, ref, _run_time(ctx), week=ctx["params"].get("week"),
                        force=bool(ctx["params"].get("force")))
        print(plan.message)
        return plan.as_xcom() if plan.run else False

    @task(task_display_name="Tổng hợp tuần")
    def roll_up(plan: dict) -> dict:
        """Consolidate the week, store it, write its workbook."""
        from cchc.config import output_dir
        from cchc.periods import parse_period
        from cchc.runtime import warehouse_engine
        from cchc.weekly import roll_up as roll_up_week

        engine, ref = warehouse_engine()
        summary = roll_up_week(engine, ref, parse_period(plan["week"]), output_dir() / "weekly")
        print(summary.pop("log"))
        return {**plan, **summary}

    @task(task_display_name="Báo đơn vị chưa gửi, bị từ chối")
    def alert_late(summary: dict) -> str:
        """Tell ops, once a week per unit, which units still have no accepted report past the deadline."""
        from cchc.periods import VN_TZ, parse_period
        from cchc.runtime import warehouse_engine
        from cchc.weekly import alert_units

        engine, _ = warehouse_engine()
        today = dt.datetime.fromisoformat(summary["at"]).astimezone(VN_TZ).date()
        result = alert_units(engine, parse_period(summary["week"]), today, get_current_context()["run_id"])
        print(f"Cảnh báo / alert: {len({r.unit_code for r in result.rows})} đơn vị mới / new unit(s) "
              f"({result.channel or 'không gửi / nothing sent'}); {result.already} đã báo trong tuần / "
              "already alerted this week")
        return result.channel

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

    @task(task_display_name="Ghi dấu lần tổng hợp")
    def record(summary: dict) -> None:
        """Remember the week's fingerprint, now that the roll-up, its alert and its report are done."""
        from cchc.runtime import warehouse_engine
        from cchc.weekly import record_rollup

        engine, _ = warehouse_engine()
        record_rollup(engine, summary["week"], summary["fingerprint"], summary["n_submissions"],
                      get_current_context()["run_id"], dt.datetime.fromisoformat(summary["at"]))
        print(f"{summary['week']}: dấu vân tay / fingerprint {summary['fingerprint'][:12]} recorded")

    summary = roll_up(check_week())
    [alert_late(summary), flash_report(summary)] >> record(summary)


cchc_weekly_rollup()
