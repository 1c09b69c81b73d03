"""Units send by e-mail (issue 18): the office mailbox on a real IMAP server (Dovecot), answers on a
real SMTP server, the warehouse on SQLite and PostgreSQL.

One inbox as the office gets it: a registered sender with a good workbook and a Word report beside
it; the same with a broken file; an unknown sender with another unit's workbook (held, not counted,
until ops confirm it); a look-alike address and a message failing DMARC with a unit's corrected
workbook (held: the figure does not move); a zipped workbook; a message with only a Word file; the
same message delivered twice. Then a run killed between archiving and moving a message.

Expected figures come from the test's own arithmetic on the values it wrote.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import io
import json
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from helpers import column_of, edit, row_of, set_figure, sheet
from smtp_server import SmtpServer
from sqlalchemy import text

from cchc.intake.mail import imap_utf7_encode
from cchc.ops.imapserver import ImapServer
from cchc.warehouse.engine import prepare

CLI = [sys.executable, "-m", "cchc.cli"]
PROCESSED, REVIEW = "CCHC/Đã xử lý", "CCHC/Cần xem"
FIGURE = "pakn.received_new"
DELTA = 17  # a correction's extra feedback items (and as many resolved: the identities still hold)
SNV, SCT, SYT, CHA = "cchc.snv@haiphong.gov.vn", "cchc.sct@haiphong.gov.vn", "cchc.syt@haiphong.gov.vn", ""
T0 = dt.datetime(2024, 6, 14, 1, 0, tzinfo=dt.UTC)  # 08:00 in Hanoi: before the deadline


def _value(path: Path, code: str = FIGURE) -> Decimal:
    from openpyxl import load_workbook

    ws = sheet(load_workbook(path, data_only=True), "Số liệu")
    return Decimal(str(ws.cell(row_of(ws, code), column_of(ws, "Số liệu")).value))


def _corrected(src: Path, dst: Path) -> Path:
    before = {c: _value(src, c) for c in (FIGURE, "pakn.resolved")}
    return edit(src, dst, lambda wb: [set_figure(wb, c, int(v + DELTA)) for c, v in before.items()])


def letter(sender: str, subject: str, files: list[tuple[str, bytes]], *, headers: dict | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = f"Văn thư <{sender}>"
    m["To"] = "vanphong@cchc.haiphong.gov.vn"
    m["Subject"] = subject
    m["Message-ID"] = make_msgid(domain="unit.example")
    m["Date"] = format_datetime(T0)
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content("Kính gửi Văn phòng, đơn vị gửi báo cáo kèm theo.")
    for name, data in files:
        kind = name.rsplit(".", 1)[-1]
        maintype, subtype = {
            "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "zip": ("application", "zip"),
        }[kind]
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def append(server: ImapServer, raw: bytes, when: dt.datetime) -> None:
    c = imaplib.IMAP4(server.host, server.port)
    c.login(server.user, server.password)
    typ, _ = c.append("INBOX", None, imaplib.Time2Internaldate(when.timestamp()), raw)
    assert typ == "OK"
    c.logout()


def folder_ids(server: ImapServer, folder: str) -> list[str]:
    """The Message-IDs of a folder's messages, in the folder's order."""
    c = imaplib.IMAP4(server.host, server.port)
    c.login(server.user, server.password)
    typ, _ = c.select('"' + imap_utf7_encode(folder) + '"', readonly=True)
    if typ != "OK":
        c.logout()
        return []
    _, data = c.uid("SEARCH", None, "ALL")
    ids = []
    for uid in data[0].split():
        _, got = c.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids.append(message_from_bytes(got[0][1], policy=policy.default)["Message-ID"].strip())
    c.logout()
    return ids


def message_id(raw: bytes) -> str:
    return message_from_bytes(raw, policy=policy.default)["Message-ID"].strip()


@pytest.fixture
def office(tmp_path, monkeypatch):
    """The office mailbox (Dovecot) and the SMTP server the answers go through."""
    with ImapServer(tmp_path / "imap") as imap, SmtpServer() as smtp:
        monkeypatch.setenv(
            "AIRFLOW_CONN_CCHC_SMTP",
            json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "extra": {"from_email": "cchc@haiphong.gov.vn"},
                }
            ),
        )
        yield imap, smtp


def _city(engine, ref) -> Decimal:
    from cchc.figures.consolidate import consolidate_period

    return consolidate_period(engine, ref, "2024-H1").figures[FIGURE].value or Decimal(0)  # None: nobody yet


def _run(engine, ref, imap: ImapServer):
    from cchc.loading.mailbox import connect, ingest_mailbox
    from cchc.ops.replies import answer_messages

    client = connect(imap.url)
    try:
        outcomes, pulled = ingest_mailbox(engine, ref, client, f"test-{dt.datetime.now():%H%M%S%f}")
    finally:
        client.logout()
    return outcomes, pulled, answer_messages(engine, ref)


def _replies(smtp) -> dict[str, EmailMessage]:
    """In-Reply-To → the answer."""
    return {m["In-Reply-To"]: m for _, _, m in smtp.messages}


def test_units_mail_their_workbooks_and_each_message_is_answered_in_its_thread(
    samples, ref, warehouse_url, office, tmp_path
):
    imap, smtp = office
    h1 = samples / "h1"
    snv, sct, syt, cha = (h1 / f"{u}_2024-H1.xlsx" for u in ("SNV", "SCT", "SYT", "CHA"))
    broken = edit(sct, tmp_path / "SCT_2024-H1.xlsx", lambda wb: set_figure(wb, FIGURE, -5))
    cha_fixed = _corrected(cha, tmp_path / "CHA_2024-H1.xlsx")
    snv_fixed = _corrected(snv, tmp_path / "SNV_2024-H1 (2).xlsx")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Báo cáo/SYT_2024-H1.xlsx", syt.read_bytes())
    docx = b"PK\x03\x04 not really a Word file, and it does not matter"
    messages = {
        "good": letter(
            SNV, "Báo cáo CCHC 6 tháng đầu năm 2024 - Sở Nội vụ", [(snv.name, snv.read_bytes()), ("Báo cáo.docx", docx)]
        ),
        "broken": letter(SCT, "Báo cáo CCHC 6 tháng - Sở Công Thương", [(broken.name, broken.read_bytes())]),
        "stranger": letter("nguoila@gmail.com", "Gửi báo cáo giúp Chi cục", [(cha_fixed.name, cha_fixed.read_bytes())]),
        "lookalike": letter("cchc.snv@haiphong-gov.vn", "Bổ sung số liệu", [(snv_fixed.name, snv_fixed.read_bytes())]),
        "zipped": letter(SYT, "Sở Y tế gửi báo cáo (nén)", [("Bao cao SYT.zip", zipped.getvalue())]),
        "word_only": letter(SNV, "Hỏi về biểu mẫu", [("Báo cáo thuyết minh.docx", docx)]),
        "dmarc_fail": letter(
            SCT,
            "Số liệu điều chỉnh",
            [("SCT_2024-H1 (3).xlsx", _corrected(sct, tmp_path / "SCT3.xlsx").read_bytes())],
            headers={"Authentication-Results": "mx.haiphong.gov.vn; spf=fail smtp.mailfrom=evil.example; dmarc=fail"},
        ),
    }
    order = ["good", "broken", "stranger", "lookalike", "zipped", "word_only", "dmarc_fail"]
    for i, name in enumerate(order):
        append(imap, messages[name], T0 + dt.timedelta(minutes=i))
    append(imap, messages["good"], T0 + dt.timedelta(minutes=30))  # the same message delivered twice

    engine = prepare(warehouse_url, ref)
    base = _city(engine, ref)
    outcomes, pulled, answered = _run(engine, ref, imap)

    # Every message taken once and moved, never deleted; the copy of "good" only moved.
    assert len(pulled.messages) == 7 and pulled.again == [message_id(messages["good"])]
    assert folder_ids(imap, "INBOX") == []
    assert sorted(folder_ids(imap, PROCESSED)) == sorted(
        [message_id(messages[n]) for n in order if n != "word_only"] + [message_id(messages["good"])]
    )
    assert folder_ids(imap, REVIEW) == [message_id(messages["word_only"])]

    by_unit = {(o.unit_code, o.file_name): o.outcome for o in outcomes}
    assert by_unit == {
        ("SNV", snv.name): "accepted",
        ("SCT", broken.name): "rejected",
        ("CHA", cha_fixed.name): "held",
        ("SNV", snv_fixed.name): "held",
        ("SYT", syt.name): "accepted",
        ("SCT", "SCT_2024-H1 (3).xlsx"): "held",
    }
    with engine.connect() as conn:
        receipts = dict(conn.execute(text("SELECT file_name, COUNT(*) FROM file_receipts GROUP BY file_name")).all())
        arrivals = {
            name: (dt.datetime.fromisoformat(str(at)), src)
            for name, at, src in conn.execute(
                text(
                    "SELECT f.first_name, a.arrived_at, a.source FROM file_arrivals a "
                    "JOIN received_files f ON f.checksum = a.checksum"
                )
            )
        }
    assert receipts[snv.name] == 1  # delivered twice, received once
    assert arrivals[snv.name] == (T0.replace(tzinfo=None), "mail")  # the mailbox's receipt time
    assert arrivals[syt.name] == ((T0 + dt.timedelta(minutes=4)).replace(tzinfo=None), "mail")

    # Held workbooks count for nothing: CHA's file only by a stranger; SNV's and SCT's corrections
    # from a look-alike address and a message failing DMARC leave SNV's first file and no SCT.
    snv_v, syt_v, cha_v = _value(snv), _value(syt), _value(cha_fixed)
    assert _city(engine, ref) - base == snv_v + syt_v

    # One answer per message, in its thread, to its sender.
    replies = _replies(smtp)
    assert answered["sent"] == 7 and len(smtp.messages) == 7
    for name in order:
        raw = messages[name]
        reply = replies[message_id(raw)]
        original = message_from_bytes(raw, policy=policy.default)
        assert reply["Subject"] == "Re: " + original["Subject"]
        assert message_id(raw) in reply["References"].split()
        assert reply["To"] == original["From"].addresses[0].addr_spec
    body = {n: replies[message_id(messages[n])].get_body(("plain",)).get_content() for n in order}
    attached = {
        n: [(p.get_filename(), p.get_content()) for p in replies[message_id(messages[n])].iter_attachments()]
        for n in order
    }
    assert "ĐƯỢC TIẾP NHẬN" in body["good"] and "Báo cáo.docx" in body["good"]
    assert "BỊ TỪ CHỐI" in body["broken"] and "REFUSED" in body["broken"]
    assert len(attached["broken"]) == 1 and attached["broken"][0][1][:2] == b"PK"  # the feedback workbook
    for n in ("stranger", "lookalike", "dmarc_fail"):
        assert "CHỜ XÁC NHẬN NGƯỜI GỬI" in body[n], n
    assert "ĐƯỢC TIẾP NHẬN" in body["zipped"] and syt.name in body["zipped"]
    names = [a for a, _ in attached["word_only"]]
    assert len(names) == 1 and names[0].startswith("SNV_") and names[0].endswith(".xlsx")  # the blank form

    # Ops confirm the stranger's file (`cchc confirm`): it counts, with who confirmed. The look-alike's is
    # rejected (`cchc reject`); a decision is final.
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(CLI + ["--warehouse", warehouse_url, *args], capture_output=True, text=True)

    listed = cli("held", "--period", "2024-H1", "--json")
    assert listed.returncode == 0, listed.stderr
    held = {}
    for line in listed.stdout.splitlines():
        h = json.loads(line)
        held[h["unit_code"] + ("+" if h["reason"] == "auth_failed" else "")] = h
    assert sorted(held) == ["CHA", "SCT+", "SNV"]
    assert held["SNV"]["sender"] == "cchc.snv@haiphong-gov.vn"
    confirmed = cli("confirm", held["CHA"]["checksum"][:12], "--by", "tran.thi.lan")
    assert confirmed.returncode == 0 and "tran.thi.lan" in confirmed.stdout, confirmed.stderr
    assert cli("reject", held["SNV"]["checksum"][:12], "--by", "tran.thi.lan").returncode == 0
    again = cli("confirm", held["SNV"]["checksum"][:12], "--by", "le.van.hung")
    assert again.returncode == 2 and "trước đó" in again.stderr and "final" in again.stderr
    assert _city(engine, ref) - base == snv_v + syt_v + cha_v
    from cchc.loading.holds import holds

    done = {h.unit_code: (h.decision, h.decided_by) for h in holds(engine, "2024-H1") if h.decision}
    assert done == {"CHA": ("confirmed", "tran.thi.lan"), "SNV": ("rejected", "tran.thi.lan")}
    assert "1 tệp đang chờ" in cli("held").stderr  # SCT's, still waiting

    # A second run finds nothing new and answers nobody again.
    outcomes, pulled, answered = _run(engine, ref, imap)
    assert (outcomes, pulled.messages, answered["sent"], len(smtp.messages)) == ([], [], 0, 7)


KILL_ON_MOVE = """
import imaplib, os, signal
_uid = imaplib.IMAP4.uid
def uid(self, command, *args):
    if command.upper() in ("MOVE", "COPY"):
        os.kill(os.getpid(), signal.SIGKILL)  # killed after the message was archived and recorded
    return _uid(self, command, *args)
