"""Publish consolidated figures: the annex the city's report is signed with, the weekly roll-up, and CSV.

The annex (`<period>_tong_hop.xlsx`) is a Phụ lục of the report. Its first sheet, "Phụ lục I", says
which report it goes with ("Kèm theo Báo cáo số …/BC-UBND …"), lists the figures in the report's order
under the report's own numbered headings (I.1 … II.6), the unit in its own column and the figure as the
report prints it, and ends with the report's signature block, on one page with the table's last rows.
The weekly roll-up opens with the same table under a title block.

Numbers print the Vietnamese way on any computer: what a person reads is text made by cchc.common.vn
(`1.150`, `91,87`, `4.048,546`), right-aligned, because a number cell's format follows the computer's
language (in an Excel format "," and "." are the machine's separators: an English computer prints 1,150
and 91.87). The real numbers are on sheets for machines, hidden from print: "Số liệu tổng hợp" (code,
plain value, number of units reporting; the layout earlier releases had) and "Dữ liệu biểu đồ" (the
native charts' source ranges). Counts that a chart or a machine reads from a printed sheet (the weekly
trend, the reporting counts) keep a number with `INT_FMT`, whose dot is a literal. Any text that came from
a unit's file is neutralised before it reaches a cell (no formula injection).

Every workbook here prints as a person expects (`print_ready`): A4, fit to the page's width, the
table's header repeated on every page, Times New Roman set on every cell (with no font set,
LibreOffice printed the titles without diacritics), "Trang 1/3" in the footer. The period's annex
and the weekly roll-up add native Excel charts (openpyxl.chart) the office can restyle, drawn from
the same data as the draft's PNG charts (`cchc.outputs.charts`). Their labels and axes use `INT_FMT`
too, stated on the labels themselves (`sourceLinked="0"`), and a zero is an empty cell of the source
range: neither LibreOffice nor Excel prints a "0" on an empty segment.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from cchc.common.periods import Period, parse_period
from cchc.common.sheets import (
    BODY_PT,
    CHARS_PER_UNIT,
    FONT,
    ISSUER_IN_TEXT,
    SIGNER,
    SIGNER_NAME,
    TITLE_PT,
    align,
    grid,
    header_row,
    print_ready,
    title_block,
)
from cchc.common.vn import admin_date, format_number
from cchc.figures.completeness import ACTION, CHASE, STATUS_VI
from cchc.figures.consolidate import Consolidation, Figure
from cchc.outputs.charts import (
    COLOURS,
    DONE_COLOUR,
    LINE_COLOURS,
    PLAN_COLOUR,
    chart_data,
    weekly_trend,
)
from cchc.reference.registry import UNIT_TYPE_VI, Indicator, Reference

# An integer with a literal dot between thousands: 7, 1.150, 445.857, 1.234.567 whatever the
# computer's language (a quoted "." is printed as it is; Excel allows two conditions and an else).
INT_FMT = '[<1000]0;[<1000000]#"."###;#"."###"."###'

# The report's headings (the seed report, report_H1_2024_haiphong.txt), by the catalogue's `section`
# (`II.1.a`: part II, heading 1, sub-heading a); {period} and {year} are the report's.
PARTS_VI = {
    "I": "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CẢI CÁCH HÀNH CHÍNH",
    "II": "KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH {period}",
}
SECTIONS_VI = {
    "I.1": "Ban hành văn bản chỉ đạo, điều hành",
    "I.2": "Đánh giá, cập nhật tiến độ thực hiện Kế hoạch cải cách hành chính năm {year}",
    "I.3": "Về công tác kiểm tra cải cách hành chính, kỷ luật kỷ cương công vụ",
    "I.4": "Về công tác thông tin tuyên truyền cải cách hành chính",
    "I.5": "Thực hiện nhiệm vụ được Chính phủ, Thủ tướng Chính phủ giao",
    "I.6": "Đánh giá về những mô hình, sáng kiến, giải pháp mới trong cải cách hành chính được thí điểm, "
    "nhân rộng và triển khai có hiệu quả tại địa phương",
    "II.1": "Cải cách thể chế",
    "II.1.a": "Công tác xây dựng, ban hành văn bản quy phạm pháp luật",
    "II.1.b": "Công tác rà soát, hệ thống hóa văn bản quy phạm pháp luật",
    "II.1.c": "Công tác kiểm tra, xử lý văn bản quy phạm pháp luật",
    "II.1.d": "Công tác theo dõi tình hình thi hành pháp luật",
    "II.2": "Cải cách thủ tục hành chính (TTHC)",
    "II.3": "Cải cách tổ chức bộ máy",
    "II.4": "Xây dựng, nâng cao chất lượng đội ngũ cán bộ, công chức",
    "II.5": "Cải cách tài chính công",
    "II.6": "Xây dựng và phát triển Chính phủ điện tử, Chính phủ số",
}
# Within II.2 the report gives feedback and dossiers indents of their own ("- Về việc …").
SUBGROUPS_VI = {
    "feedback": "Về việc tiếp nhận, xử lý phản ánh, kiến nghị về quy định TTHC trên Cổng Dịch vụ công quốc gia",
    "dossier": "Về giải quyết hồ sơ thủ tục hành chính (Biểu 06/VPCP/KSTT)",
}
# Headings for indicators of a catalogue with no section the report numbers (another city's, say).
GROUPS_VI = {
    "direction": "Công tác chỉ đạo, điều hành",
    "institutions": "Cải cách thể chế",
    "procedures": "Cải cách thủ tục hành chính",
    "feedback": "Phản ánh, kiến nghị",
    "dossier": "Hồ sơ thủ tục hành chính (Biểu 06/VPCP/KSTT)",
    "organisation": "Cải cách tổ chức bộ máy",
    "civil_service": "Cải cách chế độ công vụ",
    "finance": "Cải cách tài chính công",
    "egov": "Xây dựng chính quyền điện tử, chính quyền số",
}
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


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


# -- the figures in the report's order ---------------------------------------------------------


def _section_parts(section: str) -> tuple[str, str, str]:
    """`II.1.a` → ("II", "1", "a"); a section the report does not number → ("", "", "")."""
    part, number, letter = ((section or "").strip().split(".") + ["", ""])[:3]
    return (part, number, letter) if part in _ROMAN else ("", "", "")


def section_key(section: str) -> tuple:
    """Sorts sections as the report runs: I.1 … I.6, II.1.a, II.1.b, II.2 … II.6, then unnumbered ones."""
    part, number, letter = _section_parts(section)
    return (_ROMAN.get(part, 99), int(number) if number.isdigit() else 99, letter)


def report_order(ref: Reference, day) -> list[Indicator]:
    """The indicators in force on `day` in the report's order (the catalogue's within a section)."""
    return sorted(ref.indicators_on(day), key=lambda ind: section_key(ind.section))


@dataclass(frozen=True)
class AnnexRow:
    kind: str  # part | section | letter | subgroup | figure
    number: str  # STT: `I`, `2`, `a`, `2.1`
    text: str
    unit: str = ""
    value: str = ""
    note: str = ""


def result_text(ind: Indicator, f: Figure) -> str:
    """The figure as the report prints it less its unit, which has a column of its own: `08/57`,
    `1.150`, `91,87`, `4.048,546`; '' when there is no figure."""
    if f.value is None:
        return ""
    if ind.method == "plan_done" and "/" in f.text:
        return f.text
    return format_number(f.value, ind.decimals)


def _note(f: Figure, result: Consolidation) -> str:
    if f.value is None:
        return "Chưa có số liệu"
    # A figure whose data stand at a date of their own (the disbursement, at the month's end before).
    return f"Số liệu đến ngày {admin_date(f.as_of)}" if f.as_of and f.as_of != result.as_of else ""


def _headings(ind: Indicator, words: dict[str, str]):
    """(key, row) of each heading above `ind`, outermost first: part, numbered heading, lettered one,
    and within II.2 the indent of feedback or dossiers."""
    part, number, letter = _section_parts(ind.section)
    if not part:
        yield ("group", ind.group), AnnexRow("section", "", GROUPS_VI.get(ind.group, ind.group))
        return
    yield ("part", part), AnnexRow("part", part, PARTS_VI.get(part, part).format(**words))
    if number:
        code = f"{part}.{number}"
        yield ("section", code), AnnexRow("section", number, SECTIONS_VI.get(code, code).format(**words))
    if letter:
        code = f"{part}.{number}.{letter}"
        yield ("letter", code), AnnexRow("letter", letter, SECTIONS_VI.get(code, code).format(**words))
    if ind.group in SUBGROUPS_VI:
        yield ("subgroup", ind.section, ind.group), AnnexRow("subgroup", "", SUBGROUPS_VI[ind.group])


def annex_rows(result: Consolidation, ref: Reference, period_words: str, year: int) -> list[AnnexRow]:
    """The annex's table: each heading once, where the report has it, then its figures numbered
    under it (`2.1`, `2.2`: heading 2's first and second figure)."""
    words = {"period": period_words.upper(), "year": str(year)}
    rows: list[AnnexRow] = []
    seen: set = set()
    n = 0
    for ind in report_order(ref, result.as_of):
        for key, heading in _headings(ind, words):
            if key not in seen:
                seen.add(key)
                rows.append(heading)
                n = 0 if heading.kind in ("part", "section") else n
        n += 1
        number = _section_parts(ind.section)[1]
        f = result.figures[ind.code]
        rows.append(
            AnnexRow(
                "figure",
                f"{number}.{n}" if number else str(n),
                ind.label_vi,
                ind.unit_vi,
                result_text(ind, f),
                _note(f, result),
            )
        )
    return rows


def _period_words(label: str) -> tuple[str, int | None]:
    """How headings name the period (`6 tháng đầu năm 2024`; a week's figures run from the year's start)."""
    try:
        period: Period = parse_period(label)
    except ValueError:
        return label, None
    if period.kind == "week":
        return f"lũy kế từ đầu năm đến hết {period.name_vi.lower()}", period.year
    return period.name_vi.lower(), period.year


# -- the figures workbook (annex, weekly roll-up) ----------------------------------------------

ANNEX_SHEET = "Phụ lục I"
WEEK_SHEET = "Tổng hợp tuần"
DATA_SHEET = "Số liệu tổng hợp"  # for machines: hidden, as earlier releases laid it out
CHART_DATA_SHEET = "Dữ liệu biểu đồ"  # the native charts' source ranges: hidden

ANNEX_COLUMNS = ["STT", "Nội dung", "Đơn vị tính", "Kết quả", "Ghi chú"]
# ~83 units: A4 portrait's printable width (18.2 cm) at ~88 % (LibreOffice: ~0.25 cm a unit at 100 %).
ANNEX_WIDTHS = {"A": 6, "B": 40, "C": 11, "D": 13, "E": 13}
DATA_COLUMNS = [
    "STT",
    "Mã chỉ tiêu",
    "Nội dung",
    "Đơn vị tính",
    "Kết quả",
    "Giá trị (số)",
    "Số đơn vị báo cáo",
    "Mục báo cáo",
    "Số liệu đến ngày",
]
DATA_WIDTHS = {"A": 5, "B": 30, "C": 45, "D": 10, "E": 18, "F": 11, "G": 9, "H": 8, "I": 11}
LINE_PT = BODY_PT * 1.25  # a line of body text
PAGE_CM = 25.5  # printable height of A4 portrait within print_ready's margins (LibreOffice 27, Excel 26.4)
# Room kept on the first page for the approval status cchc.figures.approval may write under the title.
SPARE_CM = 1.5


def write_figures_workbook(
    path: Path,
    result: Consolidation,
    ref: Reference,
    title: str,
    reporting: tuple[list, list] | None = None,
    charts: list | None = None,
    trend=None,
    annex: bool = False,
) -> Path:
    """The printed figures sheet (the annex's "Phụ lục I" when `annex`), units and tasks not reported,
    then optionally the reporting sheet, native charts (`cchc.outputs.charts.ChartData`) and the weekly
    trend; last, hidden, the sheets for machines (codes, plain values; the charts' data)."""
    from openpyxl import Workbook

    wb = Workbook()
    _write_figures_sheet(wb.active, result, ref, title, annex)
    _write_missing_units_sheet(wb, result, ref, title)
    if result.tasks_unreported:
        _write_unreported_tasks_sheet(wb, result, ref, title)
    if reporting is not None:
        write_reporting_sheet(wb, *reporting, title=title, ref=ref)
    if charts:
        write_chart_sheet(wb, charts, title)
    if trend is not None:
        write_trend_sheet(wb, trend, title)
    _write_data_sheet(wb, result, ref, title)
    hidden = sorted((ws for ws in wb.worksheets if ws.sheet_state == "hidden"), key=lambda ws: ws.title != DATA_SHEET)
    for ws in hidden:  # machines' sheets last, the figures' first
        wb.move_sheet(ws, len(wb.worksheets) - 1 - wb.index(ws))
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _write_figures_sheet(ws, result: Consolidation, ref: Reference, title: str, annex: bool) -> None:
    """The figures as the report numbers them: STT | Nội dung | Đơn vị tính | Kết quả | Ghi chú, all text."""
    words, year = _period_words(result.label)
    expected = len(result.units_reported) + len(result.units_missing)
    note = (
        f"Số liệu tính đến ngày {admin_date(result.as_of)}; {len(result.units_reported)}/{expected} "
        f"cơ quan, đơn vị đã báo cáo."
    )
    if annex:
        ws.title = ANNEX_SHEET
        head = _annex_heading(ws, title, f"({note})", year or result.as_of.year)
    else:
        ws.title = WEEK_SHEET
        title_block(ws, title, note, "E")
        head = 5
    header_row(ws, head, ANNEX_COLUMNS)
    rows = annex_rows(result, ref, words, year or result.as_of.year)
    for row in rows:
        _annex_row(ws, row)
    last = ws.max_row
    grid(ws, head + 1, last, len(ANNEX_COLUMNS))
    if annex:
        _signature(ws, last + 2)
    print_ready(ws, ANNEX_WIDTHS, header_row=head, wrap=("B", "E"), first_wrapped_row=head + 1)
    _row_heights(ws, head + 1, last, rows)
    # A heading prints with the figure under it; the signature with the table's last two rows.
    glued = {r for r, row in enumerate(rows, start=head + 1) if row.kind != "figure"}
    _paginate(ws, head, glued | set(range(last - 1, ws.max_row)) if annex else glued)


def _annex_heading(ws, title: str, note: str, year: int) -> int:
    """The annex's heading: "Phụ lục I", the title, the report it goes with, a note, then a blank row
    (where cchc.figures.approval.annotate_workbook writes the approval status); returns the header's row."""
    from openpyxl.styles import Alignment, Font

    attached = f"(Kèm theo Báo cáo số        /BC-UBND ngày      tháng      năm {year} của {ISSUER_IN_TEXT})"
    lines = (
        ("Phụ lục I", Font(bold=True, size=TITLE_PT + 1), 1),
        (title, Font(bold=True, size=TITLE_PT), 2),  # Nghị định 30/2020: number, title, then what it goes with
        (attached, Font(italic=True, size=BODY_PT), 2),
        (note, Font(italic=True, size=BODY_PT), 1),
    )
    for r, (text, font, n_lines) in enumerate(lines, start=1):
        cell = ws.cell(row=r, column=1, value=text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(ANNEX_COLUMNS))
        ws.row_dimensions[r].height = n_lines * font.sz * 1.25 + 4
    return len(lines) + 2


def _annex_row(ws, row: AnnexRow) -> None:
    """A heading across the table (bold; a part's on grey, a lettered one italic too, an indent italic)
    or a figure: number and unit centred, the result right-aligned, all of it text."""
    from openpyxl.styles import Alignment, Font, PatternFill

    if row.kind != "figure":
        ws.append([row.number, row.text])
        r = ws.max_row
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=len(ANNEX_COLUMNS))
        bold, italic = row.kind != "subgroup", row.kind in ("letter", "subgroup")
        for col in (1, 2):
            ws.cell(row=r, column=col).font = Font(bold=bold, italic=italic, size=BODY_PT)
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="center", vertical="top")
        if row.kind == "part":
            for col in range(1, len(ANNEX_COLUMNS) + 1):
                ws.cell(row=r, column=col).fill = PatternFill("solid", fgColor="F2F2F2")
        return
    ws.append([row.number, row.text, row.unit, row.value, row.note])
    r = ws.max_row
    for col, horizontal in (("A", "center"), ("C", "center"), ("D", "right"), ("E", "left")):
        ws[f"{col}{r}"].alignment = Alignment(horizontal=horizontal, vertical="top", wrap_text=col == "E")


