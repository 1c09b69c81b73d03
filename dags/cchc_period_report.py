"""
### cchc_period_report — tổng hợp số liệu báo cáo CCHC theo kỳ

For a reporting period (param `period`, e.g. `2024-H1`, `2024-Y`), consolidate the latest accepted
submission of each unit for that period, store the figures in `consolidated_figures`, and write
the Vietnamese workbook (`<period>_tong_hop.xlsx`, figures printed as the report writes them:
`08/57`, `1.317`, `25,6%`, `4.048,546 tỷ đồng`) and the same figures as CSV to `data/outputs/`.
Triggered by hand when the period's files are in (Trigger DAG w/ config, or
`airflow dags test cchc_period_report -c '{"period": "2024-H1"}'`).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task


def _alert_failure(context):
    """A task failed for good (after its retries): tell ops (cchc_smtp e-mail, else the log)."""
    from cchc.notify import on_failure

    on_failure(context)


@dag(
    dag_id="cchc_period_report",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    doc_md=__doc__,
    params={"period": Param("2024-H1", type="string", pattern=r"^\d{4}-(H1|9M|Y|Q[1-4]|M(0[1-9]|1[0-2]))$",
                            description="Reporting period code")},
    tags=["cchc", "report"],
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 1,
                  "retry_delay": dt.timedelta(minutes=5)},
)
def cchc_period_report():
    @task
    def consolidate() -> dict:
        """Consolidate the period, store the figures, publish the workbook and CSV."""
        from cchc.config import output_dir
        from cchc.consolidate import consolidate_period, store
        from cchc.publish import publish_period
        from cchc.runtime import prepared_engine

        engine, ref = prepared_engine()
        result = consolidate_period(engine, ref, get_current_context()["params"]["period"])
        store(engine, result)
        paths = publish_period(output_dir(), result, ref)
        print(f"{result.label}: {len(result.figures)} figures from {len(result.units_reported)} units "
              f"({len(result.units_missing)} missing: {', '.join(result.units_missing) or '-'})")
        for code in ("plan.tasks_done", "pakn.total", "egov.online_services_full", "fin.invest_disbursed_bn"):
            print(f"  {code}: {result.figures[code].text}")
        print(f"Workbook: {paths['xlsx']}\nCSV: {paths['csv']}")
        return {k: str(v) for k, v in paths.items()}

    consolidate()


cchc_period_report()
