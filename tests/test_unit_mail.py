"""The unit hears back: one e-mail per unit after a run, through a real SMTP server started here.

Refused and flagged units get what to fix with their feedback workbook attached (its Vietnamese
name intact); accepted units get a receipt (checksum prefix) and version; repeats get the refusal
again or "already received as version N". Addresses are dated reference data. Without the
connection the e-mails are logged; a unit without an address is logged for ops; a refused mailbox
or a server that is down is reported and does not stop the other units. Then the same through
`airflow dags test cchc_ingest`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from conftest import ROOT, airflow_command_env
from helpers import edit, set_figure
from openpyxl import load_workbook
from smtp_server import SmtpServer
from sqlalchemy import text

from cchc.common.config import reference_dir
from cchc.loading.ingest import ingest_files
from cchc.ops.unit_mail import XLSX_TYPE, run_repeats, tell_units
from cchc.reference.registry import load_reference
from cchc.warehouse.engine import prepare

TODAY = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date()
OPS = "vanhanh@haiphong.gov.vn"


def contacts_csv(folder: Path | None = None) -> dict[str, list[tuple[str, str, str]]]:
    """unit → [(email, valid_from, valid_to)], read straight from the CSV (not through cchc)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    with open((folder or reference_dir()) / "unit_contacts.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["unit_code"], []).append((r["email"], r["valid_from"], r["valid_to"]))
    return out


def addresses(unit: str, day: dt.date = TODAY) -> list[str]:
    return [
        e for e, start, end in contacts_csv()[unit] if start <= day.isoformat() and (not end or day.isoformat() <= end)
    ]


def connection_env(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"to": OPS, "from_email": "cchc@haiphong.gov.vn"},
        }
    )


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_CCHC_SMTP", connection_env(server.port))
        yield server


@pytest.fixture
def run_files(samples, tmp_path):
    """SNV as sampled (accepted), SCT with a figure left blank (flagged), SYT with a negative figure
    (refused) and SYT's good file in the same run (one e-mail, two files)."""
    h1 = samples / "h1"
    cells = {}
    flagged = edit(
        h1 / "SCT_2024-H1.xlsx",
        tmp_path / "in" / "SCT_2024-H1.xlsx",
        lambda wb: cells.setdefault("SCT", set_figure(wb, "comms.media_items", None)),
    )
    refused = edit(
        h1 / "SYT_2024-H1.xlsx",
        tmp_path / "in" / "SYT_2024-H1_ban_loi.xlsx",
        lambda wb: cells.setdefault("SYT", set_figure(wb, "pakn.resolved", -1)),
    )
    good = [Path(shutil.copy(h1 / f"{u}_2024-H1.xlsx", tmp_path / "in" / f"{u}_2024-H1.xlsx")) for u in ("SNV", "SYT")]
    return [refused, good[1], good[0], flagged], cells


def by_recipient(messages) -> dict[str, tuple[list[str], object]]:
    """First recipient → (all recipients, parsed message), unit e-mails only (ops alerts left out)."""
    return {rcpts[0]: (rcpts, mail) for _, rcpts, mail in messages if OPS not in rcpts}


def receipt_time(engine, checksum: str) -> str:
    with engine.connect() as conn:
        at = conn.execute(
            text("SELECT MAX(received_at) FROM file_receipts WHERE checksum = :c"), {"c": checksum}
        ).scalar_one()
    at = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
    return f"{at + dt.timedelta(hours=7):%d/%m/%Y %H:%M}"


def xlsx_parts(mail) -> list:
    return [p for p in mail.iter_attachments()]


