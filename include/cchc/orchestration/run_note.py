"""A DAG run's note in the Airflow UI, written by one of its tasks: how a rejected report's run reads
differently from an approved one ("Bị từ chối / Rejected: <reason> (<user>)") while both end in the
state `success` — a decision taken is not a fault, and Airflow 3.3's runs end only `success` or
`failed` (DagRunState), the latter counted as "Failed" on the UI's home page and alerted.

Airflow 3.3 gives a task no way to write its run's note: the Task SDK has none (apache/airflow#64890,
open; the helper of apache/airflow#69403 is not released) and a task may not use the metadata
database. The REST API's `PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}` writes it, as the UI does,
for a signed-in user. The connection `cchc_airflow_api` names that user: login and password (a user
of the auth manager with the `user` role), host and port of the api-server (else [api] base_url).
The task takes a token (`POST /auth/token`) and writes the note. Without the connection nothing is
written and the task log says so; an API that answers with an error is logged, never fails the task:
the decision is recorded in the warehouse and the task states (`finalize` or `record_rejection`
skipped) say it too.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from cchc.common.messages import text

API_CONN_ID = "cchc_airflow_api"
NOTE_MAX = 1000  # the API's limit (DAGRunPatchBody.note)


def api_base(conn) -> str:
    """The api-server's address from the connection (`http://host:port`, a host written as a URL kept
    as it is), else [api] base_url."""
    host = (conn.host or "").rstrip("/")
    if host.startswith(("http://", "https://")):
        return host if conn.port is None or f":{conn.port}" in host else f"{host}:{conn.port}"
    if host:
        return f"{conn.schema or 'http'}://{host}" + (f":{conn.port}" if conn.port else "")
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "").rstrip("/")


def _call(method: str, url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    req = urllib.request.Request(url, json.dumps(body).encode(), headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def set_run_note(dag_id: str, run_id: str, note: str, conn_id: str = API_CONN_ID) -> bool:
    """Write the run's note; True once the API took it. Says in the task log why it was not written."""
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        print(text("dags.note_no_connection", conn_id=conn_id))
        return False
    base = api_base(conn)
    try:
        token = _call("POST", f"{base}/auth/token", {"username": conn.login, "password": conn.password})
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}?update_mask=note"
        _call("PATCH", base + path, {"note": note[:NOTE_MAX]}, token["access_token"])
    except (OSError, KeyError, ValueError) as exc:  # refused, unreachable, 401/403/404 (HTTPError), no token
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, urllib.error.HTTPError):
            detail += f" {exc.read()[:300].decode(errors='replace')}"
        print(text("dags.note_failed", conn_id=conn_id, error=detail))
        return False
    print(f"{text('dags.note_written')}: {note}")
    return True