def _lines(text: str, units: float) -> int:
    per_line = max(units * CHARS_PER_UNIT, 1)
    return sum(math.ceil(max(len(part), 1) / per_line) for part in str(text or "").split("\n"))


def _row_heights(ws, first: int, last: int, rows: list[AnnexRow]) -> None:
    """Every row of the table a height from its text (a heading spans B:E; a figure's label is in B,
    its note in E), so page breaks can be computed and no program re-measures."""
    span = sum(w for col, w in ANNEX_WIDTHS.items() if col != "A")
    for r, row in zip(range(first, last + 1), rows, strict=True):
        if row.kind == "figure":
            n = max(_lines(row.text, ANNEX_WIDTHS["B"]), _lines(row.note, ANNEX_WIDTHS["E"]))
        else:
            n = _lines(row.text, span * 0.95)  # bold is wider
        ws.row_dimensions[r].height = n * LINE_PT + 2


def _signature(ws, row: int) -> None:
    """The report's signature block on the table's right (C:E): TM. ỦY BAN NHÂN DÂN, KT. CHỦ TỊCH,
    PHÓ CHỦ TỊCH, room to sign, the name."""
    from openpyxl.styles import Alignment, Font

    lines = [*SIGNER, "", "", "", "", SIGNER_NAME]
    for r, text in enumerate(lines, start=row):
        cell = ws.cell(row=r, column=3, value=text or None)
        cell.font = Font(bold=True, size=TITLE_PT)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=len(ANNEX_COLUMNS))
        ws.row_dimensions[r].height = TITLE_PT * 1.25 + 2
    ws.row_dimensions[row - 1].height = LINE_PT


