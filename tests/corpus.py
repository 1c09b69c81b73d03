"""The corpus of bad and hostile files: each built by a helper here, each with the code it must get.

Files are generated, not committed: every case starts from a good sample workbook (or from nothing)
and spoils it in one known way. `tests/test_corpus.py` ingests the whole corpus in one run;
`python tests/corpus.py` (make corpus) writes it to a folder and prints, per file, the time and
peak memory of reading it in a fresh process.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpers import column_of, edit, row_of, set_figure, set_info, set_task, sheet

GOOD = {"dept": "SCT", "tasks": "SNV", "district": "HBA", "amounts": "STC"}  # sample units the cases start from
MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@dataclass(frozen=True)
class Case:
    name: str
    code: str  # the finding it must produce
    build: Callable[[Path, Path], Path]  # (samples folder, empty output folder) -> the file
    hostile: bool = False  # built to exhaust memory or time: measured by `make corpus`


def h1(samples: Path, unit: str) -> Path:
    return samples / "h1" / f"{unit}_2024-H1.xlsx"


def rezip(src: Path, dst: Path, add: dict[str, bytes] | None = None, replace=None, drop=()) -> Path:
    """Copy an xlsx part by part, adding, rewriting or dropping parts."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            zout.writestr(info.filename, replace(info.filename, data) if replace else data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def first_sheet_part(src: Path) -> str:
    with zipfile.ZipFile(src) as z:
        return sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))[0]


def with_sheet_xml(body: bytes) -> Callable[[Path, Path], Path]:
    """Replace the first sheet's XML with `body` (a hostile sheet)."""

    def build(samples: Path, out: Path) -> Path:
        src = h1(samples, GOOD["dept"])
        part = first_sheet_part(src)
        return rezip(src, out / "SCT_2024-H1.xlsx", replace=lambda n, d: body if n == part else d)

    return build


def sheet_xml(rows: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
        + MAIN_NS
        + b"><sheetData>"
        + rows
        + b"</sheetData></worksheet>"
    )


def raw(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path, Path], Path]:
    def build(samples: Path, out: Path) -> Path:
        path = out / name
        path.write_bytes(data() if callable(data) else data)
        return path

    return build


def spoil(unit: str, change, name: str | None = None) -> Callable[[Path, Path], Path]:
    """A good sample edited with openpyxl: `change(wb, ref)`."""

    def build(samples: Path, out: Path) -> Path:
        from cchc.reference.registry import load_reference

        ref = load_reference()
        return edit(h1(samples, unit), out / (name or f"{unit}_2024-H1.xlsx"), lambda wb: change(wb, ref))

    return build


def first_task(ref, unit: str) -> str:
    day = dt.date(2024, 6, 15)
    return ref.form_tasks(ref.unit(unit, day), day)[0].code


def other_lead_task(ref, unit: str) -> str:
    return next(t.code for t in ref.tasks_on(dt.date(2024, 6, 15)) if t.lead_unit != unit)


# --- builders that need more than one line ---


