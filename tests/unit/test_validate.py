"""Validation: each kind of wrong file is refused with the right code, sheet and cell."""

import datetime as dt
from pathlib import Path

import pytest
from helpers import edit, set_figure, set_info, set_task

from cchc.checks.validate import ACCEPTED, REJECTED, validate_batch
from cchc.intake.read import read_workbook


def _h1(samples: Path, unit: str) -> Path:
    return samples / "h1" / f"{unit}_2024-H1.xlsx"


def _first_task(ref, unit):
    return ref.form_tasks(ref.unit(unit, dt.date(2024, 6, 15)), dt.date(2024, 6, 15))[0].code


CASES = {
    # name: (unit, change(wb, ref) -> expected cell or None, expected finding code)
    "negative count": ("SYT", lambda wb, ref: set_figure(wb, "comms.media_items", -5), "VALUE_NEGATIVE"),
    "fractional count": ("SXD", lambda wb, ref: set_figure(wb, "comms.media_items", "12,5"), "VALUE_FRACTIONAL"),
    "percent above 100": ("SNV", lambda wb, ref: set_figure(wb, "index.sipas_pct", "188,9%"), "VALUE_OUT_OF_RANGE"),
    "rank out of 63": ("SNV", lambda wb, ref: set_figure(wb, "index.par_rank", 64), "VALUE_OUT_OF_RANGE"),
    "identity broken": ("STP", lambda wb, ref: set_figure(wb, "inst.vbqppl_expired_full", 65), "IDENTITY_FAILED"),
    "pakn does not balance": ("HBA", lambda wb, ref: set_figure(wb, "pakn.resolved", 999), "IDENTITY_FAILED"),
    "done without date": (
        "SNV",
        lambda wb, ref: set_task(wb, _first_task(ref, "SNV"), "Hoàn thành", None)[1],
        "TASK_DONE_NO_DATE",
    ),
    "done after as-of": (
        "SNV",
        lambda wb, ref: set_task(wb, _first_task(ref, "SNV"), "Hoàn thành", dt.datetime(2024, 7, 1))[1],
        "TASK_DONE_AFTER_ASOF",
    ),
    "bad status": ("STP", lambda wb, ref: set_task(wb, _first_task(ref, "STP"), "Xong rồi")[0], "TASK_STATUS_INVALID"),
    "unknown unit": ("SCT", lambda wb, ref: set_info(wb, "Mã đơn vị", "SXX"), "UNIT_UNKNOWN"),
    "unknown period": ("SCT", lambda wb, ref: set_info(wb, "Kỳ báo cáo", "2024-H3"), "PERIOD_UNKNOWN"),
    "as-of outside period": (
        "SCT",
        lambda wb, ref: set_info(wb, "Ngày chốt số liệu", "15/06/2023"),
        "ASOF_OUTSIDE_PERIOD",
    ),
    "text in a number cell": ("SYT", lambda wb, ref: set_figure(wb, "pakn.resolved", "khoảng 10"), "NUMBER_INVALID"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_files_are_refused_with_the_cell(case, samples, ref, tmp_path):
    unit, change, code = CASES[case]
    where = {}
    bad = edit(
        _h1(samples, unit), tmp_path / f"{unit}_2024-H1.xlsx", lambda wb: where.setdefault("cell", change(wb, ref))
    )
    good = _h1(samples, "SGTVT")
    verdicts = validate_batch([("bad", read_workbook(bad)), ("good", read_workbook(good))], ref)
    bad_v, good_v = verdicts
    assert good_v.status == ACCEPTED  # one bad file does not disturb the batch
    assert bad_v.status == REJECTED
    hits = [f for f in bad_v.findings if f.code == code]
    assert hits, [f.code for f in bad_v.findings]
    f = hits[0]
    assert f.severity == "error" and f.message_vi and f.message_en and f.message_vi != f.message_en
    if code != "IDENTITY_FAILED":
        assert f.cell == where["cell"]
    else:
        assert where["cell"] in f.message_en


def test_task_not_led_by_the_unit_and_blank_figure(samples, ref, tmp_path):
    other = next(t.code for t in ref.tasks if t.lead_unit == "SNV")

    def spoil(wb):
        from helpers import row_of, sheet

        ws = sheet(wb, "Nhiệm vụ")
        r = row_of(ws, _first_task(ref, "STP"))
        ws.cell(row=r, column=2).value = other
        set_figure(wb, "inst.vbqppl_self_checked", None)

    bad = edit(_h1(samples, "STP"), tmp_path / "STP_2024-H1.xlsx", spoil)
    (v,) = validate_batch([("k", read_workbook(bad))], ref)
    codes = {f.code: f.severity for f in v.findings}
    assert codes["TASK_NOT_LED"] == "error"
    assert codes["TASK_MISSING"] == "warning"
    assert codes["VALUE_MISSING"] == "warning"  # blank is "not reported", flagged, not zero


@pytest.mark.parametrize(
    "name, said",
    [
        ("SYT_2024-H1.xlsx", "đơn vị/unit SYT ≠ SCT"),  # another existing unit's file
        ("SCT_2024-Q1.xlsx", "kỳ/period 2024-Q1 ≠ 2024-H1"),
        ("bao cao SCT 2023-y (ban sua).xlsx", "kỳ/period 2023-Y ≠ 2024-H1"),
    ],
)
def test_file_name_contradicting_content_is_refused(samples, ref, tmp_path, name, said):
    wrong = tmp_path / name
    wrong.write_bytes(_h1(samples, "SCT").read_bytes())
    (v,) = validate_batch([("k", read_workbook(wrong))], ref)
    assert [f.code for f in v.findings] == ["NAME_MISMATCH"]
    assert said in v.findings[0].message_vi and "SCT_2024-H1.xlsx" in v.findings[0].message_en
    assert v.status == "rejected"


@pytest.mark.parametrize(
    "name", ["SCT_2024-H1 (1).xlsx", "Báo cáo CCHC 6 tháng.xlsx", "sct-2024-h1.xlsx", "ThuDo_2024_H1.xlsx"]
)
def test_file_names_that_say_nothing_else_pass(samples, ref, tmp_path, name):
    ok = tmp_path / name
    ok.write_bytes(_h1(samples, "SCT").read_bytes())
    (v,) = validate_batch([("k", read_workbook(ok))], ref)
    assert v.findings == [] and v.status == "accepted"