def test_contacts_are_dated_reference_data_in_the_warehouse(ref, warehouse_url):
    units = {u.code for u in ref.units}
    rows = contacts_csv()
    assert set(rows) == units  # every unit of the registry has an address (placeholders for now)
    for code in units:
        assert ref.emails_on(code, dt.date(2024, 6, 30)) == addresses(code, dt.date(2024, 6, 30)) != []
        assert ref.emails_on(code, TODAY) == addresses(code) != []
    assert len(ref.emails_on("SNV", TODAY)) == 2  # several addresses for one unit
    # An address is dated like the registry: An Dương's changes when it became a quận (2025-01-01).
    assert ref.emails_on("ADU", dt.date(2024, 12, 31)) != ref.emails_on("ADU", dt.date(2025, 1, 1))
    assert ref.emails_on("ADU", dt.date(2019, 12, 31)) == []

    engine = prepare(warehouse_url, ref)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT unit_code, email, valid_from, valid_to FROM ref_unit_contacts")).all()
        snv = conn.execute(
            text(
                "SELECT email FROM ref_unit_contacts WHERE unit_code = 'SNV' AND valid_from <= :d "
                "AND (valid_to IS NULL OR valid_to >= :d) ORDER BY email"
            ),
            {"d": TODAY},
        ).scalars()
        assert sorted(snv) == sorted(addresses("SNV"))
    assert len(stored) == sum(len(v) for v in rows.values())


def test_a_bad_address_in_the_contacts_file_is_refused_with_a_clear_message(tmp_path):
    folder = tmp_path / "ref"
    shutil.copytree(reference_dir(), folder)
    with open(folder / "unit_contacts.csv", "a", encoding="utf-8") as fh:
        fh.write("SNV,snv haiphong.gov.vn,2026-01-01,\n")
    with pytest.raises(ValueError, match="không phải địa chỉ e-mail / is not an e-mail address"):
        load_reference(str(folder))


def test_refused_flagged_and_accepted_units_hear_back(smtp, ref, run_files, sqlite_url, capsys):
    files, cells = run_files
    engine = prepare(sqlite_url, ref)
    outcomes = {o.file_name: o for o in ingest_files(engine, ref, files, run_id="r1")}
    assert [outcomes[f.name].outcome for f in files] == ["rejected", "accepted", "accepted", "accepted_with_warnings"]

    counts = tell_units([o.to_dict() for o in outcomes.values()], ref, engine=engine)
    assert (counts["sent"], counts["logged"], counts["failed"], counts["no_address"]) == (3, 0, 0, 0)
    mails = by_recipient(smtp.messages)
    assert len(smtp.messages) == 3  # one per unit: SYT's two files make one e-mail
    for unit in ("SNV", "SYT", "SCT"):  # the addresses valid today in include/reference/unit_contacts.csv
        assert mails[addresses(unit)[0]][0] == addresses(unit)
    assert len(addresses("SNV")) == 2
    printed = capsys.readouterr().out
    assert {line.split("\t")[:2][0] for line in printed.splitlines() if "\tsent\t" in line} == {"SNV", "SYT", "SCT"}

    # Accepted: an acknowledgement with the receipt, the version, unit, period, file name, time received.
    snv = outcomes["SNV_2024-H1.xlsx"]
    _, mail = mails[addresses("SNV")[0]]
    assert mail["Subject"] == "[CCHC] Sở Nội vụ (SNV): Đã tiếp nhận báo cáo / report received"
    assert "cchc@haiphong.gov.vn" in mail["From"]
    body = mail.get_body().get_content()
    assert f"Mã biên nhận / receipt: {snv.checksum[:12]} " in body and snv.checksum[12:20] not in body
    assert "ĐƯỢC TIẾP NHẬN / ACCEPTED – phiên bản / version 1" in body
    assert "Kính gửi / To: Sở Nội vụ (SNV)" in body and "SNV_2024-H1.xlsx" in body
    assert "6 tháng đầu năm 2024 (2024-H1)" in body
    assert f"Thời gian nhận / received: {receipt_time(engine, snv.checksum)} (giờ Việt Nam" in body
    assert xlsx_parts(mail) == []

    # Refused (and the good file of the same run): what to fix, where, and the workbook attached.
    bad, good = outcomes["SYT_2024-H1_ban_loi.xlsx"], outcomes["SYT_2024-H1.xlsx"]
    _, mail = mails[addresses("SYT")[0]]
    assert mail["Subject"] == (
        "[CCHC] Sở Y tế (SYT): Báo cáo bị từ chối – cần sửa và gửi lại / report refused: "
        "please fix and resend (2 tệp / 2 files)"
    )
    body = mail.get_body().get_content()
    with engine.connect() as conn:
        ((msg_vi, msg_en),) = conn.execute(
            text("SELECT message_vi, message_en FROM findings WHERE submission_id = :s AND code = 'VALUE_NEGATIVE'"),
            {"s": bad.checksum},
        ).all()
    where = f"trang tính / sheet 'Số liệu', ô / cell {cells['SYT']}"
    assert f"[Lỗi / error] {where}: {msg_vi} / {msg_en} (VALUE_NEGATIVE)" in body
    assert body.index("1. Tệp / file: SYT_2024-H1_ban_loi.xlsx") < body.index("2. Tệp / file: SYT_2024-H1.xlsx")
    assert f"Mã biên nhận / receipt: {good.checksum[:12]}" in body  # the accepted one is acknowledged too
    assert "sửa đúng các ô nêu trên" in body
    (part,) = xlsx_parts(mail)
    assert part.get_filename() == f"Kết quả kiểm tra SYT 2024-H1 phiên bản {bad.version}.xlsx"
    assert (part.get_content_maintype(), part.get_content_subtype()) == XLSX_TYPE
    assert part.get_content() == Path(bad.feedback).read_bytes()
    ws = load_workbook(BytesIO(part.get_content())).active
    assert ws.title == "Kết quả kiểm tra" and "BỊ TỪ CHỐI" in ws["B5"].value

    # Flagged: accepted, what to check, its workbook attached.
    sct = outcomes["SCT_2024-H1.xlsx"]
    _, mail = mails[addresses("SCT")[0]]
    assert mail["Subject"].startswith("[CCHC] Sở Công Thương (SCT): Đã tiếp nhận báo cáo, có lưu ý cần kiểm tra")
    body = mail.get_body().get_content()
    assert f"[Lưu ý / warning] trang tính / sheet 'Số liệu', ô / cell {cells['SCT']}:" in body
    assert "(VALUE_MISSING)" in body and f"receipt: {sct.checksum[:12]}" in body
    (part,) = xlsx_parts(mail)
    assert part.get_content() == Path(sct.feedback).read_bytes()
    assert "ĐƯỢC TIẾP NHẬN, có lưu ý" in load_workbook(BytesIO(part.get_content())).active["B5"].value