def _paginate(ws, header: int, glued: set[int]) -> None:
    """Page breaks set by hand where the table's pages end, so that LibreOffice and Excel print the
    same pages and keep together what the report keeps together: a row in `glued` prints on the page of
    the row after it (a heading with its first figure, the table's last rows with the signature).

    Spreadsheets keep no rows together by themselves. The pages are laid out from the rows' heights at
    100 % (the scale that fits the columns to the page's width only shrinks them, by a factor that depends
    on the program and the fonts), and never fuller than PAGE_CM, which every program's page holds, so
    no break of the program's own comes between these."""
    from openpyxl.worksheet.pagebreak import Break

    first = header + 1
    repeated = _height_cm(ws, header, header)  # the header printed again at each page's top
    used = _height_cm(ws, 1, header) + SPARE_CM
    start = first
    for r in range(first, ws.max_row + 1):
        if r in glued and r < ws.max_row:
            continue
        block = _height_cm(ws, start, r)
        if used + block > PAGE_CM and start > first:
            ws.row_breaks.append(Break(id=start - 1))
            used = repeated
        used += block
        start = r + 1


def _write_data_sheet(wb, result: Consolidation, ref: Reference, title: str) -> None:
    """'Số liệu tổng hợp', for machines (tests, `cchc explain CODE`, analysts): code, the report's text,
    the plain value, the number of units, section and date, one row a figure; hidden from print."""
    from openpyxl.styles import Alignment

    ws = wb.create_sheet(DATA_SHEET)
    title_block(ws, title, "Số liệu cho máy: mã chỉ tiêu, giá trị dạng số (machine-readable figures).", "I")
    header_row(ws, 5, DATA_COLUMNS)
    for n, ind in enumerate(report_order(ref, result.as_of), start=1):
        f = result.figures[ind.code]
        as_of = f.as_of or result.as_of
        ws.append(
            [n, ind.code, ind.label_vi, ind.unit_vi, f.text]
            + [None if f.value is None else float(f.value), f.n_units or None, ind.section, as_of]
        )
        r = ws.max_row
        ws[f"F{r}"].number_format = "#,##0.###"
        ws[f"I{r}"].number_format = "dd/mm/yyyy"
        for col in "ADEFGHI":
            ws[f"{col}{r}"].alignment = Alignment(horizontal="center" if col in "ADGHI" else "right")
    grid(ws, 6, ws.max_row, len(DATA_COLUMNS))
    print_ready(ws, DATA_WIDTHS, header_row=5)
    ws.sheet_state = "hidden"


