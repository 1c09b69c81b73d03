"""Reading checks of issue 16: a blank task status, a figure that reads two ways, the form's version.

Real workbooks: a good sample edited with openpyxl (and one saved again by LibreOffice), read and
validated as the pipeline does; each finding with its code, severity, sheet, cell and both languages.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import column_of, edit, libreoffice_save, row_of, set_figure, set_info, set_task, sheet

from cchc.checks.validate import ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED, validate_batch
from cchc.common.vn import readings
from cchc.figures.consolidate import _Inputs, compute
from cchc.intake.read import read_workbook
from cchc.reference.form import FORM_VERSION, form_version_key

DAY = dt.date(2024, 6, 15)


def _h1(samples: Path, unit: str) -> Path:
    return samples / "h1" / f"{unit}_2024-H1.xlsx"


def _led(ref, unit: str) -> list[str]:
    return [t.code for t in ref.form_tasks(ref.unit(unit, DAY), DAY)]


def _blank_status(wb, task: str) -> str:
    """Empty a task's status cell (its row and code kept); returns the cell."""
    ws = sheet(wb, "Nhiệm vụ")
    cell = ws.cell(row=row_of(ws, task), column=column_of(ws, "Tình trạng"))
    cell.value = None
    return cell.coordinate


def _verdict(path: Path, ref):
    (v,) = validate_batch([("k", read_workbook(path))], ref)
    return v


def _only(v, code: str):
    hits = [f for f in v.findings if f.code == code]
    assert len(hits) == 1, [(f.code, f.cell) for f in v.findings]
    return hits[0]


# --- 1. A blank task status: a warning, and the task counts as not reported ---------------------------


def test_a_blank_status_is_a_warning_naming_the_cell_and_the_task_counts_as_not_reported(samples, ref, tmp_path):
    task = _led(ref, "SNV")[1]
    where = {}
    path = edit(
        _h1(samples, "SNV"), tmp_path / "SNV_2024-H1.xlsx", lambda wb: where.setdefault("cell", _blank_status(wb, task))
    )
    v = _verdict(path, ref)
    assert v.status == ACCEPTED_WITH_WARNINGS
    f = _only(v, "TASK_STATUS_BLANK")
    assert (f.severity, f.sheet, f.cell) == ("warning", "Nhiệm vụ", where["cell"])
    assert task in f.message_vi and "chưa báo cáo" in f.message_vi and "'Nhiệm vụ'" in f.message_vi
    assert task in f.message_en and "not reported" in f.message_en and where["cell"] in f.message_en
    assert [f.code for f in v.findings] == ["TASK_STATUS_BLANK"]  # the row is there: not TASK_MISSING too
    (row,) = [t for t in v.submission.tasks if t.task_code == task]
    assert (row.status, row.status_raw) == ("unreported", "")  # never "not_started"


def test_a_blank_status_with_a_completion_date_is_still_not_reported_nor_done(ref):
    """Consolidation: a blank status (stored 'unreported') is listed with the tasks nobody reported,
    with its file and cell, and is not counted done even with a date beside it."""
    snv = [t.code for t in ref.tasks_on(DAY) if t.lead_unit == "SNV"]
    inputs = _Inputs(
        {"SNV": {}},
        {"SNV": {snv[0]: ("done", dt.date(2024, 3, 1)), snv[1]: ("unreported", dt.date(2024, 3, 1))}},
        cells={"SNV": {snv[1]: ("abc", "Nhiệm vụ", "E9")}},
    )
    figures, unreported = compute(ref, inputs, DAY)
    assert figures["plan.tasks_done"].value == 1
    assert snv[1] in unreported and snv[0] not in unreported
    (blank,) = [i for i in figures["plan.tasks_done"].inputs if i.code == snv[1]]
    assert (blank.task_status, blank.counted, blank.unit_code, blank.cell) == ("unreported", False, "SNV", "E9")


# --- 2. A figure typed as text that reads two ways ----------------------------------------------------


