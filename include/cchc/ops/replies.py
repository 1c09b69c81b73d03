"""Each message taken from the office mailbox gets one answer, in its own thread.

The answer goes to the message's Reply-To, else its sender, as "Re: <subject>" with In-Reply-To and
References set, so the unit's mail program shows it under what it sent. Through the same SMTP
connection (`cchc_smtp`) and hook as the units' other e-mail; without one it is logged. Vietnamese
first, English beside it: the words in messages/mail.yml and messages/mailbox.yml, the layout in
templates/mail_reply.txt (each file as in the unit's e-mail, templates/mail_file.txt). Per attachment:

- a workbook: accepted with its receipt and version; refused or flagged with its findings (sheet,
  cell, message) and its feedback workbook attached; held (the address is not registered for the
  unit) with what happens next; the same bytes as a file received before, what became of them;
- anything else (a Word file, a picture, a zip it could not open): why it was not taken.

A message with no workbook at all gets the instructions and the blank form (of the unit its sender
is registered for, for the period being reported now) attached; so does one with a file refused for
not being the form (not .xlsx, unreadable, encrypted…), whose advice then names that form
(cchc.checks.advice): such a file has no cell to fix. A message is answered once all
its workbooks have a verdict (a run killed before loading them answers it at the next run), and
only once: `mail_messages.replied_at` is set when the answer is sent (or logged).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import text as sql

from cchc.checks.advice import family
from cchc.common.batching import chunks
from cchc.common.clock import VN_TIME, now
from cchc.common.messages import render, text, vi
from cchc.common.periods import Period, periods_for_year
from cchc.intake.receipts import DUPLICATE
from cchc.loading.ingest import feedback_file
from cchc.ops.notify import SMTP_CONN_ID, TAG, failure_reason, smtp_hook
from cchc.ops.unit_mail import RECEIPT_CHARS, XLSX_TYPE, attachment_name, file_view, warehouse_facts
from cchc.reference.form import file_name as form_file_name
from cchc.reference.form import write_workbook
from cchc.warehouse.bulk import select_in
from cchc.warehouse.engine import as_datetime, writing

log = logging.getLogger("cchc.ops.replies")

_ATTACHED = ("rejected", "accepted_with_warnings", "held")  # outcomes whose feedback workbook goes with the answer
_REPORT_KINDS = ("half_year", "nine_months", "year")


@dataclass
class Reply:
    message_key: str
    to: str
    subject: str
    body: str
    in_reply_to: str
    references: str
    attachments: list[tuple[str, Path]] = field(default_factory=list)
    unit_code: str = ""

    def to_email(self, from_addr: str) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = self.subject
        mail["From"] = from_addr
        mail["To"] = self.to
        if self.in_reply_to:
            mail["In-Reply-To"] = self.in_reply_to
            mail["References"] = self.references
        domain = from_addr.rpartition("@")[2].strip("> ") or None
        mail["Message-ID"] = make_msgid(domain=domain)
        mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: the unit's out-of-office does not answer it
        mail.set_content(self.body, cte="quoted-printable")
        for name, path in self.attachments:
            mail.add_attachment(path.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
        return mail


def reply_subject(subject: str) -> str:
    """ "Re: <subject>", once: a subject already starting with Re:/RE:/Trả lời: is kept."""
    s = subject.strip()
    if s.lower().startswith(("re:", "trả lời:", "tl:")):
        return s
    return f"Re: {s}" if s else f"Re: {TAG} {vi('mailbox.no_subject')}"


_PENDING_SQL = (
    "SELECT message_key, message_id, sender, reply_to, subject, references_ids, received_at, automatic "
    "FROM mail_messages WHERE replied_at IS NULL AND moved_at IS NOT NULL ORDER BY received_at, message_key"
)
_ATTACHMENTS_SQL = (
    "SELECT a.message_key, a.seq, a.file_name, a.from_zip, a.checksum, a.first_seen, a.skipped, a.detail, "
    "s.status, s.unit_code, s.period_code, s.version FROM mail_attachments a "
    "LEFT JOIN submissions s ON s.submission_id = a.checksum WHERE a.message_key IN :keys ORDER BY a.message_key, a.seq"
)


def _outcome(row, first_received: dict) -> dict:
    """An attachment as the outcome dict the unit's e-mail templates read (cchc.ops.unit_mail)."""
    _, _, name, _, checksum, first_seen, _, _, status, unit, period, version = row
    outcome = status
    if not first_seen and status != "rejected":
        outcome = DUPLICATE  # bytes received before this message: nothing counted again
    o = {
        "file_name": name,
        "checksum": checksum,
        "unit_code": unit,
        "period_code": period,
        "outcome": outcome,
        "version": version,
        "findings": [],
        "feedback": "",
        "note": "",
    }
    if outcome == DUPLICATE and checksum in first_received:
        at = first_received[checksum] + VN_TIME
        o["note"] = str(text("mailbox.duplicate_note", day=f"{at:%d/%m/%Y %H:%M}", version=version))
    if outcome in _ATTACHED:
        path = feedback_file(unit, period, checksum)
        if outcome != "held" or path.is_file():  # a held file without findings has no feedback workbook
            o["feedback"] = str(path)
    return o