def _write_missing_units_sheet(wb, result: Consolidation, ref: Reference, title: str) -> None:
    """'Đơn vị chưa báo cáo': the units expected to report that sent nothing accepted (or a line saying none)."""
    missing = wb.create_sheet("Đơn vị chưa báo cáo")
    title_block(missing, "CÁC ĐƠN VỊ CHƯA BÁO CÁO", title.capitalize(), "C")
    missing.append([])
    header_row(missing, 5, ["STT", "Tên đơn vị", "Mã đơn vị"])
    for i, code in enumerate(result.units_missing, start=1):
        unit = ref.unit_any(code)
        missing.append([i, unit.name_vi if unit else "", code])
    if not result.units_missing:
        missing.append(["", "Tất cả các đơn vị phải báo cáo đều đã báo cáo.", ""])
    grid(missing, 6, missing.max_row, 3)
    print_ready(missing, {"A": 6, "B": 60, "C": 14}, header_row=5, wrap=("B",), first_wrapped_row=6)


def _write_unreported_tasks_sheet(wb, result: Consolidation, ref: Reference, title: str) -> None:
    """'Nhiệm vụ chưa báo cáo': the plan's tasks whose lead unit has not reported them."""
    tasks = wb.create_sheet("Nhiệm vụ chưa báo cáo")
    title_block(tasks, "NHIỆM VỤ KẾ HOẠCH CHƯA CÓ BÁO CÁO CỦA CƠ QUAN CHỦ TRÌ", title.capitalize(), "D")
    tasks.append([])
    header_row(tasks, 5, ["STT", "Tên nhiệm vụ", "Cơ quan chủ trì", "Mã nhiệm vụ"])
    by_code = {t.code: t for t in ref.tasks}
    for i, code in enumerate(result.tasks_unreported, start=1):
        t = by_code[code]
        lead = ref.unit_any(t.lead_unit)
        tasks.append([i, t.name_vi, lead.name_vi if lead else t.lead_unit, code])
    grid(tasks, 6, tasks.max_row, 4)
    print_ready(tasks, {"A": 6, "B": 58, "C": 24, "D": 12}, header_row=5, wrap=("B", "C"), first_wrapped_row=6)