def test_repeats_get_the_refusal_again_or_already_received(smtp, ref, run_files, sqlite_url, tmp_path):
    files, _ = run_files
    engine = prepare(sqlite_url, ref)
    first = {o.file_name: o for o in ingest_files(engine, ref, files, run_id="r1")}
    again = []
    for src, name in ((files[0], "SYT gửi lại.xlsx"), (files[2], "SNV_2024-H1 (1).xlsx")):
        again.append(tmp_path / "again" / name)
        again[-1].parent.mkdir(exist_ok=True)
        again[-1].write_bytes(src.read_bytes())
    repeats = ingest_files(engine, ref, again, run_id="r2")
    assert [o.outcome for o in repeats] == ["rejected", "duplicate"]
    # The DAG's load tasks never see repeats (its receive task answers them): found by the run's receipts.
    found = run_repeats(engine, ref, "r2", [])
    assert sorted((o["file_name"], o["outcome"], o["version"]) for o in found) == sorted(
        (o.file_name, o.outcome, o.version) for o in repeats
    )
    assert run_repeats(engine, ref, "r2", found) == []

    counts = tell_units(found, ref, engine=engine)
    assert counts["sent"] == 2
    mails = by_recipient(smtp.messages)
    _, syt = mails[addresses("SYT")[0]]
    body = syt.get_body().get_content()
    assert "bị từ chối" in syt["Subject"] and "SYT gửi lại.xlsx" in body and "giống hệt tệp đã nhận" in body
    assert "(VALUE_NEGATIVE)" in body
    (part,) = xlsx_parts(syt)
    assert part.get_content() == Path(first["SYT_2024-H1_ban_loi.xlsx"].feedback).read_bytes()
    _, snv = mails[addresses("SNV")[0]]
    assert snv["Subject"] == "[CCHC] Sở Nội vụ (SNV): Báo cáo đã được nhận trước đây / report already received"
    body = snv.get_body().get_content()
    assert "Already received as version 1 of unit SNV for period 2024-H1" in body and xlsx_parts(snv) == []
    assert first["SNV_2024-H1.xlsx"].checksum[:12] in body


