"""Alerts for ops (failed runs, refused files, late units), and how every e-mail of the project
leaves: the Airflow connection `cchc_smtp` through the smtp provider's hook.

The channel comes from the connection, never from code: e-mail when `cchc_smtp` exists, else the
log (logger `cchc.alerts`, which the task log shows). The connection holds host, port, login and
password, and in its extra:

- `to` — ops' addresses, comma-separated (alerts; units' addresses are reference data);
- `from_email` — the sender (else the login);
- how the link is secured: `use_tls` (STARTTLS, port 587) or `use_ssl` (TLS from the first byte,
  port 465), neither for plain SMTP (port 25). The provider's own names, which its form in the
  Airflow UI writes, work too: `disable_tls` / `disable_ssl` (read as the provider reads them:
  a connection with only these is encrypted unless it says not to). Contradicting or asking for
  both is an error naming the connection;
- `timeout` (seconds, 30) and `retry_limit` (new attempts when the server drops the connection
  while it is being opened, 5), as the provider reads them.

The server's certificate is always verified (the provider's `ssl.create_default_context()`: the
system's CAs, or the bundle `SSL_CERT_FILE` names). The provider's `send_email_smtp` is not used:
it sends HTML only, names attachments after their file, and neither says which recipients were
refused nor stops resending after a refusal; `MailHook.send_message` sends our own message through
the session the hook opened (login, TLS, retries and timeout are the provider's).

Messages are Vietnamese first with English alongside, and say what to do; their words are in the
catalogue (include/cchc/common/messages/alerts.yml, mail.yml), their bodies in templates/alert_*.txt
(the text part) and alert_*.html (the HTML part, in mail.html): every e-mail is multipart/alternative,
both parts UTF-8 and quoted-printable. A connection without `to` is a set-up gap, not a fault of the
run: alerts go to the log and the log says why, once per process (no task fails or retries for it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import ssl
import traceback
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from markupsafe import Markup

from cchc.checks.advice import refused_advice
from cchc.common.messages import MessageError, Text, render, text
from cchc.common.periods import VN_TZ
from cchc.figures.completeness import ACTION, STATUS_VI
from cchc.ops.mailbody import page, text_html

SMTP_CONN_ID = "cchc_smtp"
TAG = "[CCHC]"  # first word of every subject: mail filters sort on it
log = logging.getLogger("cchc.alerts")


@dataclass(frozen=True)
class Message:
    """An e-mail for ops: its subject, its plain-text body (also what the log shows) and, when a template
    lays it out, its HTML body (else made from the text); `images`: (path, alt) the HTML shows inline
    as `cid:` parts, in that order (see `send`)."""

    subject: str
    body: str
    html: str = ""
    images: tuple = field(default=())

    def as_html(self) -> str:
        """The HTML part: the template's, else the text's under the subject as its heading."""
        if self.html:
            return self.html
        heading = Markup("<h1>{}</h1>\n").format(self.subject.removeprefix(TAG).strip())
        return page(self.subject, heading + text_html(self.body))


def subject(key: str, **fields: object) -> str:
    """A subject from the catalogue, tagged: `[CCHC] <vi> / <en>`."""
    return f"{TAG} {text(key, **fields)}"


def body(template: str, **context: object) -> str:
    """An e-mail body from templates/<template> (the template ends with a newline; the body does not)."""
    return render(template, **context).rstrip("\n")


def message(subject_: str, template: str, **context: object) -> Message:
    """A message from a pair of templates: `<template>.txt` (the text) and `<template>.html` (the HTML,
    which extends mail.html), both given the same context."""
    return Message(
        subject_,
        body(f"{template}.txt", **context),
        render(f"{template}.html", subject=subject_, **context),
    )


# -- the messages --------------------------------------------------------------------------------

# The end of the traceback (Python's ^~~ marker lines left out): the frames that raised and the error;
# the step's log has the rest.
TRACEBACK_LINES = 14


def hanoi(at: object) -> str:
    """An aware (or naive UTC) datetime as Hanoi time, `dd/mm/YYYY HH:MM:SS`; '' without one."""
    if not isinstance(at, dt.datetime):
        return ""
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return f"{at.astimezone(VN_TZ):%d/%m/%Y %H:%M:%S}"


def _label(key: str, fallback: str) -> Text:
    """A DAG's or task's name from the catalogue (dags.yml), else the name the UI shows."""
    try:
        return text(key)
    except MessageError:
        return Text(fallback, fallback)


@dataclass(frozen=True)
class Failure:
    """What failed, as the failure alert names it: the step, its run and try, when, the error."""

    dag_id: str
    dag_name: Text
    task_id: str
    step: Text
    run_id: str
    run_at: str  # when the run was due (its logical date, else run_after), Hanoi time
    try_number: int | None
    tries: int | None  # how many tries the task had (retries + 1)
    map_index: int | None
    map_label: str
    failed_at: str  # Hanoi time
    error_type: str
    error: str
    traceback: list[str]
    log_url: str

    @property
    def where(self) -> str:
        return f"{self.dag_id}.{self.task_id}" if self.task_id else self.dag_id


def failure(context) -> Failure:
    """The failure of a task from its callback's context (the task runner's, or the DAG processor's for
    a task that died without reporting: then no exception, only the reason)."""
    ti = context.get("task_instance") or context.get("ti")
    task = getattr(ti, "task", None) or context.get("task")
    dag = context.get("dag") or getattr(task, "dag", None)
    dag_run = context.get("dag_run")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag, "dag_id", "") or "?"
    task_id = getattr(ti, "task_id", "") or getattr(task, "task_id", "") or ""
    error = context.get("exception")
    if not isinstance(error, BaseException):
        error = None
    reason = str(context.get("reason") or "")
    tb = traceback.format_exception(error) if error is not None and error.__traceback__ is not None else []
    max_tries = getattr(ti, "max_tries", None)
    map_index = getattr(ti, "map_index", None)
    return Failure(
        dag_id=dag_id,
        dag_name=_label(f"dags.dag_{dag_id}", getattr(dag, "dag_display_name", "") or dag_id),
        task_id=task_id,
        step=_label(f"dags.task_{task_id}", getattr(task, "task_display_name", "") or task_id),
        run_id=context.get("run_id") or getattr(dag_run, "run_id", "") or getattr(ti, "run_id", "") or "",
        run_at=hanoi(getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)),
        try_number=getattr(ti, "try_number", None),
        tries=max_tries + 1 if isinstance(max_tries, int) else None,
        map_index=map_index if isinstance(map_index, int) and map_index >= 0 else None,
        map_label=str(getattr(ti, "rendered_map_index", "") or ""),
        failed_at=hanoi(getattr(ti, "end_date", None) or dt.datetime.now(dt.UTC)),
        error_type=type(error).__name__ if error is not None else "",
        error=str(error) if error is not None else reason,
        traceback=[x for x in "".join(tb).rstrip("\n").splitlines() if x.strip("^~ ")][-TRACEBACK_LINES:],
        log_url=str(getattr(ti, "log_url", "") or ""),
    )


def failed_run_message(context) -> Message:
    """The alert for a task that failed for good: the step (its Vietnamese name and id, DAG, run, try,
    Hanoi time), its error and the end of its traceback, and a link to its log in the Airflow UI."""
    f = failure(context)
    return message(subject("alerts.failed_run_subject", step=f.step.vi, where=f.where), "alert_failed_run", f=f)


def refused_files_message(outcomes: list[dict]) -> Message | None:
    """One message for the files of an ingest run that were refused (None if none was)."""
    refused = [o for o in outcomes if o.get("outcome") == "rejected"]
    if not refused:
        return None
    files = [
        {
            "unit_code": o.get("unit_code"),
            "period_code": o.get("period_code"),
            "file_name": o["file_name"],
            "version": o.get("version"),
            "findings": sorted(set(o.get("findings") or [])),
            "feedback": o.get("feedback"),
            # what the unit is told to do, as its feedback workbook says (not a workbook: send the form)
            "advice": refused_advice(
                o.get("findings") or [], o.get("unit_code") or "", o.get("period_code") or "", where="feedback"
            ),
        }
        for o in refused
    ]
    return message(
        subject("alerts.refused_subject", n=len(refused)),
        "alert_refused_files",
        files=files,
        unknown=f"({text('mail.unknown')})",
    )


def late_units_message(rows, week_code: str = "") -> Message | None:
    """One message listing the units still without an accepted report (missing, or every file
    refused) for periods past their deadline; a unit that reported late is not in it."""
    if not rows:
        return None
    n = len({r.unit_code for r in rows})
    periods = ", ".join(sorted({r.period_code for r in rows}))
    return message(
        subject("alerts.late_subject", n=n, periods=periods),
        "alert_late_units",
        n=n,
        week=week_code,
        rows=rows,
        status=STATUS_VI,
        action=ACTION,
    )


def units_not_told_message(units: list[str]) -> Message:
    """Ops are told which units the run could not e-mail, and what to do about it."""
    return Message(subject("alerts.not_told_subject", n=len(units)), body("alert_units_not_told.txt", units=units))


# -- sending -------------------------------------------------------------------------------------


def _flag(extra: dict, key: str) -> bool | None:
    """A boolean extra as JSON or the UI writes it (true, "true", 1…); None when it is not given."""
    value = extra.get(key)
    if value is None or value == "":
        return None
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


def security(extra: dict, conn_id: str = SMTP_CONN_ID) -> str:
    """How the connection's extra secures the link: 'starttls', 'ssl' or 'plain'. Ours (`use_tls`,
    `use_ssl`, off unless given) and the provider's (`disable_tls`, `disable_ssl`: on unless
    disabled, when the connection uses only these) both work."""
    provider_only = not ({"use_tls", "use_ssl"} & extra.keys()) and bool({"disable_tls", "disable_ssl"} & extra.keys())
    chosen = {}
    for name, ours, providers in (("starttls", "use_tls", "disable_tls"), ("ssl", "use_ssl", "disable_ssl")):
        on, off = _flag(extra, ours), _flag(extra, providers)
        if on is not None and off is not None and on == off:
            raise ValueError(str(text("mail.tls_contradiction", conn_id=conn_id, ours=ours, providers=providers)))
        chosen[name] = on if on is not None else (not off if off is not None else provider_only)
    if chosen["starttls"] and chosen["ssl"]:
        raise ValueError(str(text("mail.tls_both", conn_id=conn_id)))
    return "starttls" if chosen["starttls"] else "ssl" if chosen["ssl"] else "plain"


class MailHook(SmtpHook):
    """The provider's SMTP hook, reading the connection as this project documents it (see the
    module's docstring), and sending a ready-made email.message.EmailMessage."""

    @property
    def smtp_starttls(self) -> bool:
        return security(self.conn.extra_dejson, self.smtp_conn_id) == "starttls"

    @property
    def use_ssl(self) -> bool:
        return security(self.conn.extra_dejson, self.smtp_conn_id) == "ssl"

    @property
    def sender(self) -> str:
        """The From address: extra `from_email`, else the login."""
        return self.from_email or self.smtp_user or "cchc-airflow@localhost"

    def send_message(self, mail: EmailMessage) -> dict:
        """Open a session (TLS and login as the connection says), send `mail` to its To/Cc, close it.
        Returns the recipients the server refused while it took the others; raises on any SMTP or
        network failure, or when it refused every recipient."""
        if mail["From"] is None:
            mail["From"] = self.sender
        try:
            self.get_conn()  # connect, STARTTLS or TLS, login: the provider's
            client = self._smtp_client
            refused = client.send_message(mail)
            with contextlib.suppress(smtplib.SMTPException, OSError):  # the server took the message
                client.quit()
            return refused
        finally:
            # Closed and forgotten even when the login failed (the hook's `with` would leave that
            # half-open session for the next message to reuse).
            client, self._smtp_client = self._smtp_client, None
            if client is not None:
                with contextlib.suppress(OSError):
                    client.close()


