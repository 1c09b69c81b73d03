"""Alerts: e-mail through a real SMTP server (started here) when `cchc_smtp` exists, else the log."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from types import SimpleNamespace

import pytest
from mail_view import parts, shoot
from smtp_server import SmtpServer

from cchc.figures.completeness import UnitStatus
from cchc.ops.notify import alert, late_units_message, on_failure, refused_files_message
from cchc.orchestration.notifiers import CchcNotifier

REFUSED = [
    {
        "file_name": "SYT_2024-H1.xlsx",
        "unit_code": "SYT",
        "period_code": "2024-H1",
        "outcome": "rejected",
        "version": 1,
        "findings": ["VALUE_NEGATIVE"],
        "feedback": "/data/outputs/feedback/SYT_2024-H1_v1.xlsx",
    },
    {
        "file_name": "SNV_2024-H1.xlsx",
        "unit_code": "SNV",
        "period_code": "2024-H1",
        "outcome": "accepted",
        "version": 1,
        "findings": [],
    },
]


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_CCHC_SMTP",
            json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": server.port,
                    "extra": {
                        "to": "vanhanh@haiphong.gov.vn, snv@haiphong.gov.vn",
                        "from_email": "cchc@haiphong.gov.vn",
                    },
                }
            ),
        )
        yield server


def test_refused_files_go_by_email_naming_unit_period_and_what_to_do(smtp):
    assert alert(refused_files_message(REFUSED)) == "smtp"
    ((sender, rcpts, mail),) = smtp.messages
    assert "cchc@haiphong.gov.vn" in sender
    assert rcpts == ["vanhanh@haiphong.gov.vn", "snv@haiphong.gov.vn"]
    assert mail["Subject"].startswith("[CCHC] 1 tệp báo cáo bị từ chối / 1 refused file(s)")
    mail = parts(smtp.raw[0])
    body = mail.text
    assert "Đơn vị / unit SYT, kỳ / period 2024-H1: SYT_2024-H1.xlsx" in body and "VALUE_NEGATIVE" in body
    assert "Việc cần làm / what to do: gửi cho mỗi đơn vị tệp phản hồi" in body
    assert "SNV_2024-H1" not in body  # accepted files are not alerted
    assert "<td>SYT_2024-H1.xlsx<br><small>phiên bản / version 1</small></td>" in mail.html
    assert "SNV_2024-H1" not in mail.html


def _failing_step():
    """A real error, raised and caught, with its traceback (as the task runner hands it over)."""

    def load_chunk_of_the_warehouse():
        raise ConnectionError("kết nối tới kho dữ liệu bị từ chối (127.0.0.1:5432)")

    try:
        load_chunk_of_the_warehouse()
    except ConnectionError as exc:
        return exc


def _context(error) -> dict:
    """A task callback's context as Airflow's task runner builds it: the RuntimeTaskInstance-like `ti`
    (its task, try, map index and label, end date, log_url), the DAG, the run."""
    task = SimpleNamespace(task_id="load_chunk", task_display_name="Đọc, kiểm tra, nạp vào kho")
    ti = SimpleNamespace(
        dag_id="cchc_ingest",
        task_id="load_chunk",
        run_id="asset_triggered__2024-06-17T02:00:05+00:00",
        task=task,
        try_number=4,
        max_tries=3,
        map_index=2,
        rendered_map_index="HAN01…HBA12 (4 đơn vị)",
        end_date=dt.datetime(2024, 6, 17, 2, 3, 4, tzinfo=dt.UTC),
        log_url="http://cchc.haiphong.gov.vn/dags/cchc_ingest/runs/asset_triggered__2024-06-17T02%3A00%3A05%2B00%3A00"
        "/tasks/load_chunk/mapped/2?try_number=4",
    )
    run = SimpleNamespace(
        run_id=ti.run_id, logical_date=None, run_after=dt.datetime(2024, 6, 17, 2, 0, 5, tzinfo=dt.UTC)
    )
    dag = SimpleNamespace(dag_id="cchc_ingest", dag_display_name="Tiếp nhận và kiểm tra báo cáo CCHC")
    return {
        "ti": ti,
        "task_instance": ti,
        "task": task,
        "dag": dag,
        "dag_run": run,
        "run_id": ti.run_id,
        "exception": error,
    }


def test_a_failed_task_is_named_with_its_error_and_log_link_in_html_and_text(smtp, tmp_path):
    """The alert names the step (Vietnamese name, id, map index and its label), the DAG, the run, the
    try, the time in Hanoi, the error and the end of its traceback, and links the step's log — and gives
    no list of possible causes. HTML with a text part, both UTF-8 on a 7-bit wire."""
    on_failure(_context(_failing_step()))
    ((_, _, mail),) = smtp.messages
    assert (
        mail["Subject"]
        == "[CCHC] Lỗi ở bước «Đọc, kiểm tra, nạp vào kho» (cchc_ingest.load_chunk) / «Đọc, kiểm tra, nạp vào kho» (cchc_ingest.load_chunk) failed"
    )
    got = parts(smtp.raw[0])
    text = got.text
    assert "Bước «Đọc, kiểm tra, nạp vào kho» của «Tiếp nhận và kiểm tra báo cáo CCHC» bị lỗi và đã dừng" in text
    assert (
        "Bước / step: Đọc, kiểm tra, nạp vào kho (load_chunk), Phần nạp số 2 / map index 2 – HAN01…HBA12 (4 đơn vị)"
        in text
    )
    assert "Lần chạy / run: asset_triggered__2024-06-17T02:00:05+00:00 — 17/06/2024 09:00:05 (giờ Việt Nam)" in text
    assert "Lần thử / try: 4 (tối đa 4 lần) / 4 of at most 4" in text
    assert "Lỗi lúc / failed at: 17/06/2024 09:03:04" in text  # 02:03:04 UTC
    assert "Lỗi / error: ConnectionError: kết nối tới kho dữ liệu bị từ chối (127.0.0.1:5432)" in text
    tail = text.split("Dấu vết lỗi (các dòng cuối) / traceback (last lines):\n", 1)[1]
    assert "in load_chunk_of_the_warehouse" in tail and 'raise ConnectionError("kết nối tới kho' in tail
    assert f"Nhật ký của bước / the step's log: {_context(None)['ti'].log_url}" in text
    assert "kết nối kho dữ liệu, thư mục, dung lượng" not in text  # no generic list of causes any more
    html = got.html
    assert f'<a class="button" href="{_context(None)["ti"].log_url}">' in html
    assert "<strong>ConnectionError</strong>: kết nối tới kho dữ liệu bị từ chối" in html
    assert "**" not in text + html and "|---|" not in text + html


def test_the_failure_alert_as_a_mail_client_shows_it(smtp, tmp_path):
    """Drawn by chromium: what a person reads is the step, the error and the way to the log."""
    from playwright.sync_api import sync_playwright

    on_failure(_context(_failing_step()))
    got = parts(smtp.raw[0])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        shown = shoot(got.html, got.images, tmp_path / "alert_failed_run.png", browser)
        browser.close()
    for words in (
        "Bước «Đọc, kiểm tra, nạp vào kho» của «Tiếp nhận và kiểm tra báo cáo CCHC» bị lỗi và đã dừng",
        "ConnectionError: kết nối tới kho dữ liệu bị từ chối (127.0.0.1:5432)",
        "Mở nhật ký của bước trong Airflow",
        "17/06/2024 09:03:04",
    ):
        assert words in shown, words
    assert (tmp_path / "alert_failed_run.png").stat().st_size > 20_000


def test_a_connection_without_recipients_logs_the_alert_and_says_why_once(monkeypatch, caplog):
    """`cchc_smtp` with no `to`: a set-up gap, not a fault of the run: the alert is logged, the reason
    said once, nothing raised (a task that alerts does not fail and retry for it)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_CCHC_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 9, "extra": {"from_email": "cchc@x.vn"}}),
    )
    monkeypatch.setattr("cchc.ops.notify._SAID_NO_RECIPIENT", set())
    with caplog.at_level(logging.WARNING, logger="cchc.alerts"):
        assert alert(refused_files_message(REFUSED)) == "log"
        assert alert(refused_files_message(REFUSED)) == "log"
    said = [r.getMessage() for r in caplog.records if "chưa có địa chỉ nhận" in r.getMessage()]
    assert len(said) == 1 and "extra 'to'" in said[0] and "cchc_smtp" in said[0]
    assert caplog.text.count("SYT_2024-H1.xlsx") == 2  # both alerts are in the log


