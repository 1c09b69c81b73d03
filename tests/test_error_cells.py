"""Excel error values (#REF!, #DIV/0! …) where a figure, a date or an info is due are refused with
CELL_ERROR_VALUE, naming the sheet, the cell and the error shown: never read as blank.

python-calamine 0.9.1 returns an error cell (`t="e"`) as '' — the same as a blank — and raises
("Unsupported cell error value") on a #SPILL! or #CALC! error cell, which failed the whole file as
unreadable. The first test pins those facts (a reader upgrade that changes them shows there); the
reader's answers must hold whatever the library does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import edit, set_figure, set_info, set_task

from cchc.common.findings import EXCEL_ERRORS
from cchc.intake.read import read_workbook

ERRORS = ["#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"]
MARK = 987654321  # a placeholder figure, rewritten into an error cell in the sheet XML


def as_error_cell(src: Path, dst: Path, shown: str) -> Path:
    """Rewrite the cell holding MARK as an error cell, as Excel stores one: <c t="e"><v>#REF!</v></c>."""
    pattern = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*?)(?: t="n")?><v>%d</v></c>' % MARK)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = pattern.sub(
                    lambda m: b'<c r="%s"%s t="e"><v>%s</v></c>' % (m.group(1), m.group(2), shown.encode()), data
                )
            zout.writestr(info, data)
    return dst


def sheet_row(path: Path, sheet: str, cell: str) -> object:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    col, row = re.fullmatch(r"([A-Z]+)([0-9]+)", cell).groups()
    return rows[int(row) - 1][ord(col) - 65]


@pytest.mark.parametrize("shown", ERRORS)
def test_an_error_cell_in_a_figure_is_refused_with_its_cell_and_error_not_read_as_blank(shown, samples, tmp_path):
    cell = {}
    spoiled = edit(
        samples / "h1" / "SCT_2024-H1.xlsx",
        tmp_path / "a.xlsx",
        lambda wb: cell.setdefault("ref", set_figure(wb, "comms.media_items", MARK)),
    )
    path = as_error_cell(spoiled, tmp_path / "SCT_2024-H1.xlsx", shown)
    xml = b"".join(zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist() if "worksheets/" in n)
    assert re.search(rb'<c r="%s"[^>]* t="e"><v>%s</v>' % (cell["ref"].encode(), re.escape(shown.encode())), xml)
    try:  # what the reader library makes of it (0.9.1): a blank, or for the newer errors a failure
        seen = sheet_row(path, "Số liệu", cell["ref"])
    except Exception as exc:  # python_calamine.CalamineError
        seen = str(exc)
    assert seen == (f"Unsupported cell error value '{shown}'" if shown in ("#SPILL!", "#CALC!") else "")

    sub = read_workbook(path)
    errors = [f for f in sub.findings if f.code == "CELL_ERROR_VALUE"]
    assert [(f.severity, f.sheet, f.cell) for f in errors] == [("error", "Số liệu", cell["ref"])]
    meaning_vi, meaning_en = EXCEL_ERRORS[shown]
    assert shown in errors[0].message_vi and meaning_vi in errors[0].message_vi and "'Số liệu'" in errors[0].message_vi
    assert shown in errors[0].message_en and meaning_en in errors[0].message_en
    (row,) = [v for v in sub.values if v.code == "comms.media_items"]
    assert (row.value, row.raw) == (None, shown)  # not blank: a blank would be raw ''


@pytest.mark.parametrize("shown", ERRORS)
def test_an_error_written_as_text_is_refused_too(shown, samples, tmp_path):
    """openpyxl stores #REF! … as error cells but #SPILL!/#CALC! as text: refused either way."""
    cell = {}
    path = edit(
        samples / "h1" / "SCT_2024-H1.xlsx",
        tmp_path / "SCT_2024-H1.xlsx",
        lambda wb: cell.setdefault("ref", set_figure(wb, "comms.media_items", shown)),
    )
    codes = [(f.code, f.cell) for f in read_workbook(path).findings]
    assert codes == [("CELL_ERROR_VALUE", cell["ref"])]  # and not NUMBER_INVALID or VALUE_MISSING


