"""Approval in the Airflow UI, driven as in production: real Airflow processes, the REST API, named users.

`airflow dags test` runs tasks in-process and waits without end at a human-in-the-loop task, so this
test starts what a deployment runs (tests/airflow_stack.py): api-server, scheduler (LocalExecutor)
and dag-processor, on a private AIRFLOW_HOME. The warehouse gets the 253 sample H1-2024 files with
`cchc ingest` (PostgreSQL when the test server is there, else SQLite). Then, through the REST API
as a person would through the UI:

0. with no approvers configured (the Airflow Variable `cchc_approvers` unset), a run fails at its
   approval step, at once and without retries, saying what to set; nothing is locked; ops' e-mail
   (a real SMTP server, `cchc_smtp`) names that step, its run, try and Hanoi time, its error and the
   end of its traceback, and links its log (HTML drawn by chromium, with a text part). The admin
   then names two approvers in the Variable, through the REST API as the UI does;
1. a run of cchc_period_report waits on its Required actions request, which links the draft, the
   draft annex and the charts where the ops page serves them (each link opens with the UI's session
   cookie, not without one; path tricks get a 404), shows the draft's first two pages as images and
   its key figures, and is assigned to those two (their e-mail: HTML with the links absolute and the page
   images inside it, and a text part without Markdown); a viewer may not answer it, nor may an
   operator who is not an approver; an approver rejects it with a reason → the run ends `success`
   without a failure alert, nothing is locked, the reason is in the task log, in ops' e-mail and in the
   run's note "Bị từ chối / Rejected: <reason> (<user>)" (written through the REST API as the user of
   the connection `cchc_airflow_api`);
2. a second run: an approver signs in with a browser (headless chromium) and sees the request in the
   Airflow UI with the page images loaded (a screenshot; `CCHC_SHOTS=<folder>` keeps it), then
   approves it → the period is locked (version 1, approved by
   that user), the final report and the annex (equal to the golden figures) are written, and the run's
   note says "Đã phê duyệt / Approved: …" where the rejected run's says "Bị từ chối";
3. a third run finds the period locked: no request, the approved figures published again.
At the end every process is stopped and `ps` must show none left.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from airflow_stack import AirflowStack, ApiError
from conftest import GOLDEN, ROOT, deployment_warehouse
from mail_view import parts, shoot
from smtp_server import SmtpServer

pytestmark = pytest.mark.e2e
DAG_ID = "cchc_period_report"
PERIOD = "2024-H1"
APPROVER, REJECTER, VIEWER = "tran.thi.lan", "le.van.hung", "pham.minh.chau"
OPERATOR, ADMIN = "nguyen.van.an", "do.thi.mai"  # an operator who is not an approver; who sets the Variable
PIPELINE = "cchc.pipeline"  # the API user the tasks write their run's note as (connection cchc_airflow_api)
OPS = "vanhanh@haiphong.gov.vn"  # the `to` of cchc_smtp: ops' alerts and the approval requests
CCHC = str(Path(sys.executable).with_name("cchc"))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, samples):
    started = time.perf_counter()
    base = tmp_path_factory.mktemp("hitl")
    data = base / "data"
    warehouse, cchc_env, drop = deployment_warehouse(data, f"cchc_hitl_{os.getpid()}")
    inbox = base / "received"
    inbox.mkdir()
    for f in (samples / "h1").glob("*.xlsx"):
        shutil.copy(f, inbox / f.name)
    t = time.perf_counter()
    out = subprocess.run([CCHC, "ingest", str(inbox)], env={**os.environ, **cchc_env}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "253 tiếp nhận (accepted)" in out.stderr, out.stderr[-3000:]
    seeded = time.perf_counter() - t

    mail = SmtpServer()  # ops' mailbox: the tasks' alerts and the approval requests arrive here
    mail.__enter__()
    smtp = {"conn_type": "smtp", "host": "127.0.0.1", "port": mail.port}
    stack = AirflowStack(
        home=base / "airflow",
        dags_folder=ROOT / "dags",
        metadata_url=f"sqlite:///{base / 'airflow' / 'airflow.db'}",
        users={
            APPROVER: "user",
            REJECTER: "user",
            VIEWER: "viewer",
            OPERATOR: "user",
            ADMIN: "admin",
            PIPELINE: "user",
        },
        extra_env={
            **cchc_env,
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_CCHC_SMTP": json.dumps({**smtp, "extra": {"to": OPS, "from_email": "cchc@haiphong.gov.vn"}}),
        },
    )
    stack.configure()
    stack.env["AIRFLOW_CONN_CCHC_AIRFLOW_API"] = json.dumps(
        {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": stack.port,
            "login": PIPELINE,
            "password": stack.passwords[PIPELINE],
        }
    )
    try:
        stack.migrate()
        stack.start()
        t = time.perf_counter()
        stack.wait_for(lambda: _dag_parsed(stack), 180, f"the dag-processor to parse {DAG_ID}")
        stack.timings["dag_parsed"] = time.perf_counter() - t
        stack.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False}, user=APPROVER)
        stack.timings["seed_warehouse"] = seeded
        yield stack, data, warehouse, mail
    finally:
        mail.__exit__(None, None, None)
        stack.stop()
        left = stack.leftovers()
        drop()
        stack.timings["total"] = time.perf_counter() - started
        print("\nHITL e2e timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in stack.timings.items()))
        assert left == [], "processes left running:\n" + "\n".join(left)


def _dag_parsed(stack: AirflowStack) -> bool:
    errors = stack.request("GET", "/api/v2/importErrors", user=APPROVER)["import_errors"]
    assert not errors, errors
    try:
        stack.request("GET", f"/api/v2/dags/{DAG_ID}", user=APPROVER)
    except ApiError as e:
        if e.status == 404:
            return False
        raise
    return True


def _trigger(stack: AirflowStack, conf: dict) -> str:
    run = stack.request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf}, user=APPROVER)
    return run["dag_run_id"]


def _run_path(run_id: str) -> str:
    from urllib.parse import quote

    return f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}"


def _task_states(stack: AirflowStack, run_id: str) -> dict[str, str]:
    tis = stack.request("GET", f"{_run_path(run_id)}/taskInstances", user=APPROVER)["task_instances"]
    return {ti["task_id"]: ti["state"] for ti in tis}


def _tries(stack: AirflowStack, run_id: str) -> dict[str, int]:
    tis = stack.request("GET", f"{_run_path(run_id)}/taskInstances", user=APPROVER)["task_instances"]
    return {ti["task_id"]: ti["try_number"] for ti in tis if ti["state"] != "skipped"}


def _task_log(stack: AirflowStack, run_id: str, task_id: str, try_number: int = 1) -> str:
    log = stack.request(
        "GET", f"{_run_path(run_id)}/taskInstances/{task_id}/logs/{try_number}?full_content=true", user=APPROVER
    )

    def line(e) -> str:  # the message, and what a structured entry carries besides (an error's details)
        if not isinstance(e, dict):
            return str(e)
        rest = {k: v for k, v in e.items() if k not in ("event", "timestamp", "level", "logger", "loc")}
        return e.get("event", "") + (f" {json.dumps(rest, ensure_ascii=False)}" if rest else "")

    return "\n".join(line(e) for e in log["content"])


def _failure_report(stack: AirflowStack, run_id: str) -> str:
    states = _task_states(stack, run_id)
    logs = [
        f"--- {t} ({s}) ---\n{_task_log(stack, run_id, t)[-3000:]}"
        for t, s in states.items()
        if s in ("failed", "up_for_retry")
    ]
    return f"task states: {states}\n" + "\n".join(logs)


def _wait_for_request(stack: AirflowStack, run_id: str) -> dict:
    """Poll until the run's approval request waits for an answer; fail early if the run ends first."""

    def waiting():
        run = stack.request("GET", _run_path(run_id), user=APPROVER)
        assert run["state"] in ("queued", "running"), f"run ended {run['state']}:\n{_failure_report(stack, run_id)}"
        details = stack.request("GET", f"{_run_path(run_id)}/hitlDetails", user=APPROVER)["hitl_details"]
        return next((d for d in details if d["task_instance"]["state"] == "awaiting_input"), None)

    return stack.wait_for(waiting, 600, "the approval request")