imaplib.IMAP4.uid = uid
"""


def test_a_run_killed_between_archiving_and_moving_receives_nothing_twice(samples, ref, sqlite_url, office, tmp_path):
    imap, smtp = office
    snv = samples / "h1" / "SNV_2024-H1.xlsx"
    raw = letter(SNV, "Báo cáo 6 tháng", [(snv.name, snv.read_bytes())])
    append(imap, raw, T0)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_ON_MOVE)
    env = {**os.environ, "CCHC_IMAP_URL": imap.url}
    killed = subprocess.run(
        CLI + ["--warehouse", sqlite_url, "mailbox"],
        env={**env, "PYTHONPATH": f"{hook}{os.pathsep}{env.get('PYTHONPATH', '')}"},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    engine = prepare(sqlite_url, ref)

    def count(sql: str) -> int:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()

    assert count("SELECT COUNT(*) FROM file_receipts") == 1  # archived and recorded ...
    assert folder_ids(imap, "INBOX") == [message_id(raw)]  # ... but still in the inbox
    again = subprocess.run(CLI + ["--warehouse", sqlite_url, "mailbox"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert count("SELECT COUNT(*) FROM file_receipts") == 1  # nothing received twice
    assert count("SELECT COUNT(*) FROM submissions WHERE status = 'accepted'") == 1  # loaded by the second run
    assert folder_ids(imap, "INBOX") == [] and folder_ids(imap, PROCESSED) == [message_id(raw)]
    assert len(smtp.messages) == 1 and smtp.messages[0][2]["In-Reply-To"] == message_id(raw)


def test_253_messages_one_per_unit_give_the_golden_figures(samples, ref, sqlite_url, office):
    """The whole city by e-mail: each unit's H1-2024 workbook from its registered address, received on
    17/6/2024 (the day `make demo` declares for the folder); every file accepted, 253 answers, and
    the consolidated figures are the report's 73."""
    import csv
    import time

    from conftest import GOLDEN

    from cchc.figures.consolidate import consolidate_period

    imap, smtp = office
    on = dt.date(2024, 6, 17)
    files = sorted((samples / "h1").glob("*.xlsx"))
    assert len(files) == 253
    t = time.monotonic()
    for i, f in enumerate(files):
        unit = f.name.split("_")[0]
        sender = ref.emails_on(unit, on)[0]
        append(
            imap,
            letter(sender, f"Báo cáo CCHC 6 tháng đầu năm 2024 - {unit}", [(f.name, f.read_bytes())]),
            dt.datetime(2024, 6, 17, 1, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=i),
        )
    appended = time.monotonic() - t
    engine = prepare(sqlite_url, ref)
    t = time.monotonic()
    outcomes, pulled, answered = _run(engine, ref, imap)
    took = time.monotonic() - t
    print(f"\n253 messages: appended in {appended:.1f} s; taken, loaded and answered in {took:.1f} s")
    assert len(pulled.messages) == 253 and len(pulled.received) == 253
    assert sorted(o.outcome for o in outcomes) == ["accepted"] * 253
    assert answered["sent"] == 253 and len(smtp.messages) == 253
    with open(GOLDEN, encoding="utf-8") as fh:
        golden = {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}
    result = consolidate_period(engine, ref, "2024-H1")
    assert len(golden) == 73
    assert {code: result.figures[code].value for code in golden} == golden
