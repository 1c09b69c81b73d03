"""The submission workbook (biểu mẫu báo cáo) as FORM.md specifies it, blank or filled.

`cchc form` writes each unit's blank form, pre-filled with the tasks it leads and the indicators
it reports; the sample generator writes filled ones through the same code, with the layout quirks
real files have (title rows, merged cells, headers without diacritics, columns moved, numbers
typed as Vietnamese text) so that the reader is exercised on what units really send.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cchc.periods import Period
from cchc.reference import RULES_VI, Indicator, Task, Unit
from cchc.vn import fold, format_date, format_number

FORM_VERSION = "CCHC-2024.1"  # the current form: CCHC-<year>.<revision>, each new form numbered higher
_VERSION = re.compile(r"(?:cchc[- ]?)?(\d{4})\.(\d{1,2})")
SHEET_INFO = "Thông tin chung"
SHEET_TASKS = "Nhiệm vụ"
SHEET_FIGURES = "Số liệu"

INFO_LABELS = {  # field -> label on the form
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "period": "Kỳ báo cáo",
    "as_of": "Ngày chốt số liệu",
    "preparer": "Người lập",
    "phone": "Điện thoại",
    "email": "Email",
    "sent_on": "Ngày gửi",
    "form_version": "Phiên bản mẫu",
}
TASK_COLUMNS = {
    "stt": "STT",
    "task_code": "Mã nhiệm vụ",
    "task_name": "Tên nhiệm vụ",
    "deadline": "Thời hạn",
    "status": "Tình trạng",
    "completed_on": "Ngày hoàn thành",
    "product": "Sản phẩm",
    "note": "Ghi chú",
}
FIGURE_COLUMNS = {
    "stt": "STT",
    "code": "Mã chỉ tiêu",
    "label": "Nội dung",
    "unit": "Đơn vị tính",
    "value": "Số liệu",
    "note": "Ghi chú",
}
STATUS_DONE, STATUS_IN_PROGRESS, STATUS_NOT_STARTED = "Hoàn thành", "Đang thực hiện", "Chưa thực hiện"
STATUSES = {STATUS_DONE: "done", STATUS_IN_PROGRESS: "in_progress", STATUS_NOT_STARTED: "not_started"}


@dataclass(frozen=True)
class Layout:
    """How a filled workbook departs from the clean blank form (all still valid)."""

    title_rows: int = 4
    plain_headers: bool = False  # `MA CHI TIEU` instead of `Mã chỉ tiêu`
    break_headers: bool = False  # `Mã\nchỉ tiêu`
    swap_columns: bool = False  # `Số liệu` before `Nội dung`
    nfd: bool = False  # text in decomposed Unicode, as some keyboards type it
    text_numbers: bool = False  # `1.150`, `25,6%` typed as text
    blank_rows: bool = False  # an empty row inside the tables
    text_dates: bool = False  # `15/6/2024` typed as text
    period_words: bool = False  # `6 tháng đầu năm 2024` instead of `2024-H1`
    sheet_order: tuple[str, ...] = (SHEET_INFO, SHEET_TASKS, SHEET_FIGURES)


def form_version_key(version: str) -> tuple[int, int] | None:
    """(year, revision) of a form version as written in its cell (`CCHC-2024.1`, `cchc 2024.1`,
    `2024.1`); None when it is not a version at all."""
    m = _VERSION.fullmatch(fold(version))
    return (int(m.group(1)), int(m.group(2))) if m else None


def file_name(unit_code: str, period_code: str) -> str:
    return f"{unit_code}_{period_code}.xlsx"


def write_workbook(
    path: Path,
    unit: Unit,
    period: Period,
    tasks: list[Task],
    indicators: list[Indicator],
    *,
    as_of: dt.date | None = None,
    values: dict[str, Decimal | int | None] | None = None,
    statuses: dict[str, tuple[str, dt.date | None]] | None = None,
    sender: dict[str, str] | None = None,
    layout: Layout = Layout(),
) -> Path:
    """Write one unit's workbook. Without values/statuses it is the blank form."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    def t(s: str) -> str:
        return unicodedata.normalize("NFD", s) if layout.nfd else s

    def header(label: str) -> str:
        if layout.plain_headers:
            label = fold(label).upper()
        if layout.break_headers and " " in label:
            first, _, rest = label.partition(" ")
            label = f"{first}\n{rest}"
        return t(label)

    def number(v: Decimal | int | None, decimals: int, rule: str) -> object:
        if v is None:
            return None
        if layout.text_numbers:
            # With the indicator's decimals, as the report prints it: `1.500,000` tỷ đồng, since a
            # bare `1.500` reads two ways (1500 or 1.5) and is flagged NUMBER_AMBIGUOUS.
            s = format_number(v, decimals)
            return s + "%" if rule == "percent" else s
        d = Decimal(v)
        return int(d) if d == int(d) else float(d)

    def date(d: dt.date | None) -> object:
        if d is None:
            return None
        return format_date(d) if layout.text_dates else d

    bold = Font(bold=True)
    title_font = Font(bold=True, size=13)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")

    wb = Workbook()
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in layout.sheet_order}

    def titles(ws, width: int, form_title: str) -> int:
        lines = ["ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG", unit.name_vi.upper(), form_title,
                 f"Kỳ báo cáo: {period.name_vi}"][: layout.title_rows]
        for i, line in enumerate(lines, start=1):
            ws.cell(row=i, column=1, value=t(line)).font = title_font if i == 3 else bold
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
            ws.cell(row=i, column=1).alignment = Alignment(horizontal="center")
        return len(lines) + 2  # one blank row, then the header

    # Thông tin chung: label | value
    ws = sheets[SHEET_INFO]
    row = titles(ws, 2, "THÔNG TIN CHUNG VỀ BÁO CÁO CẢI CÁCH HÀNH CHÍNH")
    sender = sender or {}
    info = {
        "unit_code": unit.code,
        "unit_name": t(unit.name_vi),
        "period": period.name_vi if layout.period_words else period.code,
        "as_of": date(as_of) if values is not None else None,
        "preparer": sender.get("preparer"),
        "phone": sender.get("phone"),
        "email": sender.get("email"),
        "sent_on": date(dt.date.fromisoformat(sender["sent_on"])) if sender.get("sent_on") else None,
        "form_version": FORM_VERSION,
    }
    for key, label in INFO_LABELS.items():
        ws.cell(row=row, column=1, value=header(label)).font = bold
        cell = ws.cell(row=row, column=2, value=info[key])
        if isinstance(info[key], dt.date):
            cell.number_format = "DD/MM/YYYY"
        row += 1
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 60

    # Nhiệm vụ: the plan tasks this unit leads
    ws = sheets[SHEET_TASKS]
    cols = list(TASK_COLUMNS)
    head = titles(ws, len(cols), "TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH")
    for c, key in enumerate(cols, start=1):
        cell = ws.cell(row=head, column=c, value=header(TASK_COLUMNS[key]))
        cell.font, cell.fill, cell.border, cell.alignment = bold, head_fill, box, wrap
    dv = DataValidation(type="list", formula1=f'"{STATUS_DONE},{STATUS_IN_PROGRESS},{STATUS_NOT_STARTED}"',
                        allow_blank=True, showErrorMessage=True,
                        errorTitle="Tình trạng", error="Chọn: Hoàn thành, Đang thực hiện hoặc Chưa thực hiện")
    ws.add_data_validation(dv)
    r = head + 1
    for i, task in enumerate(tasks, start=1):
        if layout.blank_rows and i == 2:
            r += 1
        status, done_on = (statuses or {}).get(task.code, (None, None))
        row_values = {
            "stt": i, "task_code": task.code, "task_name": t(task.name_vi), "deadline": date(task.deadline),
            "status": status, "completed_on": date(done_on), "product": t(task.product_vi), "note": None,
        }
        for c, key in enumerate(cols, start=1):
            cell = ws.cell(row=r, column=c, value=row_values[key])
            cell.border = box
            if isinstance(row_values[key], dt.date):
                cell.number_format = "DD/MM/YYYY"
        dv.add(f"{get_column_letter(cols.index('status') + 1)}{r}")
        r += 1
    if not tasks:
        ws.cell(row=r, column=3, value=t("(Đơn vị không chủ trì nhiệm vụ nào của Kế hoạch)"))
        r += 1
    _signature(ws, r + 1, len(cols), t)
    for c, w in zip("ABCDEFGH", (6, 12, 60, 12, 16, 14, 30, 20), strict=True):
        ws.column_dimensions[c].width = w

    # Số liệu: one row per indicator this unit reports
    ws = sheets[SHEET_FIGURES]
    cols = list(FIGURE_COLUMNS)
    if layout.swap_columns:
        cols = ["stt", "code", "value", "unit", "label", "note"]
    head = titles(ws, len(cols), "SỐ LIỆU KẾT QUẢ CẢI CÁCH HÀNH CHÍNH")
    for c, key in enumerate(cols, start=1):
        cell = ws.cell(row=head, column=c, value=header(FIGURE_COLUMNS[key]))
        cell.font, cell.fill, cell.border, cell.alignment = bold, head_fill, box, wrap
    r = head + 1
    for i, ind in enumerate(indicators, start=1):
        if layout.blank_rows and i == 3:
            r += 1
        v = (values or {}).get(ind.code)
        row_values = {
            "stt": i, "code": ind.code, "label": t(ind.label_vi), "unit": t(ind.unit_vi),
            "value": number(v, ind.decimals, ind.rule), "note": t(f"Nhập {RULES_VI[ind.rule]}") if values is None else None,
        }
        for c, key in enumerate(cols, start=1):
            ws.cell(row=r, column=c, value=row_values[key]).border = box
        r += 1
    _signature(ws, r + 1, len(cols), t)
    widths = {"stt": 6, "code": 30, "label": 60, "unit": 12, "value": 14, "note": 24}
    for c, key in enumerate(cols):
        ws.column_dimensions["ABCDEF"[c]].width = widths[key]
    ws.freeze_panes = ws.cell(row=head + 1, column=1)

    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _signature(ws, row: int, width: int, t) -> None:
    ws.cell(row=row, column=2, value=t("Người lập biểu"))
    ws.cell(row=row, column=max(width - 2, 3), value=t("Thủ trưởng đơn vị"))
    ws.cell(row=row + 1, column=max(width - 2, 3), value=t("(Ký, ghi rõ họ tên, đóng dấu)"))