def _wait_for_end(stack: AirflowStack, run_id: str, failing: bool = False) -> str:
    def ended():
        state = stack.request("GET", _run_path(run_id), user=APPROVER)["state"]
        if state in ("success", "failed"):
            return state
        retrying = [
            t for t, s in _task_states(stack, run_id).items() if s == "up_for_retry" or (s == "failed" and not failing)
        ]
        assert not retrying, _failure_report(stack, run_id)  # fail now, not after the retry delay
        return None

    return stack.wait_for(ended, 600, "the run to end")


def _settled(stack: AirflowStack, run_id: str) -> None:
    """Wait until the scheduler has seen the worker that parked the request exit.

    Airflow 3.3.0 race: an answer recorded before the scheduler processes that exit resumes the task
    (same try number), and the stale "success" event then finds it queued and marks it up for retry
    (scheduler_job_runner's resume guard covers only the `scheduled` state). A person takes longer
    than a scheduler loop to read the request; a test must wait for it explicitly.
    """
    event = (
        "Received executor event with state success for task instance TaskInstanceKey("
        f"dag_id='{DAG_ID}', task_id='request_approval', run_id='{run_id}'"
    )
    stack.wait_for(lambda: event in stack.proc_log("scheduler"), 120, "the scheduler to see the request parked")


