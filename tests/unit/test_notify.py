"""Alerts: e-mail through a real SMTP server (started here) when `cchc_smtp` exists, else the log."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
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
    body = mail.get_content()
    assert "Đơn vị / unit SYT, kỳ / period 2024-H1: SYT_2024-H1.xlsx" in body and "VALUE_NEGATIVE" in body
    assert "Việc cần làm / what to do: gửi tệp phản hồi cho đơn vị" in body
    assert "SNV_2024-H1" not in body  # accepted files are not alerted


def test_failed_task_callback_sends_the_error_and_the_remedy(smtp):
    on_failure({"run_id": "scheduled__2024-06-17", "exception": RuntimeError("warehouse unreachable")})
    ((_, _, mail),) = smtp.messages
    assert mail["Subject"].startswith("[CCHC] Lỗi khi chạy")
    body = mail.get_content()
    assert "RuntimeError: warehouse unreachable" in body and "chạy lại tác vụ (Clear)" in body


def test_late_units_message_lists_each_unit_with_its_deadline_and_action():
    rows = [
        UnitStatus("2024-H1", "DSO01", "Phường Ngọc Xuyên", "commune", "DSO", dt.date(2024, 6, 18), "missing", 0, None)
    ]
    msg = late_units_message(rows)
    assert "DSO01 Phường Ngọc Xuyên, kỳ / period 2024-H1, hạn / due 18/06/2024: chưa gửi (missing)" in msg.body
    assert "Đôn đốc đơn vị gửi báo cáo ngay / chase the unit" in msg.body
    assert late_units_message([]) is None


def test_without_the_connection_the_alert_is_logged(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_CCHC_SMTP", raising=False)
    with caplog.at_level(logging.WARNING, logger="cchc.alerts"):
        notifier = CchcNotifier(refused_files_message(REFUSED))
        notifier({})
    assert notifier.channel == "log"
    assert "SYT_2024-H1.xlsx" in caplog.text and "bị từ chối" in caplog.text
    assert alert(None) == ""
