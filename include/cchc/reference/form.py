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
from types import SimpleNamespace

from cchc.common.periods import Period
from cchc.common.vn import fold, format_date, format_number
from cchc.reference.registry import RULES_VI, Indicator, Task, Unit

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
    """How a filled workbook departs from the clean blank form (all still valid). The default is
    the blank form itself: its methods then give every text, number and date as they are."""

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

    def text(self, s: str) -> str:
        return unicodedata.normalize("NFD", s) if self.nfd else s

    def header(self, label: str) -> str:
        if self.plain_headers:
            label = fold(label).upper()
        if self.break_headers and " " in label:
            first, _, rest = label.partition(" ")
            label = f"{first}\n{rest}"
        return self.text(label)

    def number(self, v: Decimal | int | None, decimals: int, rule: str) -> object:
        if v is None:
            return None
        if self.text_numbers:
            # With the indicator's decimals, as the report prints it: `1.500,000` tỷ đồng, since a
            # bare `1.500` reads two ways (1500 or 1.5) and is flagged NUMBER_AMBIGUOUS.
            s = format_number(v, decimals)
            return s + "%" if rule == "percent" else s
        d = Decimal(v)
        return int(d) if d == int(d) else float(d)

    def date(self, d: dt.date | None) -> object:
        if d is None:
            return None
        return format_date(d) if self.text_dates else d

    @property
    def figure_columns(self) -> list[str]:
        return ["stt", "code", "value", "unit", "label", "note"] if self.swap_columns else list(FIGURE_COLUMNS)


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
    """Write one unit's workbook. Without values/statuses it is the blank form; `layout` says how a
    filled one departs from it (the sample's files)."""
    from openpyxl import Workbook  # deferred: openpyxl is heavy and only writing a form needs it

    form = _Form(unit, period, layout, _styles())
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in layout.sheet_order}
    _info_sheet(form, sheets[SHEET_INFO], as_of if values is not None else None, sender or {})
    _tasks_sheet(form, sheets[SHEET_TASKS], tasks, statuses or {})
    _figures_sheet(form, sheets[SHEET_FIGURES], indicators, values)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _styles() -> SimpleNamespace:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # deferred: see write_workbook

    thin = Side(style="thin")
    return SimpleNamespace(
        bold=Font(bold=True),
        title_font=Font(bold=True, size=13),
        box=Border(left=thin, right=thin, top=thin, bottom=thin),
        head_fill=PatternFill("solid", fgColor="DDEBF7"),
        wrap=Alignment(wrap_text=True, vertical="top"),
        centre=Alignment(horizontal="center"),
    )


@dataclass(frozen=True)
class _Form:
    """What every sheet of one unit's workbook is written with."""

    unit: Unit
    period: Period
    layout: Layout
    style: SimpleNamespace

    def titles(self, ws, width: int, form_title: str) -> int:
        """The title block above a sheet's table; returns the header's row (after one blank row)."""
        lines = [
            "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
            self.unit.name_vi.upper(),
            form_title,
            f"Kỳ báo cáo: {self.period.name_vi}",
        ][: self.layout.title_rows]
        for i, line in enumerate(lines, start=1):
            ws.cell(row=i, column=1, value=self.layout.text(line)).font = (
                self.style.title_font if i == 3 else self.style.bold
            )
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
            ws.cell(row=i, column=1).alignment = self.style.centre
        return len(lines) + 2

    def header_row(self, ws, row: int, labels: list[str]) -> None:
        for c, label in enumerate(labels, start=1):
            cell = ws.cell(row=row, column=c, value=self.layout.header(label))
            cell.font, cell.fill, cell.border, cell.alignment = (
                self.style.bold,
                self.style.head_fill,
                self.style.box,
                self.style.wrap,
            )


def _info_sheet(form: _Form, ws, as_of: dt.date | None, sender: dict[str, str]) -> None:
    """Thông tin chung: label | value."""
    lay = form.layout
    row = form.titles(ws, 2, "THÔNG TIN CHUNG VỀ BÁO CÁO CẢI CÁCH HÀNH CHÍNH")
    info = {
        "unit_code": form.unit.code,
        "unit_name": lay.text(form.unit.name_vi),
        "period": form.period.name_vi if lay.period_words else form.period.code,
        "as_of": lay.date(as_of),
        "preparer": sender.get("preparer"),
        "phone": sender.get("phone"),
        "email": sender.get("email"),
        "sent_on": lay.date(dt.date.fromisoformat(sender["sent_on"])) if sender.get("sent_on") else None,
        "form_version": FORM_VERSION,
    }
    for key, label in INFO_LABELS.items():
        ws.cell(row=row, column=1, value=lay.header(label)).font = form.style.bold
        cell = ws.cell(row=row, column=2, value=info[key])
        if isinstance(info[key], dt.date):
            cell.number_format = "DD/MM/YYYY"
        row += 1
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 60


