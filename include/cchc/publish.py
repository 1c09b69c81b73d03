"""Publish consolidated figures: the Vietnamese workbook the city's report is written from, and CSV.

Numbers print the way the seed report writes them (`08/57`, `1.317`, `25,6%`, `4.048,546 tỷ đồng`);
the workbook also keeps the plain number beside the text so analysts can compute with it. Any text
that came from a unit's file is neutralised before it reaches a cell (no formula injection).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cchc.consolidate import Consolidation
from cchc.findings import ERROR
from cchc.periods import parse_period
from cchc.reference import Reference
from cchc.validate import Verdict
from cchc.vn import format_date, neutralise

GROUPS_VI = {
    "direction": "I. Công tác chỉ đạo, điều hành",
    "institutions": "II.1. Cải cách thể chế",
    "procedures": "II.2. Cải cách thủ tục hành chính",
    "feedback": "II.2. Phản ánh, kiến nghị",
    "dossier": "II.2. Hồ sơ thủ tục hành chính (Biểu 06/VPCP/KSTT)",
    "organisation": "II.3. Cải cách tổ chức bộ máy",
    "civil_service": "II.4. Cải cách chế độ công vụ",
    "finance": "II.5. Cải cách tài chính công",
    "egov": "II.6. Xây dựng chính quyền điện tử, chính quyền số",
}


def plain(value) -> str:
    """A figure for machines: `57`, `25.6`, `4048.546`, `88.90` (catalogue decimals kept)."""
    return "" if value is None else f"{value:f}"


def figures_csv(result: Consolidation, ref: Reference, full: bool = False) -> str:
    """`code,value` for every consolidated figure (with label, unit and text when `full`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["code", "value"] + (["label_vi", "unit_vi", "value_text", "n_units"] if full else []))
    for ind in ref.indicators_on(result.as_of):
        f = result.figures[ind.code]
        w.writerow([f.code, plain(f.value)] + ([ind.label_vi, ind.unit_vi, f.text, f.n_units] if full else []))
    return buf.getvalue()


def write_figures_workbook(path: Path, result: Consolidation, ref: Reference, title: str,
                           reporting: tuple[list, list] | None = None) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Số liệu tổng hợp"
    bold = Font(bold=True)
    ws.append(["ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG"])
    ws.append([title])
    ws.append([f"Số liệu tính đến ngày {format_date(result.as_of)}; {len(result.units_reported)} đơn vị đã báo cáo,"
               f" {len(result.units_missing)} đơn vị chưa báo cáo."])
    ws.append([])
    ws.append(["STT", "Mã chỉ tiêu", "Nội dung", "Đơn vị tính", "Kết quả", "Giá trị (số)", "Số đơn vị báo cáo"])
    for c in ws[5]:
        c.font, c.fill = bold, PatternFill("solid", fgColor="DDEBF7")
    ws["A1"].font = ws["A2"].font = Font(bold=True, size=13)
    group = None
    n = 0
    for ind in ref.indicators_on(result.as_of):
        if ind.group != group:
            group = ind.group
            ws.append(["", "", GROUPS_VI.get(group, group)])
            ws.cell(row=ws.max_row, column=3).font = bold
        n += 1
        f = result.figures[ind.code]
        ws.append([n, ind.code, ind.label_vi, ind.unit_vi, f.text,
                   None if f.value is None else float(f.value), f.n_units or None])
    for col, width in zip("ABCDEFG", (6, 34, 70, 12, 22, 16, 12), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=6):
        row[2].alignment = Alignment(wrap_text=True)

    missing = wb.create_sheet("Đơn vị chưa báo cáo")
    missing.append(["Mã đơn vị", "Tên đơn vị"])
    for code in result.units_missing:
        unit = ref.unit_any(code)
        missing.append([code, unit.name_vi if unit else ""])
    if result.tasks_unreported:
        tasks = wb.create_sheet("Nhiệm vụ chưa báo cáo")
        tasks.append(["Mã nhiệm vụ", "Cơ quan chủ trì", "Tên nhiệm vụ"])
        by_code = {t.code: t for t in ref.tasks}
        for code in result.tasks_unreported:
            t = by_code[code]
            tasks.append([code, t.lead_unit, t.name_vi])
    if reporting is not None:
        write_reporting_sheet(wb, *reporting)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_reporting_sheet(wb, statuses: list, rates: list) -> None:
    """'Tình hình báo cáo': rates by unit type and by district, then every unit to chase."""
    from openpyxl.styles import Font

    from cchc.completeness import ACTION, CHASE, STATUS_VI
    from cchc.reference import UNIT_TYPE_VI

    ws = wb.create_sheet("Tình hình báo cáo")
    bold = Font(bold=True)
    ws.append(["TÌNH HÌNH BÁO CÁO: ĐÚNG HẠN, TRỄ HẠN, CHƯA GỬI / reporting completeness and timeliness"])
    ws["A1"].font = bold
    ws.append(["Kỳ", "Nhóm đơn vị", "Phải báo cáo", "Đã gửi", "Được tiếp nhận", "Đúng hạn", "Trễ hạn",
               "Bị từ chối", "Chưa gửi", "Tỷ lệ đã gửi (%)", "Tỷ lệ đúng hạn (%)"])
    for c in ws[2]:
        c.font = bold
    for r in rates:
        group = UNIT_TYPE_VI.get(r.group) or f"Cấp xã thuộc {r.group}"
        ws.append([r.period_code, group, r.expected, r.reported, r.accepted, r.on_time, r.late, r.refused,
                   r.missing, r.reporting_rate, r.on_time_rate])
    ws.append([])
    ws.append(["Kỳ", "Mã đơn vị", "Tên đơn vị", "Hạn gửi", "Tình trạng", "Việc cần làm"])
    for c in ws[ws.max_row]:
        c.font = bold
    for u in (u for u in statuses if u.status in CHASE):
        ws.append([u.period_code, u.unit_code, u.unit_name_vi, format_date(u.due_on), STATUS_VI[u.status],
                   ACTION[u.status]])
    for col, width in zip("ABCDEF", (12, 30, 40, 12, 30, 80), strict=True):
        ws.column_dimensions[col].width = width


