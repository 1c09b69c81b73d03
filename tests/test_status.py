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
        "on_time": 3, "late": 1, "refused": 1, "held": 0, "missing": 248, "total": 253, "held_files": 0,
        "flagged": 0, "unattributed": 0,
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
        "on_time": 3, "late": 0, "refused": 0, "held": 1, "missing": 249, "total": 253, "held_files": 2,
        "flagged": 0, "unattributed": 0,
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


# --- Issue 21: every problem on one page — files not tied to a unit, flagged units, the runs ---------

RUN = "manual__2024-06-25T03:00:00+00:00"  # an Airflow run of cchc_ingest (its id as Airflow names it)
MAIL_RUN = "cli-20240614T010000-mailbox"  # the `cchc` command's own run: Airflow has no page for it
BROKEN, UNKNOWN, NAMELESS = "SNV_2024-H1 (2).xlsx", "XYZ_2024-H1.xlsx", "bao cao.xlsx"
NAMELESS_AT = dt.datetime(2024, 6, 17, 6, 0, tzinfo=dt.UTC)  # 13:00 in Hanoi, after the folder's files


def _due_days() -> dict[str, int]:
    """Days after a period's window its report is due, per kind, as the office's deadlines say."""
    import csv

    from conftest import ROOT

    with open(ROOT / "include" / "reference" / "deadlines.csv", encoding="utf-8") as fh:
        return {row["period_kind"]: int(row["due_days"]) for row in csv.DictReader(fh)}


@pytest.fixture
def problems(warehouse_url, samples, ref, tmp_path):
    """One of each problem for 2024-H1: SNV and SCT on time (17/06), SXD on time but flagged (a figure
    left blank), STP late (25/06, after the 18/06 deadline), ADU01 refused (a negative figure), CHA
    held (e-mailed by a stranger), every other unit missing; and three files no unit's row can
    show — BROKEN, a web page saved under SNV's name (FILE_NOT_XLSX), UNKNOWN, a workbook for a unit
    code the registry lacks (UNIT_UNKNOWN), both dropped in the folder, and NAMELESS, a PDF renamed
    .xlsx, e-mailed by the stranger (received 17/06 13:00, after them). The folder's run is an
    Airflow run with Data Docs; the mailbox's, the command's own."""
    from cchc.checks.datadocs import docs_dir
    from cchc.loading.ingest import ingest_files
    from cchc.loading.mailbox import connect, ingest_mailbox
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    h1, inbox = samples / "h1", tmp_path / "inbox"
    inbox.mkdir()
    for unit in ("SNV", "SCT", "STP"):
        shutil.copy(h1 / f"{unit}_{PERIOD}.xlsx", inbox)
    edit(h1 / f"SXD_{PERIOD}.xlsx", inbox / f"SXD_{PERIOD}.xlsx", lambda wb: set_figure(wb, "comms.media_items", None))
    edit(h1 / f"ADU01_{PERIOD}.xlsx", inbox / f"ADU01_{PERIOD}.xlsx", lambda wb: set_figure(wb, "dossier.received", -5))
    edit(h1 / f"SCT_{PERIOD}.xlsx", inbox / UNKNOWN, lambda wb: set_info(wb, "Mã đơn vị", "XYZ"))
    (inbox / BROKEN).write_text("<html><body><table><tr><td>Sở Nội vụ</td></tr></table></body>", encoding="utf-8")
    for f in inbox.iterdir():
        landed(f, dt.date(2024, 6, 25) if f.name.startswith("STP_") else dt.date(2024, 6, 17))
    outcomes = {o.file_name: o.outcome for o in ingest_files(engine, ref, sorted(inbox.iterdir()), run_id=RUN)}
    assert outcomes[BROKEN] == outcomes[UNKNOWN] == outcomes[f"ADU01_{PERIOD}.xlsx"] == "rejected"
    assert outcomes[f"SXD_{PERIOD}.xlsx"] == "accepted_with_warnings"
    with ImapServer(tmp_path / "imap") as imap:
        cha = (h1 / f"CHA_{PERIOD}.xlsx").read_bytes()
        append(imap, letter(STRANGER, "Gửi báo cáo giúp huyện Cát Hải", [(f"CHA_{PERIOD}.xlsx", cha)]), T0)
        append(imap, letter(STRANGER, "Báo cáo", [(NAMELESS, b"%PDF-1.4\n%not a workbook\n")]), NAMELESS_AT)
        client = connect(imap.url)
        try:
            mailed, _ = ingest_mailbox(engine, ref, client, MAIL_RUN)
        finally:
            client.logout()
    assert sorted(o.outcome for o in mailed) == ["held", "rejected"]
    docs = docs_dir(RUN)  # as summarise writes them (tests/e2e/test_status_page.py: the real ones)
    (docs / "gx" / "chunk_000" / "validations" / "indicator_values").mkdir(parents=True)
    (docs / "index.html").write_text("<html><body>Kết quả kiểm tra dữ liệu</body></html>", encoding="utf-8")
    (docs / "files.csv").write_text("\ufeffTệp / file\r\n", encoding="utf-8")
    (docs / "gx" / "chunk_000" / "validations.json").write_text("{}", encoding="utf-8")
    (docs / "gx" / "chunk_000" / "validations" / "indicator_values" / "r.html").write_text(
        "<p>-5</p>", encoding="utf-8"
    )
    return engine