def xls_file() -> bytes:
    import xlwt  # a real Excel 97-2003 workbook

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Thông tin chung")
    ws.write(0, 0, "Mã đơn vị")
    ws.write(0, 1, "SCT")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ods_file() -> bytes:
    """What LibreOffice writes: a zip whose first, stored part is the mimetype."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr(
            "content.xml",
            '<?xml version="1.0"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>',
        )
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return buf.getvalue()


def zip_with(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def encrypted(samples: Path, out: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile  # Excel's own "Encrypt with password"

    path = out / "SCT_2024-H1.xlsx"
    with open(h1(samples, GOOD["dept"]), "rb") as src, open(path, "wb") as dst:
        OOXMLFile(src).encrypt("matkhau", dst)
    return path


def truncated(fraction: float) -> Callable[[Path, Path], Path]:
    def build(samples: Path, out: Path) -> Path:
        data = h1(samples, GOOD["dept"]).read_bytes()
        path = out / "SCT_2024-H1.xlsx"
        path.write_bytes(data[: int(len(data) * fraction)])
        return path

    return build


def many_sheets(samples: Path, out: Path) -> Path:
    """A workbook.xml listing 5,000 sheets (all pointing at one part: small on disk)."""
    src = h1(samples, GOOD["dept"])

    def replace(name: str, data: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return data
        extra = b"".join(b'<sheet name="S%d" sheetId="%d" r:id="rId1"/>' % (i, 100 + i) for i in range(5000))
        return data.replace(b"</sheets>", extra + b"</sheets>")

    return rezip(src, out / "SCT_2024-H1.xlsx", replace=replace)


def million_rows() -> bytes:
    return sheet_xml(b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 1_000_001)))


def noise(n: int) -> bytes:
    """n bytes of text that does not compress (so the zip-ratio bound does not catch it first)."""
    import random

    return random.Random(n).randbytes(n // 2).hex().encode()


def long_shared_string(samples: Path, out: Path) -> Path:
    src = h1(samples, GOOD["dept"])
    sst = (
        b'<?xml version="1.0"?><sst '
        + MAIN_NS
        + b' count="1" uniqueCount="1"><si><t>'
        + noise(4 << 20)
        + b"</t></si></sst>"
    )
    return rezip(src, out / "SCT_2024-H1.xlsx", add={"xl/sharedStrings.xml": sst})


def big_file(samples: Path, out: Path) -> Path:
    """21 MB: a form with a huge, incompressible picture pasted in."""
    import os

    return rezip(
        h1(samples, GOOD["dept"]), out / "SCT_2024-H1.xlsx", add={"xl/media/image1.png": os.urandom(21 * 2**20)}
    )


def header_renamed(samples: Path, out: Path) -> Path:
    def change(wb, ref):
        ws = sheet(wb, "Số liệu")
        for row in ws.iter_rows(max_row=30):
            for c in row:
                if isinstance(c.value, str) and c.value.strip().lower().startswith("mã chỉ"):
                    c.value = "Mã số"

    return spoil(GOOD["dept"], change)(samples, out)


def drop_sheet(title: str):
    def change(wb, ref):
        wb.remove(sheet(wb, title))

    return change


def repeat_row(title: str, code):
    """Insert a copy of the row holding `code` right below it (the same code twice in the table)."""

    def change(wb, ref):
        ws = sheet(wb, title)
        wanted = code(ref) if callable(code) else code
        src = next(r for r in ws.iter_rows() if any(c.value == wanted for c in r))
        values = [(c.column, c.value) for c in src]
        ws.insert_rows(src[0].row + 1)
        for col, value in values:
            ws.cell(row=src[0].row + 1, column=col, value=value)

    return change


def retag(old: str, new: str):
    """Change an indicator or task code in place."""

    def change(wb, ref):
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.value == old:
                        c.value = new
                        return

    return change


def blank_task_row(wb, ref):
    ws = sheet(wb, "Nhiệm vụ")
    code = first_task(ref, "SNV")
    row = next(r for r in ws.iter_rows() if any(c.value == code for c in r))
    for c in row:
        c.value = None


def blank_status(wb, ref):
    """The first led task's status and date emptied, its row kept: the code still names the task."""
    ws = sheet(wb, "Nhiệm vụ")
    r = row_of(ws, first_task(ref, "SNV"))
    for label in ("Tình trạng", "Ngày hoàn thành"):
        ws.cell(row=r, column=column_of(ws, label)).value = None