def _tasks_sheet(form: _Form, ws, tasks: list[Task], statuses: dict[str, tuple[str, dt.date | None]]) -> None:
    """Nhiệm vụ: the plan tasks this unit leads, the status picked from a list."""
    from openpyxl.utils import get_column_letter  # deferred: see write_workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    lay, cols = form.layout, list(TASK_COLUMNS)
    head = form.titles(ws, len(cols), "TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH")
    form.header_row(ws, head, [TASK_COLUMNS[key] for key in cols])
    dv = DataValidation(
        type="list",
        formula1=f'"{STATUS_DONE},{STATUS_IN_PROGRESS},{STATUS_NOT_STARTED}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Tình trạng",
        error="Chọn: Hoàn thành, Đang thực hiện hoặc Chưa thực hiện",
    )
    ws.add_data_validation(dv)
    r = head + 1
    for i, task in enumerate(tasks, start=1):
        if lay.blank_rows and i == 2:
            r += 1
        status, done_on = statuses.get(task.code, (None, None))
        row_values = {
            "stt": i,
            "task_code": task.code,
            "task_name": lay.text(task.name_vi),
            "deadline": lay.date(task.deadline),
            "status": status,
            "completed_on": lay.date(done_on),
            "product": lay.text(task.product_vi),
            "note": None,
        }
        for c, key in enumerate(cols, start=1):
            cell = ws.cell(row=r, column=c, value=row_values[key])
            cell.border = form.style.box
            if isinstance(row_values[key], dt.date):
                cell.number_format = "DD/MM/YYYY"
        dv.add(f"{get_column_letter(cols.index('status') + 1)}{r}")
        r += 1
    if not tasks:
        ws.cell(row=r, column=3, value=lay.text("(Đơn vị không chủ trì nhiệm vụ nào của Kế hoạch)"))
        r += 1
    _signature(ws, r + 1, len(cols), lay.text)
    for c, w in zip("ABCDEFGH", (6, 12, 60, 12, 16, 14, 30, 20), strict=True):
        ws.column_dimensions[c].width = w


def _figures_sheet(
    form: _Form, ws, indicators: list[Indicator], values: dict[str, Decimal | int | None] | None
) -> None:
    """Số liệu: one row per indicator this unit reports; on the blank form, what to type in its note."""
    lay, cols = form.layout, form.layout.figure_columns
    head = form.titles(ws, len(cols), "SỐ LIỆU KẾT QUẢ CẢI CÁCH HÀNH CHÍNH")
    form.header_row(ws, head, [FIGURE_COLUMNS[key] for key in cols])
    r = head + 1
    for i, ind in enumerate(indicators, start=1):
        if lay.blank_rows and i == 3:
            r += 1
        row_values = {
            "stt": i,
            "code": ind.code,
            "label": lay.text(ind.label_vi),
            "unit": lay.text(ind.unit_vi),
            "value": lay.number((values or {}).get(ind.code), ind.decimals, ind.rule),
            "note": lay.text(f"Nhập {RULES_VI[ind.rule]}") if values is None else None,
        }
        for c, key in enumerate(cols, start=1):
            ws.cell(row=r, column=c, value=row_values[key]).border = form.style.box
        r += 1
    _signature(ws, r + 1, len(cols), lay.text)
    widths = {"stt": 6, "code": 30, "label": 60, "unit": 12, "value": 14, "note": 24}
    for c, key in enumerate(cols):
        ws.column_dimensions["ABCDEF"[c]].width = widths[key]
    ws.freeze_panes = ws.cell(row=head + 1, column=1)


def _signature(ws, row: int, width: int, t) -> None:
    ws.cell(row=row, column=2, value=t("Người lập biểu"))
    ws.cell(row=row, column=max(width - 2, 3), value=t("Thủ trưởng đơn vị"))
    ws.cell(row=row + 1, column=max(width - 2, 3), value=t("(Ký, ghi rõ họ tên, đóng dấu)"))
