"""Look inside an .xlsx package before any spreadsheet reader touches it.

An .xlsx is a zip of XML parts. Reading the zip's central directory costs nothing and tells us
what a reader would be walking into: a zip bomb, thousands of parts, macros, XML with a DOCTYPE
(entity expansion), or formulas whose results were never saved (files written by scripts). Files
like these are refused here, so the reader only ever sees packages of bounded size.

Bounds (a real form is 20-200 KB and three sheets of under a hundred rows): file ≤ 20 MB,
uncompressed parts ≤ 60 MB in all and ≤ 10 MB each, ≤ 400 parts, compression ratio of any part ≤ 150,
≤ 100 sheets, cells within rows 1–9,999 and columns A–GZ, no text run over 32,767 characters (Excel's own
cell limit). The check holds at most one part (≤ 10 MB) in memory at a time and is linear in the
bytes it reads, so a hostile file costs bounded memory and time before it is refused; the reader
then only ever sees small, well-formed packages — in particular never a sheet whose declared range
would make it allocate a million rows.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from pathlib import Path

from cchc.common.findings import Finding, finding, terse

MAX_FILE_BYTES = 20 * 2**20
MAX_UNCOMPRESSED = 60 * 2**20
MAX_PARTS = 400
MAX_RATIO = 150
MAX_PART = 10 * 2**20
MAX_SHEETS = 100
MAX_ROW, MAX_COL = 9_999, "GZ"  # rows, last column
MAX_TEXT = 32_767
UNPARSED = ("xl/theme/", "docProps/", "xl/media/", "xl/printerSettings/")  # no reader parses these: size-bounded only

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_VALUE = re.compile(rb"<v>[^<]+</v>")  # a saved result; scripts write none or an empty <v />
_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_SHEET = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_REL = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')
_REL_ALT = re.compile(rb'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')
# A cell reference with row number ≥ 10,000 or column ≥ HA (the 209th). The literal `r="` lets the
# regex engine skip ahead at C speed; each hit is then checked to be the `r` attribute of a <c> or <row>.
_FAR_REF = re.compile(rb'r="(?:[A-Z]{0,3}0*[1-9][0-9]{4}|(?:[A-Z]{3}|[H-Z][A-Z])[0-9])')
_FAR_COL = re.compile(rb'r="(?:[A-Z]{3}|[H-Z][A-Z])[0-9]')
_ELEMENT = re.compile(rb"<(c|row)\s")
_LONG_TEXT = re.compile(rb">[^<]{%d,}" % (MAX_TEXT + 1))


def sheet_names(z: zipfile.ZipFile, wb: bytes | None = None, read=None) -> dict[str, str]:
    """Part name (xl/worksheets/sheet1.xml) → sheet name shown in Excel, from workbook.xml (its bytes
    when the caller has read them already; `read(part)` in place of `z.read`)."""
    read = read or z.read
    if wb is None:
        wb = read("xl/workbook.xml")
    try:
        rels = read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {i: t for i, t in _REL.findall(rels)} | {i: t for t, i in _REL_ALT.findall(rels)}
    out = {}
    for name, rid in _SHEET.findall(wb):
        target = targets.get(rid, b"").decode("utf-8", "replace")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        out[part] = _xml_unescape(name.decode("utf-8", "replace"))
    return out


def _xml_unescape(s: str) -> str:
    return (
        s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")
    )


def _too_big(data: bytes) -> bool:
    """A sheet part with more rows than a form has, or a cell placed far out (C-speed scans: no
    Python object per cell)."""
    if data.count(b"<row") > MAX_ROW:
        return True
    for m in _FAR_REF.finditer(data):
        if not data[m.start() - 1 : m.start()].isspace():
            continue  # another attribute ending in r (header="10000")
        tag = _ELEMENT.match(data, data.rfind(b"<", 0, m.start()))
        # a far row number counts in <c> and <row>, a far column in <c> (a row has no column)
        if tag and (tag.group(1) == b"c" or not _FAR_COL.match(data, m.start())):
            return True
    return False


def _unsafe_name(name: str) -> bool:
    """A part name that would escape a folder if anything ever extracted it."""
    return name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name


def _other_package(z: zipfile.ZipFile, names: set[str]) -> str | None:
    """Name the zip-based formats units send instead of .xlsx."""
    if "mimetype" in names and z.getinfo("mimetype").file_size < 200:
        kind = z.read("mimetype").decode("ascii", "replace")
        return "ods (LibreOffice Calc)" if kind.endswith("spreadsheet") else f"OpenDocument ({kind[:60]})"
    if "xl/workbook.bin" in names:
        return "xlsb (Excel Binary Workbook)"
    if "word/document.xml" in names:
        return "docx (Word)"
    if any(n.startswith("ppt/") for n in names):
        return "pptx (PowerPoint)"
    return None


class Package:
    """An .xlsx package held as its bytes: the central directory parsed once, each part inflated
    straight from the bytes (zlib, checked against the directory's size and CRC) instead of through
    ZipFile.open's per-part machinery, which costs more than the inflating. Anything unusual
    (encrypted entry, other compression, a mismatch) goes through ZipFile, which raises as it would.
    """

    def __init__(self, data: bytes):
        self.data = data
        self.zip = zipfile.ZipFile(io.BytesIO(data))  # BadZipFile for what is not a zip

    def read(self, name: str) -> bytes:
        info = self.zip.getinfo(name)
        fast = self._inflate(info)
        return fast if fast is not None else self.zip.read(info)

    def _inflate(self, info: zipfile.ZipInfo) -> bytes | None:
        d, off = self.data, info.header_offset
        if (
            info.flag_bits & 0x1
            or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
            or d[off : off + 4] != b"PK\x03\x04"
        ):
            return None
        name_len, extra_len = struct.unpack_from("<HH", d, off + 26)
        start = off + 30 + name_len + extra_len
        raw = d[start : start + info.compress_size]
        if len(raw) != info.compress_size:
            return None
        if info.compress_type == zipfile.ZIP_DEFLATED:
            try:  # never more than the directory declares (bounded by MAX_PART before any read)
                out = zlib.decompressobj(-15).decompress(raw, info.file_size + 1)
            except zlib.error:
                return None
        else:
            out = raw
        return out if len(out) == info.file_size and zlib.crc32(out) == info.CRC else None


def check_package(path: Path) -> list[Finding]:
    """Findings that stop the file before reading; [] when it is safe to read."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return [finding("FILE_TOO_LARGE", detail=f"{size / 2**20:.1f} MB > {MAX_FILE_BYTES // 2**20} MB")]
    return inspect_package(path.read_bytes())[0]


def inspect_package(data: bytes) -> tuple[list[Finding], dict[str, dict[str, str]]]:
    """One pass over a package's bytes (≤ MAX_FILE_BYTES, checked by the caller): the findings that
    stop it before reading ([] when it is safe to read) and, when it is, its error cells as
    `error_cells` gives them — every part inflated once, the readers' only other inflating being
    their own."""
    errors: dict[str, dict[str, str]] = {}
    try:
        package = Package(data)
    except (zipfile.BadZipFile, OSError) as exc:
        return [finding("FILE_UNREADABLE", detail=f"zip: {exc}"[:200])], errors
    return _check(package, errors), errors


def _check(package: Package, errors: dict[str, dict[str, str]]) -> list[Finding]:
    z = package.zip
    with z:
        infos = z.infolist()
        if len(infos) > MAX_PARTS:
            return [finding("FILE_SUSPICIOUS", detail=f"{len(infos)} {terse('reading.parts')} > {MAX_PARTS}")]
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED:
            return [finding("FILE_SUSPICIOUS", detail=f"{terse('reading.uncompressed')} {total / 2**20:.0f} MB")]
        for i in infos:
            if i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 2**20:
                return [
                    finding(
                        "FILE_SUSPICIOUS",
                        detail=f"{i.filename}: {terse('reading.ratio')} {i.file_size // i.compress_size}:1",
                    )
                ]
        for i in infos:
            if i.file_size > MAX_PART:
                return [finding("FILE_SUSPICIOUS", detail=f"{i.filename[:80]}: {i.file_size / 2**20:.0f} MB")]
            if _unsafe_name(i.filename):
                return [finding("FILE_SUSPICIOUS", detail=f"{terse('reading.part_name')} {i.filename[:80]!r}")]
        names = {i.filename for i in infos}
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            return [finding("FILE_HAS_MACROS")]
        if "xl/workbook.xml" not in names:
            other = _other_package(z, names)
            return [
                finding("FILE_NOT_XLSX", detected=other)
                if other
                else finding("FILE_UNREADABLE", detail=f"{terse('reading.lacks')} xl/workbook.xml")
            ]
        out: list[Finding] = []
        workbook = package.read("xl/workbook.xml")
        sheets = sheet_names(z, workbook, package.read)
        listed = workbook.count(b"<sheet ")  # entries, even if they share one part
        if listed > MAX_SHEETS:
            return [finding("FILE_SUSPICIOUS", detail=f"{listed:,} {terse('reading.sheets')} > {MAX_SHEETS}")]
        for n in sorted(names):
            if not n.endswith((".xml", ".rels")) or n.startswith(UNPARSED):
                continue
            try:  # whole parts: a DOCTYPE can hide behind a long comment, a long text anywhere
                data = package.read(n)  # ≤ MAX_PART (checked above); a form's parts are a few KB
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                return [finding("FILE_UNREADABLE", detail=f"{n}: {exc}"[:200])]
            if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
                return [finding("FILE_SUSPICIOUS", detail=f"{n}: DOCTYPE/ENTITY")]
            if len(data) > MAX_TEXT and _LONG_TEXT.search(data):  # a shorter part cannot hold one
                return [
                    finding(
                        "FILE_SUSPICIOUS",
                        detail=f"{n}: {terse('reading.cell_longer_than')} {MAX_TEXT:,} {terse('reading.chars')}",
                    )
                ]
            if n in sheets and _too_big(data):
                return [
                    finding(
                        "FILE_SUSPICIOUS",
                        detail=f"'{sheets[n]}': {terse('reading.cells_beyond_rows')} "
                        f"1–{MAX_ROW:,}, columns A–{MAX_COL}",
                    )
                ]
            if n in sheets and b"<f" in data:
                for attrs, body in _CELL.findall(data):
                    if body and (b"<f>" in body or b"<f " in body) and not _VALUE.search(body):
                        ref = _REF.search(attrs)
                        out.append(finding("FORMULA_NOT_COMPUTED", sheets[n], ref.group(1).decode() if ref else ""))
            if n in sheets and not out:
                found = _errors_in(data)
                if found:
                    errors.setdefault(sheets[n], {}).update(found)
        return out


_ERROR_TYPE = re.compile(rb'\bt="e"')
_ERROR_VALUE = re.compile(rb"<v>([^<]*)</v>")


def error_cells(path: Path) -> dict[str, dict[str, str]]:
    """Sheet name → cell → the Excel error it shows (`#REF!`), for every error cell (`t="e"`).

    Readers disagree about error cells (python-calamine 0.9.1 returns them as empty strings), so
    the package itself is the authority: an error value must never be read as a blank. Called on
    packages `check_package` passed, so every part read here is bounded.
    """
    out: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(path) as z:
        for part, name in sheet_names(z).items():
            try:
                data = z.read(part)
            except KeyError:
                continue
            found = _errors_in(data)
            if found:
                out.setdefault(name, {}).update(found)
    return out


def _errors_in(data: bytes) -> dict[str, str]:
    """Cell → the error it shows, for the error cells of one sheet part."""
    out: dict[str, str] = {}
    if b't="e"' not in data or not _ERROR_TYPE.search(data):  # C-speed: most forms have none
        return out
    for attrs, body in _CELL.findall(data):
        ref = _REF.search(attrs)
        if ref and _ERROR_TYPE.search(attrs):
            shown = _ERROR_VALUE.search(body or b"")
            value = _xml_unescape(shown.group(1).decode("utf-8", "replace")).strip() if shown else ""
            out[ref.group(1).decode()] = value or "#ERROR"
    return out


def without_error_cells(path: Path | bytes) -> bytes:
    """The package with every error cell emptied (its formula and value dropped, its style kept).

    python-calamine 0.9.1 raises on `#SPILL!` and `#CALC!` error cells ("Unsupported cell error
    value"), which would refuse the whole file as unreadable: the reader gets this copy instead, and
    the errors themselves come from `error_cells`.
    """
    import io

    def empty(m: re.Match) -> bytes:
        attrs = m.group(1)
        return b"<c" + _ERROR_TYPE.sub(b"", attrs) + b"/>" if _ERROR_TYPE.search(attrs) else m.group(0)

    buf = io.BytesIO()
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        sheets = set(sheet_names(zin))
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in sheets and _ERROR_TYPE.search(data):
                data = _CELL.sub(empty, data)
            zout.writestr(info, data)
    return buf.getvalue()
