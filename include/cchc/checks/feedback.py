"""The feedback workbook a unit gets back: what is wrong with its file, sheet and cell, in Vietnamese."""

from __future__ import annotations

from pathlib import Path

from cchc.checks.validate import Verdict
from cchc.common.findings import ERROR
from cchc.common.sheets import TITLE_PT, grid, header_row, print_ready
from cchc.common.vn import neutralise
from cchc.reference.registry import Reference


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
    ws.append(["Tệp", neutralise(sub.file_name)])
    ws.append(["Đơn vị", neutralise(f"{sub.unit_code} – {unit.name_vi}" if unit else sub.unit_code or "(không rõ)")])
    ws.append(["Kỳ báo cáo", sub.period_code or neutralise(sub.period_raw) or "(không rõ)"])
    ws.append(
        [
            "Kết quả",
            "BỊ TỪ CHỐI – vui lòng sửa các lỗi dưới đây và gửi lại"
            if refused
            else "ĐƯỢC TIẾP NHẬN, có lưu ý – vui lòng kiểm tra các nội dung dưới đây",
        ]
    )
    for r in range(2, 6):  # the label in A, its value across B:F (a file name can be long)
        ws[f"A{r}"].font = Font(bold=True)
        ws.merge_cells(f"B{r}:F{r}")
    ws["B5"].font = Font(bold=True, color="C00000" if refused else "7F6000")
    ws.append([])
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
        {"A": 12, "B": 9, "C": 16, "D": 7, "E": 62, "F": 22},
        header_row=7,
        landscape=True,
        wrap=("C", "E", "F"),
        first_wrapped_row=8,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
