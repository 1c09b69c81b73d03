"""
### cchc_period_report — tổng hợp, dự thảo và phê duyệt báo cáo CCHC theo kỳ

For a reporting period (param `period`, e.g. `2024-H1`, `2024-Y`):

1. `consolidate` — the latest accepted submission of each unit, consolidated and stored in
   `consolidated_figures`; a period already approved (locked) is not consolidated again: its
   approved figures are used, and the corrections pending since are counted.
2. `draft` — the narrative report as a Word draft (`cchc.draft`), with its charts; the log shows
   its path and key figures.
3. `request_approval` — a person decides on the UI's **Required actions** page (Airflow's
   human-in-the-loop `HITLOperator`): the request shows the draft's path and key figures.
   *Phê duyệt (Approve)* → `finalize`: the period is locked with the responding user as approver
   (approved version 1, 2, …), the final report and the annex workbook + CSV are written from the
   approved figures — unless a file was accepted after the draft: then nothing is locked and the
   task fails saying so (run the DAG again). *Từ chối (Reject)* → `record_rejection`: nothing is
   locked; who rejected and the reason (the form's note) go to the task log. On Airflow 3.3 the
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

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import BaseNotifier, Param, dag, get_current_context, task

APPROVE = "Phê duyệt (Approve)"
REJECT = "Từ chối (Reject)"


def _alert_failure(context):
    """A task failed for good (after its retries): tell ops (cchc_smtp e-mail, else the log)."""
    from cchc.notify import on_failure

    on_failure(context)


class ApprovalRequestNotifier(BaseNotifier):
    """Tell the approvers a report waits for them: the request and a link to its Required actions page
    (cchc_smtp e-mail, else the task log)."""

    def notify(self, context) -> None:
        from cchc.notify import Message, send

        hitl = context["task"]
        try:
            link = hitl.generate_link_to_ui_from_context(context=context)
        except ValueError:  # no [api] base_url configured
            link = "(Airflow UI → Required actions)"
        send(Message(f"[CCHC] {hitl.subject}", f"{hitl.body}\n\nTrả lời tại / answer at: {link}"))


@dag(
    dag_id="cchc_period_report",
    dag_display_name="Báo cáo CCHC định kỳ (6 tháng, 9 tháng, năm)",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    doc_md=__doc__,
    params={
        "period": Param("2024-H1", type="string", pattern=r"^\d{4}-(H1|9M|Y|Q[1-4]|M(0[1-9]|1[0-2]))$",
                        description="Reporting period code"),
        "approval": Param(True, type="boolean",
                          description="Chờ phê duyệt trên trang Required actions / wait for a person's "
                                      "approval (false: draft and publish without locking, for demos)"),
    },
    tags=["cchc", "report"],
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 1,
                  "retry_delay": dt.timedelta(minutes=5)},
)
def cchc_period_report():
    @task(task_display_name="Tổng hợp số liệu")
    def consolidate() -> dict:
        """Consolidate and store the period's figures, unless it is locked (then its approved figures)."""
        from cchc.approval import report_state, review_summary
        from cchc.runtime import prepared_engine

        period = get_current_context()["params"]["period"]
        engine, ref = prepared_engine()
        state = report_state(engine, ref, period)  # stores a fresh consolidation unless locked
        result = state.result
        if state.locked:
            print(f"Kỳ {period} đã được phê duyệt (phiên bản {state.version}, {state.approved_by}, "
                  f"{state.approved_at}): dùng số liệu đã duyệt, không tổng hợp lại; {len(state.pending)} bản "
                  f"sửa đang chờ / period locked (approved version {state.version}): approved figures kept, "
                  f"{len(state.pending)} correction(s) pending")
        print(f"{result.label}: {len(result.figures)} figures from {len(result.units_reported)} units "
              f"({len(result.units_missing)} missing: {', '.join(result.units_missing) or '-'})")
        for code in ("plan.tasks_done", "pakn.total", "egov.online_services_full", "fin.invest_disbursed_bn"):
            print(f"  {code}: {result.figures[code].text}")
        return review_summary(state)

    @task(task_display_name="Viết dự thảo báo cáo")
    def draft(summary: dict) -> dict:
        """Write the Word draft and its charts; the approval request's text is made here."""
        from cchc.approval import approval_request
        from cchc.config import output_dir
        from cchc.draft import write_draft
        from cchc.runtime import warehouse_engine

        period = summary["period"]
        engine, ref = warehouse_engine()
        d = write_draft(engine, ref, period, output_dir())
        print(f"Draft: {d.path}  ({d.seconds:.1f} s)")
        for chart in d.charts:
            print(f"Chart: {chart}")
        for code, text in d.key_figures.items():
            print(f"  {code}: {text}")
        return {"path": str(d.path), "charts": [str(c) for c in d.charts], "key_figures": dict(d.key_figures),
                "request": approval_request(summary, d, ref, (APPROVE, REJECT))}

    @task.branch(task_display_name="Chọn hướng phê duyệt")
    def route(summary: dict) -> str:
        """Ask a person, or (no approval wanted, or already approved) publish straight away."""
        if summary["locked"]:
            print(f"Kỳ {summary['period']} đã khóa (phiên bản {summary['version']}): không hỏi lại; muốn sửa số "
                  "liệu thì chạy `cchc reopen` trước / already approved: not asked again; reopen it first")
            return "publish"
        if not get_current_context()["params"]["approval"]:
            print("approval=false: dự thảo và công bố, không khóa kỳ / drafting and publishing without locking")
            return "publish"
        print("Chờ phê duyệt trên trang Required actions của Airflow / waiting for a decision on the Required "
              "actions page (with `airflow dags test`, only an api-server sharing its metadata database can record "
              "one; pass approval=false there)")
        return "request_approval"

    request_approval = HITLOperator(
        task_id="request_approval",
        task_display_name="Chờ phê duyệt",
        subject="Phê duyệt báo cáo CCHC kỳ {{ params.period }} / approve the {{ params.period }} report",
        body="{{ ti.xcom_pull(task_ids='draft')['request'] }}",
        options=[APPROVE, REJECT],
        # Optional (null allowed): a required field would disable both buttons until filled in.
        params={"note": Param("", type=["null", "string"], title="Ghi chú / lý do từ chối (note / reason)",
                              description="Ghi lý do khi từ chối / give the reason when rejecting")},
        notifiers=[ApprovalRequestNotifier()],
    )

    @task.branch(task_display_name="Xem kết quả phê duyệt")
    def decide(response: dict) -> str:
        """Follow the person's answer."""
        who = response["responded_by_user"]["name"]
        choice = response["chosen_options"][0]
        print(f"{choice} — {who}, {response['responded_at']}")
        return "finalize" if choice == APPROVE else "record_rejection"

    @task(task_display_name="Khóa số liệu, phát hành bản chính thức")
    def finalize(summary: dict, response: dict) -> dict:
        """Lock the period as approved by the responding user; write the final report and the annex."""
        from cchc.approval import approve, as_reviewed, report_state
        from cchc.config import output_dir
        from cchc.draft import write_draft
        from cchc.publish import publish_period
        from cchc.runtime import warehouse_engine

        period = summary["period"]
        by = response["responded_by_user"]["name"]
        note = (response.get("params_input") or {}).get("note") or ""
        engine, ref = warehouse_engine()
        state = report_state(engine, ref, period)
        if state.locked and state.approved_by == by:  # a retry after the lock was written
            print(f"Kỳ {period} đã khóa bởi {by} (phiên bản {state.version}) / already locked by {by}")
        else:
            # Figures changed since the draft (a file accepted meanwhile): approve() refuses, nothing is
            # locked, the task fails and ops are told; run the DAG again for a new draft.
            a = approve(engine, ref, period, by=by, note=note, expected=as_reviewed(summary))
            print(f"Đã khóa kỳ {a.period_code}: phiên bản {a.version}, người duyệt {a.by}, {a.at}, {a.n_figures} "
                  f"chỉ tiêu / locked: approved version {a.version} by {a.by}")
            state = report_state(engine, ref, period)
        final = write_draft(engine, ref, period, output_dir(), final=True)
        paths = publish_period(output_dir(), state.result, ref, engine=engine)
        print(f"Final report: {final.path}\nWorkbook: {paths['xlsx']}\nCSV: {paths['csv']}")
        return {"final": str(final.path), **{k: str(v) for k, v in paths.items()}}

    @task(task_display_name="Ghi nhận từ chối")
    def record_rejection(summary: dict, response: dict) -> None:
        """Nothing is locked; who rejected and why goes to the log (and to ops)."""
        from cchc.notify import Message, alert

        who = response["responded_by_user"]["name"]
        reason = ((response.get("params_input") or {}).get("note") or "").strip()
        reason = reason or "(không ghi lý do / no reason given)"
        message = Message(
            f"[CCHC] Dự thảo báo cáo kỳ {summary['period']} bị từ chối / draft rejected",
            f"Người từ chối / rejected by: {who}, {response['responded_at']}\nLý do / reason: {reason}\n\n"
            "Kỳ chưa bị khóa; sửa theo lý do rồi chạy lại DAG để lập dự thảo mới. / The period is not locked; "
            "address the reason, then run the DAG again for a new draft.")
        print(f"Từ chối / rejected by {who}: {reason}")
        alert(message)  # e-mail to ops via cchc_smtp, else this task's log

    @task(task_display_name="Phát hành (không phê duyệt)")
    def publish(summary: dict) -> dict:
        """Annex workbook + CSV from the consolidated (or, if locked, approved) figures."""
        from cchc.approval import report_state
        from cchc.config import output_dir
        from cchc.draft import write_draft
        from cchc.publish import publish_period
        from cchc.runtime import warehouse_engine

        engine, ref = warehouse_engine()
        state = report_state(engine, ref, summary["period"])
        out = {}
        if state.locked:  # the approved report, written again from the approved figures
            out["final"] = str(write_draft(engine, ref, summary["period"], output_dir(), final=True).path)
            print(f"Final report: {out['final']}")
        paths = publish_period(output_dir(), state.result, ref, engine=engine)
        print(f"Workbook: {paths['xlsx']}\nCSV: {paths['csv']}")
        return {**out, **{k: str(v) for k, v in paths.items()}}

    summary = consolidate()
    drafted = draft(summary)
    branch = route(summary)
    drafted >> branch >> [request_approval, publish(summary)]
    answer = decide(request_approval.output)
    answer >> [finalize(summary, request_approval.output), record_rejection(summary, request_approval.output)]


cchc_period_report()