def test_errors_saved_by_libreoffice_in_a_figure_a_date_and_an_info_cell(samples, tmp_path):
    """A real spreadsheet program's file: formulas whose saved results are errors (=1/0, =NA(), an
    unknown function). Before, these read as a missing figure, a missing date and no unit name."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is needed: .ci/run installs it"
    cells = {}

    def change(wb):
        cells["figure"] = set_figure(wb, "comms.media_items", "=1/0")
        cells["as_of"] = set_info(wb, "Ngày chốt số liệu", "=NA()")
        cells["name"] = set_info(wb, "Tên đơn vị", "=KHONGCO(1)")

    src = edit(samples / "h1" / "SCT_2024-H1.xlsx", tmp_path / "in" / "SCT_2024-H1.xlsx", change)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo'}",
            "--headless",
            "--calc",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "out"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    path = tmp_path / "out" / "SCT_2024-H1.xlsx"
    assert sheet_row(path, "Số liệu", cells["figure"]) == ""  # calamine: blank

    sub = read_workbook(path)
    got = sorted((f.code, f.sheet, f.cell, next(e for e in ERRORS if e in f.message_en)) for f in sub.findings)
    assert got == sorted(
        [
            ("CELL_ERROR_VALUE", "Số liệu", cells["figure"], "#DIV/0!"),
            ("CELL_ERROR_VALUE", "Thông tin chung", cells["as_of"], "#N/A"),
            ("CELL_ERROR_VALUE", "Thông tin chung", cells["name"], "#NAME?"),
        ]
    )
    assert sub.as_of is None and sub.unit_name == "" and sub.unit_code == "SCT"


def test_an_error_in_a_task_status_or_date_is_refused_not_read_as_not_started(samples, ref, tmp_path):
    import datetime as dt

    task = ref.form_tasks(ref.unit("SNV", dt.date(2024, 6, 15)), dt.date(2024, 6, 15))[0].code
    refs = {}
    path = edit(
        samples / "h1" / "SNV_2024-H1.xlsx",
        tmp_path / "SNV_2024-H1.xlsx",
        lambda wb: refs.setdefault("cells", set_task(wb, task, "#N/A", "#REF!")),
    )
    sub = read_workbook(path)
    assert sorted((f.code, f.cell) for f in sub.findings) == sorted(
        [("CELL_ERROR_VALUE", refs["cells"][0]), ("CELL_ERROR_VALUE", refs["cells"][1])]
    )
    (row,) = [t for t in sub.tasks if t.task_code == task]
    assert row.status is None and row.status_raw == "#N/A"


def test_a_newer_version_with_an_error_cell_is_refused_and_keeps_the_city_total(samples, ref, warehouse_url, tmp_path):
    """The issue's case: before, the error read as blank, the file was accepted (VALUE_MISSING) and,
    being the newest version, took the unit's figure out of the city's total."""
    from openpyxl import load_workbook

    from cchc.figures.consolidate import consolidate_period
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    files = [samples / "h1" / f"{u}_2024-H1.xlsx" for u in ("SCT", "SYT", "SGTVT")]
    assert {o.outcome for o in ingest_files(engine, ref, files)} == {"accepted"}
    before = consolidate_period(engine, ref, "2024-H1").figures["comms.media_items"]

    cell = {}
    broken = edit(
        files[0],
        tmp_path / "v2" / "SCT_2024-H1.xlsx",
        lambda wb: cell.setdefault("ref", set_figure(wb, "comms.media_items", "#REF!")),
    )
    (out,) = ingest_files(engine, ref, [broken])
    assert (out.outcome, out.findings, out.version) == ("rejected", ["CELL_ERROR_VALUE"], 2)
    after = consolidate_period(engine, ref, "2024-H1").figures["comms.media_items"]
    assert (after.value, after.n_units) == (before.value, before.n_units) and before.value > Decimal(0)

    rows = [[c.value for c in r] for r in load_workbook(out.feedback).active.iter_rows(min_row=8)]
    assert [(r[2], r[3], r[5]) for r in rows] == [("Số liệu", cell["ref"], "CELL_ERROR_VALUE")]
    assert "#REF!" in rows[0][4]