@pytest.mark.parametrize(
    "text, both",
    [
        ("133.370", (Decimal(133370), Decimal("133.37"))),
        ("19.220", (Decimal(19220), Decimal("19.22"))),
        ("-1.500", (Decimal(-1500), Decimal("-1.5"))),
        ("95.500%", (Decimal(95500), Decimal("95.5"))),
        (" 1.000 ", (Decimal(1000), Decimal(1))),
        ("133,370", None),
        ("4.048,546", None),
        ("1.234.567", None),
        ("133.37", None),
        ("1150", None),
        ("0.000", None),
        ("12.5", None),
    ],
)
def test_readings_of_text_numbers(text, both):
    assert readings(text) == both


def test_an_amount_typed_133_370_is_a_warning_with_both_readings(samples, ref, tmp_path):
    where = {}
    path = edit(
        _h1(samples, "STC"),
        tmp_path / "STC_2024-H1.xlsx",
        lambda wb: where.setdefault("cell", set_figure(wb, "fin.invest_plan_pm_bn", "133.370")),
    )
    v = _verdict(path, ref)
    assert v.status == ACCEPTED_WITH_WARNINGS
    f = _only(v, "NUMBER_AMBIGUOUS")
    assert (f.severity, f.sheet, f.cell) == ("warning", "Số liệu", where["cell"])
    # Vietnamese first: the Vietnamese reading, then the English one in Vietnamese notation
    assert "'133.370'" in f.message_vi and "fin.invest_plan_pm_bn" in f.message_vi and "'Số liệu'" in f.message_vi
    assert f.message_vi.index("133370") < f.message_vi.index("133,37") and "Việt Nam" in f.message_vi
    assert "133370" in f.message_en and "133.37 " in f.message_en and where["cell"] in f.message_en
    (row,) = [r for r in v.submission.values if r.code == "fin.invest_plan_pm_bn"]
    assert row.value == Decimal(133370)  # recorded the form's (Vietnamese) way


@pytest.mark.parametrize("value", [133.375, "133,370", "133.370,5", 133370])
def test_what_reads_one_way_only_is_not_flagged(value, samples, ref, tmp_path):
    """A number cell (its text is its own English rendering), a decimal comma, both marks."""
    path = edit(
        _h1(samples, "STC"), tmp_path / "STC_2024-H1.xlsx", lambda wb: set_figure(wb, "fin.invest_plan_pm_bn", value)
    )
    v = _verdict(path, ref)
    assert (v.status, v.findings) == (ACCEPTED, [])


def test_a_count_typed_1_150_is_thousands_and_not_flagged(samples, ref, tmp_path):
    path = edit(
        _h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsx", lambda wb: set_figure(wb, "comms.media_items", "1.150")
    )
    v = _verdict(path, ref)
    assert v.findings == [] and {r.code: r.value for r in v.submission.values}["comms.media_items"] == 1150


def test_a_percentage_typed_95_500_is_flagged_beside_its_range_error(samples, ref, tmp_path):
    """Read the Vietnamese way it is 95500%: refused, and the warning says what the unit likely meant."""
    path = edit(
        _h1(samples, "SNV"), tmp_path / "SNV_2024-H1.xlsx", lambda wb: set_figure(wb, "index.sipas_pct", "95.500%")
    )
    v = _verdict(path, ref)
    assert v.status == REJECTED
    assert {f.code for f in v.findings} == {"VALUE_OUT_OF_RANGE", "NUMBER_AMBIGUOUS"}
    f = _only(v, "NUMBER_AMBIGUOUS")
    assert "95500" in f.message_vi and "95,5" in f.message_vi and "95.5" in f.message_en


# --- 3. The form's version ----------------------------------------------------------------------------


def test_samples_carry_the_current_form_version(samples):
    assert read_workbook(_h1(samples, "SNV")).form_version == FORM_VERSION
    assert form_version_key(FORM_VERSION) == (2024, 1)


