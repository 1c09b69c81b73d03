"""The units' reporting status behind the ops page "Tình hình báo cáo" (cchc.ops.status), on SQLite and
PostgreSQL: real sample files ingested (a department, a district, a commune refused with its
reasons, one sent after the deadline), the rest of the registry missing; filters by district and
departments; the feedback download only ever serves a file of the feedback folder. Then units that
send by e-mail (issue 18): messages as the office mailbox receives them, answered on a real SMTP
server; the channel of each unit's latest file, the workbooks held for an unregistered sender,
and ops confirming and rejecting them (the HTTP side, with its users and CSRF check, is
tests/e2e/test_status_page.py)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from helpers import edit, landed, set_figure, set_info
from smtp_server import SmtpServer
from test_mailbox import SYT, T0, append, letter

from cchc.ops.imapserver import ImapServer

PERIOD = "2024-H1"
STRANGER, LOOKALIKE = "nguoila@gmail.com", "cchc.snv@haiphong-gov.vn"
EN = '<span class="en">'  # the English beside the Vietnamese


@pytest.fixture
def loaded(warehouse_url, samples, tmp_path, ref):
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for unit in ("SNV", "ADU", "ADU02"):
        shutil.copy(samples / "h1" / f"{unit}_{PERIOD}.xlsx", inbox)
    edit(
        samples / "h1" / f"ADU01_{PERIOD}.xlsx",
        inbox / f"ADU01_{PERIOD}.xlsx",
        lambda wb: set_figure(wb, "dossier.received", -5),
    )
    # Received a week after the 18/06 deadline (timeliness is judged by receipt), the others on 17/6.
    edit(
        samples / "h1" / f"STP_{PERIOD}.xlsx",
        inbox / f"STP_{PERIOD}.xlsx",
        lambda wb: set_info(wb, "Ngày gửi", dt.datetime(2024, 6, 25)),
    )
    for f in inbox.iterdir():
        landed(f, dt.date(2024, 6, 25) if f.name.startswith("STP_") else dt.date(2024, 6, 17))
    outcomes = ingest_files(engine, ref, sorted(inbox.iterdir()))
    assert {o.unit_code: o.outcome for o in outcomes}["ADU01"] == "rejected"
    return engine


def test_status_page(loaded, ref):
    from cchc.ops.status import DEPARTMENTS, feedback_dir, feedback_download, render, status_page

    page = status_page(loaded)
    assert page.period_code == PERIOD  # the period files arrived for last
    expected = {
        u.code
        for u in ref.units
        if u.valid_from <= dt.date(2024, 6, 14) and (u.valid_to is None or u.valid_to >= dt.date(2024, 6, 14))
    }
    assert {r.unit_code for r in page.rows} == expected and len(expected) == 253
    by_unit = {r.unit_code: r for r in page.rows}
    assert page.counts == {
        "on_time": 3, "late": 1, "refused": 1, "held": 0, "missing": 248, "total": 253, "held_files": 0
    }  # fmt: skip
    assert by_unit["STP"].status == "late" and by_unit["STP"].accepted_sent_on == dt.date(2024, 6, 25)
    assert by_unit["SNV"].status == "on_time" and by_unit["SNV"].latest_version == 1
    assert by_unit["SNV"].latest_received_at is not None and not by_unit["SNV"].findings
    assert by_unit["VPUB"].status == "missing" and by_unit["VPUB"].latest_version is None

    refused = by_unit["ADU01"]
    assert refused.status == "refused" and refused.group_code == "ADU" and refused.latest_status == "rejected"
    negative = next(f for f in refused.findings if f.code == "VALUE_NEGATIVE")
    assert negative.severity == "error" and "bị âm" in negative.message_vi and "negative" in negative.message_en
    assert refused.feedback and feedback_download(refused.feedback) == (feedback_dir() / refused.feedback).resolve()

    # A district's group: the district itself and its communes; departments are their own group.
    district = status_page(loaded, PERIOD, "ADU")
    communes = {u.code for u in ref.units if u.parent_code == "ADU" and u.code in expected}
    assert {r.unit_code for r in district.rows} == {"ADU"} | communes
    assert district.counts["total"] == len(communes) + 1 and district.counts["refused"] == 1
    departments = status_page(loaded, PERIOD, DEPARTMENTS)
    assert {r.unit_type for r in departments.rows} == {"department"} and departments.counts["total"] == 21
    assert ("ADU", "Ủy ban nhân dân huyện An Dương") in page.groups and len(page.groups) == 16

    html = render(district, user_name="tran.thi.lan")
    assert "Tình hình báo cáo" in html and "Ủy ban nhân dân thị trấn An Dương" in html
    assert f'href="feedback/{refused.feedback}"' in html and "VALUE_NEGATIVE" in html
    assert html.count('<tr class="unit"') == len(communes) + 1

    with pytest.raises(ValueError, match="2031-H1"):
        status_page(loaded, "2031-H1")
    with pytest.raises(ValueError, match="XYZ"):
        status_page(loaded, PERIOD, "XYZ")


def test_feedback_download_stays_in_its_folder(loaded, data_dirs):
    from cchc.ops.status import feedback_dir, feedback_download

    (data_dirs / "secret.xlsx").write_bytes(b"not for download")
    (feedback_dir() / "sub").mkdir()
    (feedback_dir() / "sub" / "x.xlsx").write_bytes(b"x")
    (feedback_dir() / "notes.txt").write_text("x")
    for name in (
        "../secret.xlsx",
        "..%2Fsecret.xlsx",
        "/etc/passwd",
        "..",
        "",
        "sub/x.xlsx",
        "sub",
        "notes.txt",
        ".hidden.xlsx",
        "missing.xlsx",
        str(data_dirs / "secret.xlsx"),
    ):
        assert feedback_download(name) is None, name
    real = next(feedback_dir().glob("*.xlsx"))
    assert feedback_download(real.name) == real.resolve()


def test_current_period_before_any_file(warehouse_url, ref):
    from cchc.ops.status import current_period, periods, status_page
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    known = periods(engine)
    assert current_period(known, dt.date(2024, 6, 16)) == "2024-M06"  # due 17/06: the nearest deadline
    assert current_period(known, dt.date(2024, 6, 18)) in ("2024-H1", "2024-Q2")  # both due 18/06
    page = status_page(engine, today=dt.date(2024, 6, 16))
    assert page.period_code == "2024-M06" and page.counts["missing"] == page.counts["total"] > 0


@pytest.fixture
def by_mail(warehouse_url, samples, ref, tmp_path, monkeypatch):
    """SCT's workbook dropped in the folder; SNV's too, then a correction from a look-alike address
    (held; SNV's first file still counts); SYT's e-mailed from its registered address (accepted);
    CHA's e-mailed by a stranger (held, nothing of CHA counts). The office mailbox on Dovecot, every
    message answered through a real SMTP server."""
    from cchc.loading.ingest import ingest_files
    from cchc.loading.mailbox import connect, ingest_mailbox
    from cchc.ops.replies import answer_messages
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    h1 = samples / "h1"
    folder = [
        landed(Path(shutil.copy(h1 / f"{u}_{PERIOD}.xlsx", tmp_path)), dt.date(2024, 6, 13)) for u in ("SCT", "SNV")
    ]
    assert {o.outcome for o in ingest_files(engine, ref, folder)} == {"accepted"}
    snv_again = edit(
        h1 / f"SNV_{PERIOD}.xlsx",
        tmp_path / "again" / f"SNV_{PERIOD} (2).xlsx",
        lambda wb: set_info(wb, "Ngày gửi", "14/06/2024"),
    )
    mails = [
        (SYT, "Sở Y tế gửi báo cáo 6 tháng", h1 / f"SYT_{PERIOD}.xlsx"),
        (STRANGER, "Gửi báo cáo giúp huyện Cát Hải", h1 / f"CHA_{PERIOD}.xlsx"),
        (LOOKALIKE, "Bổ sung số liệu <Sở Nội vụ>", snv_again),
    ]
    with ImapServer(tmp_path / "imap") as imap, SmtpServer() as smtp:
        for i, (sender, subject, path) in enumerate(mails):
            append(imap, letter(sender, subject, [(path.name, path.read_bytes())]), T0 + dt.timedelta(minutes=i))
        client = connect(imap.url)
        try:
            outcomes, _ = ingest_mailbox(engine, ref, client, "test-status")
        finally:
            client.logout()
        assert sorted(o.outcome for o in outcomes) == ["accepted", "held", "held"]
        conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port, "extra": {"from_email": "cchc@hp.gov.vn"}}
        monkeypatch.setenv("AIRFLOW_CONN_CCHC_SMTP", json.dumps(conn))
        assert answer_messages(engine, ref)["sent"] == 3 and len(smtp.messages) == 3
    return engine


def test_the_page_shows_how_each_file_came_and_what_waits_for_its_sender(by_mail):
    from sqlalchemy import text

    from cchc.common.clock import VN_TIME
    from cchc.loading.holds import HoldError
    from cchc.ops.status import FOLDER, MAILBOX, decide_hold, decided, render, status_page

    page = status_page(by_mail, PERIOD)
    by_unit = {r.unit_code: r for r in page.rows}
    assert page.counts == {
        "on_time": 3, "late": 0, "refused": 0, "held": 1, "missing": 249, "total": 253, "held_files": 2
    }  # fmt: skip
    sct, snv, syt, cha = (by_unit[u] for u in ("SCT", "SNV", "SYT", "CHA"))

    # The channel of each unit's latest file: the folder, or the message with its answer.
    assert sct.channel.kind == FOLDER and sct.latest_file_name == f"SCT_{PERIOD}.xlsx" and not sct.holds
    assert syt.status == "on_time" and syt.channel.kind == MAILBOX and syt.channel.sender == SYT
    assert syt.channel.subject == "Sở Y tế gửi báo cáo 6 tháng"
    assert syt.channel.received_at == T0.replace(tzinfo=None) + VN_TIME == syt.latest_received_at
    assert syt.channel.reply_outcome == "sent" and syt.channel.replied_at >= syt.channel.received_at

    # CHA: only a stranger's file, held: not accepted, not missing, nothing counted.
    assert (cha.status, cha.latest_status, cha.accepted_version, cha.channel.sender) == ("held", "held", None, STRANGER)
    (hold,) = cha.holds
    assert (hold.pending, hold.sender, hold.reason, hold.version) == (True, STRANGER, "unregistered", 1)
    # SNV: its folder file counts (on time); the look-alike's correction is v2, held.
    assert (snv.status, snv.latest_version, snv.latest_status, snv.accepted_version) == ("on_time", 2, "held", 1)
    assert snv.awaiting and snv.channel.sender == LOOKALIKE and snv.holds[0].version == 2
    with by_mail.connect() as conn:
        rates = conn.execute(text("SELECT held, refused, reported FROM v_completeness WHERE period_code = :p AND unit_type = 'district'"), {"p": PERIOD}).one()  # fmt: skip
    assert tuple(rates) == (1, 0, 1)

    # The filter "held" keeps every unit with a file to decide on.
    assert {r.unit_code for r in status_page(by_mail, PERIOD, status="held").rows} == {"CHA", "SNV"}
    assert {r.unit_code for r in status_page(by_mail, PERIOD, status="on_time").rows} == {"SCT", "SNV", "SYT"}
    with pytest.raises(ValueError, match="nowhere"):
        status_page(by_mail, PERIOD, status="nowhere")

    ops = render(page, user_name="nguyen.van.an", can_decide=True)
    for said in (
        "Chờ xác nhận người gửi", "held: sender to be confirmed", STRANGER, LOOKALIKE,
        "Địa chỉ này chưa đăng ký cho đơn vị", "Số liệu của tệp chưa được tính cho đến khi xác nhận",
        "Trong khi chờ, vẫn tính bản đã được tiếp nhận trước đó", "Hộp thư", "Thư mục",
        "«Sở Y tế gửi báo cáo 6 tháng»", "«Bổ sung số liệu &lt;Sở Nội vụ&gt;»", f"Gửi từ {EN}/ sent from</span>: <b class=\"sender\">{STRANGER}</b>",
        f"Thư đến {EN}/ received</span>: 14/06/2024 08:00", f"Đã trả lời {EN}/ answered</span>: {syt.channel.replied_at:%d/%m/%Y %H:%M}",
        f"(đã gửi {EN}/ sent</span>)", "Xác nhận / Confirm", "Từ chối / Reject", "2 tệp chờ xác nhận",
    ):  # fmt: skip
        assert said in ops, said
    assert f'<form method="post" class="decide" action="holds/{hold.receipt}/confirm">' in ops
    assert f'formaction="holds/{hold.receipt}/reject"' in ops and ops.count('class="decide"') == 2
    viewer = render(page, user_name="pham.minh.chau")
    assert '<form method="post"' not in viewer and "Cán bộ vận hành xác nhận hoặc từ chối" in viewer

    # Ops confirm CHA's file: it counts (it arrived before the deadline), with who confirmed and when.
    done = decide_hold(by_mail, hold.receipt, "confirm", "nguyen.van.an")
    assert (done.before, done.held.decision, done.held.decided_by) == (False, "confirmed", "nguyen.van.an")
    again = decide_hold(by_mail, hold.receipt, "reject", "pham.minh.chau")  # a second click: not decided again
    assert (again.before, again.held.decision, again.held.decided_by) == (True, "confirmed", "nguyen.van.an")
    decide_hold(by_mail, snv.holds[0].receipt, "reject", "nguyen.van.an")
    page = status_page(by_mail, PERIOD)
    by_unit = {r.unit_code: r for r in page.rows}
    assert (by_unit["CHA"].status, by_unit["CHA"].latest_status) == ("on_time", "accepted")
    snv = by_unit["SNV"]
    assert (snv.status, snv.latest_status, snv.awaiting) == ("on_time", "rejected", False)  # v1 still counts
    assert page.counts["held"] == page.counts["held_files"] == 0 and page.counts["on_time"] == 4
    html = render(page, can_decide=True, notice=decided(by_mail, hold.receipt))
    stamp = f"{done.held.decided_at:%d/%m/%Y %H:%M}"
    assert (
        "đã xác nhận người gửi, số liệu được tính" in html
        and f"Đã xác nhận {EN}/ confirmed</span>: nguyen.van.an, {stamp}" in html
    )
    assert f"Đã từ chối {EN}/ rejected</span>: nguyen.van.an" in html and 'class="decide"' not in html

    for bad in ("", "abc", "0" * 12, hold.receipt[:6]):
        with pytest.raises(HoldError):
            decide_hold(by_mail, bad, "confirm", "nguyen.van.an")
        assert decided(by_mail, bad) is None
    with pytest.raises(HoldError):
        decide_hold(by_mail, hold.receipt, "approve", "nguyen.van.an")