def smtp_hook(conn_id: str = SMTP_CONN_ID) -> MailHook | None:
    """The hook for the connection; None when the connection is not defined (then: the log)."""
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    hook = MailHook(smtp_conn_id=conn_id)
    hook.smtp_connection = conn  # read once; the hook reads it again when it opens a session
    return hook


def failure_reason(exc: BaseException, conn_id: str = SMTP_CONN_ID) -> Text:
    """Why an e-mail did not leave, in words ops can act on (the error itself is logged beside it)."""
    reasons = (
        (smtplib.SMTPAuthenticationError, "mail.failed_login"),
        (smtplib.SMTPRecipientsRefused, "mail.failed_recipients"),
        (smtplib.SMTPNotSupportedError, "mail.failed_not_supported"),
        (ssl.SSLCertVerificationError, "mail.failed_certificate"),
        (ssl.SSLError, "mail.failed_tls"),
        (smtplib.SMTPServerDisconnected, "mail.failed_connect"),
        (smtplib.SMTPResponseException, "mail.failed_server"),
        (OSError, "mail.failed_connect"),
    )  # refused, unreachable, timed out, unknown host
    key = next((k for kind, k in reasons if isinstance(exc, kind)), "mail.failed_other")
    return text(key, conn_id=conn_id)


_SAID_NO_RECIPIENT: set[str] = set()  # connections whose missing `to` this process has explained