@pytest.mark.parametrize(
    "typed, code, severity",
    [
        ("CCHC-2023.1", "FORM_OUTDATED", "warning"),
        ("CCHC-2024.0", "FORM_OUTDATED", "warning"),
        ("CCHC-2025.1", "FORM_VERSION_UNKNOWN", "error"),  # newer than this pipeline knows
        ("BM-01/2022", "FORM_VERSION_UNKNOWN", "error"),
        (None, "FORM_VERSION_MISSING", "warning"),
    ],
)
def test_the_form_version_is_checked(typed, code, severity, samples, ref, tmp_path):
    where = {}
    path = edit(
        _h1(samples, "SCT"),
        tmp_path / "SCT_2024-H1.xlsx",
        lambda wb: where.setdefault("cell", set_info(wb, "Phiên bản mẫu", typed)),
    )
    v = _verdict(path, ref)
    assert [f.code for f in v.findings] == [code]
    f = v.findings[0]
    assert (f.severity, f.sheet, f.cell) == (severity, "Thông tin chung", where["cell"])
    assert v.status == (REJECTED if severity == "error" else ACCEPTED_WITH_WARNINGS)
    assert FORM_VERSION in f.message_vi and FORM_VERSION in f.message_en  # the current one, named
    assert where["cell"] in f.message_vi and where["cell"] in f.message_en
    if typed:
        assert typed in f.message_vi and typed in f.message_en


@pytest.mark.parametrize("typed", [" cchc-2024.1 ", "CCHC 2024.1", "2024.1"])
def test_the_current_version_written_loosely_passes(typed, samples, ref, tmp_path):
    path = edit(_h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsx", lambda wb: set_info(wb, "Phiên bản mẫu", typed))
    assert _verdict(path, ref).findings == []


def test_a_form_without_the_version_row_is_warned_without_a_cell(samples, ref, tmp_path):
    def drop(wb):
        ws = sheet(wb, "Thông tin chung")
        ws.delete_rows(row_of(ws, "Phiên bản mẫu"))

    v = _verdict(edit(_h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsx", drop), ref)
    f = _only(v, "FORM_VERSION_MISSING")
    assert (f.sheet, f.cell) == ("Thông tin chung", "") and "Phiên bản mẫu" in f.message_vi
    assert f.message_vi.startswith("Trang 'Thông tin chung': ")


# --- As a unit on LibreOffice sends it, and in the feedback workbook -----------------------------------


def test_a_libreoffice_file_with_all_three_is_accepted_flagged_and_fed_back(samples, ref, tmp_path):
    from openpyxl import load_workbook

    from cchc.checks.feedback import write_feedback

    task = _led(ref, "STC")[0]
    cells = {}

    def change(wb):
        cells["status"] = _blank_status(wb, task)
        set_task(wb, task, done_on=None)
        cells["figure"] = set_figure(wb, "fin.invest_plan_pm_bn", "19.220")
        cells["version"] = set_info(wb, "Phiên bản mẫu", "CCHC-2023.1")

    src = edit(_h1(samples, "STC"), tmp_path / "in" / "STC_2024-H1.xlsx", change)
    path = libreoffice_save(src, tmp_path / "out", tmp_path / "lo")
    assert path.read_bytes() != src.read_bytes()

    v = _verdict(path, ref)
    assert v.status == ACCEPTED_WITH_WARNINGS
    got = sorted((f.code, f.severity, f.sheet, f.cell) for f in v.findings)
    assert got == sorted(
        [
            ("TASK_STATUS_BLANK", "warning", "Nhiệm vụ", cells["status"]),
            ("NUMBER_AMBIGUOUS", "warning", "Số liệu", cells["figure"]),
            ("FORM_OUTDATED", "warning", "Thông tin chung", cells["version"]),
        ]
    )
    assert "19220" in _only(v, "NUMBER_AMBIGUOUS").message_vi and "19.22" in _only(v, "NUMBER_AMBIGUOUS").message_en

    # The feedback workbook lists each, as it lists every finding: severity, sheet, cell, message, code.
    ws = load_workbook(write_feedback(tmp_path / "fb.xlsx", v, ref)).active
    rows = {r[5]: r for r in ws.iter_rows(min_row=8, values_only=True) if r[5]}
    assert set(rows) == {"TASK_STATUS_BLANK", "NUMBER_AMBIGUOUS", "FORM_OUTDATED"}
    for f in v.findings:
        assert rows[f.code][1:5] == ("Lưu ý", f.sheet, f.cell, f.message_vi)