def test_without_the_connection_each_email_is_logged(monkeypatch, caplog, ref, run_files, sqlite_url):
    monkeypatch.delenv("AIRFLOW_CONN_CCHC_SMTP", raising=False)
    files, _ = run_files
    engine = prepare(sqlite_url, ref)
    outcomes = [o.to_dict() for o in ingest_files(engine, ref, files, run_id="r1")]
    with caplog.at_level(logging.WARNING, logger="cchc.ops.unit_mail"):
        counts = tell_units(outcomes, ref, engine=engine)
    assert (counts["sent"], counts["logged"], counts["failed"]) == (0, 3, 0)
    logged = [r.getMessage() for r in caplog.records if r.name == "cchc.ops.unit_mail"]
    assert len(logged) == 3
    syt = next(m for m in logged if "(SYT)" in m)
    assert ", ".join(addresses("SYT")) in syt and "Báo cáo bị từ chối – cần sửa và gửi lại" in syt
    assert next(o["feedback"] for o in outcomes if o["file_name"] == "SYT_2024-H1_ban_loi.xlsx") in syt


def test_a_unit_without_an_address_today_is_logged_for_ops_and_the_others_are_told(
    smtp, run_files, sqlite_url, tmp_path, caplog
):
    folder = tmp_path / "ref"
    shutil.copytree(reference_dir(), folder)
    rows = (folder / "unit_contacts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    # SCT's address ended yesterday (the office closed it and has not entered the new one yet).
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    (folder / "unit_contacts.csv").write_text(
        "".join(r.replace(",2020-01-01,\n", f",2020-01-01,{yesterday}\n") if r.startswith("SCT,") else r for r in rows),
        encoding="utf-8",
    )
    ref = load_reference(str(folder))
    files, _ = run_files
    engine = prepare(sqlite_url, ref)
    outcomes = [o.to_dict() for o in ingest_files(engine, ref, files, run_id="r1")]
    with caplog.at_level(logging.WARNING, logger="cchc.ops.unit_mail"):
        counts = tell_units(outcomes, ref, engine=engine)
    assert (counts["sent"], counts["no_address"], counts["no_address_units"], counts["failed"]) == (2, 1, ["SCT"], 0)
    assert "SCT\tno_address\tđơn vị chưa có địa chỉ e-mail hợp lệ hôm nay" in caplog.text
    assert "no e-mail address valid today" in caplog.text
    assert set(by_recipient(smtp.messages)) == {addresses("SNV")[0], addresses("SYT")[0]}
    # Yesterday it had one: the dates decide.
    assert tell_units(outcomes, ref, engine=engine, on=TODAY - dt.timedelta(days=1))["no_address"] == 0


def test_a_refused_mailbox_fails_that_unit_only_and_is_reported(monkeypatch, ref, run_files, sqlite_url, caplog):
    files, _ = run_files
    engine = prepare(sqlite_url, ref)
    outcomes = [o.to_dict() for o in ingest_files(engine, ref, files, run_id="r1")]
    (syt,) = addresses("SYT")
    snv_second = addresses("SNV")[1]
    with SmtpServer(refuse={syt, snv_second}) as server:  # `550` to RCPT for these two mailboxes
        monkeypatch.setenv("AIRFLOW_CONN_CCHC_SMTP", connection_env(server.port))
        with caplog.at_level(logging.WARNING, logger="cchc.ops.unit_mail"):
            counts = tell_units(outcomes, ref, engine=engine)
    assert (counts["sent"], counts["failed"], counts["failed_units"]) == (2, 1, ["SYT"])
    assert counts["refused_addresses"] == [snv_second]  # SNV was told at its other address
    delivered = [rcpts for _, rcpts, _ in server.messages]  # what the server took: 550 → not taken
    assert [addresses("SNV")[0]] in delivered and addresses("SCT") in delivered
    assert not any(set(rcpts) & server.refuse for rcpts in delivered)
    assert "SYT\tfailed" in caplog.text and "SMTPRecipientsRefused" in caplog.text
    assert (
        "máy chủ thư từ chối mọi địa chỉ của đơn vị / the mail server refused every address of the unit" in caplog.text
    )
    # Ops are told which unit was not (their alert goes through the same server, to the connection's `to`).
    (ops,) = [m for _, rcpts, m in server.messages if rcpts == [OPS]]
    assert "1 đơn vị chưa nhận được thư kết quả" in ops["Subject"] and "SYT" in ops.get_body(("plain",)).get_content()


def test_a_server_that_is_down_fails_every_unit_without_raising(monkeypatch, ref, run_files, sqlite_url, caplog):
    files, _ = run_files
    engine = prepare(sqlite_url, ref)
    outcomes = [o.to_dict() for o in ingest_files(engine, ref, files, run_id="r1")]
    with SmtpServer() as server:
        port = server.port  # a port nothing listens on once it is closed
    monkeypatch.setenv("AIRFLOW_CONN_CCHC_SMTP", connection_env(port))
    with caplog.at_level(logging.WARNING, logger="cchc.ops.unit_mail"):
        counts = tell_units(outcomes, ref, engine=engine)
    assert (counts["sent"], counts["failed"], sorted(counts["failed_units"])) == (0, 3, ["SCT", "SNV", "SYT"])
    assert "ConnectionRefusedError" in caplog.text
    assert "không kết nối được máy chủ thư" in caplog.text and "could not reach the mail server" in caplog.text
    assert "ops alert not sent" in caplog.text  # and the alert to ops, through the same server, is logged


@pytest.mark.e2e
def test_airflow_run_emails_the_units_then_a_repeat_alone(samples, run_files, tmp_path):
    """`airflow dags test cchc_ingest` with AIRFLOW_CONN_CCHC_SMTP (JSON) pointing at the test server."""
    files, _ = run_files
    airflow = str(Path(sys.executable).with_name("airflow"))
    data = tmp_path / "data"
    env = airflow_command_env(tmp_path / "airflow", data, f"sqlite:///{data / 'warehouse.db'}")
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))  # the DAGs import plugins/cchc_assets.py
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    landing = data / "landing"
    landing.mkdir(parents=True)

    def run(server) -> str:
        out = subprocess.run(
            [airflow, "dags", "test", "cchc_ingest"],
            capture_output=True,
            text=True,
            env={**env, "AIRFLOW_CONN_CCHC_SMTP": connection_env(server.port)},
        )
        log = out.stdout + out.stderr
        assert out.returncode == 0, log[-4000:]
        finished = [line for line in log.splitlines() if "DagRun Finished" in line]
        assert finished and "state=success" in finished[-1], log[-4000:]
        return log

    with SmtpServer() as server:
        for f in files:
            shutil.copy(f, landing / f.name)
        log = run(server)
        mails = by_recipient(server.messages)
        assert set(mails) == {addresses(u)[0] for u in ("SNV", "SYT", "SCT")}, log[-4000:]
        assert mails[addresses("SNV")[0]][0] == addresses("SNV")
        assert "Thư cho đơn vị / unit e-mails: 3 đã gửi (sent)" in log
        feedback = sorted((data / "outputs" / "feedback").glob("SYT_2024-H1_*_ket_qua_kiem_tra.xlsx"))
        (part,) = xlsx_parts(mails[addresses("SYT")[0]][1])
        assert part.get_content() in [f.read_bytes() for f in feedback]

    with SmtpServer() as server:  # the refused file alone again: no load task runs, the unit still hears back
        shutil.copy(files[0], landing / "SYT_2024-H1_gui_lai.xlsx")
        log = run(server)
        ((rcpts, mail),) = by_recipient(server.messages).values()
        assert rcpts == addresses("SYT") and "bị từ chối" in mail["Subject"]
        assert "SYT_2024-H1_gui_lai.xlsx" in mail.get_body().get_content() and len(xlsx_parts(mail)) == 1