def publish_period(out_dir: Path, result: Consolidation, ref: Reference) -> dict[str, Path]:
    """`<period>_tong_hop.xlsx` and `<period>_tong_hop.csv` in out_dir."""
    period = parse_period(result.label)
    title = f"TỔNG HỢP KẾT QUẢ CẢI CÁCH HÀNH CHÍNH {period.name_vi.upper()}"
    xlsx = write_figures_workbook(out_dir / f"{period.code}_tong_hop.xlsx", result, ref, title)
    csv_path = out_dir / f"{period.code}_tong_hop.csv"
    csv_path.write_text(figures_csv(result, ref, full=True), encoding="utf-8-sig")  # BOM: Excel reads UTF-8
    return {"xlsx": xlsx, "csv": csv_path}


def publish_week(out_dir: Path, result: Consolidation, ref: Reference, reporting: tuple[list, list] | None = None
                 ) -> Path:
    """The weekly workbook; `reporting` (statuses, rates) adds the sheet of late and missing units."""
    week = parse_period(result.label)
    title = (f"BÁO CÁO NHANH CẢI CÁCH HÀNH CHÍNH {week.name_vi.upper()} "
             f"({format_date(week.start)} – {format_date(week.end)})")
    return write_figures_workbook(out_dir / f"{week.code}_bao_cao_tuan.xlsx", result, ref, title, reporting)


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
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["Tệp", neutralise(sub.file_name)])
    ws.append(["Đơn vị", neutralise(f"{sub.unit_code} – {unit.name_vi}" if unit else sub.unit_code or "(không rõ)")])
    ws.append(["Kỳ báo cáo", sub.period_code or neutralise(sub.period_raw) or "(không rõ)"])
    ws.append(["Kết quả", "BỊ TỪ CHỐI – vui lòng sửa các lỗi dưới đây và gửi lại" if refused
               else "ĐƯỢC TIẾP NHẬN, có lưu ý – vui lòng kiểm tra các nội dung dưới đây"])
    ws.append([])
    ws.append(["STT", "Mức độ", "Trang tính", "Ô", "Nội dung", "Mã lỗi"])
    for c in ws[7]:
        c.font = Font(bold=True)
    for i, f in enumerate(verdict.findings, start=1):
        ws.append([i, "Lỗi" if f.severity == ERROR else "Lưu ý", neutralise(f.sheet), f.cell,
                   neutralise(f.message_vi), f.code])
    for col, width in zip("ABCDEF", (6, 10, 18, 8, 100, 24), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=8):
        row[4].alignment = Alignment(wrap_text=True, vertical="top")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