def test_every_problem_of_the_period_on_one_page(problems, ref):
    from cchc.ops.status import FILTERS, as_dict, feedback_download, status_page

    expected = {u.code for u in ref.units if u.valid_from <= dt.date(2024, 6, 14) and (u.valid_to is None or u.valid_to >= dt.date(2024, 6, 14))}  # fmt: skip
    on_time, late, refused, held, flagged = {"SNV", "SCT", "SXD"}, {"STP"}, {"ADU01"}, {"CHA"}, {"SXD"}
    missing = expected - on_time - late - refused - held
    page = status_page(problems)
    assert page.period_code == PERIOD
    assert page.counts == {
        "total": len(expected), "on_time": len(on_time), "late": len(late), "refused": len(refused),
        "held": len(held), "missing": len(missing), "flagged": len(flagged), "held_files": len(held),
        "unattributed": 3,
    }  # fmt: skip
    assert sum(page.counts[s] for s in ("on_time", "late", "refused", "held", "missing")) == page.counts["total"]

    # Each filter keeps exactly its units; "unattributed" keeps only the files.
    def units(status: str) -> set[str]:
        return {r.unit_code for r in status_page(problems, PERIOD, status=status).rows}

    want = {"on_time": on_time, "late": late, "refused": refused, "held": held, "missing": missing}
    assert {s: units(s) for s in want} == want and units("flagged") == flagged
    only = status_page(problems, PERIOD, status="unattributed")
    assert only.rows == [] and len(only.files) == 3 and only.shows_files and not only.shows_units
    assert status_page(problems, PERIOD, status="missing").shows_files is False
    assert FILTERS == ("on_time", "late", "refused", "held", "missing", "flagged", "unattributed")

    # The files no unit's row shows: name, arrival (Hanoi), channel, why, feedback, how tied.
    files = {f.file_name: f for f in page.files}
    assert list(files) == [BROKEN, UNKNOWN, NAMELESS]  # in order of arrival (the first two: the same noon, by name)
    broken, unknown, nameless = files[BROKEN], files[UNKNOWN], files[NAMELESS]
    assert (broken.unit_code, broken.period_code, broken.tied_by, broken.source) == ("", "", "name", "folder")
    assert broken.arrived_at == dt.datetime(2024, 6, 17, 12, 0)  # landed() sets noon, Hanoi time
    assert [p.code for p in broken.findings] == ["FILE_NOT_XLSX"] and "HTML" in broken.findings[0].message_en
    assert "không phải bảng tính Excel" in broken.findings[0].message_vi
    assert (unknown.unit_code, unknown.period_code, unknown.tied_by) == ("XYZ", PERIOD, "content")
    assert "UNIT_UNKNOWN" in [p.code for p in unknown.findings]
    assert (nameless.source, nameless.sender, nameless.subject) == ("mailbox", STRANGER, "Báo cáo")
    assert nameless.tied_by == "window"
    assert nameless.arrived_at == dt.datetime(2024, 6, 17, 13, 0)
    assert (broken.run_id, nameless.run_id) == (RUN, MAIL_RUN)
    assert all(f.feedback and feedback_download(f.feedback) for f in page.files)

    # The unit rows link the run that judged their latest file.
    by_unit = {r.unit_code: r for r in page.rows}
    assert by_unit["SXD"].flagged and by_unit["SXD"].status == "on_time" and not by_unit["SNV"].flagged
    assert by_unit["ADU01"].run_id == RUN and by_unit["CHA"].run_id == MAIL_RUN and by_unit["VPUB"].run_id == ""
    runs = {r.run_id: r for r in page.runs}
    assert set(runs) == {RUN, MAIL_RUN}
    assert (runs[RUN].files, runs[RUN].refused, runs[RUN].flagged) == (7, 3, 1)
    assert (runs[MAIL_RUN].files, runs[MAIL_RUN].refused, runs[MAIL_RUN].held) == (2, 1, 1)
    assert runs[RUN].in_airflow and not runs[MAIL_RUN].in_airflow and runs[MAIL_RUN].docs == ""
    assert runs[RUN].airflow_path() == "/dags/cchc_ingest/runs/manual__2024-06-25T03%3A00%3A00%2B00%3A00"
    assert runs[RUN].docs_path() == "/cchc/datadocs/manual__2024-06-25T03_00_00_00_00/index.html"

    # The same facts for a script: English keys, Hanoi times with their offset, links from the root.
    got = as_dict(page)
    assert got["counts"] == page.counts and len(got["units"]) == len(expected) and len(got["unattributed"]) == 3
    b = next(f for f in got["unattributed"] if f["file_name"] == BROKEN)
    assert b["received_at"] == "2024-06-17T12:00:00+07:00" and b["channel"] == "folder" and b["tied_by"] == "name"
    assert b["findings"][0]["code"] == "FILE_NOT_XLSX" and b["feedback"] == f"/cchc/feedback/{broken.feedback}"
    assert b["airflow_run"] == runs[RUN].airflow_path() and b["data_docs"] == runs[RUN].docs_path()
    sxd = next(u for u in got["units"] if u["unit_code"] == "SXD")
    assert (sxd["status"], sxd["flagged"], sxd["findings"][0]["code"]) == ("on_time", True, "VALUE_MISSING")


