"""The feedback workbook a unit gets back: what is wrong with its file, sheet and cell, in Vietnamese."""

from __future__ import annotations

import math
from pathlib import Path

from cchc.checks.advice import flagged_advice, refused_advice, unit_shown
from cchc.checks.validate import Verdict
from cchc.common.findings import ERROR
from cchc.common.messages import vi
from cchc.common.sheets import BODY_PT, CHARS_PER_UNIT, TITLE_PT, grid, header_row, print_ready
from cchc.common.vn import neutralise
from cchc.reference.registry import Reference

WIDTHS = {"A": 12, "B": 9, "C": 16, "D": 7, "E": 62, "F": 22}


def merged_height(value: str, width: float) -> float:
    """The height of a row whose wrapped text spans merged columns `width` wide (print_ready measures
    one column, and no spreadsheet program re-measures merged cells)."""
    lines = max(1, math.ceil(len(value) / max(width * CHARS_PER_UNIT, 1)))
    return lines * BODY_PT * 1.25 + 2


def write_feedback(path: Path, verdict: Verdict, ref: Reference) -> Path:
    """The short report sent back to a unit whose file was refused or flagged, in Vietnamese."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    sub = verdict.submission
    unit = ref.unit_any(sub.unit_code)
    wb = Workbook()
    ws = wb.active
    ws.title = "Kết quả kiểm tra"
    refused = any(f.severity == ERROR for f in verdict.findings)
    ws.append(["KẾT QUẢ KIỂM TRA BÁO CÁO CẢI CÁCH HÀNH CHÍNH"])
    ws["A1"].font = Font(bold=True, size=TITLE_PT)
    ws.merge_cells("A1:F1")
    ws.append([vi("mail.file"), neutralise(sub.file_name)])
    who = f"{sub.unit_code} – {unit.name_vi}" if unit else unit_shown(sub.unit_code).vi
    ws.append([vi("mail.unit"), neutralise(who)])
    ws.append([vi("mail.period_label"), sub.period_code or neutralise(sub.period_raw) or f"({vi('mail.unknown')})"])
    ws.append([vi("mail.outcome"), "BỊ TỪ CHỐI" if refused else "ĐƯỢC TIẾP NHẬN, có lưu ý"])
    # What to do depends on what is wrong: a file that is not a workbook has no cell to fix.
    codes = [f.code for f in verdict.findings]
    todo = refused_advice(codes, sub.unit_code, sub.period_code, where="below") if refused else flagged_advice("below")
    ws.append([vi("mail.what_to_do"), todo.vi[:1].upper() + todo.vi[1:]])
    for r in range(2, 7):  # the label in A, its value across B:F (a file name can be long)
        ws[f"A{r}"].font = Font(bold=True)
        ws[f"A{r}"].alignment = Alignment(vertical="top")
        ws.merge_cells(f"B{r}:F{r}")
    ws["B5"].font = Font(bold=True, color="C00000" if refused else "7F6000")
    ws["B6"].alignment = Alignment(wrap_text=True, vertical="top")
    header_row(ws, 7, ["STT", "Mức độ", "Trang tính", "Ô", "Nội dung", "Mã lỗi"])
    for i, f in enumerate(verdict.findings, start=1):
        ws.append(
            [
                i,
                "Lỗi" if f.severity == ERROR else "Lưu ý",
                neutralise(f.sheet),
                f.cell,
                neutralise(f.message_vi),
                f.code,
            ]
        )
        for col in "ABD":
            ws[f"{col}{ws.max_row}"].alignment = Alignment(horizontal="center", vertical="top")
    if verdict.findings:
        grid(ws, 8, ws.max_row, 6)
    print_ready(
        ws,
        WIDTHS,
        header_row=7,
        landscape=True,
        wrap=("C", "E", "F"),
        first_wrapped_row=8,
    )
    ws.row_dimensions[6].height = merged_height(todo.vi, sum(WIDTHS[c] for c in "BCDEF"))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