def current_period(day: dt.date) -> Period:
    """The report being prepared on `day`: the first half-year, nine-month or year period whose
    cut-off is no more than 45 days behind (the units' deadline window)."""
    candidates = [p for y in (day.year - 1, day.year) for p in periods_for_year(y) if p.kind in _REPORT_KINDS]
    return next(p for p in sorted(candidates, key=lambda p: p.end) if p.end >= day - dt.timedelta(days=45))


def blank_form(ref, sender: str, day: dt.date, folder: Path) -> tuple[str, Path] | None:
    """The blank form for the unit `sender` is registered for (None if it is registered for none)."""
    units = [u for u in ref.units_on(day) if sender and sender in ref.emails_on(u.code, day)]
    if not units:
        return None
    unit, period = units[0], current_period(day)
    path = write_workbook(
        folder / form_file_name(unit.code, period.code),
        unit,
        period,
        ref.form_tasks(unit, period.end),
        ref.form_indicators(unit, period.end),
    )
    return path.name, path


def _skipped_view(row) -> dict:
    _, _, name, from_zip, _, _, reason, detail = row[:8]
    return {
        "file_name": f"{from_zip}/{name}" if from_zip else name,
        "reason": text(reason) if reason else text("mailbox.skip_not_workbook"),
        "detail": detail or "",
    }


def build_reply(message: tuple, rows: list, ref, *, engine, folder: Path) -> Reply | None:
    """The answer to one message; None while one of its workbooks has no verdict yet."""
    key, message_id, sender, reply_to, subject, references, received_at, _ = message  # (automatic: the caller's)
    received_at = as_datetime(received_at)
    workbooks = [r for r in rows if r[4]]
    if any(r[8] is None for r in workbooks):
        return None  # received, not yet loaded: the next run answers
    first = _first_received(engine, [r[4] for r in workbooks])
    outcomes = [_outcome(r, first) for r in workbooks]
    received, findings = warehouse_facts(engine, [o["checksum"] for o in outcomes])
    # No workbook, or one refused for not being the form (not .xlsx, unreadable…): the blank form goes
    # with the answer, and the advice for such a file points to it.
    unreadable = any(
        o["outcome"] == "rejected" and family(f[-1] for f in findings.get(o["checksum"], [])) in ("file", "form")
        for o in outcomes
    )
    form = blank_form(ref, sender, (now() + VN_TIME).date(), folder) if unreadable or not workbooks else None
    views, attachments = [], []
    for o in outcomes:
        view = file_view(o, received_at, findings.get(o["checksum"], []), form=form[0] if form else "")
        views.append(view)
        if o["feedback"] and not view["not_attached"]:
            attachments.append((attachment_name(o), Path(o["feedback"])))
    if form:
        attachments.append(form)
    units = sorted({o["unit_code"] for o in outcomes if o["unit_code"]})
    body = render(
        "mail_reply.txt",
        sender=sender,
        received=f"{received_at + VN_TIME:%d/%m/%Y %H:%M}",
        subject=subject,
        files=views,
        skipped=[_skipped_view(r) for r in rows if not r[4]],
        form=form[0] if form else "",
        receipt_chars=RECEIPT_CHARS,
    )
    refs = " ".join(x for x in (references, message_id) if x)
    return Reply(
        key,
        reply_to or sender,
        reply_subject(subject),
        body.rstrip("\n"),
        message_id,
        refs,
        attachments,
        ",".join(units),
    )


