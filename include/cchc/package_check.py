"""Look inside an .xlsx package before any spreadsheet reader touches it.

An .xlsx is a zip of XML parts. Reading the zip's central directory costs nothing and tells us
what a reader would be walking into: a zip bomb, thousands of parts, macros, XML with a DOCTYPE
(entity expansion), or formulas whose results were never saved (files written by scripts). Files
like these are refused here, so the reader only ever sees packages of bounded size.

Bounds (a real form is 20-200 KB): file ≤ 20 MB, uncompressed parts ≤ 60 MB in all, ≤ 400 parts,
compression ratio of any part ≤ 150.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from cchc.findings import Finding, finding

MAX_FILE_BYTES = 20 * 2**20
MAX_UNCOMPRESSED = 60 * 2**20
MAX_PARTS = 400
MAX_RATIO = 150

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_VALUE = re.compile(rb"<v>[^<]+</v>")  # a saved result; scripts write none or an empty <v />
_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_SHEET = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_REL = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')
_REL_ALT = re.compile(rb'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')


def _sheet_names(z: zipfile.ZipFile) -> dict[str, str]:
    """Part name (xl/worksheets/sheet1.xml) → sheet name shown in Excel."""
    try:
        wb = z.read("xl/workbook.xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
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
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


def check_package(path: Path) -> list[Finding]:
    """Findings that stop the file before reading; [] when it is safe to read."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return [finding("FILE_TOO_LARGE", detail=f"{size / 2**20:.1f} MB > {MAX_FILE_BYTES // 2**20} MB")]
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [finding("FILE_UNREADABLE", detail=f"zip: {exc}"[:200])]
    with z:
        infos = z.infolist()
        if len(infos) > MAX_PARTS:
            return [finding("FILE_SUSPICIOUS", detail=f"{len(infos)} phần/parts > {MAX_PARTS}")]
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED:
            return [finding("FILE_SUSPICIOUS", detail=f"giải nén/uncompressed {total / 2**20:.0f} MB")]
        for i in infos:
            if i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 2**20:
                return [finding("FILE_SUSPICIOUS", detail=f"{i.filename}: tỷ lệ nén/ratio "
                                                          f"{i.file_size // i.compress_size}:1")]
        names = {i.filename for i in infos}
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            return [finding("FILE_HAS_MACROS")]
        if "xl/workbook.xml" not in names:
            return [finding("FILE_UNREADABLE", detail="không có/no xl/workbook.xml")]
        out: list[Finding] = []
        sheets = _sheet_names(z)
        for n in sorted(names):
            if not n.endswith(".xml") and not n.endswith(".rels"):
                continue
            try:  # only sheets are read whole (formulas); other parts need just their head
                with z.open(n) as part:
                    data = part.read() if n in sheets else part.read(4096)  # bounded by MAX_UNCOMPRESSED
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                return [finding("FILE_UNREADABLE", detail=f"{n}: {exc}"[:200])]
            if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
                return [finding("FILE_SUSPICIOUS", detail=f"{n}: DOCTYPE/ENTITY")]
            if n in sheets and b"<f" in data:
                for attrs, body in _CELL.findall(data):
                    if body and (b"<f>" in body or b"<f " in body) and not _VALUE.search(body):
                        ref = _REF.search(attrs)
                        out.append(finding("FORMULA_NOT_COMPUTED", sheets[n], ref.group(1).decode() if ref else ""))
        return out