def percent_text(value) -> str:
    """A rate as the report writes it: `91,87%`, `100%` (no `,00`)."""
    s = format_number(value, 2)
    return (s[:-3] if s.endswith(",00") else s) + "%"


def _group_vi(group: str, ref: Reference | None) -> str:
    """A rate's group: a unit type (`Sở, ban, ngành`), or a district's communes (`Cấp xã thuộc quận Đồ Sơn`)."""
    if group in UNIT_TYPE_VI:
        return UNIT_TYPE_VI[group]
    unit = ref.unit_any(group) if ref is not None else None
    name = unit.name_vi.removeprefix("Ủy ban nhân dân ") if unit else group
    return f"Cấp xã thuộc {name}"


def write_reporting_sheet(wb, statuses: list, rates: list, title: str = "", ref: Reference | None = None) -> None:
    """'Tình hình báo cáo': rates by unit type and by district, then every unit to chase. Counts stay
    numbers (machines read them) in `INT_FMT`; rates and dates are text, as the report writes them."""
    from openpyxl.styles import Alignment

    ws = wb.create_sheet("Tình hình báo cáo")
    last_col = "K"
    title_block(ws, "TÌNH HÌNH GỬI BÁO CÁO: ĐÚNG HẠN, TRỄ HẠN, CHƯA GỬI", title.capitalize(), last_col)
    header_row(
        ws,
        5,
        [
            "Kỳ",
            "Nhóm đơn vị",
            "Phải báo cáo",
            "Đã gửi",
            "Được tiếp nhận",
            "Đúng hạn",
            "Trễ hạn",
            "Bị từ chối",
            "Chưa gửi",
            "Tỷ lệ đã gửi",
            "Tỷ lệ đúng hạn",
        ],
    )
    for r in rates:
        counts = [r.expected, r.reported, r.accepted, r.on_time, r.late, r.refused, r.missing]
        ws.append([r.period_code, _group_vi(r.group, ref), *counts, percent_text(r.reporting_rate)])
        ws.cell(row=ws.max_row, column=11, value=percent_text(r.on_time_rate))
        for col in range(3, 12):
            cell = ws.cell(row=ws.max_row, column=col)
            cell.number_format = INT_FMT
            cell.alignment = Alignment(horizontal="right")
    grid(ws, 6, ws.max_row, 11)
    ws.append([])
    # The list of units to chase can run to pages: its header is the one repeated on each page.
    chase_header = ws.max_row + 1
    header_row(ws, chase_header, ["Kỳ", "Mã đơn vị", "Tên đơn vị", "Hạn gửi", "Tình trạng", "Việc cần làm"])
    ws.merge_cells(start_row=chase_header, start_column=6, end_row=chase_header, end_column=11)
    for u in (u for u in statuses if u.status in CHASE):
        ws.append(
            [u.period_code, u.unit_code, u.unit_name_vi, admin_date(u.due_on), STATUS_VI[u.status], ACTION[u.status]]
        )
        ws.merge_cells(start_row=ws.max_row, start_column=6, end_row=ws.max_row, end_column=11)
        ws.cell(row=ws.max_row, column=4).alignment = Alignment(horizontal="center")
    if ws.max_row > chase_header:
        grid(ws, chase_header + 1, ws.max_row, 6)
    _print_reporting_sheet(ws, chase_header)


