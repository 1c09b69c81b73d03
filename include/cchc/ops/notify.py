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
catalogue (include/cchc/common/messages/alerts.yml, mail.yml), their bodies in templates/alert_*.txt.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from cchc.common.messages import Text, render, text
from cchc.figures.completeness import ACTION, STATUS_VI

SMTP_CONN_ID = "cchc_smtp"
TAG = "[CCHC]"  # first word of every subject: mail filters sort on it
log = logging.getLogger("cchc.alerts")


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def subject(key: str, **fields: object) -> str:
    """A subject from the catalogue, tagged: `[CCHC] <vi> / <en>`."""
    return f"{TAG} {text(key, **fields)}"


def body(template: str, **context: object) -> str:
    """An e-mail body from templates/<template> (the template ends with a newline; the body does not)."""
    return render(template, **context).rstrip("\n")


# -- the messages --------------------------------------------------------------------------------


def failed_run_message(context) -> Message:
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "") or ""
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "")
    error = context.get("exception")
    where = f"{dag_id}.{task_id}" if task_id else dag_id
    return Message(
        subject("alerts.failed_run_subject", where=where),
        body(
            "alert_failed_run.txt",
            run_id=run_id,
            where=where,
            error=error,
            error_type=type(error).__name__,
            log_url=getattr(ti, "log_url", ""),
        ),
    )


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
        }
        for o in refused
    ]
    return Message(
        subject("alerts.refused_subject", n=len(refused)),
        body("alert_refused_files.txt", files=files, unknown=f"({text('mail.unknown')})"),
    )


def late_units_message(rows, week_code: str = "") -> Message | None:
    """One message listing the units still without an accepted report (missing, or every file
    refused) for periods past their deadline; a unit that reported late is not in it."""
    if not rows:
        return None
    n = len({r.unit_code for r in rows})
    where = f" ({text('alerts.late_rollup_of', week=week_code)})" if week_code else ""
    periods = ", ".join(sorted({r.period_code for r in rows}))
    return Message(
        subject("alerts.late_subject", n=n, periods=periods),
        body("alert_late_units.txt", n=n, where=where, rows=rows, status=STATUS_VI, action=ACTION),
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


def send(message: Message, conn_id: str = SMTP_CONN_ID) -> str:
    """Send to ops (the connection's extra `to`) if the SMTP connection exists, else log it;
    returns the channel used ('smtp' or 'log'). Raises when sending fails."""
    hook = smtp_hook(conn_id)
    if hook is None:
        log.warning("%s\n%s", message.subject, message.body)
        return "log"
    recipients = [a.strip() for a in str(hook.conn.extra_dejson.get("to", "")).split(",") if a.strip()]
    if not recipients:
        raise ValueError(str(text("mail.no_recipient", conn_id=conn_id)))
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = hook.sender
    mail["To"] = ", ".join(recipients)
    mail.set_content(message.body)  # UTF-8: Vietnamese as written
    hook.send_message(mail)
    return "smtp"


def on_failure(context) -> None:
    """What DAG files pass as on_failure_callback (they import this only when a task fails)."""
    send(failed_run_message(context))


def alert(message: Message | None) -> str:
    """Send a message now, outside any callback (refused files, late units); '' when nothing to say."""
    if message is None:
        return ""
    return send(message)
