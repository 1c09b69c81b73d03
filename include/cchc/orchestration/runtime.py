"""What tasks need from Airflow at run time, kept out of DAG files' top level.

The warehouse is the Airflow connection `cchc_warehouse` when one is defined (the production
set-up, e.g. AIRFLOW_CONN_CCHC_WAREHOUSE in docker-compose), else CCHC_WAREHOUSE_URL, else the
embedded SQLite default.
"""

from __future__ import annotations

from cchc.common.config import warehouse_url
from cchc.reference.registry import load_reference
from cchc.warehouse.engine import get_engine, prepare

CONN_ID = "cchc_warehouse"


def airflow_warehouse_url() -> str:
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(CONN_ID)
    except Exception:  # noqa: BLE001 - no such connection (or no Airflow): the environment / default
        return warehouse_url()
    uri = conn.get_uri()
    return uri.replace("postgres://", "postgresql://", 1) if uri.startswith("postgres://") else uri


def prepared_engine():
    """Engine with schema applied and reference data loaded (idempotent): a DAG's first task."""

    ref = load_reference()
    return prepare(airflow_warehouse_url(), ref), ref


def warehouse_engine():
    """(engine, reference) for tasks downstream of one that prepared the warehouse this run: no
    second schema apply and reference reload."""

    return get_engine(airflow_warehouse_url()), load_reference()


def declared_receipt(context) -> tuple:
    """(declared day of receipt, who declared it) from a run's `received_on` parameter, for a past
    period's files imported now; (None, "") when not given: the files' arrival counts."""
    import datetime as dt

    value = (context.get("params") or {}).get("received_on")
    if not value:
        return None, ""
    day = dt.date.fromisoformat(str(value)[:10])
    run = context.get("dag_run")
    who = getattr(run, "triggering_user_name", None) or "airflow"
    return day, f"{who} (run {context.get('run_id', '')})"
