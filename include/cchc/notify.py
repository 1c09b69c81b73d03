"""Alerts for ops: failed runs, refused files, late units. Airflow's notifier interface.

The channel comes from Airflow connections, never from code: e-mail over SMTP when the connection
`cchc_smtp` exists (host, port, login, password; extra `to` — comma-separated recipients —,
`from_email`, `use_tls` for STARTTLS, `use_ssl`), else the log (logger `cchc.alerts`, which the
task log shows). Messages are Vietnamese first with English alongside, and say what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from airflow.sdk import BaseNotifier

SMTP_CONN_ID = "cchc_smtp"
log = logging.getLogger("cchc.alerts")


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def failed_run_message(context) -> Message:
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "") or ""
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "")
    error = context.get("exception")
    where = f"{dag_id}.{task_id}" if task_id else dag_id
    body = "\n".join([
        f"Lần chạy {run_id} của {where} bị lỗi / run {run_id} of {where} failed.",
        f"Lỗi / error: {type(error).__name__}: {error}" if error else "Lỗi: xem nhật ký / error: see the log.",
        f"Nhật ký / log: {getattr(ti, 'log_url', '') or '(Airflow UI)'}",
        "",
        "Việc cần làm / what to do: xem nhật ký, khắc phục nguyên nhân (kết nối kho dữ liệu, thư mục, dung lượng) "
        "rồi chạy lại tác vụ (Clear). Các tệp đã nhận vẫn được lưu trong kho lưu trữ, không bị mất. / read the log, "
        "fix the cause (warehouse connection, folders, disk space), then clear the task to rerun it. Files already "
        "received are kept in the archive; nothing is lost.",
    ])
    return Message(f"[CCHC] Lỗi khi chạy {where} / run failed", body)


def refused_files_message(outcomes: list[dict]) -> Message | None:
    """One message for the files of an ingest run that were refused (None if none was)."""
    refused = [o for o in outcomes if o.get("outcome") == "rejected"]
    if not refused:
        return None
    lines = [f"{len(refused)} tệp bị từ chối / file(s) refused:", ""]
    for o in refused:
        lines.append(f"- Đơn vị / unit {o.get('unit_code') or '(không rõ / unknown)'}, kỳ / period "
                     f"{o.get('period_code') or '(không rõ / unknown)'}: {o['file_name']} (phiên bản / version "
                     f"{o.get('version')}); lỗi / findings: {', '.join(sorted(set(o.get('findings') or []))) or '-'}")
        if o.get("feedback"):
            lines.append(f"  Tệp phản hồi / feedback workbook: {o['feedback']}")
    lines += ["", "Việc cần làm / what to do: gửi tệp phản hồi cho đơn vị, đề nghị sửa đúng các ô được nêu và gửi "
              "lại; bản gửi lại sẽ là phiên bản mới. / send each unit its feedback workbook and ask it to fix the "
              "cells listed and send the file again; the resent file becomes a new version."]
    return Message(f"[CCHC] {len(refused)} tệp báo cáo bị từ chối / refused file(s)", "\n".join(lines))


def late_units_message(rows, week_code: str = "") -> Message | None:
    """One message listing the units still without an accepted report (missing, or every file
    refused) for periods past their deadline; a unit that reported late is not in it."""
    from cchc.completeness import ACTION, STATUS_VI

    if not rows:
        return None
    n = len({r.unit_code for r in rows})
    where = f" (tổng hợp tuần / roll-up of {week_code})" if week_code else ""
    lines = [f"{n} đơn vị chưa có báo cáo được tiếp nhận, đã quá hạn{where} / unit(s) with no accepted report "
             "past the deadline:", ""]
    for r in rows:
        lines.append(f"- {r.unit_code} {r.unit_name_vi}, kỳ / period {r.period_code}, hạn / due "
                     f"{r.due_on.strftime('%d/%m/%Y')}: {STATUS_VI[r.status]} ({r.status}). {ACTION[r.status]}")
    lines += ["", "Mỗi đơn vị chỉ được báo một lần mỗi tuần; đơn vị đã gửi (kể cả trễ hạn) không bị đôn đốc. / "
              "Each unit is alerted once a week; units that reported, even late, are not chased."]
    periods = sorted({r.period_code for r in rows})
    return Message(f"[CCHC] {n} đơn vị chưa gửi hoặc bị từ chối báo cáo kỳ {', '.join(periods)} "
                   "/ missing or refused reports", "\n".join(lines))


def smtp_connection(conn_id: str = SMTP_CONN_ID):
    """The Airflow connection to send e-mail through; None when it is not defined (then: the log)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def sender(conn) -> str:
    """The From address: extra `from_email`, else the login."""
    return conn.extra_dejson.get("from_email") or conn.login or "cchc-airflow@localhost"


def deliver(conn, mail) -> dict:
    """Send one email.message.EmailMessage through the connection (SSL, STARTTLS, login as it says)
    to the message's To/Cc; returns the recipients the server refused (when it took the others).
    Raises on any SMTP or network failure, or when every recipient is refused."""
    import smtplib

    extra = conn.extra_dejson
    smtp_class = smtplib.SMTP_SSL if extra.get("use_ssl") else smtplib.SMTP
    with smtp_class(conn.host, conn.port or 25, timeout=30) as smtp:
        if extra.get("use_tls"):
            smtp.starttls()
        if conn.login:
            smtp.login(conn.login, conn.password or "")
        return smtp.send_message(mail)


def send(message: Message, conn_id: str = SMTP_CONN_ID) -> str:
    """Send by e-mail if the SMTP connection exists, else log it; returns the channel used."""
    conn = smtp_connection(conn_id)
    if conn is None:
        log.warning("%s\n%s", message.subject, message.body)
        return "log"
    from email.message import EmailMessage

    extra = conn.extra_dejson
    recipients = [a.strip() for a in str(extra.get("to", "")).split(",") if a.strip()]
    if not recipients:
        raise ValueError(f"connection {conn_id}: extra 'to' lists no recipient")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender(conn)
    mail["To"] = ", ".join(recipients)
    mail.set_content(message.body)  # UTF-8: Vietnamese as written
    deliver(conn, mail)
    return "smtp"


class CchcNotifier(BaseNotifier):
    """Airflow notifier: a given message, or (as an on_failure_callback) the failed run's."""

    def __init__(self, message: Message | None = None, conn_id: str = SMTP_CONN_ID):
        super().__init__()
        self.message = message
        self.conn_id = conn_id
        self.channel = ""

    def notify(self, context) -> None:
        self.channel = send(self.message or failed_run_message(context), self.conn_id)


def on_failure(context) -> None:
    """What DAG files pass as on_failure_callback (they import this only when a task fails)."""
    CchcNotifier()(context)


def alert(message: Message | None) -> str:
    """Send a message now, outside any callback (refused files, late units); '' when nothing to say."""
    if message is None:
        return ""
    notifier = CchcNotifier(message)
    notifier({})
    return notifier.channel
