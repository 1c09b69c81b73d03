"""The advice fits the finding (issue 21): a file that is not a workbook is told to send the form,
a workbook that is not the form to copy its figures into it, one with wrong cells to fix them.

Files of our own, put through the real intake (ingest_files on SQLite): a PDF and a text file named
as a real unit's workbook (`SNV_2024-H1 (2).xlsx`), an .ods as LibreOffice writes it, a workbook
without its figures sheet, one with a negative figure. Each is read back as a person gets it: the
feedback workbook (openpyxl), the unit's e-mail, the answer in the thread of the message it came in
(with the blank form attached), and the ops alert. A file whose unit cannot be read says "không xác
định được đơn vị" and shows no version (versions are counted per unit and period: its would mean
nothing).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from helpers import edit, set_figure, sheet
from openpyxl import load_workbook
from sqlalchemy import text

from cchc.loading.ingest import ingest_files
from cchc.ops.replies import build_reply
from cchc.ops.unit_mail import unit_mails
from cchc.reference.sample import generate
from cchc.warehouse.engine import prepare

CELLS = "sửa đúng các ô"  # the advice for wrong cells; a file that is not a workbook must never get it
NO_CELL = "không có ô nào để sửa"
UNIDENTIFIED = "không xác định được đơn vị"
TODAY = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date()  # unit addresses are dated


def ods_bytes() -> bytes:
    """An OpenDocument spreadsheet as LibreOffice saves one: the stored mimetype first, then the XML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
            '<table:table table:name="Thông tin chung"><table:table-row><table:table-cell><text:p>Mã đơn vị'
            "</text:p></table:table-cell><table:table-cell><text:p>SYT</text:p></table:table-cell>"
            "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>",
        )
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return buf.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory, ref):
    """One intake run of the five files; (engine, outcomes by case, the negative figure's cell, the
    run's data folder)."""
    base = tmp_path_factory.mktemp("advice")
    generate(base, weeks=False, units=["SYT", "SCT"], ref=ref)
    inbox = base / "in"
    inbox.mkdir()
    pdf = inbox / "SNV_2024-H1 (2).xlsx"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n")
    plain = inbox / "SNV_2024-H1 (3).xlsx"
    plain.write_bytes("Mã đơn vị;SNV\nKỳ báo cáo;2024-H1\ncomms.media_items;12\n".encode())
    ods = inbox / "SYT_2024-H1.ods"
    ods.write_bytes(ods_bytes())
    cell = {}
    cells = edit(
        base / "h1" / "SYT_2024-H1.xlsx",
        inbox / "SYT_2024-H1.xlsx",
        lambda wb: cell.setdefault("ref", set_figure(wb, "comms.media_items", -5)),
    )
    form = edit(
        base / "h1" / "SCT_2024-H1.xlsx", inbox / "SCT_2024-H1.xlsx", lambda wb: wb.remove(sheet(wb, "Số liệu"))
    )
    with pytest.MonkeyPatch.context() as mp:  # the feedback workbooks go to this module's folder
        mp.setenv("CCHC_DATA_DIR", str(base / "data"))
        engine = prepare(f"sqlite:///{base / 'warehouse.db'}", ref)
        outcomes = {o.file_name: o for o in ingest_files(engine, ref, [pdf, plain, ods, cells, form], run_id="r21")}
    cases = {"pdf": pdf, "text": plain, "ods": ods, "cells": cells, "form": form}
    return engine, {case: outcomes[path.name] for case, path in cases.items()}, cell["ref"], base / "data"


def test_each_file_is_refused_for_what_it_is(run):
    _, o, *_ = run
    found = {case: (x.outcome, x.findings, x.unit_code or "", x.period_code or "") for case, x in o.items()}
    assert found == {
        "pdf": ("rejected", ["FILE_NOT_XLSX"], "", ""),
        "text": ("rejected", ["FILE_NOT_XLSX"], "", ""),
        "ods": ("rejected", ["FILE_NOT_XLSX"], "", ""),
        "cells": ("rejected", ["VALUE_NEGATIVE"], "SYT", "2024-H1"),
        "form": ("rejected", ["SHEET_MISSING"], "SCT", "2024-H1"),
    }


def _feedback(outcome) -> dict:
    """The feedback workbook's heading block (label → value) and its finding rows."""
    ws = load_workbook(outcome.feedback).active
    head = {ws[f"A{r}"].value: ws[f"B{r}"].value for r in range(2, 7)}
    rows = [r for r in ws.iter_rows(min_row=8, values_only=True) if r[5]]
    return {"head": head, "rows": rows}


@pytest.mark.parametrize("case", ["pdf", "text", "ods"])
def test_a_file_that_is_not_a_workbook_is_told_to_send_the_form(run, case):
    _, o, *_ = run
    fb = _feedback(o[case])
    todo = fb["head"]["Việc cần làm"]
    assert NO_CELL in todo and CELLS not in todo.lower()
    # The form: its name's pattern (the unit is not known) and where the blank one comes from.
    assert "<mã đơn vị>_<kỳ>.xlsx" in todo and "Sở Nội vụ" in todo and "Excel Workbook (.xlsx)" in todo
    assert fb["head"]["Đơn vị"] == UNIDENTIFIED and fb["head"]["Kết quả"] == "BỊ TỪ CHỐI"
    detected = {"pdf": "PDF", "text": "csv/văn bản", "ods": "ods (LibreOffice Calc)"}[case]
    assert [(r[1], r[5]) for r in fb["rows"]] == [("Lỗi", "FILE_NOT_XLSX")] and detected in fb["rows"][0][4]


