"""The unit hears back: after each ingest run, one e-mail per unit about the files it sent.

Through the Airflow connection `cchc_smtp` and the smtp provider's hook, as ops alerts go
(cchc.ops.notify says how the connection is read; its extra `to` is for ops and is not used here),
to the unit's addresses valid today in the reference data (include/reference/unit_contacts.csv,
dated like the registry). Vietnamese first, English alongside: the words are in the catalogue
(include/cchc/common/messages/mail.yml), the body's layout in templates/unit_mail.txt. Per file of
the run:

- refused (`rejected`) or flagged (`accepted_with_warnings`): what to fix — each finding with its
  sheet, cell and message, as the feedback workbook says — what to do as fits the findings
  (cchc.checks.advice: a file that is not a workbook is told to send the form, not to fix cells),
  and that workbook attached (.xlsx, under a Vietnamese file name, RFC 2231-encoded);
- accepted: an acknowledgement — unit, period, file name, time received (Asia/Ho_Chi_Minh), the
  version number and the receipt (the first 12 hex digits of the file's SHA-256);
- the same bytes again: refused before → the refusal again, findings and workbook (the unit must
  still fix it); accepted before (`duplicate`) → a short note: already received as version N,
  nothing loaded again.

Several files of one unit in a run make one e-mail. Without the connection each e-mail is logged
(logger `cchc.ops.unit_mail`, shown in the task log), as ops alerts are. A unit with no address valid
today is logged for ops as "no address", not an error. One unit's failed delivery does not stop
the others: the failures are logged, alerted to ops (best effort) and returned.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import bindparam
from sqlalchemy import text as sql

from cchc.checks.advice import flagged_advice, refused_advice, unit_shown, version_shown
from cchc.common.batching import chunks
from cchc.common.clock import VN_TIME, now
from cchc.common.messages import render, text, vi
from cchc.common.periods import parse_period
from cchc.loading.ingest import repeat_outcomes, run_outcomes, run_receipts
from cchc.ops.notify import SMTP_CONN_ID, TAG, alert, failure_reason, smtp_hook, units_not_told_message
from cchc.warehouse.engine import as_datetime, writing

log = logging.getLogger("cchc.ops.unit_mail")

RECEIPT_CHARS = 12  # of the SHA-256: enough to tell files apart, short enough to read out on the phone
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# Worst first: the e-mail's subject follows the worst outcome among the unit's files.
_ORDER = ("rejected", "accepted_with_warnings", "held", "accepted", "duplicate")
_TOLD = ("rejected", "accepted_with_warnings")  # outcomes whose feedback workbook is attached


@dataclass
class UnitMail:
    """One unit's e-mail for a run: what it is told, to whom, with which workbooks attached."""

    unit_code: str
    recipients: list[str]
    subject: str
    body: str
    attachments: list[tuple[str, Path]] = field(default_factory=list)  # (name the unit sees, file)
    files: int = 0

    def to_email(self, from_addr: str) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = self.subject
        mail["From"] = from_addr
        mail["To"] = ", ".join(self.recipients)
        mail.set_content(self.body, cte="quoted-printable")  # UTF-8, 7-bit safe for any relay
        for name, path in self.attachments:
            # A non-ASCII filename is written as RFC 2231 `filename*=utf-8''…`, which mail readers decode.
            mail.add_attachment(path.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
        return mail


def _unknown() -> str:
    return f"({text('mail.unknown')})"


def _vn_time(at: dt.datetime | None) -> str:
    if at is None:
        return _unknown()
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    local = at + VN_TIME  # the warehouse stores UTC
    return f"{local:%d/%m/%Y %H:%M} ({text('mail.time_zone')})"


def _period_words(code: str) -> str:
    if not code:
        return _unknown()
    try:
        return f"{parse_period(code).name_vi} ({code})"
    except ValueError:
        return code


def attachment_name(o: dict) -> str:
    """The feedback workbook's name in the e-mail: Vietnamese, saying whose and which version (a
    file whose unit and period are not known is named by its own name: its version means nothing)."""
    if not (o.get("unit_code") and o.get("period_code")):
        return vi("advice.attachment_unidentified", file=Path(o.get("file_name") or "").stem)
    unknown = vi("mail.unknown")
    return vi(
        "mail.attachment_name",
        unit=o.get("unit_code") or unknown,
        period=o.get("period_code") or unknown,
        version=o.get("version"),
    )


def warehouse_facts(engine, checksums: list[str]) -> tuple[dict, dict]:
    """(checksum → latest receipt time, checksum → findings rows) from the warehouse."""
    received, findings = {}, {}
    if engine is None or not checksums:
        return received, findings
    times = sql(
        "SELECT checksum, MAX(received_at) FROM file_receipts WHERE checksum IN :keys GROUP BY checksum"
    ).bindparams(bindparam("keys", expanding=True))
    rows = sql(
        "SELECT submission_id, severity, sheet, cell, message_vi, message_en, code FROM findings "
        "WHERE submission_id IN :keys ORDER BY submission_id, seq"
    ).bindparams(bindparam("keys", expanding=True))
    with engine.connect() as conn:
        for part in chunks(sorted(set(checksums)), 500):
            received.update({c: as_datetime(t) for c, t in conn.execute(times, {"keys": part}) if t is not None})
            for key, *f in conn.execute(rows, {"keys": part}):
                findings.setdefault(key, []).append(f)
    return received, findings


def _where(sheet: str | None, cell: str | None) -> str:
    """Where a finding is: sheet and cell, as many as it has."""
    parts = ([f"{text('mail.sheet')} '{sheet}'"] if sheet else []) + ([f"{text('mail.cell')} {cell}"] if cell else [])
    return ", ".join(parts) or str(text("mail.whole_file"))


def file_view(o: dict, received_at, findings: list, form: str = "") -> dict:
    """What the template says about one file (templates/unit_mail.txt). `form`: the blank form's
    name when the e-mail carries one (the advice then points to it)."""
    outcome = o.get("outcome", "")
    feedback = Path(o["feedback"]) if o.get("feedback") else None
    unit, period = o.get("unit_code") or "", o.get("period_code") or ""
    codes = [f[-1] for f in findings] or list(o.get("findings") or [])
    return {
        "file_name": o.get("file_name"),
        "unit": str(unit_shown(unit)),
        "outcome": outcome,
        "version": version_shown(unit, period, o.get("version")),
        # what to do fits what is wrong: a file that is not a workbook is told to send the form
        "advice": refused_advice(codes, unit, period, form=form) if outcome == "rejected" else flagged_advice(),
        "note": o.get("note"),
        "period": _period_words(o.get("period_code", "")),
        "received": _vn_time(received_at),
        "verdict": text(f"mail.verdict_{outcome}") if outcome in _ORDER else outcome,
        "receipt": (o.get("checksum") or "")[:RECEIPT_CHARS],
        "findings": [
            {
                "severity": severity,
                "where": _where(sheet, cell),
                "message_vi": message_vi,
                "message_en": message_en,
                "code": code,
            }
            for severity, sheet, cell, message_vi, message_en, code in findings
        ],
        "codes": sorted(set(o.get("findings") or [])),  # the warehouse was not reachable: the codes at least
        "attachment": attachment_name(o) if feedback else "",
        "not_attached": bool(feedback) and outcome in _TOLD and not feedback.is_file(),
    }


def _unit_mail(
    code: str, files: list[dict], recipients: list[str], name: str, received: dict, findings: dict
) -> UnitMail:
    """The e-mail of one unit about its files of the run (worst outcome first)."""
    worst = files[0].get("outcome", "")
    headline = text(f"mail.subject_{worst}") if worst in _ORDER else worst
    count = f" ({text('mail.subject_files', n=len(files))})" if len(files) > 1 else ""
    views, attachments = [], []
    for o in files:
        view = file_view(o, received.get(o.get("checksum", "")), findings.get(o.get("checksum", ""), []))
        views.append(view)
        if o.get("feedback") and o.get("outcome") in _TOLD:
            if view["not_attached"]:  # said in the e-mail and the log; the findings still say what to fix
                log.warning("%s: %s", code, text("mail.feedback_missing", path=o["feedback"]))
            else:
                attachments.append((view["attachment"], Path(o["feedback"])))
    body = render("unit_mail.txt", unit_name=name, unit_code=code, files=views, receipt_chars=RECEIPT_CHARS)
    return UnitMail(
        code, recipients, f"{TAG} {name} ({code}): {headline}{count}", body.rstrip("\n"), attachments, len(files)
    )


def unit_mails(
    outcomes: list[dict], ref, *, engine=None, on: dt.date | None = None
) -> tuple[list[UnitMail], list[str]]:
    """One UnitMail per unit with files in `outcomes` (recipients valid on `on`, today in Hanoi by
    default); and the unit codes that have no address on that day ('' for files whose unit is unknown)."""
    on = on or (dt.datetime.now(dt.UTC) + VN_TIME).date()
    by_unit: dict[str, list[dict]] = {}
    for o in outcomes:
        by_unit.setdefault(o.get("unit_code") or "", []).append(o)
    received, findings = warehouse_facts(engine, [o["checksum"] for o in outcomes if o.get("checksum")])
    mails, no_address = [], []
    for code in sorted(by_unit):
        recipients = ref.emails_on(code, on) if code else []
        if not recipients:
            no_address.append(code)
            continue
        files = sorted(
            by_unit[code],
            key=lambda o: (
                _ORDER.index(o["outcome"]) if o.get("outcome") in _ORDER else len(_ORDER),
                o.get("file_name", ""),
            ),
        )
        unit = ref.unit(code, on) or ref.unit_any(code)
        mails.append(_unit_mail(code, files, recipients, unit.name_vi if unit else code, received, findings))
    return mails, no_address


def _counts_line(counts: dict) -> str:
    said = ", ".join(
        f"{counts[k]} {text(f'mail.count_{k}').vi} ({text(f'mail.count_{k}').en})"
        for k in ("sent", "logged", "failed", "no_address")
    )
    return f"{text('mail.unit_mails')}: {said}"


def _say(line: str, level: int | None = None) -> None:
    """One line for the task log's reader: printed, and logged at `level` if given."""
    print(line)
    if level is not None:
        log.log(level, line)


def tell_units(
    outcomes: list[dict], ref, *, engine, conn_id: str = SMTP_CONN_ID, on: dt.date | None = None, on_told=None
) -> dict:
    """E-mail each unit about its files of the run (outcomes: `Outcome.to_dict()` of the run's
    files, repeats included); print one line per unit. Returns counts `sent`, `logged`, `failed`,
    `no_address`, the unit codes in `failed_units` and `no_address_units`, and `refused_addresses`
    (refused by the server while the unit's other addresses took the e-mail).

    `engine` is the warehouse (findings with sheet/cell/messages, receipt times). A delivery failure
    is caught per unit, so the other units are told; the units not told are alerted to ops.
    `on_told(unit_code)` is called once a unit's e-mail is sent (or logged, with no mail server).
    """
    mails, no_address = unit_mails(outcomes, ref, engine=engine, on=on)
    hook = smtp_hook(conn_id)
    counts = {
        "sent": 0,
        "logged": 0,
        "failed": 0,
        "no_address": len(no_address),
        "failed_units": [],
        "no_address_units": no_address,
        "refused_addresses": [],
    }
    for code in no_address:
        files = ", ".join(o.get("file_name", "") for o in outcomes if (o.get("unit_code") or "") == code)
        _say(f"{code or '?'}\tno_address\t{text('mail.no_address')}\t{files}", logging.WARNING)
    for mail in mails:
        to = ", ".join(mail.recipients)
        if hook is None:
            log.warning(
                "%s %s (%s)\nSubject: %s\n%s\n[%s: %s]",
                text("mail.logged_mail"),
                mail.unit_code,
                to,
                mail.subject,
                mail.body,
                text("mail.attached_short"),
                ", ".join(str(p) for _, p in mail.attachments) or "-",
            )
            counts["logged"] += 1
            _say(f"{mail.unit_code}\tlogged\t{to}\t{text('mail.files_n', n=mail.files)}")
            if on_told is not None:
                on_told(mail.unit_code)
            continue
        try:
            refused = hook.send_message(mail.to_email(hook.sender))
        except Exception as exc:  # noqa: BLE001 - any SMTP or network failure: the next unit still gets its mail
            counts["failed"] += 1
            counts["failed_units"].append(mail.unit_code)
            _say(
                f"{mail.unit_code}\tfailed\t{to}\t{failure_reason(exc, conn_id)} ({type(exc).__name__}: {exc})",
                logging.ERROR,
            )
            continue
        counts["sent"] += 1
        if on_told is not None:
            on_told(mail.unit_code)
        _say(
            f"{mail.unit_code}\tsent\t{', '.join(a for a in mail.recipients if a not in refused)}\t"
            f"{text('mail.files_n', n=mail.files)}\t{text('mail.attachments_n', n=len(mail.attachments))}"
        )
        if refused:  # the unit was told at its other addresses; ops should mend the refused one
            counts["refused_addresses"] += sorted(refused)
            said = ", ".join(
                f"{a} ({c} {m.decode(errors='replace') if isinstance(m, bytes) else m})"
                for a, (c, m) in sorted(refused.items())
            )
            server, mend = text("mail.server_refused"), text("mail.mend_contacts")
            log.warning("%s: %s / %s %s; %s / %s", mail.unit_code, server.vi, server.en, said, mend.vi, mend.en)
    _say(_counts_line(counts))
    if counts["failed_units"]:
        message = units_not_told_message(counts["failed_units"])
        try:  # best effort: the same server may be down for ops too; the log lines above stay
            alert(message)
        except Exception as exc:  # noqa: BLE001
            log.error("%s\n%s\n(%s: %s)", message.subject, message.body, text("alerts.not_sent"), exc)
    return counts


def tell_run(engine, ref, run_id: str, *, conn_id: str = SMTP_CONN_ID) -> dict:
    """E-mail each unit about its files of a run, from the outcomes the run stored (`run_outcomes`):
    the units whose chunks loaded hear back even when another chunk failed, and a unit already told
    about a file (a retried task) is not told again; each unit's rows are marked told once its mail
    is sent. Files that came by e-mail are left to the answer in their message's thread."""
    with engine.connect() as conn:
        told = {
            (c, n)
            for c, n in conn.execute(
                sql("SELECT checksum, file_name FROM run_outcomes WHERE run_id = :run AND told_at IS NOT NULL"),
                {"run": run_id},
            )
        }
        # A file that came by e-mail is answered in its message's thread (cchc.ops.replies), not here.
        by_mail = {
            c
            for (c,) in conn.execute(
                sql(
                    "SELECT DISTINCT a.checksum FROM mail_attachments a JOIN run_outcomes o ON o.checksum = a.checksum "
                    "WHERE o.run_id = :run"
                ),
                {"run": run_id},
            )
        }
    outcomes = [
        o.to_dict()
        for o in run_outcomes(engine, run_id)
        if (o.checksum, o.file_name[:300]) not in told and o.checksum not in by_mail
    ]

    def mark(unit_code: str) -> None:
        with writing(engine) as conn:
            conn.execute(
                sql("UPDATE run_outcomes SET told_at = :t WHERE run_id = :run AND unit_code = :u AND told_at IS NULL"),
                {"t": now(), "run": run_id, "u": (unit_code or "")[:16]},
            )

    return tell_units(outcomes, ref, engine=engine, conn_id=conn_id, on_told=mark)


def run_repeats(engine, ref, run_id: str, outcomes: list[dict]) -> list[dict]:
    """The run's deliveries of bytes loaded before (the `receive` task answered them, not a load
    task) as outcome dicts: refused before → `rejected` again with its findings and feedback
    workbook; accepted before → `duplicate` with its version. Files already in `outcomes` are left out."""
    seen = {o.get("checksum") for o in outcomes}
    repeats = [r for r in run_receipts(engine, run_id) if r.checksum not in seen]
    return [o.to_dict() for o in repeat_outcomes(engine, ref, repeats)]