def _answer(stack: AirflowStack, run_id: str, user: str, option: str, note: str = "") -> dict:
    return stack.request(
        "PATCH",
        f"{_run_path(run_id)}/taskInstances/request_approval/-1/hitlDetails",
        {"chosen_options": [option], "params_input": {"note": note}},
        user=user,
    )


def _xcom(stack: AirflowStack, run_id: str, task_id: str):
    entry = stack.request("GET", f"{_run_path(run_id)}/taskInstances/{task_id}/xcomEntries/return_value", user=APPROVER)
    value = entry["value"]
    return json.loads(value) if isinstance(value, str) else value


def _report_state(warehouse: str):
    from cchc.figures.approval import report_state
    from cchc.reference.registry import load_reference
    from cchc.warehouse.engine import get_engine

    return report_state(get_engine(warehouse), load_reference(), PERIOD)


def _get(stack: AirflowStack, href: str, token: str | None) -> tuple[int, dict, bytes]:
    """A link of the request opened as the browser does: this site, the UI's session cookie `_token`
    (none: anonymous); redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    req = urllib.request.Request(stack.base_url + href, headers={"Cookie": f"_token={token}"} if token else {})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _check_links(stack: AirflowStack, body: str, drafted: dict) -> None:
    """Every file the request links opens, as written on the server, for a signed-in user only."""
    links = dict(re.findall(r"(?<!!)\[([^\]!]+)\]\((/cchc/outputs/[^)\s]+)\)", body))  # not the images
    draft_path, annex = Path(drafted["path"]), Path(drafted["annex"])
    charts = [Path(c) for c in drafted["charts"]]
    assert set(links) == {draft_path.name, annex.name, *(c.name for c in charts)}, links
    token = stack.token(APPROVER)
    for path, media in [(draft_path, "wordprocessingml.document"), (annex, "spreadsheetml.sheet")]:
        status, headers, data = _get(stack, links[path.name], token)
        assert status == 200 and media in headers["content-type"] and data == path.read_bytes(), path
        assert headers["content-disposition"].startswith("attachment") and path.name in headers["content-disposition"]
    status, headers, data = _get(stack, links[charts[0].name], token)
    assert (status, headers["content-type"], data) == (200, "image/png", charts[0].read_bytes())
    pages = re.findall(r"!\[(Trang \d / page \d)\]\((/cchc/outputs/[^)\s]+)\)", body)
    assert [p for p, _ in pages] == ["Trang 1 / page 1", "Trang 2 / page 2"], body  # LibreOffice drew them
    for _, href in pages:
        status, headers, data = _get(stack, href, token)
        assert status == 200 and headers["content-type"] == "image/png" and data[:4] == b"\x89PNG"
    status, headers, _ = _get(stack, links[draft_path.name], None)  # anonymous: to the login page
    assert status in (303, 307) and "/auth/login" in headers["location"]
    assert _get(stack, links[draft_path.name], "not-a-jwt")[0] in (303, 307)
    for trick in (
        "..%2Fwarehouse.db",
        "../warehouse.db",
        f"{PERIOD}_bieu_do/..%2F..%2Fwarehouse.db",
        "feedback/x.xlsx",
    ):
        assert _get(stack, f"/cchc/outputs/{trick}", token)[0] == 404, trick


def _check_request(stack: AirflowStack, run_id: str, request: dict) -> dict:
    """The request a person reads: links to the draft, its annex and charts, its first pages, its key
    figures, Vietnamese first."""
    drafted = _xcom(stack, run_id, "draft")
    draft_path = Path(drafted["path"])
    assert draft_path.suffix == ".docx" and draft_path.stat().st_size > 10_000
    assert PERIOD in request["subject"] and request["subject"].startswith("Phê duyệt báo cáo CCHC")
    body = request["body"]
    assert f"[{draft_path.name}](/cchc/outputs/{draft_path.name})" in body and str(draft_path) not in body
    _check_links(stack, body, drafted)
    assert "chưa được phê duyệt lần nào" in body  # nothing approved yet to compare with
    assert "| Số nhiệm vụ Kế hoạch CCHC đã hoàn thành" in body and "| 08/57 |" in body  # golden: 8 of 57
    for code in (
        "plan.tasks_done",
        "pakn.total",
        "pakn.resolved",
        "pakn.in_progress_overdue",
        "egov.online_services_full",
        "fin.invest_disbursed_bn",
    ):
        assert code in drafted["key_figures"], code
        assert f"| {drafted['key_figures'][code]} |" in body, code
    assert request["options"] == ["Phê duyệt (Approve)", "Từ chối (Reject)"]
    assert set(request["params"]) == {"note"}
    return drafted


def _mail(stack: AirflowStack, mail: SmtpServer, subject: str, seen: int = 0):
    """The first e-mail to ops after the `seen` first whose subject starts with `subject`, as received
    (raw bytes and parsed parts), waiting for it."""

    def arrived():
        return next(
            (
                (raw, m)
                for (_, rcpts, m), raw in list(zip(mail.messages, mail.raw))[seen:]
                if rcpts == [OPS] and m["Subject"].startswith(subject)
            ),
            None,
        )

    raw, message = stack.wait_for(arrived, 120, f"an e-mail '{subject}'")
    return message, parts(raw)


def _note(stack: AirflowStack, run_id: str) -> str | None:
    return stack.request("GET", _run_path(run_id), user=APPROVER)["note"]


def _check_failure_alert(stack: AirflowStack, mail: SmtpServer, run_id: str, browser, shot: Path) -> None:
    """The failure alert of a real failed step: its name, run, try, Hanoi time, error, traceback's end,
    and its log's address in the UI; HTML with a text part; drawn by chromium as a mail client would."""
    message, got = _mail(stack, mail, "[CCHC] Lỗi ở bước «Chờ phê duyệt» (cchc_period_report.request_approval)")
    text = got.text
    assert "Bước / step: Chờ phê duyệt (request_approval)" in text
    assert "Quy trình (DAG) / DAG: Báo cáo CCHC định kỳ (6 tháng, 9 tháng, năm) (cchc_period_report)" in text
    assert f"Lần chạy / run: {run_id} — " in text and "(giờ Việt Nam)" in text
    assert "Lần thử / try: 1 (tối đa 2 lần)" in text
    assert "Lỗi / error: AirflowFailException: Chưa cấu hình người phê duyệt: đặt biến Airflow 'cchc_approvers'" in text
    tail = text.split("traceback (last lines):\n", 1)[1].split("\n\n", 1)[0]
    assert "approval_request.py" in tail and "raise AirflowFailException" in tail, tail
    from urllib.parse import quote

    log_url = f"{stack.base_url}/dags/{DAG_ID}/runs/{quote(run_id)}/tasks/request_approval?try_number=1"
    assert f"Nhật ký của bước / the step's log: {log_url}" in text
    assert f'href="{log_url}"' in got.html
    shown = shoot(got.html, got.images, shot, browser)
    assert "Bước «Chờ phê duyệt» của «Báo cáo CCHC định kỳ (6 tháng, 9 tháng, năm)» bị lỗi và đã dừng" in shown
    assert "AirflowFailException: Chưa cấu hình người phê duyệt" in shown