def _print_reporting_sheet(ws, chase_header: int) -> None:
    # F:K hold the rates, and in the list the action (one line of ~75 characters, Vietnamese / English).
    widths = {"A": 10, "B": 30, "C": 30, "D": 11, "E": 14, "F": 11, "G": 10, "H": 10, "I": 10, "J": 11, "K": 12}
    print_ready(
        ws,
        widths,
        header_row=chase_header if ws.max_row > chase_header else 5,
        landscape=True,
        wrap=("B", "C", "E"),
        first_wrapped_row=6,
    )
    # Column F of the chase list spans F:K (what to do, Vietnamese / English): height from that width.
    for r in range(chase_header + 1, ws.max_row + 1):
        # Half of it is English, narrower than Vietnamese: ~1.45 characters a unit measured, 1.3 taken.
        need = math.ceil(len(str(ws[f"F{r}"].value or "")) / (sum(widths[c] for c in "FGHIJK") * 1.3))
        lines = max(need, math.ceil((ws.row_dimensions[r].height or 0) / (BODY_PT * 1.25)))
        ws.row_dimensions[r].height = max(lines, 1) * BODY_PT * 1.25 + 2
        align(ws[f"F{r}"], wrap_text=True, vertical="top")


# -- native charts -----------------------------------------------------------------------------


def _chars(size_pt: float, bold: bool = False):
    """Chart text in Times New Roman (titles, axes, legend, labels): LibreOffice and Excel alike."""
    from openpyxl.drawing.text import CharacterProperties, Font

    return CharacterProperties(latin=Font(typeface=FONT), cs=Font(typeface=FONT), sz=int(size_pt * 100), b=bold)


def _rich(size_pt: float):
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import Paragraph, ParagraphProperties

    props = _chars(size_pt)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _title(text: str):
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import Paragraph, ParagraphProperties, RegularTextRun

    props = _chars(12, bold=True)
    para = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def _data_labels(size_pt: float = 9):
    """Value labels in `INT_FMT`, stated on the labels (`sourceLinked="0"`).

    openpyxl writes a label's number format with no `sourceLinked`, which LibreOffice reads as "linked
    to the source" and so printed the cells' own format (zeros as "0"); an `NumFmt` element carries the
    attribute. Both tuples are overridden, or openpyxl drops showVal or fails to serialise."""
    from openpyxl.chart.data_source import NumFmt
    from openpyxl.chart.label import DataLabelList
    from openpyxl.descriptors import Typed

    class DataLabels(DataLabelList):
        tagname = "dLbls"
        numFmt = Typed(expected_type=NumFmt, allow_none=True)
        __elements__ = DataLabelList.__elements__
        __nested__ = tuple(n for n in DataLabelList.__nested__ if n != "numFmt")

    return DataLabels(
        numFmt=NumFmt(formatCode=INT_FMT, sourceLinked=False),
        showVal=True,
        showSerName=False,
        showCatName=False,
        showLegendKey=False,
        showPercent=False,
        txPr=_rich(size_pt),
    )


def _dress(chart, title: str, labels: bool) -> None:
    """Title, legend below, visible axes in `INT_FMT`, value labels (none on an empty cell)."""
    from openpyxl.chart.legend import Legend

    chart.title = _title(title)
    chart.legend = Legend(legendPos="b")
    chart.legend.txPr = _rich(10)
    for axis in (getattr(chart, "x_axis", None), getattr(chart, "y_axis", None)):
        if axis is not None:
            axis.delete = False  # openpyxl 3.1 otherwise writes axes Excel hides
            axis.txPr = _rich(10)
    if hasattr(chart, "y_axis"):
        chart.y_axis.number_format = INT_FMT
        chart.y_axis.majorGridlines = None
    if labels:
        chart.dataLabels = _data_labels()


def _hex(*colours: str) -> tuple[str, ...]:
    return tuple(c.lstrip("#") for c in colours)


def _colour_points(series, colours: tuple[str, ...]) -> None:
    """One colour per data point (a pie's wedges, a funnel's stages)."""
    from openpyxl.chart.series import DataPoint

    for i, colour in enumerate(colours):
        point = DataPoint(idx=i)
        point.graphicalProperties.solidFill = colour
        series.dPt.append(point)


def _style_line(series, colour: str) -> None:
    series.graphicalProperties.line.solidFill = colour
    series.graphicalProperties.line.width = 22000
    series.smooth = False


def drawn_series(c) -> list[int]:
    """The series a chart draws: those with a value other than zero (a legend entry with no bar is noise)."""
    drawn = [j for j, (_, values) in enumerate(c.series) if any(v for v in values)]
    return drawn or [0]


