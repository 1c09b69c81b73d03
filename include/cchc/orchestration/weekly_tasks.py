"""The work of cchc_weekly_rollup's tasks (dags/cchc_weekly_rollup.py wires them): each function takes
the task's Airflow context (or the plan its first task made) and returns the task's XCom.

`Flash report: …` keeps its English label first: scripts and tests find the path after it.
"""

from __future__ import annotations

import datetime as dt

from cchc.common.config import output_dir
from cchc.common.messages import text
from cchc.common.periods import VN_TZ, parse_period
from cchc.ops.weekly import alert_units, plan_run, record_rollup
from cchc.ops.weekly import roll_up as roll_up_week
from cchc.orchestration.runtime import prepared_engine, warehouse_engine
from cchc.outputs.draft import write_draft


def run_time(context) -> dt.datetime:
    """The run's time: its logical date (scheduled runs, `airflow dags test DAG DATE`), else when it
    was due to run (asset-triggered runs have no logical date)."""
    return context.get("logical_date") or context["dag_run"].run_after


def check_week(context) -> dict | bool:
    """The week to roll up (cchc.ops.weekly.choose_week: the latest past its deadline at the run's
    time, or the `week` param), and whether its inputs changed since its last roll-up (False: the
    short circuit skips the rest)."""
    engine, ref = prepared_engine()
    params = context["params"]
    plan = plan_run(engine, ref, run_time(context), week=params.get("week"), force=bool(params.get("force")))
    print(plan.message)
    return plan.as_xcom() if plan.run else False


def roll_up(plan: dict) -> dict:
    """Consolidate the week, store it, write its workbook."""
    engine, ref = warehouse_engine()
    summary = roll_up_week(engine, ref, parse_period(plan["week"]), output_dir() / "weekly")
    print(summary.pop("log"))
    return {**plan, **summary}


def alert_late(context, summary: dict) -> str:
    """Tell ops, once a week per unit, which units still have no accepted report past the deadline
    on the run's day (Vietnam's calendar)."""
    engine, _ = warehouse_engine()
    today = dt.datetime.fromisoformat(summary["at"]).astimezone(VN_TZ).date()
    result = alert_units(engine, parse_period(summary["week"]), today, context["run_id"])
    print(
        f"{text('dags.alert')}: {len({r.unit_code for r in result.rows})} {text('dags.new_units')} "
        f"({result.channel or text('dags.nothing_sent')}); {result.already} {text('dags.already_alerted')}"
    )
    return result.channel


def flash_report(summary: dict) -> str:
    """The leaders' one-page weekly flash report (Word), from the week's year-to-date figures."""
    engine, ref = warehouse_engine()
    d = write_draft(engine, ref, summary["week"], output_dir() / "weekly")
    print(f"Flash report: {d.path}  ({d.seconds:.1f} s)")
    return str(d.path)


def record(context, summary: dict) -> None:
    """Remember the week's fingerprint, now that the roll-up, its alert and its report are done."""
    engine, _ = warehouse_engine()
    record_rollup(
        engine,
        summary["week"],
        summary["fingerprint"],
        summary["n_submissions"],
        context["run_id"],
        dt.datetime.fromisoformat(summary["at"]),
    )
    print(text("dags.fingerprint_recorded", week=summary["week"], fingerprint=summary["fingerprint"][:12]))