def _check_request_mail(stack: AirflowStack, mail: SmtpServer, seen: int, browser, shot: Path) -> None:
    """The approvers' e-mail: the request as HTML (links absolute, the draft's two page images inside
    the e-mail) and as plain text without Markdown; who may answer and where."""
    message, got = _mail(stack, mail, f"[CCHC] Phê duyệt báo cáo CCHC kỳ {PERIOD}", seen)
    draft_url = f"{stack.base_url}/cchc/outputs/{PERIOD}_bao_cao_du_thao.docx"
    text = got.text
    assert "**" not in text and "|---|" not in text and "](" not in text
    assert f"Tệp dự thảo (draft): {PERIOD}_bao_cao_du_thao.docx <{draft_url}>" in text
    assert "Số nhiệm vụ Kế hoạch CCHC đã hoàn thành (tính đến ngày chốt số liệu): 08/57" in text  # golden
    assert f"Người được phê duyệt / may approve: {REJECTER}, {APPROVER}" in text
    assert "Trả lời tại / answer at: " in text and "/required_actions" in text
    html = got.html
    assert f'<a href="{draft_url}">' in html and "<td>08/57</td>" in html and "<strong>" in html
    assert len(got.images) == 2 and all(png[:4] == b"\x89PNG" for png in got.images.values())
    assert all(f'src="cid:{cid}"' in html for cid in got.images)
    shown = shoot(got.html, got.images, shot, browser)
    assert f"Dự thảo báo cáo CCHC kỳ {PERIOD} đã sẵn sàng để xem xét" in shown and "**" not in shown