def native_chart(c, ws, first_row: int, n_rows: int):
    """An openpyxl chart of `c` (cchc.outputs.charts.ChartData) whose data sit in ws: categories in column A
    from first_row + 1, one series per column from B, names in first_row; series all zero left out."""
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference

    chart = {"pie": PieChart, "line": LineChart}.get(c.kind, BarChart)()
    drawn = drawn_series(c)
    for j in drawn:
        chart.add_data(
            Reference(ws, min_col=2 + j, min_row=first_row, max_row=first_row + n_rows), titles_from_data=True
        )
    chart.set_categories(Reference(ws, min_col=1, min_row=first_row + 1, max_row=first_row + n_rows))
    if c.kind == "pie":
        _colour_points(chart.series[0], _hex(DONE_COLOUR, PLAN_COLOUR)[:n_rows])
        _dress(chart, c.title_vi, labels=True)
    elif c.kind == "line":
        _dress(chart, c.title_vi, labels=False)
        for s, colour in zip(chart.series, _hex(*LINE_COLOURS), strict=False):
            _style_line(s, colour)
    else:
        chart.type = "bar"  # horizontal: long Vietnamese category names stay readable
        chart.grouping = "stacked" if c.kind == "stacked_bar" else "clustered"
        if c.kind == "stacked_bar":
            chart.overlap = 100
        chart.gapWidth = 60
        colours = {"bullet": _hex(PLAN_COLOUR, DONE_COLOUR), "funnel": _hex(COLOURS[1])}.get(
            c.kind, _hex(*COLOURS, DONE_COLOUR, "#8D6E63")
        )
        for s, j in zip(chart.series, drawn, strict=True):  # a series keeps its colour when others are left out
            s.graphicalProperties.solidFill = colours[j % len(colours)]
            s.graphicalProperties.line.solidFill = colours[j % len(colours)]
        if c.kind == "funnel":
            _colour_points(chart.series[0], ("F9A825", "8D6E63", "FFB74D", "2E7D32", "1565C0", "C62828")[:n_rows])
        chart.x_axis.scaling.orientation = "maxMin"  # first category on top, as in the table
        _dress(chart, c.title_vi, labels=True)
        if c.kind == "funnel":
            chart.legend = None
    return chart


CHART_COLUMNS = {"A": 28, "B": 12.5, "C": 12.5, "D": 12.5, "E": 12.5}  # ~78 units: A4 portrait at 100 %
ROW_PT = 16.0  # rows of the chart sheet: Times New Roman 12 fits
ROW_CM = ROW_PT / 72 * 2.54


def _chart_source(data, row: int, number: int, c) -> tuple[int, int]:
    """The chart's source range on the machines' sheet: a header (category, series names) and one row
    a category, a zero as an empty cell (no bar, no label). A pie's categories carry their share
    (`Toàn trình (77,33%)`): a percentage label would print as the computer's language has it.
    Returns (the header's row, the next free row)."""
    data.cell(row=row, column=1, value=f"Biểu đồ {number}. {c.title_vi}")
    head = row + 1
    data.cell(row=head, column=1, value=f"Nội dung ({c.unit_vi})" if c.unit_vi else "Nội dung")
    for j, (name, values) in enumerate(c.series):
        data.cell(row=head, column=2 + j, value=name)
        for i, value in enumerate(values):
            cell = data.cell(row=head + 1 + i, column=2 + j, value=value or None)
            cell.number_format = INT_FMT if c.decimals == 0 else "#,##0.000"
    whole = sum(v or 0 for v in c.series[0][1]) if c.kind == "pie" else 0
    for i, cat in enumerate(c.categories):
        share = f" ({percent_text(100 * (c.series[0][1][i] or 0) / whole)})" if whole else ""
        data.cell(row=head + 1 + i, column=1, value=cat + share)
    return head, head + len(c.categories) + 2


def _chart_block(ws, row: int, number: int, c, data, source: int) -> int:
    """Title, caption, the data table (text, as the report writes numbers) and the chart under it,
    drawn from its source range on `data` at `source`; returns the next free row."""
    from openpyxl.styles import Alignment, Font

    ws.cell(row=row, column=1, value=f"Biểu đồ {number}. {c.title_vi}").font = Font(bold=True, size=BODY_PT)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
    caption = ws.cell(row=row + 1, column=1, value=c.caption_vi)
    caption.font = Font(italic=True, size=BODY_PT)
    caption.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=5)
    lines = math.ceil(len(c.caption_vi) / (sum(CHART_COLUMNS.values()) * CHARS_PER_UNIT))
    ws.row_dimensions[row + 1].height = lines * BODY_PT * 1.25 + 2
    head = row + 2
    names = [name for name, _ in c.series] + (["Tỷ lệ đạt"] if c.notes_vi else [])
    header_row(ws, head, [f"Nội dung ({c.unit_vi})" if c.unit_vi else "Nội dung", *names])
    for i, cat in enumerate(c.categories):
        ws.cell(row=head + 1 + i, column=1, value=cat).alignment = Alignment(wrap_text=True, vertical="top")
        texts = [format_number(values[i] or 0, c.decimals) for _, values in c.series]
        texts += [c.notes_vi[i]] if i < len(c.notes_vi) else []  # e.g. the disbursement's percentages
        for j, text in enumerate(texts):
            ws.cell(row=head + 1 + i, column=2 + j, value=text).alignment = Alignment(horizontal="right")
    last = head + len(c.categories)
    grid(ws, head + 1, last, 1 + len(c.series) + bool(c.notes_vi))
    chart = native_chart(c, data, source, len(c.categories))
    chart.width = 16.0
    chart.height = 7.0 if len(c.categories) <= 7 else 10.5
    ws.add_chart(chart, f"A{last + 2}")
    end = last + 2 + math.ceil(chart.height / ROW_CM)
    for r in range(row, end):  # fixed heights: the page breaks below are computed from them
        ws.row_dimensions[r].height = ws.row_dimensions[r].height or ROW_PT
    return end


def _height_cm(ws, first: int, last: int) -> float:
    """Rows' printed height at 100 % (fit-to-width only ever shrinks it)."""
    return sum((ws.row_dimensions[r].height or ROW_PT) / 72 * 2.54 for r in range(first, last + 1))


