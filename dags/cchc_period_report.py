"""
### cchc_period_report — tổng hợp, dự thảo và phê duyệt báo cáo CCHC theo kỳ

For a reporting period (param `period`, e.g. `2024-H1`, `2024-Y`):

1. `consolidate` — the latest accepted submission of each unit, consolidated and stored in
   `consolidated_figures`; a period already approved (locked) is not consolidated again: its
   approved figures are used, and the corrections pending since are counted.
2. `draft` — the narrative report as a Word draft (`cchc.outputs.draft`), with its charts; the log shows
   its path and key figures.
3. `request_approval` — a person decides on the UI's **Required actions** page (Airflow's
   human-in-the-loop `HITLOperator`): the request links to the draft, its annex and charts (served at
   `/cchc/outputs/…`), shows the draft's first two pages as images (`cchc.outputs.preview`), the key
   figures and those changed since the last approval. Only the
   users the Airflow Variable `cchc_approvers` names (comma-separated, read when the request is made;
   e.g. AIRFLOW_VAR_CCHC_APPROVERS) may answer it, and they are e-mailed the request (`cchc_smtp`);
   with none configured the task fails at once saying so, and nothing is locked
   (`cchc.orchestration.approval_request`). *Phê duyệt (Approve)* → `finalize`: the period is locked with the responding user as approver
   (approved version 1, 2, …), the final report and the annex workbook + CSV are written from the
   approved figures — unless a file was accepted after the draft: then nothing is locked and the
   task fails saying so (run the DAG again). *Từ chối (Reject)* → `record_rejection`: nothing is
   locked; who rejected and the reason (the form's note) go to the task log and to ops. A decision is
   not a fault: both end in `success` (no failure alert, no "Failed" run), and the run's note says
   which — "Bị từ chối / Rejected: <reason> (<user>)" or "Đã phê duyệt / Approved: …" — written
   through the REST API as the user of the connection `cchc_airflow_api` (without it: no note, the
   log says so; `finalize` or `record_rejection` skipped still tells them apart). On Airflow 3.3 the
   waiting task (state `awaiting_input`) takes no worker or pool slot and needs no triggerer.

Param `approval` (default true) — false skips the wait: the run drafts and publishes the annex from
the consolidated figures without locking. That is for `make demo` and the e2e test, which use
`airflow dags test`: it runs tasks in-process and waits, without end, for a human-in-the-loop task
unless an api-server sharing its metadata database records an answer. A period already locked goes
straight to `publish` (the approved figures again; `cchc reopen` first to change them).
Triggered by hand (Trigger DAG w/ config) or
`airflow dags test cchc_period_report -c '{"period": "2024-H1", "approval": false}'`.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task

from cchc.orchestration.approval_request import ApprovalRequest
from cchc.orchestration.wiring import APPROVE, REJECT, dag_args, default_args, label, task_args

DAG_ID = "cchc_period_report"


@dag(
    **dag_args(DAG_ID),
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    doc_md=__doc__,
    params={
        "period": Param(
            "2024-H1",
            type="string",
            pattern=r"^\d{4}-(H1|9M|Y|Q[1-4]|M(0[1-9]|1[0-2]))$",
            title=str(label("param_period_title")),
            description=str(label("param_period")),
        ),
        "approval": Param(
            True, type="boolean", title=str(label("param_approval_title")), description=str(label("param_approval"))
        ),
    },
    tags=["cchc", "report"],
    default_args=default_args(retries=1, retry_delay=dt.timedelta(minutes=5)),
)
def cchc_period_report():
    # Each task imports its work (cchc.orchestration.report_tasks) when it runs: parsing stays cheap.
    @task(**task_args(DAG_ID, "consolidate"))
    def consolidate() -> dict:
        """Consolidate and store the period's figures, unless it is locked (then its approved figures)."""
        from cchc.orchestration import report_tasks

        return report_tasks.consolidate(get_current_context())

    @task(**task_args(DAG_ID, "draft"))
    def draft(summary: dict) -> dict:
        """Write the Word draft and its charts; the approval request's text is made here."""
        from cchc.orchestration import report_tasks

        return report_tasks.draft(summary)

    @task.branch(**task_args(DAG_ID, "route"))
    def route(summary: dict) -> str:
        """Ask a person, or (no approval wanted, or already approved) publish straight away."""
        from cchc.orchestration import report_tasks

        return report_tasks.route(get_current_context(), summary)

    # Assigned to the approvers of the Airflow Variable `cchc_approvers`, read when the request is made.
    request_approval = ApprovalRequest(
        task_id="request_approval",
        **task_args(DAG_ID, "request_approval"),
        subject=str(label("approval_subject", period="{{ params.period }}")),
        body="{{ ti.xcom_pull(task_ids='draft')['request'] }}",
        options=[APPROVE, REJECT],
        # Optional (null allowed): a required field would disable both buttons until filled in.
        params={
            "note": Param("", type=["null", "string"], title=str(label("note_title")), description=str(label("note")))
        },
    )

    @task.branch(**task_args(DAG_ID, "decide"))
    def decide(response: dict) -> str:
        """Follow the person's answer."""
        from cchc.orchestration import report_tasks

        return report_tasks.decide(response)

    @task(**task_args(DAG_ID, "finalize"))
    def finalize(summary: dict, response: dict) -> dict:
        """Lock the period as approved by the responding user; write the final report and the annex."""
        from cchc.orchestration import report_tasks

        return report_tasks.finalize(get_current_context(), summary, response)

    @task(**task_args(DAG_ID, "record_rejection"))
    def record_rejection(summary: dict, response: dict) -> None:
        """Nothing is locked; who rejected and why goes to the log (and to ops)."""
        from cchc.orchestration import report_tasks

        report_tasks.record_rejection(get_current_context(), summary, response)

    @task(**task_args(DAG_ID, "publish"))
    def publish(summary: dict) -> dict:
        """Annex workbook + CSV from the consolidated (or, if locked, approved) figures."""
        from cchc.orchestration import report_tasks

        return report_tasks.publish(summary)

    summary = consolidate()
    drafted = draft(summary)
    branch = route(summary)
    drafted >> branch >> [request_approval, publish(summary)]
    answer = decide(request_approval.output)
    answer >> [finalize(summary, request_approval.output), record_rejection(summary, request_approval.output)]


cchc_period_report()