def test_late_units_message_lists_each_unit_with_its_deadline_and_action():
    rows = [
        UnitStatus("2024-H1", "DSO01", "Phường Ngọc Xuyên", "commune", "DSO", dt.date(2024, 6, 18), "missing", 0, None)
    ]
    msg = late_units_message(rows)
    assert "DSO01 Phường Ngọc Xuyên, kỳ / period 2024-H1, hạn / due 18/06/2024: chưa gửi (missing)" in msg.body
    assert "Đôn đốc đơn vị gửi báo cáo ngay / chase the unit" in msg.body
    assert (
        "<td><strong>DSO01</strong> Phường Ngọc Xuyên</td><td>2024-H1</td><td>18/06/2024</td><td>chưa gửi</td>"
        in msg.html
    )
    weekly = late_units_message(rows, "2024-W24").body.splitlines()[0]
    assert weekly == (
        "1 đơn vị chưa có báo cáo được tiếp nhận, đã quá hạn (tổng hợp tuần 2024-W24) / "
        "1 unit(s) with no accepted report past the deadline (roll-up of 2024-W24):"
    )
    assert late_units_message([]) is None


def test_without_the_connection_the_alert_is_logged(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_CCHC_SMTP", raising=False)
    with caplog.at_level(logging.WARNING, logger="cchc.alerts"):
        notifier = CchcNotifier(refused_files_message(REFUSED))
        notifier({})
    assert notifier.channel == "log"
    assert "SYT_2024-H1.xlsx" in caplog.text and "bị từ chối" in caplog.text
    assert alert(None) == ""


def test_the_approval_request_mail_is_html_with_its_pages_inside_and_text_without_markdown(
    smtp, ref, tmp_path, monkeypatch
):
    """The request the Required actions page shows (Markdown, templates/approval_request.md) e-mailed:
    HTML (table, bold, links absolute, the page images as parts of the e-mail), and a text part a person
    reads as is: no `**`, no `|---|`, a link as `words <address>`, the table as `label: value` lines."""
    from cchc.figures.approval import approval_request
    from cchc.ops.notify import send
    from cchc.ops.status import output_href
    from cchc.orchestration.notifiers import absolute_links, approval_message

    out = tmp_path / "outputs"
    (out / "2024-H1_bieu_do").mkdir(parents=True)
    monkeypatch.setenv("CCHC_OUTPUT_DIR", str(out))
    pages = [out / f"2024-H1_xem_truoc-{n}.png" for n in (1, 2)]
    for n, page in enumerate(pages, 1):
        page.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([n]) * 64)  # the files the e-mail carries, byte for byte
    draft = SimpleNamespace(
        path=out / "2024-H1_bao_cao_du_thao.docx",
        charts=[out / "2024-H1_bieu_do" / "pakn.png"],
        key_figures={"plan.tasks_done": "08/57"},
    )
    request = approval_request(
        {"period": "2024-H1", "units_reported": 253, "units_missing": []},
        draft,
        ref,
        ("Phê duyệt (Approve)", "Từ chối (Reject)"),
        href=lambda p: output_href(p.relative_to(out).as_posix()),
        preview=SimpleNamespace(pages=pages, problem=None, seconds=2.0),
    )
    assert "**" in request and "|---|" in request  # the page's Markdown
    site = "https://cchc.haiphong.gov.vn"
    answer = f"{site}/dags/cchc_period_report/runs/r/tasks/request_approval/required_actions"
    message = approval_message("[CCHC] Phê duyệt", absolute_links(request, site), "tran.thi.lan", answer)
    assert send(message) == "smtp"
    got = parts(smtp.raw[0])
    text = got.text
    assert "**" not in text and "|---|" not in text and "](" not in text
    assert text.startswith("Dự thảo báo cáo CCHC kỳ 2024-H1 đã sẵn sàng để xem xét")
    assert (
        f"Tệp dự thảo (draft): 2024-H1_bao_cao_du_thao.docx <{site}/cchc/outputs/2024-H1_bao_cao_du_thao.docx>" in text
    )
    assert (
        "Chỉ tiêu (figure): Số liệu (value)\nSố nhiệm vụ Kế hoạch CCHC đã hoàn thành (tính đến ngày chốt số liệu): 08/57"
        in text
    )
    assert "- Phê duyệt (Approve): khóa số liệu kỳ 2024-H1" in text
    assert f"Người được phê duyệt / may approve: tran.thi.lan\n\nTrả lời tại / answer at: {answer}" in text
    html = got.html
    assert "<td>08/57</td>" in html and "<strong>Phê duyệt (Approve)</strong>" in html
    assert f'<a href="{answer}">' in html
    assert sorted(got.images.values()) == sorted(p.read_bytes() for p in pages)
    assert [f"cid:{cid}" in html for cid in got.images] == [True, True] and f'src="{site}' not in html


def test_a_run_note_that_cannot_be_written_is_said_and_fails_nothing(monkeypatch, capsys):
    """Without the connection `cchc_airflow_api`, or with an api-server that does not answer, the note is
    not written, the task log says why, and the task goes on (tests/e2e/test_hitl_approval.py writes it)."""
    from cchc.orchestration.run_note import set_run_note

    monkeypatch.delenv("AIRFLOW_CONN_CCHC_AIRFLOW_API", raising=False)
    assert set_run_note("cchc_period_report", "manual__x", "Bị từ chối / Rejected: r (u)") is False
    assert "chưa có kết nối 'cchc_airflow_api'" in capsys.readouterr().out
    with SmtpServer() as closed:  # a port that answers, but not HTTP; then nothing listens on it
        port = closed.port
    monkeypatch.setenv(
        "AIRFLOW_CONN_CCHC_AIRFLOW_API",
        json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": port, "login": "p", "password": "x"}),
    )
    assert set_run_note("cchc_period_report", "manual__x", "Bị từ chối / Rejected: r (u)") is False
    out = capsys.readouterr().out
    assert "Không ghi được ghi chú của lần chạy qua kết nối 'cchc_airflow_api'" in out and "Connection" in out
