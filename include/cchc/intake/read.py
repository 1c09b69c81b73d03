"""Read a unit's workbook into a Submission, generous about layout and strict about meaning.

Sheets are found by name and columns by header label, both without regard to case, diacritics,
Unicode form or spacing; title rows, merged cells, blank rows and signature blocks are skipped.
Values are kept as typed (`raw`) beside what they mean (`value`), with the cell they came from, so
every figure can be traced back and every finding names its cell.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from cchc.common.findings import EXCEL_ERRORS, Finding, excel_error_meaning, finding
from cchc.common.messages import text as message
from cchc.common.messages import vi
from cchc.common.periods import Period, parse_period
from cchc.common.vn import fold, parse_date, parse_number, text
from cchc.intake.package_check import (
    MAX_FILE_BYTES,
    check_package,
    inspect_package,
    without_error_cells,
)
from cchc.reference.form import (
    FIGURE_COLUMNS,
    FORM_VERSION,
    INFO_LABELS,
    SHEET_FIGURES,
    SHEET_INFO,
    SHEET_TASKS,
    STATUSES,
    TASK_COLUMNS,
    form_version_key,
)

HEADER_SEARCH_ROWS = 30
_SIGNATURE = re.compile(r"^(nguoi lap|thu truong|\(ky|ky ten|xac nhan)")
_FOLDED_STATUS = {fold(k): v for k, v in STATUSES.items()}
UNREPORTED = "unreported"  # a task's status left blank: stored so, and counted as not reported


@dataclass(frozen=True)
class CellError:
    """An Excel error value (#REF!, #DIV/0! …) where a value is due: not blank, not a value."""

    shown: str

    def __str__(self) -> str:
        return self.shown


# Types a reader returns for real values; anything else it returns for a cell is an error it represents its own way.
_VALUE_TYPES = (str, int, float, bool, dt.date, dt.datetime, dt.time, dt.timedelta)


@dataclass
class ValueRow:
    code: str
    raw: str
    value: Decimal | None
    sheet: str
    cell: str
    row: int


@dataclass
class TaskRow:
    task_code: str
    status_raw: str
    status: str | None  # done | in_progress | not_started | unreported (the cell left blank)
    completed_on: dt.date | None
    sheet: str
    cell: str  # the status cell
    date_cell: str
    row: int


@dataclass
class Submission:
    """What one file says, before validation against the reference data."""

    file_name: str
    unit_code: str = ""
    unit_name: str = ""
    period_raw: str = ""
    period: Period | None = None
    as_of: dt.date | None = None
    sent_on: dt.date | None = None
    preparer: str = ""
    phone: str = ""
    email: str = ""
    form_version: str = ""
    values: list[ValueRow] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    info_cells: dict[str, str] = field(default_factory=dict)

    @property
    def period_code(self) -> str:
        return self.period.code if self.period else ""


def col_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    s = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        s = chr(65 + rem) + s
    return s


def cell_ref(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def mark_errors(rows: list[list[object]], errors: dict[str, str]) -> list[list[object]]:
    """The sheet's cells with every Excel error value as a CellError, whatever the reader made of it:
    the package's error cells (`errors`, by cell reference: calamine reads them as ''), error texts
    (`#SPILL!` typed or written as text) and values of a type no reader uses for real values."""
    for ref, shown in errors.items():
        m = re.fullmatch(r"([A-Z]+)([0-9]+)", ref)
        if not m:
            continue
        r, c = int(m.group(2)) - 1, _col_index(m.group(1))
        while len(rows) <= r:
            rows.append([])
        rows[r].extend([None] * (c + 1 - len(rows[r])))
        rows[r][c] = CellError(shown)
    for row in rows:
        for c, v in enumerate(row):
            if v is None or v.__class__ is float:  # most cells: nothing to look at
                continue
            if isinstance(v, str):
                if "#" in v and v.strip().upper() in EXCEL_ERRORS:  # every error text starts with '#'
                    row[c] = CellError(v.strip().upper())
            elif not isinstance(v, (*_VALUE_TYPES, CellError)):
                row[c] = CellError(text(v) or "#ERROR")
    return rows


def _col_index(letters: str) -> int:
    """A → 0, Z → 25, AA → 26 (col_letter's inverse)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def error_finding(err: CellError, sheet: str, cell: str, what_vi: str = "", what_en: str = "") -> Finding:
    meaning_vi, meaning_en = excel_error_meaning(err.shown)
    return finding(
        "CELL_ERROR_VALUE",
        sheet,
        cell,
        value=err.shown,
        meaning_vi=meaning_vi,
        meaning_en=meaning_en,
        what_vi=what_vi,
        what_en=what_en,
    )


def find_sheet(names: list[str], wanted: str, hidden: frozenset[str] = frozenset()) -> str | None:
    """The sheet whose name folds to the wanted one; a visible match wins over a hidden one.

    A hidden sheet is still read (as Excel's formulas still see it): units hide sheets by accident,
    and the figures in it are theirs. Hidden rows are read too, as Excel's SUM counts them.
    """
    key = fold(wanted)
    matches = [name for name in names if fold(name) == key]
    visible = [name for name in matches if name not in hidden]
    return (visible or matches or [None])[0]


def find_header(rows: list[list[object]], columns: dict[str, str], required: list[str]) -> tuple[int, dict[str, int]]:
    """The header row (index) and where each known column is; (-1, {}) if none has the required ones."""
    wanted = {fold(label): key for key, label in columns.items()}
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for c, v in enumerate(row):
            key = wanted.get(fold(v)) if isinstance(v, str) else None  # a header label is text
            if key and key not in found:
                found[key] = c
        if all(k in found for k in required):
            return r, found
    return -1, {}


def _table_rows(rows: list[list[object]], start: int):
    """Data rows after the header, stopping at the signature block."""
    for r in range(start, len(rows)):
        row = rows[r]
        filled = False
        for v in row:
            if v is None:
                continue
            if isinstance(v, str):
                if not v.strip():
                    continue
                if _SIGNATURE.match(fold(v)):  # only text can open the signature block
                    return
            filled = True
        if filled:
            yield r, row


def _get(row: list[object], col: int | None) -> object:
    if col is None or col >= len(row):
        return None
    v = row[col]
    return None if _blank(v) else v


def read_info(sub: Submission, rows: list[list[object]], sheet: str) -> None:
    wanted = {fold(label): key for key, label in INFO_LABELS.items()}
    found: dict[str, tuple[object, str]] = {}
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if not isinstance(v, str):  # a label is text
                continue
            key = wanted.get(fold(v).rstrip(":").strip())
            if key and key not in found:
                value, ref = None, cell_ref(r, c + 1)
                for c2 in range(c + 1, len(row)):
                    if not _blank(row[c2]):
                        value, ref = row[c2], cell_ref(r, c2)
                        break
                found[key] = (value, ref)
    sub.info_cells = {k: ref for k, (_, ref) in found.items()}
    for key, (value, ref) in found.items():
        if isinstance(value, CellError):
            label = INFO_LABELS[key]
            sub.findings.append(error_finding(value, sheet, ref, f" ('{label}')", f" ('{label}')"))
    for key in ("unit_code", "period", "as_of"):
        if found.get(key, (None,))[0] is None:
            sub.findings.append(finding("INFO_MISSING", sheet, sub.info_cells.get(key, ""), label=INFO_LABELS[key]))

    def txt(key: str) -> str:
        value = found.get(key, (None,))[0]
        return "" if isinstance(value, CellError) else text(value)

    sub.unit_code = txt("unit_code").upper()
    sub.unit_name, sub.preparer, sub.phone, sub.email = txt("unit_name"), txt("preparer"), txt("phone"), txt("email")
    sub.form_version = txt("form_version")
    if not isinstance(found.get("form_version", (None,))[0], CellError):  # an error value is refused already
        sub.findings.extend(check_form_version(sub.form_version, sheet, sub.info_cells.get("form_version", "")))
    sub.period_raw = txt("period")
    if sub.period_raw:
        try:
            sub.period = parse_period(sub.period_raw)
        except ValueError:
            sub.findings.append(finding("PERIOD_UNKNOWN", sheet, sub.info_cells["period"], value=sub.period_raw))
    for key in ("as_of", "sent_on"):
        raw = found.get(key, (None,))[0]
        if isinstance(raw, CellError):
            continue  # already refused as an error value
        try:
            setattr(sub, key, parse_date(raw))
        except ValueError:
            sub.findings.append(finding("DATE_INVALID", sheet, sub.info_cells[key], value=text(raw)))


def check_form_version(version: str, sheet: str, cell: str) -> list[Finding]:
    """The form a file is on, against the current one: an older form is read (labels find its
    columns) but flagged, one the city never issued (or newer than this pipeline knows) refused.
    A blank version is a warning: the office wants the figures, and a unit that cleared or retyped
    the cell is told rather than made to resend for a cell no figure depends on."""
    current = form_version_key(FORM_VERSION)
    if not version:
        where = (
            message("reading.where_sheet_cell", sheet=sheet, cell=cell)
            if cell
            else message("reading.where_sheet", sheet=sheet)
        )
        return [
            finding("FORM_VERSION_MISSING", sheet, cell, current=FORM_VERSION, where_vi=where.vi, where_en=where.en)
        ]
    key = form_version_key(version)
    if key == current:
        return []
    code = "FORM_OUTDATED" if key is not None and key < current else "FORM_VERSION_UNKNOWN"
    return [finding(code, sheet, cell, value=version, current=FORM_VERSION)]


def _what(key: str, **fields: object) -> dict[str, str]:
    """What a cell holding an Excel error was, as CELL_ERROR_VALUE's {what_vi}/{what_en}: ` (chỉ tiêu X)`."""
    said = message(key, **fields)
    return {"what_vi": f" ({said.vi})", "what_en": f" ({said.en})"}


def _code(sub: Submission, row: list[object], col: int, sheet: str, r: int, what: str) -> str | None:
    """A table row's code cell as text; None, with a CELL_ERROR_VALUE finding, when it holds an Excel error."""
    cell = _get(row, col)
    if isinstance(cell, CellError):
        sub.findings.append(error_finding(cell, sheet, cell_ref(r, col), **_what(what)))
        return None
    return text(cell)


def read_figures(sub: Submission, rows: list[list[object]], sheet: str) -> None:
    head, cols = find_header(rows, FIGURE_COLUMNS, ["code", "value"])
    if head < 0:
        for key in ("code", "value"):
            sub.findings.append(finding("COLUMN_MISSING", sheet, column=FIGURE_COLUMNS[key]))
        return
    for r, row in _table_rows(rows, head + 1):
        code = (_code(sub, row, cols["code"], sheet, r, "reading.indicator_code") or "").lower()
        if not code:
            continue
        raw = _get(row, cols["value"])
        ref = cell_ref(r, cols["value"])
        if isinstance(raw, CellError):
            sub.findings.append(error_finding(raw, sheet, ref, **_what("reading.of_indicator", code=code)))
            sub.values.append(ValueRow(code, raw.shown, None, sheet, ref, r + 1))
            continue
        try:
            value = parse_number(raw)
        except ValueError:
            value = None
            sub.findings.append(finding("NUMBER_INVALID", sheet, ref, indicator=code, value=text(raw)))
        sub.values.append(ValueRow(code, text(raw), value, sheet, ref, r + 1))


def read_tasks(sub: Submission, rows: list[list[object]], sheet: str) -> None:
    head, cols = find_header(rows, TASK_COLUMNS, ["task_code", "status", "completed_on"])
    if head < 0:
        for key in ("task_code", "status", "completed_on"):
            sub.findings.append(finding("COLUMN_MISSING", sheet, column=TASK_COLUMNS[key]))
        return
    for r, row in _table_rows(rows, head + 1):
        code = (_code(sub, row, cols["task_code"], sheet, r, "reading.task_code") or "").upper()
        if not code:
            continue
        status_cell = _get(row, cols["status"])
        status_ref, date_ref = cell_ref(r, cols["status"]), cell_ref(r, cols["completed_on"])
        if isinstance(status_cell, CellError):
            sub.findings.append(error_finding(status_cell, sheet, status_ref, **_what("reading.of_task", code=code)))
            status_raw, status = status_cell.shown, None
        else:
            status_raw = text(status_cell)
            if not status_raw:
                # Blank says nothing about the task: counted as the lead unit not reporting it (as a
                # task left off the sheet), never as not started.
                status = UNREPORTED
                sub.findings.append(finding("TASK_STATUS_BLANK", sheet, status_ref, task=code))
            else:
                status = _FOLDED_STATUS.get(fold(status_raw))
                if status is None:
                    sub.findings.append(finding("TASK_STATUS_INVALID", sheet, status_ref, task=code, value=status_raw))
        raw_date = _get(row, cols["completed_on"])
        if isinstance(raw_date, CellError):
            sub.findings.append(error_finding(raw_date, sheet, date_ref, **_what("reading.of_task", code=code)))
            raw_date = None
        try:
            done_on = parse_date(raw_date)
        except ValueError:
            done_on = None
            sub.findings.append(finding("DATE_INVALID", sheet, date_ref, value=text(raw_date)))
        sub.tasks.append(TaskRow(code, status_raw, status, done_on, sheet, status_ref, date_ref, r + 1))


def sniff(data: bytes) -> str | None:
    """What the bytes really are, when they are not a zip package: a name for the message."""
    if not data:
        return "empty"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return vi("reading.detected_xls")
    if data.startswith(b"%PDF"):
        return "PDF"
    if data.startswith(b"PK\x03\x04"):
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return vi("reading.detected_unicode_text")
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype html")) or b"<table" in head:
        return str(message("reading.detected_html"))
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "XML Spreadsheet 2003"
    return vi(
        "reading.detected_text" if all(b in b"\t\n\r" or b >= 32 for b in data[:512]) else "reading.detected_unknown"
    )


def read_workbook(path: Path, file_name: str | None = None) -> Submission:
    """Read one file. Never raises for a bad file: what is wrong becomes findings."""
    from python_calamine import CalamineWorkbook, PasswordError, SheetVisibleEnum

    sub = Submission(file_name=file_name or path.name)
    with open(path, "rb") as fh:  # the head is enough to tell what the file really is
        data_head = fh.read(65536)
    kind = sniff(data_head)
    if kind == "empty":
        sub.findings.append(finding("FILE_EMPTY"))
        return sub
    if kind is not None:
        if data_head.startswith(b"\xd0\xcf\x11\xe0") and _is_encrypted_ole(path):
            sub.findings.append(finding("FILE_ENCRYPTED"))
        else:
            sub.findings.append(finding("FILE_NOT_XLSX", detected=kind))
        return sub
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        sub.findings.extend(check_package(path))  # FILE_TOO_LARGE, without reading it
        return sub
    # The bytes are read once: the package check, its error cells and the reader all work on them.
    data = data_head if len(data_head) == size else path.read_bytes()
    unsafe, errors = inspect_package(data)
    if unsafe:
        sub.findings.extend(unsafe)
        return sub
    try:
        # the reader never sees an error cell: what it makes of one varies (blank, or it raises)
        wb = CalamineWorkbook.from_filelike(io.BytesIO(without_error_cells(data) if errors else data))
        names = list(wb.sheet_names)
        hidden = frozenset(m.name for m in wb.sheets_metadata if m.visible != SheetVisibleEnum.Visible)
        sheets = {}
        for wanted in (SHEET_INFO, SHEET_TASKS, SHEET_FIGURES):
            name = find_sheet(names, wanted, hidden)
            if name is None:
                sub.findings.append(finding("SHEET_MISSING", wanted))
                continue
            sheets[wanted] = (
                name,
                mark_errors(wb.get_sheet_by_name(name).to_python(skip_empty_area=False), errors.get(name, {})),
            )
    except PasswordError:
        sub.findings.append(finding("FILE_ENCRYPTED"))
        return sub
    except Exception as exc:  # noqa: BLE001 - calamine raises several types for broken zips/XML
        sub.findings.append(finding("FILE_UNREADABLE", detail=f"{type(exc).__name__}: {str(exc)[:200]}"))
        return sub
    if SHEET_INFO in sheets:
        read_info(sub, sheets[SHEET_INFO][1], sheets[SHEET_INFO][0])
    if SHEET_TASKS in sheets:
        read_tasks(sub, sheets[SHEET_TASKS][1], sheets[SHEET_TASKS][0])
    if SHEET_FIGURES in sheets:
        read_figures(sub, sheets[SHEET_FIGURES][1], sheets[SHEET_FIGURES][0])
    return sub


def _is_encrypted_ole(path: Path) -> bool:
    """An encrypted .xlsx is an OLE container whose directory names an 'EncryptedPackage' stream.
    The directory can sit anywhere in the container, so look through it all (bounded: 20 MB)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        return False
    return "EncryptedPackage".encode("utf-16-le") in path.read_bytes()


# --- in a reader process ---------------------------------------------------------------------
# These live here, not in cchc.loading.load, so a reader process imports only the reader (and not
# SQLAlchemy): it starts in a fraction of the time, while the main process is still receiving.