def error_cell(unit: str, code: str, shown: str) -> Callable[[Path, Path], Path]:
    """A figure cell holding an Excel error value stored as Excel does (<c t="e"><v>#SPILL!</v></c>)."""
    import re

    mark = 987654321

    def build(samples: Path, out: Path) -> Path:
        src = spoil(unit, lambda wb, ref: set_figure(wb, code, mark), "marked.xlsx")(samples, out)
        cell = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*?)(?: t="n")?><v>%d</v></c>' % mark)
        fix = lambda n, d: (
            cell.sub(
                lambda m: (
                    b'<c r="%s"%s t="e"><v>%s</v></c>'
                    % (  # noqa: E731
                        m.group(1),
                        m.group(2),
                        shown.encode(),
                    )
                ),
                d,
            )
            if n.startswith("xl/worksheets/")
            else d
        )
        path = rezip(src, out / f"{unit}_2024-H1.xlsx", replace=fix)
        src.unlink()
        return path

    return build


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CSV = "Mã chỉ tiêu,Số liệu\npakn.resolved,138\n".encode()
CSV_SEMICOLON = "Mã chỉ tiêu;Số liệu\r\ncomms.media_items;22\r\n".encode("utf-8-sig")  # Excel's "CSV UTF-8" export
HTML = (
    b"<html><head><meta charset='utf-8'></head><body><table><tr><td>M\xc3\xa3 \xc4\x91\xc6\xa1n v\xe1\xbb\x8b</td>"
    b"<td>SCT</td></tr></table></body></html>"
)
XML2003 = (
    b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet '
    b'ss:Name="Sheet1"/></Workbook>'
)
ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><sst ' + MAIN_NS + b"><si><t>&lol3;</t></si></sst>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><sst '
    + MAIN_NS
    + b"><si><t>&xxe;</t></si></sst>"
)


