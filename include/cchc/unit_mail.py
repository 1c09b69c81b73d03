"""The unit hears back: after each ingest run, one e-mail per unit about the files it sent.

Through the Airflow connection `cchc_smtp` (the one ops alerts use: host, port, login, password;
extra `from_email`, `use_tls`, `use_ssl`; its extra `to` is for ops and is not used here), to the
unit's addresses valid today in the reference data (include/reference/unit_contacts.csv, dated
like the registry). Vietnamese first, English alongside. Per file of the run:

- refused (`rejected`) or flagged (`accepted_with_warnings`): what to fix — each finding with its
  sheet, cell and message, as the feedback workbook says — and that workbook attached (.xlsx,
  under a Vietnamese file name, RFC 2231-encoded);
- accepted: an acknowledgement — unit, period, file name, time received (Asia/Ho_Chi_Minh), the
  version number and the receipt (the first 12 hex digits of the file's SHA-256);
- the same bytes again: refused before → the refusal again, findings and workbook (the unit must
  still fix it); accepted before (`duplicate`) → a short note: already received as version N,
  nothing loaded again.

Several files of one unit in a run make one e-mail. Without the connection each e-mail is logged
(logger `cchc.unit_mail`, shown in the task log), as ops alerts are. A unit with no address valid
today is logged for ops as "no address", not an error. One unit's failed delivery does not stop
the others: the failures are logged, alerted to ops (best effort) and returned.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from cchc.notify import SMTP_CONN_ID
from cchc.warehouse import VN_TIME

log = logging.getLogger("cchc.unit_mail")

RECEIPT_CHARS = 12  # of the SHA-256: enough to tell files apart, short enough to read out on the phone
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# Worst first: the e-mail's subject follows the worst outcome among the unit's files.
_ORDER = ("rejected", "accepted_with_warnings", "accepted", "duplicate")
_SUBJECT = {
    "rejected": "Báo cáo bị từ chối – cần sửa và gửi lại / report refused: please fix and resend",
    "accepted_with_warnings": "Đã tiếp nhận báo cáo, có lưu ý cần kiểm tra / report accepted with notes to check",
    "accepted": "Đã tiếp nhận báo cáo / report received",
    "duplicate": "Báo cáo đã được nhận trước đây / report already received",
}
_VERDICT = {
    "rejected": "BỊ TỪ CHỐI / REFUSED",
    "accepted_with_warnings": "ĐƯỢC TIẾP NHẬN, CÓ LƯU Ý / ACCEPTED WITH NOTES",
    "accepted": "ĐƯỢC TIẾP NHẬN / ACCEPTED",
    "duplicate": "ĐÃ NHẬN TRƯỚC ĐÂY / ALREADY RECEIVED",
}


@dataclass
class UnitMail:
    """One unit's e-mail for a run: what it is told, to whom, with which workbooks attached."""

    unit_code: str
    recipients: list[str]
    subject: str
    body: str
    attachments: list[tuple[str, Path]] = field(default_factory=list)  # (name the unit sees, file)
    files: int = 0

    def to_email(self, from_addr: str):
        from email.message import EmailMessage

        mail = EmailMessage()
        mail["Subject"] = self.subject
        mail["From"] = from_addr
        mail["To"] = ", ".join(self.recipients)
        mail.set_content(self.body, cte="quoted-printable")  # UTF-8, 7-bit safe for any relay
        for name, path in self.attachments:
            # A non-ASCII filename is written as RFC 2231 `filename*=utf-8''…`, which mail readers decode.
            mail.add_attachment(path.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
        return mail


def _vn_time(at: dt.datetime | None) -> str:
    if at is None:
        return "(không rõ / unknown)"
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    local = at + VN_TIME  # the warehouse stores UTC
    return f"{local:%d/%m/%Y %H:%M} (giờ Việt Nam / Asia/Ho_Chi_Minh, UTC+7)"


def _period_words(code: str) -> str:
    from cchc.periods import parse_period

    if not code:
        return "(không rõ / unknown)"
    try:
        return f"{parse_period(code).name_vi} ({code})"
    except ValueError:
        return code


def attachment_name(o: dict) -> str:
    """The feedback workbook's name in the e-mail: Vietnamese, saying whose and which version."""
    unit, period = o.get("unit_code") or "không rõ", o.get("period_code") or "không rõ"
    return f"Kết quả kiểm tra {unit} {period} phiên bản {o.get('version')}.xlsx"


def _warehouse_facts(engine, checksums: list[str]) -> tuple[dict, dict]:
    """(checksum → latest receipt time, checksum → findings rows) from the warehouse."""
    from sqlalchemy import bindparam, text

    from cchc.batch import chunks
    from cchc.warehouse import as_datetime

    received, findings = {}, {}
    if engine is None or not checksums:
        return received, findings
    times = text("SELECT checksum, MAX(received_at) FROM file_receipts WHERE checksum IN :keys "
                 "GROUP BY checksum").bindparams(bindparam("keys", expanding=True))
    rows = text("SELECT submission_id, severity, sheet, cell, message_vi, message_en, code FROM findings "
                "WHERE submission_id IN :keys ORDER BY submission_id, seq").bindparams(
        bindparam("keys", expanding=True))
    with engine.connect() as conn:
        for part in chunks(sorted(set(checksums)), 500):
            received.update({c: as_datetime(t) for c, t in conn.execute(times, {"keys": part}) if t is not None})
            for key, *f in conn.execute(rows, {"keys": part}):
                findings.setdefault(key, []).append(f)
    return received, findings


def _file_lines(i: int, o: dict, received_at, findings: list) -> list[str]:
    """What one file's part of the e-mail says."""
    outcome = o.get("outcome", "")
    lines = [f"{i}. Tệp / file: {o.get('file_name')}",
             f"   Kỳ báo cáo / period: {_period_words(o.get('period_code', ''))}",
             f"   Thời gian nhận / received: {_vn_time(received_at)}",
             f"   Kết quả / outcome: {_VERDICT.get(outcome, outcome)}"
             + (f" – phiên bản / version {o['version']}" if o.get("version") is not None else "")]
    if o.get("checksum"):
        lines.append(f"   Mã biên nhận / receipt: {o['checksum'][:RECEIPT_CHARS]} "
                     f"({RECEIPT_CHARS} ký tự đầu của mã SHA-256 của tệp / first {RECEIPT_CHARS} hex digits of "
                     "the file's SHA-256)")
    if outcome == "duplicate":
        note = o.get("note") or "Tệp này đã được nhận trước đây; không nạp lại. / Already received; not loaded again."
        lines.append(f"   {note}")
        return lines
    if outcome == "accepted":
        lines.append("   Báo cáo đã được nạp vào kho dữ liệu tổng hợp; đơn vị không cần làm gì thêm. / The report is "
                     "loaded into the city's warehouse; nothing more to do.")
        return lines
    if o.get("note"):  # a refused file sent again: which earlier refusal it repeats
        lines.append(f"   {o['note']}")
    if outcome == "rejected":
        lines.append("   Các lỗi cần sửa / what to fix:")
    else:
        lines.append("   Các nội dung cần kiểm tra / what to check:")
    for severity, sheet, cell, message_vi, message_en, code in findings:
        level = "Lỗi / error" if severity == "error" else "Lưu ý / warning"
        where = ", ".join(p for p in (f"trang tính / sheet '{sheet}'" if sheet else "",
                                      f"ô / cell {cell}" if cell else "") if p) or "toàn tệp / whole file"
        lines.append(f"   - [{level}] {where}: {message_vi} / {message_en} ({code})")
    if not findings:  # the warehouse was not reachable: the codes at least
        lines.append(f"   - {', '.join(sorted(set(o.get('findings') or []))) or '-'}")
    if o.get("feedback"):
        lines.append(f"   Tệp kết quả kiểm tra đính kèm / attached feedback workbook: {attachment_name(o)}")
    if outcome == "rejected":
        lines.append("   Việc cần làm / what to do: sửa đúng các ô nêu trên trong tệp của đơn vị, lưu lại và gửi lại "
                     "toàn bộ tệp; bản gửi lại sẽ là phiên bản mới. / fix the cells listed in your file, save it and "
                     "send the whole file again; it becomes a new version.")
    else:
        lines.append("   Việc cần làm / what to do: kiểm tra các nội dung trên; nếu số liệu sai, sửa và gửi lại (bản "
                     "gửi lại thay thế bản này); nếu đúng, không cần làm gì thêm. / check the points above; if a "
                     "figure is wrong, fix it and send the file again (it replaces this one); if right, nothing "
                     "more to do.")
    return lines


def unit_mails(outcomes: list[dict], ref, *, engine=None,
               on: dt.date | None = None) -> tuple[list[UnitMail], list[str]]:
    """One UnitMail per unit with files in `outcomes` (recipients valid on `on`, today in Hanoi by
    default); and the unit codes that have no address on that day ('' for files whose unit is unknown)."""
    on = on or (dt.datetime.now(dt.UTC) + VN_TIME).date()
    by_unit: dict[str, list[dict]] = {}
    for o in outcomes:
        by_unit.setdefault(o.get("unit_code") or "", []).append(o)
    received, findings = _warehouse_facts(engine, [o["checksum"] for o in outcomes if o.get("checksum")])
    mails, no_address = [], []
    for code in sorted(by_unit):
        recipients = ref.emails_on(code, on) if code else []
        if not recipients:
            no_address.append(code)
            continue
        files = sorted(by_unit[code], key=lambda o: (_ORDER.index(o["outcome"]) if o.get("outcome") in _ORDER
                                                     else len(_ORDER), o.get("file_name", "")))
        unit = ref.unit(code, on) or ref.unit_any(code)
        name = unit.name_vi if unit else code
        worst = files[0].get("outcome", "")
        count = f" ({len(files)} tệp / files)" if len(files) > 1 else ""
        subject = f"[CCHC] {name} ({code}): {_SUBJECT.get(worst, worst)}{count}"
        body = [f"Kính gửi / To: {name} ({code})", "",
                "Bộ phận tổng hợp báo cáo cải cách hành chính thành phố Hải Phòng thông báo kết quả tiếp nhận "
                "các tệp báo cáo đơn vị đã gửi. / The city's administrative-reform reporting office tells you what "
                "became of the report files your unit sent.", ""]
        attachments = []
        for i, o in enumerate(files, start=1):
            body += _file_lines(i, o, received.get(o.get("checksum", "")), findings.get(o.get("checksum", ""), []))
            body.append("")
            if o.get("feedback") and o.get("outcome") in ("rejected", "accepted_with_warnings"):
                path = Path(o["feedback"])
                if path.is_file():
                    attachments.append((attachment_name(o), path))
                else:  # said in the e-mail and the log; the findings above still say what to fix
                    log.warning("%s: không thấy tệp phản hồi %s / feedback workbook missing", code, path)
                    body.insert(len(body) - 1, "   (Tệp kết quả kiểm tra chưa đính kèm được; nội dung như trên. / "
                                               "The feedback workbook could not be attached; its content is above.)")
        body += ["Thư này được gửi tự động sau mỗi lần tiếp nhận báo cáo; thắc mắc xin liên hệ Sở Nội vụ (bộ phận "
                 "cải cách hành chính). / This e-mail is sent automatically after each intake; for questions "
                 "contact the Department of Home Affairs (administrative reform)."]
        mails.append(UnitMail(code, recipients, subject, "\n".join(body), attachments, len(files)))
    return mails, no_address


def tell_units(outcomes: list[dict], ref, *, engine=None, conn_id: str = SMTP_CONN_ID,
               on: dt.date | None = None, on_told=None) -> dict:
    """E-mail each unit about its files of the run (outcomes: `Outcome.to_dict()` of the run's
    files, repeats included); print one line per unit. Returns counts `sent`, `logged`, `failed`,
    `no_address`, the unit codes in `failed_units` and `no_address_units`, and `refused_addresses`
    (refused by the server while the unit's other addresses took the e-mail).

    `engine` is the warehouse (findings with sheet/cell/messages, receipt times); None: the
    Airflow run's warehouse. A delivery failure is caught per unit, so the other units are told.
    `on_told(unit_code)` is called once a unit's e-mail is sent (or logged, with no mail server).
    """
    from cchc.notify import Message, alert, deliver, sender, smtp_connection

    if engine is None and outcomes:
        from cchc.runtime import airflow_warehouse_url
        from cchc.warehouse import get_engine

        engine = get_engine(airflow_warehouse_url())
    mails, no_address = unit_mails(outcomes, ref, engine=engine, on=on)
    conn = smtp_connection(conn_id)
    counts = {"sent": 0, "logged": 0, "failed": 0, "no_address": len(no_address), "failed_units": [],
              "no_address_units": no_address, "refused_addresses": []}
    for code in no_address:
        files = ", ".join(o.get("file_name", "") for o in outcomes if (o.get("unit_code") or "") == code)
        line = (f"{code or '?'}\tno_address\tđơn vị chưa có địa chỉ e-mail hợp lệ hôm nay trong "
                "include/reference/unit_contacts.csv, không gửi được thư / no e-mail address valid today, unit not "
                f"told\t{files}")
        print(line)
        log.warning(line)
    for mail in mails:
        if conn is None:
            log.warning("Thư cho đơn vị / e-mail to unit %s (%s)\nSubject: %s\n%s\n[đính kèm / attached: %s]",
                        mail.unit_code, ", ".join(mail.recipients), mail.subject, mail.body,
                        ", ".join(str(p) for _, p in mail.attachments) or "-")
            counts["logged"] += 1
            print(f"{mail.unit_code}\tlogged\t{', '.join(mail.recipients)}\t{mail.files} tệp / file(s)")
            if on_told is not None:
                on_told(mail.unit_code)
            continue
        try:
            refused = deliver(conn, mail.to_email(sender(conn)))
        except Exception as exc:  # noqa: BLE001 - any SMTP or network failure: the next unit still gets its mail
            counts["failed"] += 1
            counts["failed_units"].append(mail.unit_code)
            line = f"{mail.unit_code}\tfailed\t{', '.join(mail.recipients)}\t{type(exc).__name__}: {exc}"
            print(line)
            log.error(line)
            continue
        counts["sent"] += 1
        if on_told is not None:
            on_told(mail.unit_code)
        print(f"{mail.unit_code}\tsent\t{', '.join(a for a in mail.recipients if a not in refused)}\t{mail.files} "
              f"tệp / file(s)\t{len(mail.attachments)} đính kèm / attachment(s)")
        if refused:  # the unit was told at its other addresses; ops should mend the refused one
            counts["refused_addresses"] += sorted(refused)
            log.warning("%s: máy chủ thư từ chối địa chỉ / the mail server refused %s; sửa trong "
                        "include/reference/unit_contacts.csv / mend it there", mail.unit_code,
                        ", ".join(f"{a} ({c} {m.decode(errors='replace') if isinstance(m, bytes) else m})"
                                  for a, (c, m) in sorted(refused.items())))
    print(f"Thư cho đơn vị / unit e-mails: {counts['sent']} đã gửi (sent), {counts['logged']} ghi nhật ký (logged), "
          f"{counts['failed']} lỗi (failed), {counts['no_address']} chưa có địa chỉ (no address)")
    if counts["failed_units"]:
        message = Message(
            f"[CCHC] {counts['failed']} đơn vị chưa nhận được thư kết quả / unit(s) not told their results",
            f"Không gửi được thư kết quả cho các đơn vị / could not e-mail: {', '.join(counts['failed_units'])}.\n\n"
            "Việc cần làm / what to do: xem nhật ký tác vụ (lỗi máy chủ thư, địa chỉ sai), rồi gửi cho các đơn vị "
            "này tệp phản hồi trong data/outputs/feedback/ hoặc chạy lại tác vụ. / read the task log (mail server "
            "error, wrong address), then send these units their feedback workbooks from data/outputs/feedback/ or "
            "clear the task to send again.")
        try:  # best effort: the same server may be down for ops too; the log lines above stay
            alert(message)
        except Exception as exc:  # noqa: BLE001
            log.error("%s\n%s\n(không gửi được cho bộ phận vận hành / ops alert not sent: %s)",
                      message.subject, message.body, exc)
    return counts


def tell_run(engine, ref, run_id: str, *, conn_id: str = SMTP_CONN_ID) -> dict:
    """E-mail each unit about its files of a run, from the outcomes the run stored (`run_outcomes`):
    the units whose chunks loaded hear back even when another chunk failed, and a unit already told
    about a file (a retried task) is not told again; each unit's rows are marked told once its mail
    is sent."""
    from sqlalchemy import text

    from cchc.ingest import run_outcomes
    from cchc.load import now
    from cchc.warehouse import writing

    with engine.connect() as conn:
        told = {(c, n) for c, n in conn.execute(text(
            "SELECT checksum, file_name FROM run_outcomes WHERE run_id = :run AND told_at IS NOT NULL"),
            {"run": run_id})}
    outcomes = [o.to_dict() for o in run_outcomes(engine, run_id) if (o.checksum, o.file_name[:300]) not in told]

    def mark(unit_code: str) -> None:
        with writing(engine) as conn:
            conn.execute(text("UPDATE run_outcomes SET told_at = :t WHERE run_id = :run AND unit_code = :u "
                              "AND told_at IS NULL"), {"t": now(), "run": run_id, "u": (unit_code or "")[:16]})

    return tell_units(outcomes, ref, engine=engine, conn_id=conn_id, on_told=mark)


def run_repeats(engine, ref, run_id: str, outcomes: list[dict]) -> list[dict]:
    """The run's deliveries of bytes loaded before (the `receive` task answered them, not a load
    task) as outcome dicts: refused before → `rejected` again with its findings and feedback
    workbook; accepted before → `duplicate` with its version. Files already in `outcomes` are left out."""
    from cchc.ingest import repeat_outcomes, run_receipts

    seen = {o.get("checksum") for o in outcomes}
    repeats = [r for r in run_receipts(engine, run_id) if r.checksum not in seen]
    return [o.to_dict() for o in repeat_outcomes(engine, ref, repeats)]
