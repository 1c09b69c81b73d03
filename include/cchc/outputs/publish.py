"""Publish consolidated figures: the Vietnamese workbook the city's report is written from, and CSV.

Numbers print the way the seed report writes them (`08/57`, `1.317`, `25,6%`, `4.048,546 tỷ đồng`);
the workbook also keeps the plain number beside the text so analysts can compute with it. Any text
that came from a unit's file is neutralised before it reaches a cell (no formula injection).

Every workbook here prints as a person expects (`print_ready`): A4, fit to the page's width, the
table's header repeated on every page, Times New Roman set on every cell (with no font set,
LibreOffice printed the titles without diacritics), "Trang 1/3" in the footer. The period's annex
and the weekly roll-up add native Excel charts (openpyxl.chart) the office can restyle, drawn from
the same data as the draft's PNG charts (`cchc.outputs.charts`).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from cchc.common.periods import parse_period
from cchc.common.sheets import (
    BODY_PT,
    CHARS_PER_UNIT,
    FONT,
    TITLE_PT,
    align,
    grid,
    header_row,
    print_ready,
    title_block,
)
from cchc.common.vn import format_date
from cchc.figures.completeness import ACTION, CHASE, STATUS_VI
from cchc.figures.consolidate import Consolidation
from cchc.outputs.charts import (
    COLOURS,
    DONE_COLOUR,
    LINE_COLOURS,
    PLAN_COLOUR,
    chart_data,
    weekly_trend,
)
from cchc.reference.registry import UNIT_TYPE_VI, Reference

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


# -- printing ----------------------------------------------------------------------------------


# -- the figures workbook (annex, weekly roll-up) ----------------------------------------------

FIGURE_COLUMNS = ["STT", "Mã chỉ tiêu", "Nội dung", "Đơn vị tính", "Kết quả", "Giá trị (số)", "Số đơn vị báo cáo"]
# Visible widths add up to ~98 units: fit to A4 portrait's width at ~80 % (LibreOffice: ~0.23 cm a unit).
FIGURE_WIDTHS = {"A": 5, "B": 30, "C": 45, "D": 10, "E": 18, "F": 11, "G": 9}


def write_figures_workbook(
    path: Path,
    result: Consolidation,
    ref: Reference,
    title: str,
    reporting: tuple[list, list] | None = None,
    charts: list | None = None,
    trend=None,
) -> Path:
    """The figures sheet (codes in the hidden column B, for machines), units and tasks not reported,
    then optionally the reporting sheet, native charts (`cchc.outputs.charts.ChartData`) and the weekly trend."""
    from openpyxl import Workbook

    wb = Workbook()
    _write_figures_sheet(wb.active, result, ref, title)
    _write_missing_units_sheet(wb, result, ref, title)
    if result.tasks_unreported:
        _write_unreported_tasks_sheet(wb, result, ref, title)
    if reporting is not None:
        write_reporting_sheet(wb, *reporting)
    if charts:
        write_chart_sheet(wb, charts, title)
    if trend is not None:
        write_trend_sheet(wb, trend, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _write_figures_sheet(ws, result: Consolidation, ref: Reference, title: str) -> None:
    """'Số liệu tổng hợp': every indicator under its group's heading, as text and as a plain number."""
    from openpyxl.styles import Alignment

    ws.title = "Số liệu tổng hợp"
    title_block(
        ws,
        title,
        f"Số liệu tính đến ngày {format_date(result.as_of)}; {len(result.units_reported)} đơn vị "
        f"đã báo cáo, {len(result.units_missing)} đơn vị chưa báo cáo.",
        "G",
    )
    ws.append([])
    header_row(ws, 5, FIGURE_COLUMNS)
    group = None
    for n, ind in enumerate(ref.indicators_on(result.as_of), start=1):
        if ind.group != group:
            group = ind.group
            _group_heading(ws, GROUPS_VI.get(group, group))
        f = result.figures[ind.code]
        ws.append(
            [
                n,
                ind.code,
                ind.label_vi,
                ind.unit_vi,
                f.text,
                None if f.value is None else float(f.value),
                f.n_units or None,
            ]
        )
        r = ws.max_row
        for col in "ADEFG":
            ws[f"{col}{r}"].alignment = Alignment(horizontal="center" if col in "ADG" else "right", vertical="top")
        ws[f"F{r}"].number_format = "#,##0.###"
    grid(ws, 6, ws.max_row, 7)
    # The code is for machines (tests, `cchc explain CODE`): kept in the file, not printed.
    ws.column_dimensions["B"].hidden = True
    print_ready(ws, FIGURE_WIDTHS, header_row=5, wrap=("C",), first_wrapped_row=6)