def _golden() -> dict[str, Decimal]:
    with open(GOLDEN, encoding="utf-8") as fh:
        return {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}


def _see_in_the_ui(stack: AirflowStack, browser, run_id: str, shot: Path) -> None:
    """An approver signs in and opens the request on the UI's Required actions page: the page images
    load (the browser fetches them with its session) and the draft's link opens."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(f"{stack.base_url}/cchc/status")  # the auth manager's login page, then back
    page.wait_for_selector("input[type=password]", timeout=60_000)
    page.locator("input:not([type=password])").first.fill(APPROVER)
    page.fill("input[type=password]", stack.passwords[APPROVER])
    page.locator("button[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/cchc/status.*"), timeout=60_000)
    page.goto(f"{stack.base_url}/dags/{DAG_ID}/runs/{run_id}/tasks/request_approval/required_actions")
    images = page.locator("img[src*='/cchc/outputs/']")
    images.first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"img[src*='/cchc/outputs/']\")].every(i => i.complete)", timeout=30_000
    )
    widths = page.eval_on_selector_all("img[src*='/cchc/outputs/']", "all => all.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 400 for w in widths), widths  # A4 at 60 dpi: 497 px wide
    link = page.locator(f"a[href='/cchc/outputs/{PERIOD}_bao_cao_du_thao.docx']")
    assert link.count() == 1 and link.get_attribute("target") == "_blank"
    assert context.request.get(stack.base_url + link.get_attribute("href")).status == 200  # its cookie
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("CCHC_SHOTS"):
        Path(os.environ["CCHC_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(os.environ["CCHC_SHOTS"]) / shot.name)
    context.close()


def test_reject_then_approve_through_the_rest_api(deployment, browser, tmp_path):
    stack, data, warehouse, mail = deployment

    # 0. No approvers configured: the approval step fails at once, saying what to set; nothing locked.
    # Ops get the failure alert: that step, its error, its log.
    run_id = _trigger(stack, {"period": PERIOD})
    assert _wait_for_end(stack, run_id, failing=True) == "failed"
    states = _task_states(stack, run_id)
    assert states["request_approval"] == "failed" and states["draft"] == "success", states
    assert _tries(stack, run_id)["request_approval"] == 1  # failed for good: no retry would help
    log = _task_log(stack, run_id, "request_approval")
    assert "Chưa cấu hình người phê duyệt" in log and "No approvers configured" in log and "cchc_approvers" in log
    assert not _report_state(warehouse).locked
    _check_failure_alert(stack, mail, run_id, browser, tmp_path / "alert_failed_run.png")
    stack.request(
        "POST", "/api/v2/variables", {"key": "cchc_approvers", "value": f"{REJECTER}, {APPROVER}"}, user=ADMIN
    )

    # 1. Rejected: nothing locked, the reason in the log and in the run's note.
    seen = len(mail.messages)
    run_id = _trigger(stack, {"period": PERIOD})
    t = time.perf_counter()
    request = _wait_for_request(stack, run_id)
    stack.timings["trigger_to_request"] = time.perf_counter() - t
    _check_request(stack, run_id, request)
    assert request["assigned_users"] == [{"id": REJECTER, "name": REJECTER}, {"id": APPROVER, "name": APPROVER}]
    for user in (VIEWER, OPERATOR):  # both see the request; a viewer may answer nothing, the operator not this
        with pytest.raises(ApiError) as refused:
            _answer(stack, run_id, user, "Phê duyệt (Approve)")
        assert refused.value.status == 403, user
    assert "is not a respondent" in str(refused.value)
    _check_request_mail(stack, mail, seen, browser, tmp_path / "approval_request_mail.png")
    reason = "Số liệu giải ngân của Sở Tài chính chưa khớp với báo cáo quý"
    _settled(stack, run_id)
    answered = _answer(stack, run_id, REJECTER, "Từ chối (Reject)", reason)
    assert answered["responded_by"]["name"] == REJECTER
    assert _wait_for_end(stack, run_id) == "success", _failure_report(stack, run_id)
    states = _task_states(stack, run_id)
    assert states["record_rejection"] == "success"
    assert set(_tries(stack, run_id).values()) == {1}, _tries(stack, run_id)  # nothing failed and retried
    assert states["finalize"] == "skipped" and states["publish"] == "skipped"
    log = _task_log(stack, run_id, "record_rejection")
    assert reason in log and REJECTER in log
    state = _report_state(warehouse)
    assert not state.locked and not state.version
    # A decision, not a fault: the run ends `success`, no failure alert; its note says it was rejected.
    rejected_run = run_id
    assert _note(stack, run_id) == f"Bị từ chối / Rejected: {reason} ({REJECTER})"
    _, rejection = _mail(stack, mail, f"[CCHC] Dự thảo báo cáo kỳ {PERIOD} bị từ chối", seen)
    assert reason in rejection.text and reason in rejection.html
    assert not [m for _, _, m in mail.messages[seen:] if m["Subject"].startswith("[CCHC] Lỗi")]
    assert not (data / "outputs" / f"{PERIOD}_tong_hop.csv").exists()

    # 2. Approved by a named user: locked as version 1, final report and annex written.
    run_id = _trigger(stack, {"period": PERIOD})
    request = _wait_for_request(stack, run_id)
    _check_request(stack, run_id, request)
    _see_in_the_ui(stack, browser, run_id, tmp_path / "approval_request.png")
    _settled(stack, run_id)
    t = time.perf_counter()
    _answer(stack, run_id, APPROVER, "Phê duyệt (Approve)", "Đồng ý gửi Bộ Nội vụ")
    assert _wait_for_end(stack, run_id) == "success", _failure_report(stack, run_id)
    stack.timings["approval_to_end"] = time.perf_counter() - t
    states = _task_states(stack, run_id)
    assert states["finalize"] == "success" and states["record_rejection"] == "skipped"
    assert set(_tries(stack, run_id).values()) == {1}, _tries(stack, run_id)
    state = _report_state(warehouse)
    assert state.locked and state.version == 1 and state.approved_by == APPROVER
    # The approved run reads differently from the rejected one, in its note and its steps.
    assert _note(stack, run_id) == f"Đã phê duyệt / Approved: phiên bản / version 1 ({APPROVER})"
    assert _task_states(stack, rejected_run)["record_rejection"] == "success" != states["record_rejection"]
    written = _xcom(stack, run_id, "finalize")
    final = Path(written["final"])
    assert final.suffix == ".docx" and final.stat().st_size > 10_000
    assert Path(written["xlsx"]).stat().st_size > 5000
    with open(written["csv"], encoding="utf-8-sig") as fh:
        published = {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh) if r["value"]}
    golden = _golden()
    assert {c: published.get(c) for c in golden} == golden

    # 3. Once locked, a run asks nobody: it publishes the approved figures again.
    run_id = _trigger(stack, {"period": PERIOD})
    assert _wait_for_end(stack, run_id) == "success", _failure_report(stack, run_id)
    states = _task_states(stack, run_id)
    assert states["publish"] == "success" and states["request_approval"] == "skipped"
    assert "đã khóa (phiên bản 1)" in _task_log(stack, run_id, "route")
    assert Path(_xcom(stack, run_id, "publish")["final"]) == final
    state = _report_state(warehouse)
    assert state.locked and state.version == 1 and state.approved_by == APPROVER