def _first_received(engine, checksums: list[str]) -> dict[str, dt.datetime]:
    out: dict[str, dt.datetime] = {}
    with engine.connect() as conn:
        for part in chunks(sorted(set(checksums)), 500):
            for c, at in select_in(
                conn, "SELECT checksum, first_seen_at FROM received_files WHERE checksum IN :keys", part
            ):
                out[c] = as_datetime(at)
    return out


def _mark(engine, key: str, outcome: str, reply_id: str | None) -> None:
    with writing(engine) as conn:
        conn.execute(
            sql(
                "UPDATE mail_messages SET replied_at = :t, reply_id = :r, reply_outcome = :o "
                "WHERE message_key = :k AND replied_at IS NULL"
            ),
            {"t": now(), "r": reply_id, "o": outcome, "k": key},
        )


def answer_messages(engine, ref, *, conn_id: str = SMTP_CONN_ID) -> dict:
    """Answer every message taken from the mailbox and not answered yet whose workbooks all have a
    verdict; one line per message in the task log. Counts `sent`, `logged`, `failed`, `waiting`."""
    with engine.connect() as conn:
        pending = conn.execute(sql(_PENDING_SQL)).all()
        by_message: dict[str, list] = {}
        for part in chunks([m[0] for m in pending], 500):
            for row in select_in(conn, _ATTACHMENTS_SQL, part):
                by_message.setdefault(row[0], []).append(row)
    counts = {"sent": 0, "logged": 0, "failed": 0, "waiting": 0, "no_sender": 0, "automatic": 0}
    hook = smtp_hook(conn_id)
    with tempfile.TemporaryDirectory(prefix="cchc-forms-") as tmp:
        for m in pending:
            if m[7]:  # an out-of-office or a bounce: answering could loop; kept in its folder for a person
                counts["automatic"] += 1
                _mark(engine, m[0], "automatic", None)
                print(f"{m[1]}\tautomatic\t{text('mailbox.automatic')}")
                continue
            reply = build_reply(m, by_message.get(m[0], []), ref, engine=engine, folder=Path(tmp))
            if reply is None:
                counts["waiting"] += 1
                continue
            if not reply.to:  # nobody to answer (a message without a sender): for a person
                counts["no_sender"] += 1
                _mark(engine, reply.message_key, "no_sender", None)
                print(f"{m[1]}\tno_sender\t{text('mailbox.no_sender')}")
                continue
            _send(reply, hook, engine, counts, conn_id)
    print(f"{text('mailbox.replies')}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    return counts


def _send(reply: Reply, hook, engine, counts: dict, conn_id: str) -> None:
    if hook is None:
        mail = reply.to_email("cchc@localhost")
        log.warning("%s %s\nSubject: %s\n%s", text("mail.logged_mail"), reply.to, reply.subject, reply.body)
        _mark(engine, reply.message_key, "logged", mail["Message-ID"])
        counts["logged"] += 1
        print(f"{reply.in_reply_to}\tlogged\t{reply.to}\t{reply.subject}")
        return
    mail = reply.to_email(hook.sender)
    try:
        hook.send_message(mail)
    except Exception as exc:  # noqa: BLE001 - any SMTP or network failure: the next message is still answered
        counts["failed"] += 1
        print(f"{reply.in_reply_to}\tfailed\t{reply.to}\t{failure_reason(exc, conn_id)} ({type(exc).__name__}: {exc})")
        log.error("%s: %s", reply.in_reply_to, exc)
        return  # not marked: the next run tries again
    _mark(engine, reply.message_key, "sent", mail["Message-ID"])
    counts["sent"] += 1
    print(
        f"{reply.in_reply_to}\tsent\t{reply.to}\t{reply.subject}\t{text('mail.attachments_n', n=len(reply.attachments))}"
    )