def _to_log(message: Message) -> str:
    log.warning("%s\n%s", message.subject, message.body)
    return "log"


def compose(message: Message, sender: str, recipients: list[str]) -> EmailMessage:
    """The e-mail: the text part, then the HTML part (what clients show), its inline images beside it;
    both UTF-8, quoted-printable (7-bit safe for any relay, Vietnamese as written)."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(message.body, cte="quoted-printable")
    mail.add_alternative(message.as_html(), subtype="html", cte="quoted-printable")
    html = mail.get_payload()[1]
    for cid, path in message.images:
        html.add_related(Path(path).read_bytes(), "image", "png", cid=f"<{cid}>", filename=Path(path).name)
    return mail


def send(message: Message, conn_id: str = SMTP_CONN_ID) -> str:
    """Send to ops (the connection's extra `to`) if the SMTP connection exists, else log it;
    returns the channel used ('smtp' or 'log'). A connection without `to` is a set-up gap, not a
    fault of the run: the message goes to the log, and the log says why once per process. Raises
    when sending fails."""
    hook = smtp_hook(conn_id)
    if hook is None:
        return _to_log(message)
    recipients = [a.strip() for a in str(hook.conn.extra_dejson.get("to", "")).split(",") if a.strip()]
    if not recipients:
        if conn_id not in _SAID_NO_RECIPIENT:
            _SAID_NO_RECIPIENT.add(conn_id)
            log.warning("%s", text("alerts.no_recipient_logged", conn_id=conn_id))
        return _to_log(message)
    hook.send_message(compose(message, hook.sender, recipients))
    return "smtp"


def on_failure(context) -> None:
    """What DAG files pass as on_failure_callback (they import this only when a task fails)."""
    send(failed_run_message(context))


def alert(message: Message | None) -> str:
    """Send a message now, outside any callback (refused files, late units); '' when nothing to say."""
    if message is None:
        return ""
    return send(message)