def test_a_file_that_says_no_period_shows_where_its_day_of_receipt_was_collected(problems, ref):
    """NAMELESS says no unit or period, in it or in its name: it shows under every period collecting
    reports on the day it was received (17/06/2024): from the period's first day to its deadline."""
    from sqlalchemy import text

    from cchc.common.periods import parse_period
    from cchc.ops.status import periods, status_page, windows
    from cchc.ops.unattributed import unattributed

    due_days, day = _due_days(), dt.date(2024, 6, 17)
    with problems.connect() as conn:
        codes = [c for (c,) in conn.execute(text("SELECT period_code FROM ref_periods"))]
    open_then = set()
    for code in codes:
        p = parse_period(code)
        if p.start <= day <= p.end + dt.timedelta(days=due_days[p.kind]):
            open_then.add(code)
    assert {"2024-H1", "2024-Q2", "2024-M06", "2024-W24", "2024-W25", "2024-9M", "2024-Y"} <= open_then
    assert "2024-W23" not in open_then and "2024-M05" not in open_then  # due 11/06 and 17/05
    loose = {f.file_name: f for f in unattributed(problems, windows(periods(problems)))}
    assert set(loose[NAMELESS].periods) == open_then
    assert loose[BROKEN].periods == loose[UNKNOWN].periods == (PERIOD,)  # its name; its form
    assert NAMELESS in {f.file_name for f in status_page(problems, "2024-W24").files}
    assert status_page(problems, "2024-W23").files == []