def write_chart_sheet(wb, charts: list, title: str) -> None:
    """'Biểu đồ': each chart's data table and its native chart, one under the other; a page break
    before a block that would not fit the rest of the page, so no chart is cut in two. The charts'
    source ranges are on the hidden sheet 'Dữ liệu biểu đồ'."""
    from openpyxl.worksheet.pagebreak import Break

    ws = wb.create_sheet("Biểu đồ", 1)  # right after the figures
    data = wb.create_sheet(CHART_DATA_SHEET)
    title_block(ws, "BIỂU ĐỒ", title.capitalize(), "E")
    row, page_top, data_row = 5, 1, 1
    for number, c in enumerate(charts, start=1):
        if len(c.series) + bool(c.notes_vi) > len(CHART_COLUMNS) - 1:
            raise ValueError(f"chart {c.key}: too many series for the sheet's {len(CHART_COLUMNS) - 1} columns")
        source, data_row = _chart_source(data, data_row, number, c)
        end = _chart_block(ws, row, number, c, data, source)
        if _height_cm(ws, page_top, end - 1) > PAGE_CM and row > page_top:
            ws.row_breaks.append(Break(id=row - 1))
            page_top = row
        row = end
    print_ready(ws, CHART_COLUMNS, header_row=None)
    print_ready(data, {"A": 40, **{col: 14 for col in "BCDE"}}, header_row=None)
    data.sheet_state = "hidden"


def write_trend_sheet(wb, trend, title: str) -> None:
    """'Xu hướng theo tuần': the year-to-date figures week by week, and one line chart per figure
    (tasks count in units, dossiers in hundreds of thousands: one scale would flatten the small ones).
    The table is the charts' source: counts in `INT_FMT`, the weeks' last days as text (15/6/2024)."""
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Alignment

    line_colours = _hex(*LINE_COLOURS)
    ws = wb.create_sheet("Xu hướng theo tuần")
    n = 2 + len(trend.series)
    last_col = chr(ord("A") + n - 1)
    title_block(ws, trend.title_vi.upper(), title.capitalize(), last_col)
    ws.append([])
    header_row(ws, 5, ["Tuần", "Đến ngày", *[name for name, _ in trend.series]], lines=3)
    for i, cat in enumerate(trend.categories):
        ws.append(
            [cat, trend.notes_vi[i] if i < len(trend.notes_vi) else "", *[values[i] for _, values in trend.series]]
        )
        for col in range(3, n + 1):
            ws.cell(row=ws.max_row, column=col).number_format = INT_FMT
        for col in (1, 2):
            ws.cell(row=ws.max_row, column=col).alignment = Alignment(horizontal="center")
    last = ws.max_row
    grid(ws, 6, last, n)
    print_ready(ws, {"A": 8, "B": 13, **{chr(ord("C") + k): 16 for k in range(len(trend.series))}}, header_row=5)
    cats = Reference(ws, min_col=1, min_row=6, max_row=last)
    row = last + 2
    for k, (name, _) in enumerate(trend.series):
        chart = LineChart()
        chart.add_data(Reference(ws, min_col=3 + k, min_row=5, max_row=last), titles_from_data=True)
        chart.set_categories(cats)
        _dress(chart, f"{name} (lũy kế từ đầu năm)", labels=False)
        chart.legend = None
        _style_line(chart.series[0], line_colours[k % len(line_colours)])
        chart.width, chart.height = 16.0, 6.0
        ws.add_chart(chart, f"A{row}")
        row += math.ceil(chart.height / ROW_CM) + 1


# -- what is published -------------------------------------------------------------------------


def publish_period(out_dir: Path, result: Consolidation, ref: Reference, engine=None) -> dict[str, Path]:
    """`<period>_tong_hop.xlsx` (the annex: Phụ lục I, native charts) and `<period>_tong_hop.csv` in out_dir.

    With the warehouse's engine the charts include reporting completeness by district."""

    period = parse_period(result.label)
    title = f"TỔNG HỢP KẾT QUẢ CẢI CÁCH HÀNH CHÍNH {period.name_vi.upper()}"
    xlsx = write_figures_workbook(
        out_dir / f"{period.code}_tong_hop.xlsx",
        result,
        ref,
        title,
        charts=chart_data(engine, ref, result),
        annex=True,
    )
    csv_path = out_dir / f"{period.code}_tong_hop.csv"
    csv_path.write_text(figures_csv(result, ref, full=True), encoding="utf-8-sig")  # BOM: Excel reads UTF-8
    return {"xlsx": xlsx, "csv": csv_path}


def publish_week(
    out_dir: Path, result: Consolidation, ref: Reference, reporting: tuple[list, list] | None = None, engine=None
) -> Path:
    """The weekly workbook; `reporting` (statuses, rates) adds the sheet of late and missing units,
    `engine` the trend over the year's weeks up to this one."""

    week = parse_period(result.label)
    title = (
        f"BÁO CÁO NHANH CẢI CÁCH HÀNH CHÍNH {week.name_vi.upper()} ({admin_date(week.start)} – {admin_date(week.end)})"
    )
    trend = weekly_trend(engine, ref, week, current=result) if engine is not None else None
    return write_figures_workbook(
        out_dir / f"{week.code}_bao_cao_tuan.xlsx", result, ref, title, reporting, trend=trend
    )