def test_a_workbook_that_is_not_the_form_is_told_to_copy_into_it_and_wrong_cells_to_fix_them(run):
    _, o, cell, _ = run
    form = _feedback(o["form"])
    todo = form["head"]["Việc cần làm"]
    assert "chép số liệu sang biểu mẫu SCT_2024-H1.xlsx" in todo and CELLS not in todo.lower()
    assert [r[5] for r in form["rows"]] == ["SHEET_MISSING"]
    cells = _feedback(o["cells"])
    assert cells["head"]["Việc cần làm"].startswith("Sửa đúng các ô nêu dưới đây")  # the table follows
    assert [(r[2], r[3], r[5]) for r in cells["rows"]] == [("Số liệu", cell, "VALUE_NEGATIVE")]
    assert cells["head"]["Đơn vị"].startswith("SYT – ")


def _section(body: str, file_name: str) -> str:
    """The part of an e-mail body about one file (from its numbered line to the next one)."""
    start = body.index(f"Tệp / file: {file_name}")
    nxt = body.find("Tệp / file: ", start + 1)
    return body[start : nxt if nxt > 0 else len(body)]


def test_the_units_mail_gives_each_file_its_advice(run, ref):
    engine, o, *_ = run
    mails, no_address = unit_mails([x.to_dict() for x in o.values()], ref, engine=engine)
    by_unit = {m.unit_code: m for m in mails}
    assert sorted(by_unit) == ["SCT", "SYT"] and no_address == [""]  # unidentified files: ops' alert
    syt = _section(by_unit["SYT"].body, "SYT_2024-H1.xlsx")
    assert "Việc cần làm / what to do: sửa đúng các ô nêu trên" in syt and "fix the cells listed" in syt
    sct = _section(by_unit["SCT"].body, "SCT_2024-H1.xlsx")
    assert "chép số liệu sang biểu mẫu SCT_2024-H1.xlsx" in sct and "Copy the figures into the form" in sct
    assert CELLS not in sct and "– phiên bản / version 1" in sct  # a known unit's version means something


def _reply(engine, ref, outcome, sender: str, folder: Path):
    """The answer to a message from `sender` carrying this one file (the row the mailbox stores)."""
    with engine.connect() as conn:
        status, unit, period, version = conn.execute(
            text("SELECT status, unit_code, period_code, version FROM submissions WHERE submission_id = :c"),
            {"c": outcome.checksum},
        ).one()
    row = ("k1", 1, outcome.file_name, None, outcome.checksum, True, None, None, status, unit, period, version)
    received = dt.datetime(2024, 7, 10, 2, 0)
    message = ("k1", "<m1@snv.haiphong.gov.vn>", sender, "", "Báo cáo CCHC 6 tháng", "", received, False)
    return build_reply(message, [row], ref, engine=engine, folder=folder)


def test_the_reply_to_a_non_workbook_attaches_the_blank_form_and_names_it(run, ref, tmp_path, monkeypatch):
    engine, o, _, data = run
    monkeypatch.setenv("CCHC_DATA_DIR", str(data))  # where the run wrote its feedback workbooks
    sender = ref.emails_on("SNV", TODAY)[0]
    reply = _reply(engine, ref, o["pdf"], sender, tmp_path)
    names = [name for name, _ in reply.attachments]
    form = next(n for n in names if n.startswith("SNV_"))  # the blank form of the sender's unit
    assert form.endswith(".xlsx") and (tmp_path / form).is_file()
    assert "Kết quả kiểm tra tệp SNV_2024-H1 (2).xlsx" in names  # the feedback workbook, named by the file
    part = _section(reply.body, "SNV_2024-H1 (2).xlsx")
    assert NO_CELL in part and f"biểu mẫu {form} (biểu mẫu trống đính kèm thư này)" in part
    assert "the blank form is attached to this e-mail" in part and CELLS not in part
    assert "BỊ TỪ CHỐI / REFUSED\n" in part and "– phiên bản / version" not in part  # its version means nothing
    # A wrong cell is answered with the cells to fix, and no form.
    cells = _reply(engine, ref, o["cells"], ref.emails_on("SYT", TODAY)[0], tmp_path / "x")
    assert "sửa đúng các ô nêu trên" in cells.body and [n for n, _ in cells.attachments if n.startswith("SYT_")] == []


def test_the_ops_alert_says_unit_not_identified_without_a_version_and_the_advice(run):
    from cchc.ops.notify import refused_files_message

    _, o, *_ = run
    body = refused_files_message([x.to_dict() for x in o.values()]).body
    lines = body.splitlines()
    pdf = next(i for i, line in enumerate(lines) if "SNV_2024-H1 (2).xlsx" in line)
    assert "không xác định được đơn vị / unit not identified" in lines[pdf]
    assert "phiên bản" not in lines[pdf] and "version" not in lines[pdf]
    after = "\n".join(lines[pdf : pdf + 4])
    assert NO_CELL in after and CELLS not in after
    syt = next(i for i, line in enumerate(lines) if "SYT_2024-H1.xlsx" in line)
    todo = "\n".join(lines[syt : syt + 4])  # the alert lists no cell: they are in the feedback workbook
    assert "phiên bản / version 1" in lines[syt] and "sửa đúng các ô nêu trong tệp phản hồi" in todo
