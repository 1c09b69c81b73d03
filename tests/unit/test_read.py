"""Reading workbooks as units send them."""

import unicodedata
from decimal import Decimal
from pathlib import Path

from helpers import edit, set_figure, sheet

from cchc.intake.read import read_workbook
from cchc.reference.form import FORM_VERSION


def _h1(samples: Path, unit: str) -> Path:
    return samples / "h1" / f"{unit}_2024-H1.xlsx"


def test_every_sample_reads_clean(samples):
    files = sorted((samples / "h1").glob("*.xlsx"))
    assert len(files) == 253
    subs = [read_workbook(f) for f in files]
    assert [s.file_name for s in subs if s.findings] == []
    assert {s.period_code for s in subs} == {"2024-H1"}
    assert {s.form_version for s in subs} == {FORM_VERSION}  # the current form: no version finding


def test_vietnamese_text_numbers_keep_their_meaning_and_their_cell(samples):
    sub = read_workbook(_h1(samples, "STTTT"))
    row = next(v for v in sub.values if v.code == "egov.online_services_full")
    assert (row.raw, row.value) == ("1.317", Decimal("1317"))
    assert row.sheet == "Số liệu" and row.cell[0] in "CE" and row.cell[1:].isdigit()
    snv = read_workbook(_h1(samples, "SNV"))
    sipas = next(v for v in snv.values if v.code == "index.sipas_pct")
    assert (sipas.raw, sipas.value) == ("88,90%", Decimal("88.90"))


def test_layout_quirks_are_read_through(samples, tmp_path):
    """Moved columns, headers without diacritics in NFD, extra sheets, sheets renamed in capitals."""

    def spoil(wb):
        ws = sheet(wb, "Số liệu")
        ws.insert_cols(1)  # everything shifts right by one column
        for row in ws.iter_rows(max_row=12):
            for c in row:
                if isinstance(c.value, str) and c.value in ("Mã chỉ tiêu", "Số liệu"):
                    c.value = unicodedata.normalize("NFD", c.value.upper())
        ws.title = "  SO LIEU "
        wb.create_sheet("Ghi chú thêm")["A1"] = "không liên quan"

    bad = edit(_h1(samples, "STP"), tmp_path / "STP_2024-H1.xlsx", spoil)
    sub = read_workbook(bad)
    assert sub.findings == []
    assert {v.code: v.value for v in sub.values}["inst.vbqppl_expired"] == 87


def test_signature_block_and_blank_rows_are_not_data(samples):
    sub = read_workbook(_h1(samples, "SNV"))
    assert all(v.code.count(".") == 1 for v in sub.values)
    assert len(sub.tasks) == len({t.task_code for t in sub.tasks})


def test_a_number_that_is_not_one_names_its_cell(samples, tmp_path):
    cell = {}
    bad = edit(
        _h1(samples, "SYT"),
        tmp_path / "SYT_2024-H1.xlsx",
        lambda wb: cell.setdefault("ref", set_figure(wb, "pakn.resolved", "mười hai")),
    )
    sub = read_workbook(bad)
    assert [(f.code, f.sheet, f.cell) for f in sub.findings] == [("NUMBER_INVALID", "Số liệu", cell["ref"])]
    assert "mười hai" in sub.findings[0].message_vi and "not a number" in sub.findings[0].message_en


def test_not_a_workbook(tmp_path):
    for name, data, code in [
        ("a.xlsx", b"", "FILE_EMPTY"),
        ("b.xlsx", b"%PDF-1.4 ...", "FILE_NOT_XLSX"),
        ("c.csv", "Mã đơn vị,SNV\n".encode(), "FILE_NOT_XLSX"),
        ("d.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "FILE_NOT_XLSX"),
        ("e.xlsx", b"PK\x03\x04" + b"\0" * 100, "FILE_UNREADABLE"),
    ]:
        p = tmp_path / name
        p.write_bytes(data)
        assert [f.code for f in read_workbook(p).findings] == [code], name


def test_missing_sheet(samples, tmp_path):
    bad = edit(_h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsx", lambda wb: wb.remove(sheet(wb, "Nhiệm vụ")))
    assert [f.code for f in read_workbook(bad).findings] == ["SHEET_MISSING"]


def test_hidden_rows_and_sheets_are_data_as_excel_sees_them(samples, tmp_path):
    """A hidden row is still summed by Excel, a hidden sheet still holds the unit's figures: both are read."""
    from helpers import row_of

    def spoil(wb):
        ws = sheet(wb, "Số liệu")
        ws.row_dimensions[row_of(ws, "inst.vbqppl_expired_full")].hidden = True
        ws.sheet_state = "hidden"
        wb.active = 0 if wb.worksheets[0] is not ws else 1

    bad = edit(_h1(samples, "STP"), tmp_path / "STP_2024-H1.xlsx", spoil)
    sub = read_workbook(bad)
    assert sub.findings == []
    assert {v.code: v.value for v in sub.values}["inst.vbqppl_expired_full"] == 66


def test_a_visible_sheet_wins_over_a_hidden_old_copy(samples, tmp_path):
    def spoil(wb):
        old = wb.copy_worksheet(sheet(wb, "Số liệu"))
        set_figure(wb, "inst.vbqppl_self_checked", 18)  # the visible sheet holds the current figure
        old.title = "SO LIEU"
        old.sheet_state = "hidden"
        wb.move_sheet(old, offset=-len(wb.worksheets) + 1)  # first in the workbook

    bad = edit(_h1(samples, "STP"), tmp_path / "STP_2024-H1.xlsx", spoil)
    sub = read_workbook(bad)
    assert {v.code: v.value for v in sub.values}["inst.vbqppl_self_checked"] == 18
