"""Sheets that print as a person expects: A4, fit to the page's width, titles, headers and grids.

Shared by the published workbooks (cchc.outputs.publish) and the feedback sent back to units
(cchc.checks.feedback), so both look like the city's documents.
"""

from __future__ import annotations

import math

FONT = "Times New Roman"  # LibreOffice prints it as Liberation Serif (same metrics, Vietnamese glyphs)

BODY_PT, TITLE_PT = 12, 13


# Characters of Vietnamese text in Times 12 per unit of column width: ~1.3 measured on full lines; less
# here, as words wrap whole (a row too tall wastes a little paper; one too short hides text).
CHARS_PER_UNIT = 1.1

HEADER_FILL = "DDEBF7"


def print_ready(
    ws,
    widths: dict[str, float],
    header_row: int | None,
    landscape: bool = False,
    wrap: tuple[str, ...] = (),
    first_wrapped_row: int = 1,
) -> None:
    """A4, fit to width (as many pages down as needed), header repeated, Times New Roman, page numbers.

    Rows holding wrapped text get a height from their longest text, so the printout does not depend
    on the spreadsheet program re-measuring rows (Excel does not on open)."""
    from copy import copy

    from openpyxl.cell.cell import MergedCell
    from openpyxl.worksheet.page import PageMargins

    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.6, right=0.5, top=0.6, bottom=0.7, header=0.3, footer=0.3)
    if header_row:
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    for footer in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        footer.center.text, footer.center.font, footer.center.size = "Trang &P/&N", f"{FONT},Regular", 10
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell, MergedCell):
                continue
            font = copy(cell.font)
            font.name = FONT
            if not font.sz or font.sz == 11:  # openpyxl's default size
                font.sz = BODY_PT
            cell.font = font
            if (
                wrap and cell.row >= first_wrapped_row and cell.row != header_row
            ):  # a row of wrapped text reads from its top
                align(cell, wrap_text=cell.column_letter in wrap or cell.alignment.wrap_text, vertical="top")
    for r in range(first_wrapped_row, ws.max_row + 1):
        lines = 1
        for col in wrap:
            value = ws[f"{col}{r}"].value
            if isinstance(value, str) and value:
                per_line = max(widths.get(col, 10) * CHARS_PER_UNIT, 1)
                lines = max(lines, sum(math.ceil(max(len(part), 1) / per_line) for part in value.split("\n")))
        if lines > 1:
            ws.row_dimensions[r].height = lines * BODY_PT * 1.25 + 2


def align(cell, **changes) -> None:
    """Change some of a cell's alignment, keep the rest."""
    from copy import copy

    alignment = copy(cell.alignment)
    for name, value in changes.items():
        setattr(alignment, name, value)
    cell.alignment = alignment


def title_block(ws, title: str, note: str, last_col: str) -> None:
    """Issuing body, title and note, each merged across the table and centred."""
    from openpyxl.styles import Alignment, Font

    for r, (text, font) in enumerate(
        (
            (ISSUER, Font(bold=True, size=BODY_PT)),
            (title, Font(bold=True, size=TITLE_PT)),
            (note, Font(italic=True, size=BODY_PT)),
        ),
        start=1,
    ):
        ws.cell(row=r, column=1, value=text).font = font
        ws.merge_cells(f"A{r}:{last_col}{r}")
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[2].height = TITLE_PT * 2.6  # long titles take two lines
    ws.row_dimensions[3].height = BODY_PT * 2.6


def header_row(ws, row: int, labels: list[str], lines: int = 2) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    for col, label in enumerate(labels, start=1):
        c = ws.cell(row=row, column=col, value=label)
        c.font = Font(bold=True, size=BODY_PT)
        c.fill = PatternFill("solid", fgColor=HEADER_FILL)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    ws.row_dimensions[row].height = BODY_PT * 1.25 * lines + 2


def grid(ws, first_row: int, last_row: int, n_cols: int) -> None:
    from openpyxl.styles import Border, Side

    thin = Side(style="thin", color="BFBFBF")
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=n_cols):
        for c in row:
            c.border = Border(top=thin, bottom=thin, left=thin, right=thin)


# The issuing body, as the city's documents head it, and how its documents name it in running text
# ("Kèm theo Báo cáo số …/BC-UBND … của Ủy ban nhân dân thành phố").
ISSUER = "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG"
ISSUER_IN_TEXT = "Ủy ban nhân dân thành phố"

# Who signs the city's reports and their annexes (the seed report's signature block): shared by the
# annex workbook (cchc.outputs.publish) and the report's template (include/templates/make_templates.py).
SIGNER = ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
SIGNER_NAME = "Hoàng Minh Cường"