def _group_heading(ws, name: str) -> None:
    """A group's heading (`II.1. Cải cách thể chế`): bold on grey across the table's width."""
    from openpyxl.styles import Font, PatternFill

    ws.append([name])
    r = ws.max_row
    ws.merge_cells(f"A{r}:G{r}")
    ws.cell(row=r, column=1).font = Font(bold=True, size=BODY_PT)
    ws.cell(row=r, column=1).fill = PatternFill("solid", fgColor="F2F2F2")


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


def write_reporting_sheet(wb, statuses: list, rates: list) -> None:
    """'Tình hình báo cáo': rates by unit type and by district, then every unit to chase."""
    from openpyxl.styles import Font

    ws = wb.create_sheet("Tình hình báo cáo")
    bold = Font(bold=True, size=TITLE_PT)
    ws.append(["TÌNH HÌNH BÁO CÁO: ĐÚNG HẠN, TRỄ HẠN, CHƯA GỬI / reporting completeness and timeliness"])
    ws["A1"].font = bold
    header_row(
        ws,
        2,
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
            "Tỷ lệ đã gửi (%)",
            "Tỷ lệ đúng hạn (%)",
        ],
    )
    for r in rates:
        group = UNIT_TYPE_VI.get(r.group) or f"Cấp xã thuộc {r.group}"
        ws.append(
            [
                r.period_code,
                group,
                r.expected,
                r.reported,
                r.accepted,
                r.on_time,
                r.late,
                r.refused,
                r.missing,
                r.reporting_rate,
                r.on_time_rate,
            ]
        )
    grid(ws, 3, ws.max_row, 11)
    ws.append([])
    # The list of units to chase can run to pages: its header is the one repeated on each page.
    chase_header = ws.max_row + 1
    header_row(ws, chase_header, ["Kỳ", "Mã đơn vị", "Tên đơn vị", "Hạn gửi", "Tình trạng", "Việc cần làm"])
    ws.merge_cells(start_row=chase_header, start_column=6, end_row=chase_header, end_column=11)
    for u in (u for u in statuses if u.status in CHASE):
        ws.append(
            [u.period_code, u.unit_code, u.unit_name_vi, format_date(u.due_on), STATUS_VI[u.status], ACTION[u.status]]
        )
        ws.merge_cells(start_row=ws.max_row, start_column=6, end_row=ws.max_row, end_column=11)
    if ws.max_row > chase_header:
        grid(ws, chase_header + 1, ws.max_row, 6)
    # F:K hold the rates, and in the list the action (one line of ~75 characters, Vietnamese / English).
    widths = {"A": 10, "B": 20, "C": 36, "D": 11, "E": 14, "F": 11, "G": 10, "H": 10, "I": 10, "J": 11, "K": 12}
    print_ready(
        ws,
        widths,
        header_row=chase_header if ws.max_row > chase_header else 2,
        landscape=True,
        wrap=("B", "C", "E"),
        first_wrapped_row=3,
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


def _dress(chart, title: str, labels: bool, number_format: str = "#,##0") -> None:
    """Title, legend below, visible axes, data labels (zeros left blank: `;;` is the zero section)."""
    from openpyxl.chart.label import DataLabelList
    from openpyxl.chart.legend import Legend

    chart.title = _title(title)
    chart.legend = Legend(legendPos="b")
    chart.legend.txPr = _rich(10)
    for axis in (getattr(chart, "x_axis", None), getattr(chart, "y_axis", None)):
        if axis is not None:
            axis.delete = False  # openpyxl 3.1 otherwise writes axes Excel hides
            axis.txPr = _rich(10)
    if hasattr(chart, "y_axis"):
        chart.y_axis.number_format = "#,##0"
        chart.y_axis.majorGridlines = None
    if labels:
        chart.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False, showLegendKey=False)
        chart.dataLabels.numFmt = f"{number_format};-{number_format};;"
        chart.dataLabels.txPr = _rich(9)


def _hex(*colours: str) -> tuple[str, ...]:
    return tuple(c.lstrip("#") for c in colours)


def _number_format(decimals: int) -> str:
    return "#,##0.000" if decimals == 3 else "#,##0"


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


def native_chart(c, ws, first_row: int, n_rows: int):
    """An openpyxl chart of `c` (cchc.outputs.charts.ChartData) whose data sit in ws: categories in column A
    from first_row + 1, one series per column from B, names in first_row."""
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference

    chart = {"pie": PieChart, "line": LineChart}.get(c.kind, BarChart)()
    chart.add_data(
        Reference(ws, min_col=2, max_col=1 + len(c.series), min_row=first_row, max_row=first_row + n_rows),
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=first_row + 1, max_row=first_row + n_rows))
    number_format = _number_format(c.decimals)
    if c.kind == "pie":
        _colour_points(chart.series[0], _hex(DONE_COLOUR, PLAN_COLOUR)[:n_rows])
        _dress(chart, c.title_vi, labels=True, number_format=number_format)
        chart.dataLabels.showPercent = True
    elif c.kind == "line":
        _dress(chart, c.title_vi, labels=False, number_format=number_format)
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
        for s, colour in zip(chart.series, colours, strict=False):
            s.graphicalProperties.solidFill = colour
            s.graphicalProperties.line.solidFill = colour
        if c.kind == "funnel":
            _colour_points(chart.series[0], ("F9A825", "8D6E63", "FFB74D", "2E7D32", "1565C0", "C62828")[:n_rows])
        chart.x_axis.scaling.orientation = "maxMin"  # first category on top, as in the table
        _dress(chart, c.title_vi, labels=True, number_format=number_format)
        if c.kind == "funnel":
            chart.legend = None
    return chart