CASES: list[Case] = [
    # Not an .xlsx at all: say what it is and which format is needed.
    Case("real .xls (Excel 97-2003)", "FILE_NOT_XLSX", raw("SCT_2024-H1.xls", xls_file)),
    Case(".ods (LibreOffice)", "FILE_NOT_XLSX", raw("SCT_2024-H1.ods", ods_file)),
    Case(".csv", "FILE_NOT_XLSX", raw("SCT_2024-H1.csv", CSV)),
    Case("csv renamed .xlsx", "FILE_NOT_XLSX", raw("SCT_2024-H1.xlsx", CSV_SEMICOLON)),
    Case("PDF renamed .xlsx", "FILE_NOT_XLSX", raw("SCT_2024-H1.xlsx", PDF)),
    Case(
        "Word .docx renamed .xlsx",
        "FILE_NOT_XLSX",
        raw("SCT_2024-H1.xlsx", lambda: zip_with({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})),
    ),
    Case(
        "binary .xlsb",
        "FILE_NOT_XLSX",
        raw("SCT_2024-H1.xlsb", lambda: zip_with({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\0" * 64})),
    ),
    Case("web page saved as .xls", "FILE_NOT_XLSX", raw("SCT_2024-H1.xls", HTML)),
    Case("XML Spreadsheet 2003", "FILE_NOT_XLSX", raw("SCT_2024-H1.xls", XML2003)),
    Case("Unicode text export", "FILE_NOT_XLSX", raw("SCT_2024-H1.xlsx", "Mã\tSố liệu\n".encode("utf-16"))),
    Case("random bytes", "FILE_NOT_XLSX", raw("SCT_2024-H1.xlsx", bytes(range(256)) * 8)),
    # Broken or locked.
    Case("empty file", "FILE_EMPTY", raw("SCT_2024-H1.xlsx", b"")),
    Case("truncated at 30%", "FILE_UNREADABLE", truncated(0.3)),
    Case("truncated at 70%", "FILE_UNREADABLE", truncated(0.7)),
    Case("zip without a workbook", "FILE_UNREADABLE", raw("SCT_2024-H1.xlsx", lambda: zip_with({"a.txt": b"x"}))),
    Case(
        "malformed sheet XML",
        "FILE_UNREADABLE",
        with_sheet_xml(
            b'<?xml version="1.0"?><worksheet ' + MAIN_NS + b'><sheetData><row r="1"><c r="A1" t="s">'
            b"<v>99999</v></c></row>"
        ),
    ),
    Case("password-protected workbook", "FILE_ENCRYPTED", encrypted),
    Case(
        "formula without saved result",
        "FORMULA_NOT_COMPUTED",
        spoil(GOOD["dept"], lambda wb, ref: set_figure(wb, "comms.media_items", "=10+12")),
    ),
    # Hostile: each refused before any reader allocates for it.
    Case(
        "zip bomb (80 MB of zeros)",
        "FILE_SUSPICIOUS",
        lambda s, o: rezip(h1(s, GOOD["dept"]), o / "SCT_2024-H1.xlsx", add={"xl/media/pad.bin": b"\0" * (80 << 20)}),
        hostile=True,
    ),
    Case(
        "1,000 extra parts",
        "FILE_SUSPICIOUS",
        lambda s, o: rezip(
            h1(s, GOOD["dept"]), o / "SCT_2024-H1.xlsx", add={f"xl/extra/p{i}.xml": b"<x/>" for i in range(1000)}
        ),
        hostile=True,
    ),
    Case("5,000 sheets", "FILE_SUSPICIOUS", many_sheets, hostile=True),
    Case(
        "XML entity expansion",
        "FILE_SUSPICIOUS",
        lambda s, o: rezip(h1(s, GOOD["dept"]), o / "SCT_2024-H1.xlsx", add={"xl/sharedStrings.xml": ENTITY_BOMB}),
        hostile=True,
    ),
    Case(
        "XML external entity",
        "FILE_SUSPICIOUS",
        lambda s, o: rezip(h1(s, GOOD["dept"]), o / "SCT_2024-H1.xlsx", add={"xl/sharedStrings.xml": XXE}),
        hostile=True,
    ),
    Case("a million rows", "FILE_SUSPICIOUS", with_sheet_xml(million_rows()), hostile=True),
    Case(
        "15,000 rows",
        "FILE_SUSPICIOUS",
        with_sheet_xml(
            sheet_xml(b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(1, 15_001)))
        ),
        hostile=True,
    ),
    Case(
        "one far cell XFD1048576",
        "FILE_SUSPICIOUS",
        with_sheet_xml(
            sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
        ),
        hostile=True,
    ),
    Case("4 MB shared string", "FILE_SUSPICIOUS", long_shared_string, hostile=True),
    Case(
        "4 MB inline cell",
        "FILE_SUSPICIOUS",
        with_sheet_xml(
            sheet_xml(b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + noise(4 << 20) + b"</t></is></c></row>")
        ),
        hostile=True,
    ),
    Case(
        "part named ../../evil",
        "FILE_SUSPICIOUS",
        lambda s, o: rezip(h1(s, GOOD["dept"]), o / "SCT_2024-H1.xlsx", add={"../../etc/evil.sh": b"rm -rf /"}),
        hostile=True,
    ),
    Case("21 MB file", "FILE_TOO_LARGE", big_file, hostile=True),
    Case(
        "macros (.xlsm)",
        "FILE_HAS_MACROS",
        lambda s, o: rezip(h1(s, GOOD["dept"]), o / "SCT_2024-H1.xlsm", add={"xl/vbaProject.bin": b"\0" * 512}),
    ),
    # The form itself is not the city's.
    Case("sheet 'Số liệu' missing", "SHEET_MISSING", spoil(GOOD["dept"], drop_sheet("Số liệu"))),
    Case("sheet 'Nhiệm vụ' missing", "SHEET_MISSING", spoil(GOOD["tasks"], drop_sheet("Nhiệm vụ"))),
    Case("column 'Mã chỉ tiêu' missing", "COLUMN_MISSING", header_renamed),
    Case(
        "unit code left blank",
        "INFO_MISSING",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Mã đơn vị", None), "bao_cao.xlsx"),
    ),
    # Who and when.
    Case(
        "unit not in the registry",
        "UNIT_UNKNOWN",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Mã đơn vị", "SXX"), "SXX.xlsx"),
    ),
    Case(
        "commune code that does not exist",
        "UNIT_UNKNOWN",
        spoil("HBA01", lambda wb, ref: set_info(wb, "Mã đơn vị", "HBA77"), "HBA77.xlsx"),
    ),
    Case(
        "unknown period code",
        "PERIOD_UNKNOWN",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Kỳ báo cáo", "2024-H3"), "SCT.xlsx"),
    ),
    Case(
        "file name says another period", "NAME_MISMATCH", spoil(GOOD["dept"], lambda wb, ref: None, "SCT_2024-Q1.xlsx")
    ),
    Case(
        "file name says another unit",
        "NAME_MISMATCH",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Người lập", "Nguyễn Văn B"), "SYT_2024-H1.xlsx"),
    ),
    Case(
        "form version not the city's",
        "FORM_VERSION_UNKNOWN",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Phiên bản mẫu", "BM-01/2022")),
    ),
    Case(
        "an older form (warning)",
        "FORM_OUTDATED",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Phiên bản mẫu", "CCHC-2023.1")),
    ),
    Case(
        "form version left blank (warning)",
        "FORM_VERSION_MISSING",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Phiên bản mẫu", None)),
    ),
    Case(
        "as-of date not a date",
        "DATE_INVALID",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Ngày chốt số liệu", "31/02/2024")),
    ),
    Case(
        "as-of date outside the period",
        "ASOF_OUTSIDE_PERIOD",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Ngày chốt số liệu", "15/06/2023")),
    ),
    # Figures.
    Case(
        "text where a number is due",
        "NUMBER_INVALID",
        spoil(GOOD["dept"], lambda wb, ref: set_figure(wb, "comms.media_items", "khoảng 10")),
    ),
    Case(
        "indicator code not in the catalogue",
        "INDICATOR_UNKNOWN",
        spoil(GOOD["dept"], retag("comms.media_items", "comms.media_itemz")),
    ),
    Case(
        "indicator of another unit",
        "INDICATOR_NOT_FOR_UNIT",
        spoil(GOOD["dept"], retag("comms.media_items", "index.par_rank")),
    ),
    Case("indicator twice", "INDICATOR_DUPLICATE", spoil(GOOD["dept"], repeat_row("Số liệu", "comms.media_items"))),
    Case(
        "negative count", "VALUE_NEGATIVE", spoil(GOOD["dept"], lambda wb, ref: set_figure(wb, "comms.media_items", -5))
    ),
    Case(
        "fractional count",
        "VALUE_FRACTIONAL",
        spoil(GOOD["dept"], lambda wb, ref: set_figure(wb, "comms.media_items", "12,5")),
    ),
    Case(
        "percentage above 100",
        "VALUE_OUT_OF_RANGE",
        spoil("SNV", lambda wb, ref: set_figure(wb, "index.sipas_pct", "188,9%")),
    ),
    Case(
        "feedback does not balance",
        "IDENTITY_FAILED",
        spoil(GOOD["district"], lambda wb, ref: set_figure(wb, "pakn.resolved", 999)),
    ),
    # Excel error values where a value is due: a broken spreadsheet, never a blank.
    Case(
        "#REF! in a figure",
        "CELL_ERROR_VALUE",
        spoil(GOOD["dept"], lambda wb, ref: set_figure(wb, "comms.media_items", "#REF!")),
    ),
    Case(
        "#SPILL! error cell in a figure", "CELL_ERROR_VALUE", error_cell(GOOD["dept"], "comms.media_items", "#SPILL!")
    ),
    Case(
        "#CALC! written as text in a figure",
        "CELL_ERROR_VALUE",
        spoil(GOOD["district"], lambda wb, ref: set_figure(wb, "pakn.resolved", "#CALC!")),
    ),
    Case(
        "#DIV/0! as the as-of date",
        "CELL_ERROR_VALUE",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Ngày chốt số liệu", "#DIV/0!")),
    ),
    Case(
        "#N/A as the unit code",
        "CELL_ERROR_VALUE",
        spoil(GOOD["dept"], lambda wb, ref: set_info(wb, "Mã đơn vị", "#N/A"), "bao_cao_loi.xlsx"),
    ),
    Case(
        "#NAME? as a task status",
        "CELL_ERROR_VALUE",
        spoil(GOOD["tasks"], lambda wb, ref: set_task(wb, first_task(ref, "SNV"), "#NAME?")),
    ),
    # Plan tasks.
    Case(
        "task status not in the list",
        "TASK_STATUS_INVALID",
        spoil(GOOD["tasks"], lambda wb, ref: set_task(wb, first_task(ref, "SNV"), "Xong rồi")),
    ),
    Case(
        "task done without a date",
        "TASK_DONE_NO_DATE",
        spoil(GOOD["tasks"], lambda wb, ref: set_task(wb, first_task(ref, "SNV"), "Hoàn thành", None)),
    ),
    Case(
        "task done after the as-of date",
        "TASK_DONE_AFTER_ASOF",
        spoil(
            GOOD["tasks"], lambda wb, ref: set_task(wb, first_task(ref, "SNV"), "Hoàn thành", dt.datetime(2024, 7, 1))
        ),
    ),
    Case(
        "task code not in the plan",
        "TASK_UNKNOWN",
        spoil(GOOD["tasks"], lambda wb, ref: retag(first_task(ref, "SNV"), "KH24-99")(wb, ref)),
    ),
    Case(
        "task led by another unit",
        "TASK_NOT_LED",
        spoil(GOOD["tasks"], lambda wb, ref: retag(first_task(ref, "SNV"), other_lead_task(ref, "SNV"))(wb, ref)),
    ),
    Case(
        "task twice", "TASK_DUPLICATE", spoil(GOOD["tasks"], repeat_row("Nhiệm vụ", lambda ref: first_task(ref, "SNV")))
    ),
    # Accepted, flagged.
    Case(
        "a figure left blank (warning)",
        "VALUE_MISSING",
        spoil(GOOD["dept"], lambda wb, ref: set_figure(wb, "comms.media_items", None)),
    ),
    Case("a led task left off (warning)", "TASK_MISSING", spoil(GOOD["tasks"], blank_task_row)),
    Case("a task status left blank (warning)", "TASK_STATUS_BLANK", spoil(GOOD["tasks"], blank_status)),
    Case(
        "amount typed 17.019: thousands or decimals? (warning)",
        "NUMBER_AMBIGUOUS",
        spoil(GOOD["amounts"], lambda wb, ref: set_figure(wb, "fin.invest_plan_pm_bn", "17.019")),
    ),
]


def build_all(samples: Path, out: Path) -> list[tuple[Case, Path]]:
    """Write every case into its own folder under out (names may repeat across cases)."""
    built = []
    for i, case in enumerate(CASES, start=1):
        folder = out / f"{i:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        built.append((case, case.build(samples, folder)))
    return built


def measure(path: Path) -> tuple[float, float, float, list[str]]:
    """Read one file in a fresh process: (seconds, peak RSS MB, RSS MB before reading, finding codes)."""
    import json
    import subprocess
    import sys

    # VmHWM (this process image's peak RSS): ru_maxrss would carry the parent's peak over exec.
    code = (
        "import json, re, sys, time\n"
        "from pathlib import Path\n"
        "from cchc.intake.read import read_workbook\n"
        "hwm = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024\n"
        "base = hwm()\n"
        "t = time.perf_counter(); sub = read_workbook(Path(sys.argv[1])); t = time.perf_counter() - t\n"
        "print(json.dumps([t, hwm(), base, [f.code for f in sub.findings]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return tuple(json.loads(out.stdout))


def main() -> int:
    """Write the corpus and print, for each file, what reading it costs in a fresh process."""
    import argparse
    import tempfile

    from cchc.reference.sample import generate

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", help="folder for the corpus (default: a temporary one)")
    args = p.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="cchc-corpus-"))
    samples = out / "samples"
    generate(samples, weeks=False, units=sorted(set(GOOD.values()) | {"HBA01"}))
    rows = []
    for case, path in build_all(samples, out / "corpus"):
        seconds, peak, base, codes = measure(path)
        rows.append((case, path, seconds, peak, codes))
    print(f"{'case':40} {'size':>10} {'code':22} {'found at':17} {'time s':>7} {'peak MB':>8}")
    for case, path, seconds, peak, codes in rows:
        ok = "đọc/read" if case.code in codes else "kiểm tra/validate"
        print(f"{case.name[:40]:40} {path.stat().st_size:>10,} {case.code:22} {ok:17} {seconds:7.3f} {peak:8.1f}")
    worst_t = max(rows, key=lambda r: r[2])
    worst_m = max(rows, key=lambda r: r[3])
    print(
        f"\n{len(rows)} files; {sum(r[0].code in r[4] for r in rows)} refused by the reader itself with their code, "
        "the rest by validation (tests/test_corpus.py checks every code end to end)"
    )
    print(
        f"slowest: {worst_t[0].name} {worst_t[2]:.3f} s; most memory: {worst_m[0].name} {worst_m[3]:.1f} MB peak "
        f"RSS, of which {base:.1f} MB is the interpreter with the reader imported"
    )
    print(f"corpus written to {out / 'corpus'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