def test_the_page_links_filters_files_runs_and_data_docs(problems):
    from cchc.ops.status import datadocs_download, datadocs_root, render, status_page

    page = status_page(problems)
    html = render(page, user_name="nguyen.van.an")
    # Counters are links carrying the filter in the URL (no script needed), each with its count.
    for status, n in page.counts.items():
        if status not in ("total", "held_files"):
            assert f'<a href="?period={PERIOD}&amp;status={status}"><b>{n}</b>' in html, status
    assert html.count('<tr class="loose"') == 3 and html.count('<tr class="unit"') == page.counts["total"]
    for said in (BROKEN, "FILE_NOT_XLSX", "Tệp không phải bảng tính Excel", "Not an .xlsx workbook",
                 "kỳ ghi trong tên tệp", "Hộp thư", STRANGER, "17/06/2024 12:00", "+07:00",
                 "Tệp không xác định được đơn vị", "Trong tệp ghi: đơn vị XYZ, kỳ 2024-H1", "Có lưu ý"):  # fmt: skip
        assert said in html, said
    broken = next(f for f in page.files if f.file_name == BROKEN)
    assert f'href="feedback/{broken.feedback}" download' in html
    airflow = '../dags/cchc_ingest/runs/manual__2024-06-25T03%3A00%3A00%2B00%3A00" target="_top"'
    assert f'<a class="airflow-run" href="{airflow}' in html
    assert 'href="datadocs/manual__2024-06-25T03_00_00_00_00/index.html" target="_blank"' in html
    assert "cli-20240614T010000-mailbox" in html and "/runs/cli-" not in html  # the command's run: no Airflow page
    filtered = render(status_page(problems, PERIOD, status="missing"))
    assert '<tr class="loose"' not in filtered and 'class="missing on"' in filtered
    assert filtered.count('<tr class="unit"') == page.counts["missing"]

    # Data Docs served from their folder only: pages, stylesheets, pictures of a run's docs.
    index = datadocs_download("manual__2024-06-25T03_00_00_00_00/index.html")
    assert index and index.media_type == "text/html; charset=utf-8" and "Kết quả kiểm tra" in index.path.read_text()
    assert datadocs_download("manual__2024-06-25T03_00_00_00_00/gx/chunk_000/validations/indicator_values/r.html")
    listing = datadocs_download("manual__2024-06-25T03_00_00_00_00/files.csv")  # every file's verdict
    assert listing and listing.media_type == "text/csv; charset=utf-8"
    (datadocs_root() / "x.html").write_text("top")
    (datadocs_root().parent / "secret.html").write_text("secret")
    (datadocs_root() / "manual__2024-06-25T03_00_00_00_00" / "raw.json").write_text("{}")
    for trick in ("../secret.html", "x.html", "index.html", "manual__2024-06-25T03_00_00_00_00/../../secret.html",
                  "/etc/passwd", "manual__2024-06-25T03_00_00_00_00/raw.json", "manual__2024-06-25T03_00_00_00_00",
                  "manual__2024-06-25T03_00_00_00_00/gx/chunk_000/validations.json",
                  ".hidden/index.html", "manual__2024-06-25T03_00_00_00_00\\index.html", "", "missing/index.html"):  # fmt: skip
        assert datadocs_download(trick) is None, trick


def test_cchc_status_tells_the_same(problems, warehouse_url, capsys):
    from cchc.cli import main
    from cchc.ops.status import as_dict, status_page

    assert main(["--warehouse", warehouse_url, "status", "--period", PERIOD, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got == json.loads(json.dumps(as_dict(status_page(problems, PERIOD))))
    assert main(["--warehouse", warehouse_url, "status", "--period", PERIOD, "--status", "late"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Tình hình báo cáo / reporting status — Kỳ 2024-H1")
    assert "1 Trễ hạn (late)" in out[2] and "3 Tệp không rõ đơn vị (files not tied to a unit)" in out[2]
    start = out.index("Đơn vị (units): 1")
    assert out[start + 1].split()[:3] == ["STP", "Trễ", "hạn"] and out[start + 2] == ""
    assert any(line.startswith(f"  {RUN}") and "Airflow: /dags/cchc_ingest/runs/" in line for line in out)
    assert main(["--warehouse", warehouse_url, "status", "--period", PERIOD, "--status", "unattributed"]) == 0
    table = capsys.readouterr().out
    assert BROKEN in table and NAMELESS in table and "FILE_NOT_XLSX" in table and "kỳ ghi trong tên tệp" in table
    assert main(["--warehouse", warehouse_url, "status", "--period", "2031-H1"]) == 2
    assert main(["--warehouse", warehouse_url, "status", "--period", PERIOD, "--status", "nowhere"]) == 2


def test_before_the_first_run_the_page_says_the_warehouse_is_not_set_up(ref, tmp_path):
    """A new deployment: the page explains (503) instead of failing on missing tables; set up, it shows."""
    from cchc.ops.status import not_set_up
    from cchc.warehouse.engine import get_engine, prepare

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    waiting = not_set_up(get_engine(url))
    assert waiting and "Kho dữ liệu chưa được khởi tạo" in waiting and "not set up yet" in waiting
    assert not_set_up(prepare(url, ref)) is None