CHART_COLUMNS = {"A": 28, "B": 12.5, "C": 12.5, "D": 12.5, "E": 12.5}  # ~78 units: A4 portrait at 100 %
ROW_PT = 16.0  # rows of the chart sheet: Times New Roman 12 fits
ROW_CM = ROW_PT / 72 * 2.54


def _chart_block(ws, row: int, number: int, c) -> int:
    """Title, caption, the data table and the chart under it; returns the next free row."""
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
    number_format = _number_format(c.decimals)
    for i, cat in enumerate(c.categories):
        ws.cell(row=head + 1 + i, column=1, value=cat).alignment = Alignment(wrap_text=True, vertical="top")
        for j, (_, values) in enumerate(c.series):
            ws.cell(row=head + 1 + i, column=2 + j, value=values[i]).number_format = number_format
    for i, note in enumerate(c.notes_vi):  # e.g. the disbursement's percentages, one per category
        ws.cell(row=head + 1 + i, column=2 + len(c.series), value=note).alignment = Alignment(horizontal="right")
    last = head + len(c.categories)
    grid(ws, head + 1, last, 1 + len(c.series) + bool(c.notes_vi))
    chart = native_chart(c, ws, head, len(c.categories))
    chart.width = 16.0
    chart.height = 7.0 if len(c.categories) <= 7 else 10.5
    ws.add_chart(chart, f"A{last + 2}")
    end = last + 2 + math.ceil(chart.height / ROW_CM)
    for r in range(row, end):  # fixed heights: the page breaks below are computed from them
        ws.row_dimensions[r].height = ws.row_dimensions[r].height or ROW_PT
    return end


PAGE_CM = 25.5  # printable height of A4 portrait within print_ready's margins


def _height_cm(ws, first: int, last: int) -> float:
    """Rows' printed height at 100 % (fit-to-width only ever shrinks it)."""
    return sum((ws.row_dimensions[r].height or ROW_PT) / 72 * 2.54 for r in range(first, last + 1))


def write_chart_sheet(wb, charts: list, title: str) -> None:
    """'Biểu đồ': each chart's data table and its native chart, one under the other; a page break
    before a block that would not fit the rest of the page, so no chart is cut in two."""
    from openpyxl.worksheet.pagebreak import Break

    ws = wb.create_sheet("Biểu đồ", 1)  # right after the figures
    title_block(ws, "BIỂU ĐỒ", title.capitalize(), "E")
    row, page_top = 5, 1
    for number, c in enumerate(charts, start=1):
        if len(c.series) + bool(c.notes_vi) > len(CHART_COLUMNS) - 1:
            raise ValueError(f"chart {c.key}: too many series for the sheet's {len(CHART_COLUMNS) - 1} columns")
        end = _chart_block(ws, row, number, c)
        if _height_cm(ws, page_top, end - 1) > PAGE_CM and row > page_top:
            ws.row_breaks.append(Break(id=row - 1))
            page_top = row
        row = end
    print_ready(ws, CHART_COLUMNS, header_row=None)


def write_trend_sheet(wb, trend, title: str) -> None:
    """'Xu hướng theo tuần': the year-to-date figures week by week, and one line chart per figure
    (tasks count in units, dossiers in hundreds of thousands: one scale would flatten the small ones)."""
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
            ws.cell(row=ws.max_row, column=col).number_format = "#,##0"
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
    """`<period>_tong_hop.xlsx` (the annex: figures, native charts) and `<period>_tong_hop.csv` in out_dir.

    With the warehouse's engine the charts include reporting completeness by district."""

    period = parse_period(result.label)
    title = f"TỔNG HỢP KẾT QUẢ CẢI CÁCH HÀNH CHÍNH {period.name_vi.upper()}"
    xlsx = write_figures_workbook(
        out_dir / f"{period.code}_tong_hop.xlsx", result, ref, title, charts=chart_data(engine, ref, result)
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
        f"BÁO CÁO NHANH CẢI CÁCH HÀNH CHÍNH {week.name_vi.upper()} "
        f"({format_date(week.start)} – {format_date(week.end)})"
    )
    trend = weekly_trend(engine, ref, week, current=result) if engine is not None else None
    return write_figures_workbook(
        out_dir / f"{week.code}_bao_cao_tuan.xlsx", result, ref, title, reporting, trend=trend
    )
